"""The memory of one target repository: what autopatch tried, what worked, what failed,
and what the developer thought of it.

Four append-only logs under ``<data dir>/memory``: ``success_memory.jsonl``,
``attempts.jsonl``, ``failures.jsonl`` and ``feedback.jsonl``. Readers get plain
record lists (``successes()``, ``attempts()``, ``failures()``, ``feedback()``);
a success is found by its ``run_id`` or by its patch-set folder name.

With ``MemoryConfig(backend="postgres", dsn=...)`` every record is also copied to a
PostgreSQL store (``memory.pg_store``); reads stay local.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.jsonl import SCHEMA_VERSION, JsonlLog
from memory.pg_store import PgMirror, redact_dsn

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

LOG_FILES = {
    "success": "success_memory.jsonl",
    "attempts": "attempts.jsonl",
    "failures": "failures.jsonl",
    "feedback": "feedback.jsonl",
}

Record = dict[str, Any]
BACKENDS = ("jsonl", "postgres")


@dataclass(frozen=True)
class MemoryConfig:
    """Where memory records go.

    Fields:
      backend: ``jsonl`` (the local files under ``<data dir>/memory`` only) or
        ``postgres`` (the local files, which stay the source of truth and keep working
        offline, plus a copy of every record in the PostgreSQL store at ``dsn``; a failed
        copy is logged and never fails the run). Reads are always local.
      dsn: the PostgreSQL URL for ``postgres``, e.g. ``postgresql://autopatch@db.team/memory``;
        leave the password out and give it with ``PGPASSWORD`` or ``~/.pgpass``.
        Needs ``pip install 'autopatch[pg]'``.
    """

    backend: str = "jsonl"
    dsn: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"memory.backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}"
            )
        if self.backend == "postgres" and not (isinstance(self.dsn, str) and self.dsn.strip()):
            raise ValueError(
                "memory.backend postgres needs memory.dsn, e.g. postgresql://user@host/db"
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings, with the DSN's password replaced by ``***``."""
        return {"backend": self.backend, "dsn": redact_dsn(self.dsn) if self.dsn else None}


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def patch_set_name(record: Mapping[str, Any]) -> str | None:
    """The ``<timestamp>-<slug>`` folder name of a success record's patch set."""
    path = record.get("patch_set")
    return Path(str(path)).name if path else None


class Memory:
    """The four logs of one data dir; see the module docstring."""

    mirror: PgMirror | None  # the postgres copy (``MemoryConfig`` backend postgres)

    def __init__(self, data_dir: str | Path, config: MemoryConfig | None = None) -> None:
        self._open(Path(data_dir) / "memory")
        if config is not None and config.backend == "postgres" and config.dsn:
            self.mirror = PgMirror(config.dsn, tuple(LOG_FILES))  # writes are copied there

    @classmethod
    def from_folder(cls, memory_dir: str | Path) -> Memory:
        """The memory whose logs lie directly in ``memory_dir`` (e.g. a copied memory folder)."""
        memory = cls.__new__(cls)
        memory._open(Path(memory_dir))
        return memory

    def _open(self, root: Path) -> None:
        self.root = root
        self.logs = {name: JsonlLog(root / fname) for name, fname in LOG_FILES.items()}
        self.mirror = None

    def _append(self, name: str, record: Mapping[str, Any]) -> None:
        """Append locally (errors raise), then copy to the mirror (errors are logged)."""
        self.logs[name].append(record)
        if self.mirror is not None:
            self.mirror.append(name, record)

    # -- writing -------------------------------------------------------------------------
    def record_attempt(self, record: Mapping[str, Any]) -> None:
        """One LLM call or codemod run with its outcome (prompt, raw output, validation…)."""
        self._append("attempts", {"timestamp_utc": now_utc(), **record})

    def record_success(self, record: Mapping[str, Any]) -> None:
        missing = [f for f in SUCCESS_FIELDS if f not in record and f != "timestamp_utc"]
        if missing:
            raise ValueError(f"success record lacks {', '.join(missing)}")
        self._append("success", {"timestamp_utc": now_utc(), **record})

    def record_failure(self, record: Mapping[str, Any]) -> None:
        self._append("failures", {"timestamp_utc": now_utc(), **record})

    def record_feedback(
        self,
        patch_id: str,
        rating: int,
        note: str = "",
        corrected_diff: str | None = None,
        *,
        patch_sets: Iterable[str] = (),
    ) -> Record:
        """Remember a developer's verdict on a patch set (or run); return the record.

        ``patch_id`` is a patch-set folder name (``<timestamp>-<slug>``) or a run id;
        it must name a success in memory or one of ``patch_sets`` (the folder names
        under the repository's ``.autopatches/``). Raises ValueError on bad input.
        """
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be a whole number from 1 to 5, not {rating!r}")
        if corrected_diff is not None and not corrected_diff.strip():
            raise ValueError("the corrected diff is empty; give the diff you would have wanted")
        success = self.find_success(patch_id)
        if success is None and patch_id not in set(patch_sets):
            raise ValueError(
                f"no patch set or run {patch_id!r} is known; "
                "`autopatch list` shows the patch sets, `autopatch memory list` the runs"
            )
        record: Record = {
            "patch_id": patch_id,
            "run_id": success.get("run_id") if success else None,
            "patch_set": patch_set_name(success) if success else patch_id,
            "rating": rating,
            "note": note,
            "corrected_diff": corrected_diff,
        }
        record = {"timestamp_utc": now_utc(), **record}
        self._append("feedback", record)
        return {"schema_version": SCHEMA_VERSION, **record}

    # -- reading -------------------------------------------------------------------------
    def successes(self) -> list[Record]:
        return self.logs["success"].read()[0]

    def attempts(self) -> list[Record]:
        return self.logs["attempts"].read()[0]

    def failures(self) -> list[Record]:
        return self.logs["failures"].read()[0]

    def feedback(self) -> list[Record]:
        """Feedback records, oldest first; ``run_id`` is filled in where a success names it."""
        records = self.logs["feedback"].read()[0]
        by_set: dict[str, Any] = {}
        for s in self.successes():
            name = patch_set_name(s)
            if name:
                by_set[name] = s.get("run_id")
        for r in records:
            if not r.get("run_id") and r.get("patch_set") in by_set:
                r["run_id"] = by_set[r["patch_set"]]
        return records

    def find_success(self, key: str) -> Record | None:
        """The success record whose ``run_id`` or patch-set folder name is ``key``."""
        for record in reversed(self.successes()):
            if key and key in (record.get("run_id"), patch_set_name(record)):
                return record
        return None

    def latest_feedback(self) -> dict[str, Record]:
        """run_id (or patch-set name, when no run is known) → the newest feedback on it."""
        latest: dict[str, Record] = {}
        for record in self.feedback():
            key = record.get("run_id") or record.get("patch_set") or record.get("patch_id")
            if key:
                latest[str(key)] = record
        return latest

    def feedback_for(self, run_id: str) -> Record | None:
        """The newest feedback on ``run_id`` (or on its patch set), if any."""
        return self.latest_feedback().get(run_id)

    def torn_lines(self) -> dict[str, int]:
        """Log file name → torn lines skipped when reading it (a crash mid-append)."""
        return {log.path.name: log.read()[1].torn_lines for log in self.logs.values()}
