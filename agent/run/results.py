"""What a ``fix`` run gives back: each phase's ``PhaseOutcome`` and the run's ``FixResult``
(both frozen, with ``to_dict``; the outcome names are in ``agent.run.status``).
``RunJournal`` is what the job fills in as it goes (a failure is recorded with what it
holds); ``result()`` freezes it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.run.status import EXIT_CODES, FAILED

if TYPE_CHECKING:
    from agent.draft.script import Draft
    from agent.land.builder import PatchSet
    from agent.run.verdict import Verdict
    from agent.verify.validate import Validation
    from planner.phases import Plan
    from planner.spec import Spec


@dataclass(frozen=True)
class PhaseOutcome:
    """One phase's drafting round: whether a draft was kept, after how many, and what it spent."""

    phase_id: str
    operation: str
    ok: bool
    attempts: int
    message: str = ""
    draft: Draft | None = None
    spend: Mapping[str, Any] = field(default_factory=dict)  # drafts, model calls, seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase_id,
            "operation": self.operation,
            "ok": self.ok,
            "attempts": self.attempts,
            "spend": dict(self.spend),
            "message": self.message,
            "slots": dict(self.draft.slots) if self.draft else {},
        }


@dataclass(frozen=True)
class FixResult:
    """``ok`` only when validated: the repo's tests, the acceptance checks and coverage pass."""

    ok: bool
    run_id: str
    message: str
    status: str = FAILED
    spec: Spec | None = None
    plan: Plan | None = None
    phases: tuple[PhaseOutcome, ...] = ()
    validation: Validation | None = None
    patch: PatchSet | None = None
    landed: str = ""
    seconds: float = 0.0
    verdict: Verdict | None = None  # status, why, coverage, acceptance

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
            "validation": self.validation.to_dict() if self.validation else {},
            "verdict": self.verdict.to_dict() if self.verdict else {},
            "patch_set": str(self.patch.path) if self.patch else None,
            "diff": self.patch.diff if self.patch else "",
            "landed": self.landed,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class RunJournal:
    """What a run has done so far: the job fills it in stage by stage; ``result()`` is the
    frozen ``FixResult`` (also of a run that raised: its failure record is written from it)."""

    run_id: str
    ok: bool = False
    message: str = ""
    status: str = FAILED
    spec: Spec | None = None
    plan: Plan | None = None
    phases: list[PhaseOutcome] = field(default_factory=list)
    validation: Validation | None = None
    patch: PatchSet | None = None
    landed: str = ""
    seconds: float = 0.0
    verdict: Verdict | None = None

    def result(self) -> FixResult:
        return FixResult(
            self.ok, self.run_id, self.message, self.status, self.spec, self.plan,
            tuple(self.phases), self.validation, self.patch, self.landed, self.seconds,
            self.verdict,
        )  # fmt: skip


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
