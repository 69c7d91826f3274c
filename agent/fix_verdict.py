"""The honest outcome of ``fix``: validated only when everything that can be checked passed.

``validated``   the repository's checks and tests pass, every acceptance check from the
                issue passes, and the plan covers every symbol the issue asks to change;
``unverified``  the change passed the repository's checks but an acceptance check failed
                (or could not run) or the plan's coverage is incomplete: the candidate patch
                set is written for inspection and lands only with ``--accept-unverified``;
``failed``      no candidate change passed the repository's checks (no patch set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.acceptance import AcceptanceReport, Coverage
from agent.fix import UNVERIFIED, VALIDATED

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


def verdict_of(tests_ok: bool, coverage: Coverage, acceptance: AcceptanceReport) -> Verdict:
    """``validated`` when the tests, the acceptance checks and the coverage all pass."""
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
    if reasons:
        return Verdict(UNVERIFIED, "; ".join(reasons), coverage, acceptance)
    n = len([r for r in acceptance.results if r.applies])
    why = f"the repository's tests pass, {n} acceptance check(s) pass, the plan covers the issue"
    return Verdict(VALIDATED, why, coverage, acceptance)
