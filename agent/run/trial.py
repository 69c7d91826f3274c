"""What the oracle of a phase says about one draft: its ``Score`` (how far it got; ``key``
ranks drafts), the ``Trial`` (the score, the files it produced, the feedback for a repair),
and the outcome names memory records for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.draft.script import Draft

# what a draft led to, as recorded in memory
VALIDATED, FAILED, INVALID, NO_CHANGE, NO_BEHAVIOUR = (
    "validated",
    "failed",
    "invalid slot",
    "no change",
    "no behaviour change",
)


@dataclass(frozen=True)
class Score:
    """How far one applied draft got; ``key`` ranks drafts (higher is better)."""

    applied: bool = False  # the phase script ran and the lint checks passed
    changed: bool = True  # the examples behave differently (True when there are none)
    tests: bool = True  # the related tests pass (True when not run for this phase)
    accepted: int = 0  # acceptance checks passed
    complete: bool = True  # every acceptance check passed (True when not decisive)
    style: float = 0.0  # StyleProfile score of the changed files
    size: int = 0  # diff size in characters

    @property
    def passes(self) -> bool:
        return self.applied and self.changed and self.tests and self.complete

    @property
    def usable(self) -> bool:
        """Good enough to keep when nothing passes: it applies and breaks no test."""
        return self.applied and self.changed and self.tests

    def key(self) -> tuple[bool, bool, bool, bool, int, float, int]:
        return (
            self.applied,
            self.tests,
            self.changed,
            self.complete,
            self.accepted,
            self.style,
            -self.size,
        )


@dataclass(frozen=True)
class Trial:
    """One draft run by the oracle: its score, the files it produced, the feedback."""

    draft: Draft
    score: Score
    outcome: str  # what memory records: validated | failed | no change | …
    feedback: str = ""  # for the repair prompt ('' when it passed)
    files: Mapping[str, bytes] = field(default_factory=dict)  # changed files after it ran
    validation: Any = None


class Oracle(Protocol):
    """Runs a draft on the scratch copy, scores it and puts the copy back."""

    def evaluate(self, draft: Draft) -> Trial: ...

    def keep(self, trial: Trial) -> None:
        """Write the trial's files onto the scratch copy."""


Record = Callable[[Draft, str, Any, int, "str | None"], str]
