"""The memory of one target repository: what autopatch tried, what worked, what failed."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory.jsonl import JsonlLog

# The fields of the seed schema that every success record carries.
SUCCESS_FIELDS = (
    "timestamp_utc",
    "spec_issue_id",
    "spec_issue_description",
    "spec_target_files",
    "spec_operations_summary",
    "successful_diff_summary",
    "successful_script_hash",
    "patch_source",
)


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Memory:
    """``success_memory.jsonl``, ``attempts.jsonl`` and ``failures.jsonl`` under ``<data dir>/memory``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "memory"
        self.success = JsonlLog(self.root / "success_memory.jsonl")
        self.attempts = JsonlLog(self.root / "attempts.jsonl")
        self.failures = JsonlLog(self.root / "failures.jsonl")

    def record_attempt(self, record: Mapping[str, Any]) -> None:
        """One LLM call or codemod run with its outcome (prompt, raw output, validation…)."""
        self.attempts.append({"timestamp_utc": now_utc(), **record})

    def record_success(self, record: Mapping[str, Any]) -> None:
        missing = [f for f in SUCCESS_FIELDS if f not in record and f != "timestamp_utc"]
        if missing:
            raise ValueError(f"success record lacks {', '.join(missing)}")
        self.success.append({"timestamp_utc": now_utc(), **record})

    def record_failure(self, record: Mapping[str, Any]) -> None:
        self.failures.append({"timestamp_utc": now_utc(), **record})
