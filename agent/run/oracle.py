"""The oracle of one phase: run a draft on the scratch copy and say how far it got.

In order, stopping at the first thing that fails: the phase script and the per-phase
checks (parse, lint, scope); for a rewrite, whether anything changed; for a behaviour
change, whether the issue's ``>>>`` examples now behave differently; for a code slot, the
related tests and the acceptance checks from the issue. The scratch copy is put back after
each draft, except for one that passes, which stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.acceptance.examples import issue_examples, run_examples, unchanged_report
from agent.acceptance.issue import sessions
from agent.codemods.run import decode_source
from agent.draft.script import Draft
from agent.run.trial import FAILED, NO_BEHAVIOUR, NO_CHANGE, VALIDATED, Score, Trial
from agent.run.verdict import AcceptanceRun
from agent.verify.sandbox import Sandbox, Scratch
from agent.verify.validate import Validation

REWRITING_OPS = frozenset({"edit", "modernize", "extract_helper"})
BEHAVIOUR_OPS = frozenset({"edit", "add_parameter"})


def snapshot(scratch: Scratch) -> dict[str, bytes]:
    """The current bytes of every file the run has changed so far on the scratch copy."""
    return {
        rel: (scratch.root / rel).read_bytes()
        for rel in scratch.changed_paths()
        if (scratch.root / rel).is_file()
    }


def restore(scratch: Scratch, before: Mapping[str, bytes]) -> None:
    """Put back the bytes of ``before`` (else the original's): any encoding survives."""
    for rel in scratch.changed_paths():
        path = scratch.root / rel
        if rel in before:
            path.write_bytes(before[rel])
            continue
        original = scratch.original_bytes(rel)
        if original is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(original)


def unchanged(scratch: Scratch, before: Mapping[str, bytes]) -> bool:
    """True when the tree holds exactly the changes of ``before``."""
    now = scratch.changed_paths()
    if set(now) != set(before):
        return False
    return all((scratch.root / rel).read_bytes() == data for rel, data in before.items())


@dataclass
class ExampleProbe:
    """The issue's ``>>>`` examples, with what they give on the tree before the phase."""

    examples: list[str]
    baseline: list[str | None] | None
    root: Path
    python: str
    sandbox: Sandbox

    @classmethod
    def of(cls, issue: str, root: Path, python: str, sandbox: Sandbox) -> ExampleProbe | None:
        """The probe, or None when the issue states the outputs it expects: then the
        acceptance checks say whether a draft gives them (a refactor's examples must not
        change at all)."""
        if any(e.expected is not None for s in sessions(issue) for e in s.examples):
            return None
        examples = issue_examples(issue)
        return cls(examples, run_examples(examples, root, python, sandbox), root, python, sandbox)

    def run(self) -> list[str | None] | None:
        if self.baseline is None:
            return None
        return run_examples(self.examples, self.root, self.python, self.sandbox)


@dataclass
class PhaseOracle:
    """Runs drafts of one phase (see the module docstring).

    ``run_script(draft)`` runs the phase script with the per-phase checks; ``related(changed)``
    runs the related tests (None: not for this phase); ``acceptance`` runs the issue's
    checks, which decide only when ``decisive`` (the plan's last phase: earlier phases
    cannot pass the checks of later ones) and otherwise rank.
    """

    scratch: Scratch
    run_script: Callable[[Draft], Validation]
    probe: ExampleProbe | None = None
    related: Callable[[set[str]], Validation] | None = None
    acceptance: AcceptanceRun | None = None
    decisive: bool = False
    style: Any = None
    _live: Trial | None = field(default=None, init=False)
    _base: dict[str, bytes] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._base = snapshot(self.scratch)

    def evaluate(self, draft: Draft) -> Trial:
        if self._live is not None:  # an earlier trial is on the tree: back to the base
            restore(self.scratch, self._base)
            self._live = None
        validation = self.run_script(draft)
        if not validation.ok:
            failure = validation.failure
            return self._undo(
                Trial(
                    draft,
                    Score(applied=False),
                    FAILED,
                    failure.message if failure else "validation failed",
                    validation=validation,
                )
            )
        op = draft.operation.op
        if op in REWRITING_OPS and unchanged(self.scratch, self._base):
            message = (
                "the code you sent is identical to the current code, so nothing changed; "
                "change the behaviour the issue describes"
            )
            return self._undo(Trial(draft, Score(applied=False), NO_CHANGE, message))
        if self.probe is not None and op in BEHAVIOUR_OPS:
            outputs = self.probe.run()
            if outputs is not None and outputs == self.probe.baseline:
                report = unchanged_report(self.probe.examples, outputs)
                score = Score(applied=True, changed=False)
                return self._undo(Trial(draft, score, NO_BEHAVIOUR, report, validation=validation))
        return self._checks(draft, validation)

    def _checks(self, draft: Draft, validation: Validation) -> Trial:
        """The related tests and the acceptance checks, then the style and size."""
        changed = set(self.scratch.changed_paths())
        feedback = ""
        tests = True
        if self.related is not None:
            tested = self.related(changed)
            if not tested.ok:
                tests, validation = False, tested
                failure = tested.failure
                feedback = (
                    f"validation failed at {failure.name}: {failure.message}"
                    if failure
                    else "the related tests failed"
                )
        accepted, complete = 0, True
        if self.acceptance is not None and tests and self.acceptance.module.checks:
            check = self.acceptance.check(self.scratch.root)
            accepted = len([r for r in self.acceptance.report.results if r.ok])
            if not check.ok and self.decisive:
                complete, feedback = False, check.message
        after = snapshot(self.scratch)
        texts = [decode_source(b) for rel, b in after.items() if self._base.get(rel) != b]
        style = (
            sum(self.style.score(t) for t in texts) / len(texts)
            if self.style is not None and texts
            else 0.0
        )
        size = len(self.scratch.diff(sorted(after)))
        score = Score(True, True, tests, accepted, complete, style, size)
        trial = Trial(
            draft,
            score,
            VALIDATED if score.passes else FAILED,
            feedback,
            after,
            validation,
        )
        if score.passes:
            self._live = trial
            return trial
        return self._undo(trial)

    def _undo(self, trial: Trial) -> Trial:
        restore(self.scratch, self._base)
        return trial

    def keep(self, trial: Trial) -> None:
        if trial is self._live:
            return
        restore(self.scratch, self._base)
        for rel, data in trial.files.items():
            (self.scratch.root / rel).write_bytes(data)
        self._live = trial
