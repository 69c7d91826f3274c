"""The repair policy: what the next draft of a phase is, and what happens when the final
tree fails its checks.

Within a phase (``next_draft``, used by the sampler): after a failure, a repair of that draft
with its execution feedback — greedy first, sampled once the model has repeated itself —
at most two repairs in a row; otherwise a fresh sample (greedy first, then at 0.8), every
other one from the alternate model (greedy on its first) and every other pair worded as the
smallest change.

After the final validation fails (``repair_until_valid``): up to ``max_repairs`` rounds;
each goes back to the original tree, replays the kept scripts of the other phases and
redrafts the last model-written phase with the failure as feedback. A round whose phases do
not all run again puts back the last kept drafts and stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from agent.draft.drafter import Drafter
from agent.draft.script import Draft
from agent.run.checks import TreeChecks
from agent.run.context import RunContext
from agent.run.oracle import restore
from agent.run.results import PhaseOutcome, RunJournal
from agent.verify.sandbox import Scratch
from agent.verify.validate import Check, Validation
from planner.phases import Phase


class PhaseRunner(Protocol):
    """What a repair round needs of the runner of the plan's phases
    (``agent.run.phase.PhaseRunner``)."""

    ctx: RunContext
    scratch: Scratch
    drafter: Drafter
    checks: TreeChecks

    @property
    def drafts(self) -> Mapping[str, Draft]: ...

    def run(
        self, phase: Phase, feedback: str | None = None, previous: Draft | None = None
    ) -> tuple[PhaseOutcome, Draft | None]: ...

    def replay(self, phase: Phase) -> bool: ...


@dataclass(frozen=True)
class NextDraft:
    """How the sampler asks for its next draft."""

    repair: bool  # a repair of the last failed draft (else a fresh sample)
    temperature: float
    variant: str  # "issue" or "minimal"
    alternate: bool  # from the alternate model


def next_draft(
    *,
    can_repair: bool,
    repairs_in_a_row: int,
    repeated: bool,
    fresh: int,
    attempt: int,
    has_alternate: bool,
) -> NextDraft:
    """The next draft of a phase (see the module docstring): ``can_repair`` when there is a
    failed draft with feedback, ``fresh`` the fresh samples drawn so far."""
    if can_repair and repairs_in_a_row < 2:
        # greedy first; once the model has repeated itself, sampled (a greedy repair of
        # a similar prompt tends to send the same code back)
        temperature = 0.0 if repairs_in_a_row == 0 and not repeated else 0.6
        return NextDraft(True, temperature, "issue", False)
    # fresh samples: the alternate model (where there is one) every other time,
    # greedy on its first; the other wording every other pair
    alternate = has_alternate and fresh % 2 == 1
    temperature = 0.0 if attempt == 1 or (alternate and fresh == 1) else 0.8
    variant = "minimal" if (fresh // 2) % 2 else "issue"
    return NextDraft(False, temperature, variant, alternate)


def repair_until_valid(
    runner: PhaseRunner, checks: TreeChecks, journal: RunJournal, max_repairs: int
) -> Validation:
    """The final tree's validation, after at most ``max_repairs`` rounds of repair."""
    scratch, plan = runner.scratch, checks.plan
    validation = checks.final(scratch, scratch.changed_paths())
    repairs = 0
    while not validation.ok and repairs < max_repairs:
        target = next(
            (p for p in reversed(plan.phases) if runner.drafter.slots_for(p.operation)), None
        )
        if target is None:
            break
        repairs += 1
        failure = validation.failure
        runner.ctx.progress(
            f"repairing {target.id} after: {failure.name if failure else 'failure'}"
        )
        if not _redraft(runner, target, failure, journal):
            # back to the last state that was validated
            restore(scratch, {})
            for phase in plan.phases:
                runner.replay(phase)
            break
        validation = checks.final(scratch, scratch.changed_paths())
    return validation


def _redraft(
    runner: PhaseRunner, target: Phase, failure: Check | None, journal: RunJournal
) -> bool:
    """Back to the original tree, then every phase again: ``target`` redrafted with the
    failure as feedback, the others replayed. False when one of them does not run."""
    restore(runner.scratch, {})
    for phase in runner.checks.plan.phases:
        if phase.id != target.id:
            if not runner.replay(phase):
                return False
            continue
        outcome, draft = runner.run(
            phase,
            feedback=failure.message if failure else None,
            previous=runner.drafts[phase.id],
        )
        journal.phases.append(outcome)
        if draft is None:
            return False
    return True
