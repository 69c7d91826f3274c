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

from agent.budget import Budget
from agent.draft import Draft
from agent.land.builder import CommitBuilder, PatchSet, slugify
from cores.protocols import LLM
from memory.store import Memory
from planner.normalize import SpecNormalizer, from_spec_file
from planner.phases import Phase, Plan
from planner.retrieval import Retriever
from planner.spec import Spec, SpecError

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
      max_repairs: rounds of repair after the final validation (the full suite, the
        doctests, the acceptance checks) fails; each round drafts within the phase budget.
      candidates: the most drafts per model-written phase (``agent.sampler``): the first
        greedy, then repairs with execution feedback and fresh samples; the first draft
        that passes the phase's checks wins. 1 = one greedy draft, no sampling.
      phase_calls / phase_seconds: the rest of a phase's budget: model calls and seconds,
        drafting and checking together, repairs after the final validation included.
      one_model: draft with the configured model only; otherwise every other fresh sample
        of a code slot comes from the judge model where it is another one (the 1.5B).
      spec_llm: how the issue becomes a spec. ``auto``: grounded planning, the rules as one
        proposer and the model (the 1.5B when installed) as the judge; ``always``: the
        free-form LLM backend proposes too; ``never``: the rules alone, no model (fast,
        only for phrasings the rules know).
    """

    apply: bool = False
    commit: bool = False
    accept_unverified: bool = False
    branch: str | None = None
    force: bool = False
    full_tests: str = "auto"
    max_repairs: int = 3
    spec_llm: str = "auto"
    candidates: int = 8
    phase_calls: int = 24
    phase_seconds: float = 300.0
    one_model: bool = False  # draft with the configured model only (no alternate samples)

    def budget(self) -> Budget:
        """The budget of one model-written phase."""
        return Budget(self.candidates, self.phase_calls, self.phase_seconds)


@dataclass
class PhaseOutcome:
    phase_id: str
    operation: str
    ok: bool
    attempts: int
    message: str = ""
    draft: Draft | None = None
    spend: dict[str, Any] = field(default_factory=dict)  # drafts, model calls, seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase_id,
            "operation": self.operation,
            "ok": self.ok,
            "attempts": self.attempts,
            "spend": self.spend,
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
    """Creates the LLM on first use (many fixes never need it), and the judge model
    (``judge_factory``) on first use of ``judge``. Without a judge factory there is no
    judge (the scripted backend: its canned replies are for drafting, not for judging);
    a judge factory that is ``factory`` itself means the one model also judges (loaded once)."""

    def __init__(
        self, factory: Callable[[], LLM], judge_factory: Callable[[], LLM] | None = None
    ) -> None:
        self._factory = factory
        self._judge_factory = judge_factory
        self._llm: LLM | None = None
        self._judge: LLM | None = None

    def get(self) -> LLM:
        if self._llm is None:
            self._llm = self._factory()
        return self._llm

    @property
    def can_judge(self) -> bool:
        return self._judge_factory is not None

    def judge(self) -> LLM:
        if self._judge_factory is None:
            raise ValueError("no judge model is configured")
        if self._judge_factory is self._factory:
            return self.get()
        if self._judge is None:
            self._judge = self._judge_factory()
        return self._judge

    def alternate(self) -> LLM | None:
        """A second model for drafting: the judge, where it is another model (the 1.5B
        beside the default), else None."""
        if self._judge_factory is None or self._judge_factory is self._factory:
            return None
        judge = self.judge()
        return None if judge.model_id == self.get().model_id else judge

    def close(self) -> None:
        for model in (self._llm, self._judge):
            if model is not None:
                model.close()


def normalize_issue(
    issue: str,
    digest: Any,
    llm: LazyLLM,
    options: FixOptions,
    memory: Memory,
    run_id: str,
    *,
    repo: Path | None = None,
    retriever: Any = None,
) -> Spec:
    """Grounded planning judged by the model (see ``FixOptions.spec_llm``)."""
    if options.spec_llm == "never":
        return SpecNormalizer(digest).normalize(issue, backends=["rules"])
    if not llm.can_judge:
        return _rules_then_llm(issue, digest, llm, options, memory, run_id)
    backends = ["rules", "llm", "judge"] if options.spec_llm == "always" else ["rules", "judge"]
    normalizer = SpecNormalizer(
        digest,
        llm=llm.get() if "llm" in backends else None,
        judge_llm=llm.judge(),
        repo=repo,
        retriever=retriever if retriever is not None else Retriever(digest),
        examples=past_plans(memory),
    )
    spec = normalizer.normalize(issue, backends=backends)
    for run in normalizer.runs:
        if run.backend == "judge" and run.candidate is not None:
            memory.record_attempt(
                {
                    "run_id": run_id,
                    "attempt_id": f"{run_id}:spec:judge",
                    "parent_attempt": None,
                    "phase": "spec",
                    "role": "judge",
                    "model_id": run.candidate.meta.get("model_id"),
                    "parsed": [o.to_dict() for o in run.candidate.operations],
                    "judge": run.candidate.meta.get("judge"),
                    "latency_s": round(run.seconds, 2),
                    "outcome": "chosen"
                    if spec.provenance.get("chosen") == "judge"
                    else "not chosen",
                }
            )
    _record_llm_spec(normalizer, spec, memory, run_id)
    return spec


def _rules_then_llm(
    issue: str, digest: Any, llm: LazyLLM, options: FixOptions, memory: Memory, run_id: str
) -> Spec:
    """Without a judge: the rules, and the free-form LLM backend when they find nothing
    specific (or always)."""
    if options.spec_llm == "auto":
        spec = SpecNormalizer(digest).normalize(issue, backends=["rules"])
        if spec.provenance.get("chosen") == "rules" and any(
            o.op != "edit" for o in spec.operations
        ):
            return spec
    normalizer = SpecNormalizer(digest, llm=llm.get())
    spec = normalizer.normalize(issue, backends=["rules", "llm"])
    _record_llm_spec(normalizer, spec, memory, run_id)
    return spec


def _record_llm_spec(normalizer: SpecNormalizer, spec: Spec, memory: Memory, run_id: str) -> None:
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


def past_plans(memory: Memory, limit: int = 200) -> list[tuple[str, str]]:
    """(issue, plan in words) of earlier validated runs the user did not rate down."""
    from planner.propose import describe

    bad = {k for k, f in memory.latest_feedback().items() if (f.get("rating") or 5) <= 2}
    out = []
    for rec in memory.successes()[-limit:]:
        if rec.get("run_id") in bad or not rec.get("spec"):
            continue
        try:
            spec = Spec.from_dict(rec["spec"])
        except (SpecError, KeyError, TypeError, ValueError):  # an old or foreign record
            continue
        out.append((spec.description, "; ".join(describe(o) for o in spec.operations)))
    return out


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
        spent = (
            f" ({o.spend['drafts']} draft(s), {o.spend['calls']} model call(s), "
            f"{o.spend['seconds']} s)"
            if o.spend.get("calls")
            else ""
        )
        lines.append(
            f"- `{o.phase_id}` {o.operation}: {'ok' if o.ok else 'FAILED'} after "
            f"{o.attempts} attempt(s){spent}"
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
    repo: Path | None = None,
) -> Spec:
    if spec_path:
        return from_spec_file(spec_path, digest)
    return normalize_issue(issue or "", digest, llm, options, memory, run_id, repo=repo)


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
