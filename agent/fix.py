"""``autopatch fix``: issue → spec → plan → drafted scripts → sandboxed validation → repair → patch set.

The target repository is only read until a change has been validated; it is then
touched only by ``--apply`` / ``--commit`` (through CommitBuilder). Every LLM call
and every validation outcome goes to memory.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.commit import CommitBuilder, PatchSet, slugify
from agent.draft import Draft
from cores.protocols import LLM
from memory.store import Memory
from planner.normalize import SpecNormalizer, from_spec_file
from planner.phases import Phase, Plan
from planner.spec import Spec

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FixOptions:
    """How ``fix`` runs.

    Fields:
      apply / commit / branch / force: where the validated change lands (nothing by default).
      accept_unverified: let ``apply`` / ``commit`` land an *unverified* change too (one whose
        acceptance checks failed or whose plan does not cover the issue).
      full_tests: the project's whole pytest suite after the related tests: ``auto`` (a
        failure counts only if the test passes without the change; a suite slower than the
        sandbox limit is skipped), ``always`` (slow suites fail), ``never``.
      max_repairs: LLM repair attempts per phase after the first draft.
      candidates: drafts sampled per LLM phase (first at temperature 0, the rest at 0.7),
        ranked by checks passed, StyleProfile score, then diff size; 1 = no sampling.
      spec_llm: ``auto`` runs the LLM spec backend only when the rules find no specific
        operation (saves ~30 s per issue on a CPU); ``always`` runs it every time.
    """

    apply: bool = False
    commit: bool = False
    accept_unverified: bool = False
    branch: str | None = None
    force: bool = False
    full_tests: str = "auto"
    max_repairs: int = 3
    spec_llm: str = "auto"
    candidates: int = 1


@dataclass
class PhaseOutcome:
    phase_id: str
    operation: str
    ok: bool
    attempts: int
    message: str = ""
    draft: Draft | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase_id,
            "operation": self.operation,
            "ok": self.ok,
            "attempts": self.attempts,
            "message": self.message,
            "slots": dict(self.draft.slots) if self.draft else {},
        }


VALIDATED, UNVERIFIED, FAILED, STOPPED = "validated", "unverified", "failed", "stopped"
EXIT_CODES = {VALIDATED: 0, FAILED: 1, STOPPED: 1, UNVERIFIED: 3}


@dataclass
class FixResult:
    """``ok`` only when validated: the repo's tests, the acceptance checks and coverage pass."""

    ok: bool
    run_id: str
    message: str
    status: str = FAILED
    spec: Spec | None = None
    plan: Plan | None = None
    phases: list[PhaseOutcome] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)
    patch: PatchSet | None = None
    landed: str = ""
    seconds: float = 0.0
    verdict: dict[str, Any] = field(default_factory=dict)  # status, why, coverage, acceptance

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "run_id": self.run_id,
            "message": self.message,
            "spec": self.spec.to_dict() if self.spec else None,
            "plan": self.plan.to_dict() if self.plan else None,
            "phases": [p.to_dict() for p in self.phases],
            "validation": self.validation,
            "verdict": self.verdict,
            "patch_set": str(self.patch.path) if self.patch else None,
            "diff": self.patch.diff if self.patch else "",
            "landed": self.landed,
            "seconds": round(self.seconds, 2),
        }


class LazyLLM:
    """Creates the LLM on first use (many fixes never need it)."""

    def __init__(self, factory: Callable[[], LLM]) -> None:
        self._factory = factory
        self._llm: LLM | None = None

    def get(self) -> LLM:
        if self._llm is None:
            self._llm = self._factory()
        return self._llm

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()


def normalize_issue(
    issue: str, digest: Any, llm: LazyLLM, options: FixOptions, memory: Memory, run_id: str
) -> Spec:
    """Rules first; the LLM backend joins when the rules find nothing specific (or always)."""
    spec = (
        SpecNormalizer(digest).normalize(issue, backends=["rules"])
        if options.spec_llm == "auto"
        else None
    )
    specific = (
        spec is not None
        and spec.provenance.get("chosen") == "rules"
        and any(o.op != "edit" for o in spec.operations)
    )
    if spec is not None and specific:
        return spec
    normalizer = SpecNormalizer(digest, llm=llm.get())
    spec = normalizer.normalize(issue, backends=["rules", "llm"])
    for run in normalizer.runs:
        if run.backend == "llm" and run.candidate is not None:
            memory.record_attempt(
                {
                    "run_id": run_id,
                    "phase": "spec",
                    "role": "spec",
                    "messages": run.candidate.meta.get("messages"),
                    "raw_output": run.candidate.raw,
                    "parsed": [o.to_dict() for o in run.candidate.operations],
                    "model_id": run.candidate.meta.get("model_id"),
                    "params": run.candidate.meta.get("params"),
                    "prompt_tokens": run.candidate.meta.get("prompt_tokens"),
                    "completion_tokens": run.candidate.meta.get("completion_tokens"),
                    "latency_s": run.candidate.meta.get("latency_s"),
                    "outcome": "chosen" if spec.provenance.get("chosen") == "llm" else "not chosen",
                }
            )
    return spec


def summary_markdown(
    spec: Spec,
    plan: Plan,
    outcomes: list[PhaseOutcome],
    validation: dict[str, Any],
    verdict: Mapping[str, Any] | None = None,
) -> str:
    """The patch set's ``summary.md``; ``verdict`` adds the outcome, coverage and acceptance."""
    lines = [f"# {spec.issue_id}", ""]
    if verdict:
        lines += [f"**Outcome: {verdict['status']}** — {verdict['why']}", ""]
    lines += [spec.description.strip()[:2000], "", "## Plan", ""]
    lines += [f"- {o.plain()}" for o in spec.operations]
    lines += ["", "## Phases", ""]
    for o in outcomes:
        lines.append(
            f"- `{o.phase_id}` {o.operation}: {'ok' if o.ok else 'FAILED'} after {o.attempts} attempt(s)"
        )
    lines += ["", "## Validation", ""]
    for check in validation.get("checks", []):
        lines.append(
            f"- {'✔' if check.get('ok') else '✘'} {check.get('name')}: {str(check.get('message'))[:200]}"
        )
    if verdict:
        coverage = verdict["coverage"]
        lines += ["", "## Coverage", ""]
        lines.append(f"- {'✔' if coverage['complete'] else '✘'} {coverage['message']}")
        lines += [f"- context: `{k}`: {v}" for k, v in coverage.get("context", {}).items()]
        lines += ["", "## Acceptance checks (acceptance_test.py)", ""]
        report = verdict["acceptance"]
        if report.get("error"):
            lines.append(f"- ✘ could not run: {report['error'][:300]}")
        for r in report.get("results", []):
            mark = "✔ pass" if r["ok"] else "✘ FAIL"
            if not r.get("applies", True):
                mark = "– n/a (fails without the change too, or cannot run)"
            before = {True: "passes", False: "fails", None: "not run"}[r.get("before")]
            note = (
                f" — {r['message'].splitlines()[-1][:200]}" if not r["ok"] and r["message"] else ""
            )
            lines.append(
                f"- {mark} `{r['name']}` [{r['kind']}]: {r['doc']} "
                f"(without the change: {before}){note}"
            )
        if not report.get("results") and not report.get("error"):
            lines.append("- (none: the issue and the plan state nothing checkable)")
    return "\n".join(lines) + "\n"


def load_spec(
    issue: str | None,
    spec_path: str | None,
    digest: Any,
    llm: LazyLLM,
    options: FixOptions,
    memory: Memory,
    run_id: str,
) -> Spec:
    if spec_path:
        return from_spec_file(spec_path, digest)
    return normalize_issue(issue or "", digest, llm, options, memory, run_id)


def commit_message(spec: Spec, plan: Plan) -> str:
    title = (
        spec.description.strip().splitlines()[0][:72] if spec.description.strip() else spec.issue_id
    )
    body = "\n".join(f"- {p.operation.summary()}" for p in plan.phases)
    return f"autopatch: {title}\n\n{body}\n\nIssue: {spec.issue_id}\n"


def land(repo: Path, patch: PatchSet, spec: Spec, plan: Plan, options: FixOptions) -> str:
    builder = CommitBuilder(repo)
    if options.commit:
        branch = options.branch or f"autopatch/{slugify(spec.issue_id)}"
        sha = builder.commit(
            patch, message=commit_message(spec, plan), branch=branch, force=options.force
        )
        return f"committed {sha[:10]} on branch {branch}"
    if options.apply:
        builder.apply(patch, force=options.force)
        return "applied to the working tree"
    return ""


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def phase_label(phase: Phase) -> str:
    return f"{phase.id}: {phase.operation.summary()}"
