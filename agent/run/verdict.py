"""The honest outcome of ``fix``: validated only when everything that can be checked passed.

``validated``   the repository's checks and tests pass, every acceptance check from the
                issue passes, and the plan covers every symbol the issue asks to change;
``unverified``  the change passed the repository's checks but an acceptance check failed
                (or could not run), the plan's coverage is incomplete, or the model wrote
                behaviour that nothing from the issue could check by running it (no example,
                no stated call or property applies): the candidate patch set is written for
                inspection and lands only with ``--accept-unverified``;
``failed``      no candidate change passed the repository's checks (no patch set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.acceptance.checks import read_by_model, shows_only_a_change
from agent.acceptance.module import (
    AcceptanceModule,
    AcceptanceReport,
    Coverage,
    coverage_of,
    run_acceptance,
)
from agent.draft.dunders import TEMPLATED
from agent.run.status import UNVERIFIED, VALIDATED
from agent.verify.sandbox import Sandbox, Scratch
from agent.verify.validate import Check, Validation
from planner.spec import Spec

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Verdict:
    status: str  # validated | unverified
    why: str
    coverage: Coverage
    acceptance: AcceptanceReport
    schema_version: int = SCHEMA_VERSION

    @property
    def validated(self) -> bool:
        return self.status == VALIDATED

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "status": self.status,
            "why": self.why,
            "coverage": {
                "complete": self.coverage.complete,
                "uncovered": list(self.coverage.uncovered),
                "context": dict(self.coverage.context),
                "message": self.coverage.message(),
            },
            "acceptance": self.acceptance.to_dict(),
        }


# operations whose behaviour the model writes freely (a templated dunder is not free)
FREE_BEHAVIOUR_OPS = frozenset({"edit", "add_parameter", "add_function", "add_method"})


def _issue_checks(acceptance: AcceptanceReport) -> list[Any]:
    """The applicable checks from the issue's own examples and statements."""
    return [r for r in acceptance.results if r.applies and r.kind in ("example", "statement")]


def unchecked_behaviour(spec: Spec, acceptance: AcceptanceReport) -> list[str]:
    """The model-written behaviour changes of ``spec`` when no check from the issue's own
    examples or statements confirms them: none applies, or the issue shows behaviour that
    must change and none of the checks that passed failed on the untouched code."""
    free = [
        o.summary()
        for o in spec.operations
        if o.op in FREE_BEHAVIOUR_OPS
        and not (o.op == "add_method" and o.params.get("name") in TEMPLATED)
        and not (o.op == "add_parameter" and o.params.get("body") is False)
    ]
    # an example that only no longer gives what the issue calls wrong shows a change, not the
    # right result (`return []` for every input "fixes" a wrong `[1, 2, 3]`); a value the model
    # read from the issue's words steers the drafts but is not the issue's own (`[]` for a
    # list said nothing of the tuples and strings the words also named); and where the issue
    # shows behaviour that must change (one of its checks fails on the untouched code), a check
    # the untouched code passed already cannot tell the change from no change at all
    own = _issue_checks(acceptance)
    asks_a_change = any(r.before is False for r in own)
    checked = [
        r
        for r in own
        if not (asks_a_change and r.before is True)
        and (
            r.kind == "statement" or (not shows_only_a_change(r.name) and not read_by_model(r.name))
        )
    ]
    return [] if checked else free


def verdict_of(
    tests_ok: bool,
    coverage: Coverage,
    acceptance: AcceptanceReport,
    unchecked: list[str] | None = None,
) -> Verdict:
    """``validated`` when the tests, the acceptance checks and the coverage all pass, and
    some check from the issue confirms each model-written behaviour change."""
    reasons = []
    if not tests_ok:
        reasons.append("the repository's checks did not pass")
    if acceptance.error:
        reasons.append("the acceptance checks could not run")
    elif acceptance.failed:
        names = ", ".join(r.name for r in acceptance.failed[:4])
        reasons.append(f"{len(acceptance.failed)} acceptance check(s) failed ({names})")
    if not coverage.complete:
        reasons.append(coverage.message())
    if unchecked:
        read = [r for r in acceptance.results if r.applies and read_by_model(r.name)]
        reasons.append(
            "nothing in the issue could be run to confirm the model-written change ("
            + "; ".join(unchecked[:3])
            + "): no expected output or stated result to check it against"
            + (
                " that the code before the change did not already give"
                if any(r.before is False for r in _issue_checks(acceptance))
                and any(r.before for r in _issue_checks(acceptance))
                else ""
            )
            + (
                f" (it gives the values the model read from the issue's words: {read[0].doc})"
                if read and all(r.ok for r in read)
                else ""
            )
            + "; review it"
        )
    if reasons:
        return Verdict(UNVERIFIED, "; ".join(reasons), coverage, acceptance)
    n = len([r for r in acceptance.results if r.applies])
    why = f"the repository's tests pass, {n} acceptance check(s) pass, the plan covers the issue"
    return Verdict(VALIDATED, why, coverage, acceptance)


class AcceptanceRun:
    """The acceptance checks of one ``fix`` run: on each candidate tree, and once before."""

    def __init__(self, module: AcceptanceModule, repo: Path, python: str, sandbox: Sandbox) -> None:
        self.module = module
        self.repo, self.python, self.sandbox = repo, python, sandbox
        self.report = AcceptanceReport(())
        self._before: AcceptanceReport | None = None

    def check(self, root: Path) -> Check:
        """The ``acceptance`` check on the tree at ``root`` (invariants judged vs. before)."""
        report = run_acceptance(self.module, root, self.python, self.sandbox)
        if not report.ok:
            report = report.with_before(self.before())
        self.report = report
        failed = [r.name for r in report.failed]
        return Check(
            "acceptance", report.ok, report.message(), {"failed": failed} if failed else {}
        )

    def before(self) -> AcceptanceReport:
        """The checks on the untouched repository (run once)."""
        if self._before is None:
            with Scratch(self.repo) as pristine:
                self._before = run_acceptance(self.module, pristine.root, self.python, self.sandbox)
        return self._before

    def verdict(self, spec: Spec, validation: Validation) -> Verdict:
        """The outcome of the last tree checked."""
        tests_ok = all(c.ok for c in validation.checks if c.name != "acceptance")
        report = self.report.with_before(self.before())
        return verdict_of(tests_ok, coverage_of(spec), report, unchecked_behaviour(spec, report))

    def files(self, name: str) -> dict[str, str]:
        """The patch set's copy of the checks (none when there are none)."""
        return {name: self.module.text} if self.module.checks else {}
