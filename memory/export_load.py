"""Pool the memory folders the exporter reads: successful runs, their attempts and feedback.

The files are read with ``JsonlLog`` directly (torn lines are skipped and counted), so
the exporter depends on the on-disk format only, not on ``Memory``'s read helpers. A
PostgreSQL URL (``postgresql://…``) in place of a folder reads that store's four logs
through ``PgLog`` instead.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.jsonl import JsonlLog
from memory.pg_store import PgConnection, PgLog, is_dsn, redact_dsn
from memory.store import LOG_FILES

SUCCESS_FILE = "success_memory.jsonl"
ATTEMPTS_FILE = "attempts.jsonl"
FAILURES_FILE = "failures.jsonl"
FEEDBACK_FILE = "feedback.jsonl"
MEMORY_FILES = (SUCCESS_FILE, ATTEMPTS_FILE, FAILURES_FILE, FEEDBACK_FILE)


@dataclass
class Run:
    """One successful run with everything memory holds about it."""

    run_id: str
    success: dict[str, Any]
    source: Path | None  # the memory folder it came from (None: a postgres store)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # file order
    feedback: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    @property
    def rating(self) -> int | None:
        """The latest feedback rating, if any."""
        rated = [f["rating"] for f in self.feedback if isinstance(f.get("rating"), int)]
        return rated[-1] if rated else None

    @property
    def corrected_diff(self) -> str | None:
        """The latest human-corrected diff, if any (it outranks the agent's diff)."""
        diffs = [f["corrected_diff"] for f in self.feedback if _text(f.get("corrected_diff"))]
        return diffs[-1] if diffs else None

    @property
    def diff(self) -> str:
        """The diff that counts: the human's correction, else the validated diff."""
        return self.corrected_diff or str(self.success.get("diff") or "")


@dataclass
class Pool:
    """All memory folders' records, pooled; ``runs`` are the successful ones, oldest first."""

    runs: list[Run]
    failed_runs: int
    sources: list[dict[str, Any]]
    torn_lines: int
    notes: Counter[str] = field(default_factory=Counter)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _places(memory_dirs: Iterable[str | Path]) -> list[Path | str]:
    """Folders (resolved) and postgres URLs, each once, in the order given."""
    seen: dict[Path | str, None] = {}
    for d in memory_dirs:
        seen.setdefault(str(d) if is_dsn(d) else Path(d).expanduser().resolve(), None)
    return list(seen)


def _read(folder: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    records: dict[str, list[dict[str, Any]]] = {}
    files: dict[str, Any] = {}
    for name in MEMORY_FILES:
        path = folder / name
        if not path.is_file():
            continue
        rows, report = JsonlLog(path).read()
        records[name] = rows
        files[name] = {
            "sha256": _sha256(path),
            "bytes": path.stat().st_size,
            "records": report.records,
            "torn_lines": report.torn_lines,
        }
    return records, files


def _read_pg(dsn: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Like ``_read``; the sha256 is of the records as sorted-key JSON lines."""
    records: dict[str, list[dict[str, Any]]] = {}
    files: dict[str, Any] = {}
    connection = PgConnection(dsn)
    try:
        for log, name in LOG_FILES.items():
            rows, report = PgLog(dsn, log, connection=connection).read()
            if not rows:
                continue
            text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
            records[name] = rows
            files[name] = {
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "records": report.records,
                "torn_lines": 0,
            }
    finally:
        connection.close()
    return records, files


def _load(place: Path | str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """One memory folder's or postgres store's records, and its manifest source entry."""
    if isinstance(place, str):
        where = redact_dsn(place)
        records, files = _read_pg(place)
        if not files:
            raise ValueError(f"the postgres memory store {where} holds no memory records")
        return records, {"dsn": where, "files": files}
    if not place.is_dir():
        raise ValueError(f"memory folder {place} does not exist")
    records, files = _read(place)
    if not files:
        raise ValueError(
            f"memory folder {place} holds none of {', '.join(MEMORY_FILES)}; "
            "is it a `<data dir>/memory` folder?"
        )
    return records, {"dir": str(place), "files": files}


def _feedback_key(record: dict[str, Any]) -> list[str]:
    keys = [record.get("run_id"), record.get("patch_id"), record.get("patch_set")]
    return [str(k) for k in keys if k]


def load_pool(memory_dirs: Sequence[str | Path]) -> Pool:
    """Read every memory folder (or postgres URL); ``ValueError`` when one does not exist or
    holds no memory record."""
    if not memory_dirs:
        raise ValueError("no memory folder given")
    runs: dict[str, Run] = {}
    by_patch: dict[str, str] = {}
    feedback: list[dict[str, Any]] = []
    failed: set[str] = set()
    sources: list[dict[str, Any]] = []
    notes: Counter[str] = Counter()
    attempts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for place in _places(memory_dirs):
        records, source = _load(place)
        sources.append(source)
        folder = place if isinstance(place, Path) else None
        for record in records.get(SUCCESS_FILE, []):
            run_id = record.get("run_id")
            if not run_id:
                notes["success record without run_id"] += 1
                continue
            if run_id in runs:
                notes["duplicate success record (kept the first)"] += 1
                continue
            runs[run_id] = Run(str(run_id), record, folder)
            patch_set = record.get("patch_set")
            if patch_set:
                by_patch.setdefault(str(patch_set), run_id)
                by_patch.setdefault(Path(str(patch_set)).name, run_id)
        for record in records.get(ATTEMPTS_FILE, []):
            if record.get("run_id"):
                attempts[str(record["run_id"])].append(record)
        failed |= {str(r["run_id"]) for r in records.get(FAILURES_FILE, []) if r.get("run_id")}
        feedback += records.get(FEEDBACK_FILE, [])
    for run_id, items in attempts.items():
        if run_id in runs:
            runs[run_id].attempts = items
    for record in sorted(feedback, key=lambda r: str(r.get("timestamp_utc") or "")):
        found = (runs.get(k) or runs.get(by_patch.get(k, "")) for k in _feedback_key(record))
        target = next((r for r in found if r is not None), None)
        if target is None:
            notes["feedback for an unknown run or patch set"] += 1
            continue
        target.feedback.append(record)
    ordered = sorted(
        runs.values(), key=lambda r: (str(r.success.get("timestamp_utc", "")), r.run_id)
    )
    torn = sum(f["torn_lines"] for s in sources for f in s["files"].values())
    return Pool(ordered, len(failed - set(runs)), sources, torn, notes)
