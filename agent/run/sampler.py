"""Sample, run, keep what passes: the drafts of one phase against the phase's oracle.

A small model rarely writes the right code on its first greedy try, but often does within a
few diverse tries, and the issue's own checks can tell which try is right. So each phase
that needs the model draws up to ``Budget.drafts`` drafts:

- the first greedy, from the issue and the localized facts (what the code does now, what
  the issue expects);
- after a failure, a repair of that draft with the concrete execution feedback (the
  example's actual and expected output, the failing test) — once greedy, then sampled;
- otherwise (or after two repairs in a row) a fresh sample at a higher temperature, worded
  as the whole new code or as the smallest change, every other one from the alternate model
  (the 1.5B where installed).

(Which of these comes next is the repair policy's call: ``agent.run.repair.next_draft``.)

Every draft is run by the oracle on the scratch copy (the phase script, the lint checks,
the issue's examples, the related tests, the acceptance checks). The first draft that
passes everything wins; a draft identical to an earlier one is not run again. When none
passes, the best ranked draft that at least applied and kept the tests green is kept (by
tests, behaviour change, acceptance checks passed, StyleProfile score, smaller diff) and the
final verdict says what it does not do. The budget (drafts, model calls, seconds) bounds
the phase, repairs after the final validation included.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.draft.drafter import Drafter
from agent.draft.script import Draft
from agent.run.budget import Spend
from agent.run.repair import next_draft
from agent.run.results import PhaseOutcome
from agent.run.trial import INVALID, VALIDATED, Oracle, Record, Trial
from agent.verify.sandbox import SandboxError
from planner.phases import Phase


def slots_key(draft: Draft) -> str:
    """Two drafts with the same key would do the same: code compared by its syntax tree."""
    out: dict[str, Any] = {}
    for name, value in draft.slots.items():
        if isinstance(value, str):
            try:
                value = ast.dump(ast.parse(value))
            except SyntaxError:
                value = value.strip()
        out[name] = value
    return json.dumps(out, sort_keys=True, default=str)


@dataclass
class _Round:
    """The state of one sampling round."""

    feedback: str | None
    previous: Draft | None
    seen: set[str] = field(default_factory=set)
    trials: list[Trial] = field(default_factory=list)
    repairs_in_a_row: int = 0
    repeated: bool = False  # a draft came back identical to an earlier one
    fresh: int = 0
    parent: str | None = None
    last_error: str = ""


class Sampler:
    """Draws, runs and ranks the drafts of one phase (see the module docstring)."""

    def __init__(
        self,
        drafter: Drafter,
        oracle: Oracle,
        record: Record,
        spend: Spend,
        *,
        files: Callable[[], dict[str, str]],
        progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.drafter, self.oracle, self.record = drafter, oracle, record
        self.spend = spend
        self.files, self.progress = files, progress

    def run(
        self, phase: Phase, *, feedback: str | None = None, previous: Draft | None = None
    ) -> tuple[PhaseOutcome, Draft | None]:
        state = _Round(feedback, previous)
        needs_model = bool(self.drafter.slots_for(phase.operation))
        attempt = 0
        while True:
            if attempt and not needs_model:
                break  # a codemod without slots is deterministic: one run says it all
            spent = self.spend.exhausted() if attempt or state.feedback else ""
            if spent:
                state.last_error = state.last_error or f"the phase budget ({spent}) is spent"
                self.progress(f"{phase.id}: budget spent ({spent})")
                break
            attempt += 1
            draft = self._draw(phase, state, attempt)
            if isinstance(draft, str):  # the backend failed
                if not state.trials and not state.seen:
                    return self._failed(phase, attempt, draft, None), None
                state.last_error = state.last_error or draft
                break
            trial = self._try(draft, state, attempt)
            if trial is not None and trial.score.passes:
                self.oracle.keep(trial)
                self.record(draft, VALIDATED, trial.validation, attempt, state.parent)
                if attempt > 1:
                    self.progress(f"{phase.id}: draft {attempt} passed")
                summary = phase.operation.summary()
                return PhaseOutcome(phase.id, summary, True, attempt, draft=draft), draft
        return self._best(phase, state, attempt)

    # -- one draft ---------------------------------------------------------------------
    def _draw(self, phase: Phase, state: _Round, attempt: int) -> Draft | str:
        """The next draft: a repair of the last failure, or a fresh sample."""
        how = next_draft(
            can_repair=state.feedback is not None and state.previous is not None,
            repairs_in_a_row=state.repairs_in_a_row,
            repeated=state.repeated,
            fresh=state.fresh,
            attempt=attempt,
            has_alternate=self.drafter.alternate is not None,
        )
        if how.repair:
            state.repairs_in_a_row += 1
            feedback, previous = state.feedback, state.previous
        else:
            state.fresh += 1
            state.repairs_in_a_row = 0
            feedback, previous = None, None
        start = time.perf_counter()
        try:
            draft = self.drafter.draft(
                phase,
                self.files(),
                feedback=feedback,
                previous=previous.slots if previous else None,
                sample=attempt - 1,
                temperature=how.temperature if self.drafter.slots_for(phase.operation) else None,
                variant=how.variant,
                alternate=how.alternate,
            )
        except SandboxError:
            raise  # ours, not the model's: never a repair
        except Exception as exc:  # the model backend failed: a clear, recorded failure
            return f"drafting failed: {type(exc).__name__}: {exc}"
        finally:
            self.spend.seconds += time.perf_counter() - start
        self.spend.drafts += 1
        self.spend.calls += len(draft.calls)
        return draft

    def _try(self, draft: Draft, state: _Round, attempt: int) -> Trial | None:
        """Run the draft (unless it repeats one); None when it was not run."""
        key = slots_key(draft)
        problem = draft.problem
        if key in state.seen:
            self.record(draft, "repeated", None, attempt, state.parent)
            state.repairs_in_a_row = 2  # that repair path is done: sample afresh next
            state.repeated = True
            state.last_error = state.last_error or "the model repeated an earlier answer"
            return None
        state.seen.add(key)
        if problem:
            state.parent = self.record(draft, INVALID, None, attempt, state.parent)
            state.feedback, state.previous, state.last_error = problem, draft, problem
            return None
        start = time.perf_counter()
        try:
            trial = self.oracle.evaluate(draft)
        finally:
            self.spend.seconds += time.perf_counter() - start
        state.trials.append(trial)
        if not trial.score.passes:
            state.parent = self.record(
                draft, trial.outcome, trial.validation, attempt, state.parent
            )
            state.feedback, state.previous = trial.feedback, draft
            state.last_error = trial.feedback
        return trial

    # -- the end of a round --------------------------------------------------------------
    def _best(
        self, phase: Phase, state: _Round, attempts: int
    ) -> tuple[PhaseOutcome, Draft | None]:
        usable = [t for t in state.trials if t.score.usable]
        if not usable:
            return self._failed(phase, attempts, state.last_error, state.previous), None
        best = max(usable, key=lambda t: t.score.key())
        self.oracle.keep(best)
        rank = state.trials.index(best) + 1
        self.progress(
            f"{phase.id}: no draft passed every check; keeping draft {rank} of "
            f"{len(state.trials)} run ({best.score.accepted} acceptance check(s) passed)"
        )
        outcome = PhaseOutcome(
            phase.id, phase.operation.summary(), True, attempts, best.feedback, draft=best.draft
        )
        return outcome, best.draft

    @staticmethod
    def _failed(phase: Phase, attempts: int, message: str, draft: Draft | None) -> PhaseOutcome:
        return PhaseOutcome(
            phase.id, phase.operation.summary(), False, attempts, message, draft=draft
        )
