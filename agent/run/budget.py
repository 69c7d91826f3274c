"""The budget of one model-written phase, and what it has spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    """The most one phase may spend: drafts, model calls and wall-clock seconds."""

    drafts: int = 8
    calls: int = 24
    seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.drafts < 1 or self.calls < 1 or self.seconds <= 0:
            raise ValueError("a phase budget needs at least one draft, one call and some time")


@dataclass
class Spend:
    """What a phase has spent so far (all its sampling rounds together) of its budget."""

    budget: Budget = field(default_factory=Budget)
    drafts: int = 0
    calls: int = 0
    seconds: float = 0.0

    def exhausted(self) -> str:
        """Why the budget is spent ('' while it is not)."""
        budget = self.budget
        if self.drafts >= budget.drafts:
            return f"{budget.drafts} draft(s)"
        if self.calls >= budget.calls:
            return f"{budget.calls} model call(s)"
        if self.seconds >= budget.seconds:
            return f"{budget.seconds:.0f} s"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {"drafts": self.drafts, "calls": self.calls, "seconds": round(self.seconds, 1)}
