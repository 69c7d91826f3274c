"""One phase on the run's scratch copy: its drafts sampled (``agent.run.sampler``) and judged
by the phase's oracle (``agent.run.oracle``) within the phase's budget; the kept draft of
each phase, and its script replayed without a model call when a later repair needs it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

from agent.acceptance.examples import facts_report
from agent.codemods.run import decode_source
from agent.draft.drafter import Drafter
from agent.draft.script import Draft
from agent.run.budget import Spend
from agent.run.checks import TreeChecks
from agent.run.context import RunContext
from agent.run.oracle import BEHAVIOUR_OPS, ExampleProbe, PhaseOracle
from agent.run.record import Recorder
from agent.run.results import PhaseOutcome
from agent.run.sampler import Sampler
from agent.verify.sandbox import Scratch
from agent.verify.validate import Validation, Validator
from planner.phases import Phase

CODE_SLOTS = frozenset({"source", "body"})


class PhaseRunner:
    """Runs phases of the plan of ``checks`` on ``scratch``; ``drafts`` holds each phase's
    kept draft, ``spend`` what each phase has spent of its budget (repairs included)."""

    def __init__(
        self,
        ctx: RunContext,
        scratch: Scratch,
        drafter: Drafter,
        checks: TreeChecks,
        recorder: Recorder,
        *,
        read: Sequence[str] = (),
    ) -> None:
        """``read``: the results the issue asks for in words (read by the judge model), as
        ``>>>`` lines for the drafting facts."""
        self.ctx, self.scratch, self.drafter = ctx, scratch, drafter
        self.checks, self.recorder = checks, recorder
        self.read = list(read)
        self.scripts_dir = ctx.work / "scripts"
        self.scripts_dir.mkdir(mode=0o700, exist_ok=True)
        self.drafts: dict[str, Draft] = {}
        self.spend: dict[str, Spend] = {}  # each phase's model calls, drafts and seconds

    def run(
        self, phase: Phase, feedback: str | None = None, previous: Draft | None = None
    ) -> tuple[PhaseOutcome, Draft | None]:
        """Sample, run and keep the phase's drafts within its budget."""
        ctx, scratch, drafter = self.ctx, self.scratch, self.drafter
        op = phase.operation.op
        code = bool(CODE_SLOTS & set(drafter.slots_for(phase.operation)))
        probe = (
            ExampleProbe.of(drafter.issue, scratch.root, ctx.config.python, ctx.config.sandbox)
            if op in BEHAVIOUR_OPS
            else None
        )
        drafter.facts = (
            facts_report(
                drafter.issue,
                probe.examples if probe else [],
                probe.baseline if probe else None,
                self.read,
            )
            if code and op in BEHAVIOUR_OPS
            else ""
        )
        oracle = PhaseOracle(
            scratch,
            self._validate,
            probe,
            related=(lambda changed: self.checks.related(scratch, changed)) if code else None,
            acceptance=self.checks.acceptance if code else None,
            decisive=phase is self.checks.plan.phases[-1],
            style=ctx.style,
        )
        spend = self.spend.setdefault(phase.id, Spend(ctx.config.options.budget()))
        sampler = Sampler(
            drafter, oracle, self.recorder.draft, spend, files=self._files, progress=ctx.progress
        )
        outcome, draft = sampler.run(phase, feedback=feedback, previous=previous)
        if draft is not None:
            self.drafts[phase.id] = draft
        return replace(outcome, spend=spend.to_dict()), draft

    def replay(self, phase: Phase) -> bool:
        """Run the phase's kept script again (no model call)."""
        draft = self.drafts[phase.id]
        script = self.scripts_dir / draft.script_name
        script.write_text(draft.script, encoding="utf-8")
        validator = Validator(
            self.scratch, self.ctx.config.sandbox, scope=self.checks.scope, python=sys.executable
        )
        return validator.run_script(script).ok

    def _validate(self, draft: Draft) -> Validation:
        """Run one phase script in the sandbox on the scratch copy, with the per-phase checks."""
        script = self.scripts_dir / draft.script_name
        script.write_text(draft.script, encoding="utf-8")
        validator = Validator(
            self.scratch,
            self.ctx.config.sandbox,
            scope=self.checks.scope,
            related_tests=(),
            python=sys.executable,
        )
        return validator.run(script)

    def _files(self) -> dict[str, str]:
        out = {}
        for d in {d.path for d in self.ctx.digest.definitions()}:
            path = self.scratch.root / d
            if path.is_file():
                out[d] = decode_source(path.read_bytes())
        return out
