"""Pool the memory folders the exporter reads: successful runs, their attempts and feedback.

The files are read with ``JsonlLog`` directly (torn lines are skipped and counted), so
the exporter depends on the on-disk format only, not on ``Memory``'s read helpers.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.jsonl import JsonlLog

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
    source: Path  # the memory folder it came from
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


def _unique_dirs(dirs: Iterable[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for d in dirs:
        seen.setdefault(Path(d).expanduser().resolve(), None)
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


def _feedback_key(record: dict[str, Any]) -> list[str]:
    keys = [record.get("run_id"), record.get("patch_id"), record.get("patch_set")]
    return [str(k) for k in keys if k]


def load_pool(memory_dirs: Sequence[str | Path]) -> Pool:
    """Read every memory folder; ``ValueError`` when one does not exist or holds no memory file."""
    if not memory_dirs:
        raise ValueError("no memory folder given")
    runs: dict[str, Run] = {}
    by_patch: dict[str, str] = {}
    feedback: list[dict[str, Any]] = []
    failed: set[str] = set()
    sources: list[dict[str, Any]] = []
    notes: Counter[str] = Counter()
    attempts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for folder in _unique_dirs(Path(d) for d in memory_dirs):
        if not folder.is_dir():
            raise ValueError(f"memory folder {folder} does not exist")
        records, files = _read(folder)
        if not files:
            raise ValueError(
                f"memory folder {folder} holds none of {', '.join(MEMORY_FILES)}; "
                "is it a `<data dir>/memory` folder?"
            )
        sources.append({"dir": str(folder), "files": files})
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
