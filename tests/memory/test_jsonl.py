from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memory import SUCCESS_FIELDS, JsonlLog, Memory


def test_append_and_read_with_schema_version(tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "a.jsonl")
    log.append({"x": 1})
    log.append({"x": "ü"})
    records, report = log.read()
    assert [r["x"] for r in records] == [1, "ü"]
    assert all(r["schema_version"] == 1 for r in records)
    assert report.torn_lines == 0


def test_torn_last_line_is_skipped_and_next_append_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = JsonlLog(path)
    log.append({"x": 1})
    with path.open("a") as fh:
        fh.write('{"x": 2, "half')  # a writer killed mid-line
    records, report = log.read()
    assert [r["x"] for r in records] == [1] and report.torn_lines == 1
    log.append({"x": 3})
    assert [r["x"] for r in log.read()[0]] == [1, 3]


def _writer(path: str, tag: int, n: int) -> None:
    log = JsonlLog(path)
    for i in range(n):
        log.append({"tag": tag, "i": i, "pad": "x" * 2000})


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    procs = [multiprocessing.Process(target=_writer, args=(str(path), t, 50)) for t in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    records, report = JsonlLog(path).read()
    assert report.torn_lines == 0 and len(records) == 200
    for t in range(4):
        assert [r["i"] for r in records if r["tag"] == t] == list(range(50))


@pytest.mark.slow
def test_kill_9_never_corrupts_committed_records(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    code = (
        "import sys\nfrom memory import JsonlLog\nlog = JsonlLog(sys.argv[1])\ni = 0\n"
        "while True:\n    log.append({'run': int(sys.argv[2]), 'i': i, 'pad': 'y' * 5000})\n"
        "    print(i, flush=True)\n    i += 1\n"
    )
    for it in range(50):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(it)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        acked = -1
        deadline = time.monotonic() + 0.3 + 0.01 * it
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                acked = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        records, _ = JsonlLog(path).read()
        for run in range(it + 1):  # earlier runs' records are all still intact
            values = [r["i"] for r in records if r.get("run") == run]
            assert values == list(range(len(values)))
        # every acknowledged (fsynced) record of this run is there; the writer may have
        # committed more before the kill than we read acknowledgements for
        assert len([r for r in records if r.get("run") == it]) >= acked + 1


def test_memory_success_record_needs_seed_fields(tmp_path: Path) -> None:
    mem = Memory(tmp_path)
    with pytest.raises(ValueError, match="lacks"):
        mem.record_success({"spec_issue_id": "x"})
    mem.record_success({f: "v" for f in SUCCESS_FIELDS if f != "timestamp_utc"})
    rec = json.loads((tmp_path / "memory" / "success_memory.jsonl").read_text())
    assert set(SUCCESS_FIELDS) <= set(rec)


def test_memory_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Memory(data).record_attempt({"run_id": "r", "issue": "secret source"})
    folder = data / "memory"
    assert (folder.stat().st_mode & 0o777) == 0o700
    files = list(folder.glob("*.jsonl"))
    assert files and all((f.stat().st_mode & 0o777) == 0o600 for f in files)


def test_an_old_world_readable_log_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text("")
    path.chmod(0o644)
    JsonlLog(path).append({"a": 1})
    assert (path.stat().st_mode & 0o777) == 0o600
