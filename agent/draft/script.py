"""What one draft is: the slot values of a phase, the model calls that wrote them, and the
standalone codemod script that applies them (the artifact the patch set keeps)."""

from __future__ import annotations

import hashlib
import pprint
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.spec import Operation

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LLMCall:
    """One model call made while drafting, kept for memory."""

    role: str
    messages: tuple[dict[str, str], ...]
    raw: str
    parsed: Any
    model_id: str
    params: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    error: str | None = None
    finish_reason: str = "stop"  # "length" when the reply hit max_tokens

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Draft:
    phase_id: str
    operation: Operation
    slots: Mapping[str, Any]
    script_name: str
    script: str
    calls: tuple[LLMCall, ...] = field(default_factory=tuple)

    @property
    def problem(self) -> str | None:
        """Why the slots are unusable: the last call's error (earlier calls may have been
        re-asked successfully), or None."""
        return self.calls[-1].error if self.calls else None

    @property
    def script_hash(self) -> str:
        return hashlib.sha256(self.script.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "phase": self.phase_id,
            "op": self.operation.to_dict(),
            "slots": dict(self.slots),
            "script_name": self.script_name,
            "script_hash": self.script_hash,
            "calls": [c.to_dict() for c in self.calls],
        }


def render_script(phase_id: str, op: Operation, slots: Mapping[str, Any]) -> str:
    """A standalone, runnable codemod script for one phase (the artifact we keep)."""
    return (
        "#!/usr/bin/env python\n"
        f'"""autopatch phase {phase_id}: {op.summary()}.\n\n'
        "Run from anywhere: python THIS_FILE.py [REPO_ROOT]  (default: the current folder).\n"
        'Needs autopatch installed (it provides the codemod library)."""\n\n'
        "import sys\n\n"
        "from agent.codemods.run import main\n\n"
        f"OPERATION = {pprint.pformat(op.to_dict(), width=100, sort_dicts=False)}\n\n"
        f"SLOTS = {pprint.pformat(dict(slots), width=100, sort_dicts=False)}\n\n"
        'if __name__ == "__main__":\n'
        "    sys.exit(main(OPERATION, SLOTS, sys.argv[1:]))\n"
    )
