"""Memory's read API and feedback log, on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory import SUCCESS_FIELDS, Memory


def success(run_id: str, patch_set: str, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {f: f"v-{f}" for f in SUCCESS_FIELDS if f != "timestamp_utc"}
    return {**record, "run_id": run_id, "patch_set": f"/r/.autopatches/{patch_set}", **extra}


@pytest.fixture()
def mem(tmp_path: Path) -> Memory:
    m = Memory(tmp_path)
    m.record_success(success("run-a", "20260101-000000-a"))
    m.record_attempt({"run_id": "run-a", "attempt_id": "run-a:01:1", "role": "codemod"})
    m.record_failure({"run_id": "run-b", "reason": "boom"})
    return m


def test_read_api_returns_record_lists_with_schema_and_time(mem: Memory) -> None:
    assert [r["run_id"] for r in mem.successes()] == ["run-a"]
    assert [r["attempt_id"] for r in mem.attempts()] == ["run-a:01:1"]
    assert [r["reason"] for r in mem.failures()] == ["boom"]
    assert mem.feedback() == []
    for record in [*mem.successes(), *mem.attempts(), *mem.failures()]:
        assert record["schema_version"] == 1 and record["timestamp_utc"].endswith("Z")


def test_success_is_found_by_run_id_and_by_patch_set_name(mem: Memory) -> None:
    found_by_run = mem.find_success("run-a")
    found_by_set = mem.find_success("20260101-000000-a")
    assert found_by_run is not None and found_by_run == found_by_set
    assert mem.find_success("run-b") is None  # a failure is not a success
    assert mem.find_success("") is None


def test_feedback_by_patch_set_is_linked_to_its_run(mem: Memory, tmp_path: Path) -> None:
    record = mem.record_feedback("20260101-000000-a", 4, "good", "diff --git a/x b/x\n")
    assert record["run_id"] == "run-a" and record["patch_set"] == "20260101-000000-a"
    stored = json.loads((tmp_path / "memory" / "feedback.jsonl").read_text())
    assert stored == record
    mem.record_feedback("run-a", 2, "on second thought, no")
    latest = mem.feedback_for("run-a")
    assert latest is not None and latest["rating"] == 2 and latest["corrected_diff"] is None
    assert [f["rating"] for f in mem.feedback()] == [4, 2]
    assert set(mem.latest_feedback()) == {"run-a"}


def test_feedback_on_a_patch_set_without_a_success_record(mem: Memory) -> None:
    record = mem.record_feedback("20260202-000000-b", 5, patch_sets=["20260202-000000-b"])
    assert record["run_id"] is None and record["patch_set"] == "20260202-000000-b"
    assert mem.latest_feedback()["20260202-000000-b"]["rating"] == 5


@pytest.mark.parametrize("rating", [0, 6, -1, True, 3.5, "4"])
def test_feedback_rejects_ratings_outside_1_to_5(mem: Memory, rating: Any) -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        mem.record_feedback("run-a", rating)
    assert mem.feedback() == []


def test_feedback_rejects_unknown_ids_and_names_the_commands_that_list_them(mem: Memory) -> None:
    with pytest.raises(ValueError, match="autopatch list") as err:
        mem.record_feedback("run-b", 3, patch_sets=["20260202-000000-b"])
    assert "run-b" in str(err.value)
    assert not (mem.root / "feedback.jsonl").exists()


def test_feedback_rejects_an_empty_corrected_diff(mem: Memory) -> None:
    with pytest.raises(ValueError, match="empty"):
        mem.record_feedback("run-a", 3, corrected_diff="  \n")


def test_torn_lines_are_counted_per_file(mem: Memory) -> None:
    assert set(mem.torn_lines().values()) == {0}
    with (mem.root / "attempts.jsonl").open("a") as fh:
        fh.write('{"run_id": "run-c", "half')
    assert mem.torn_lines()["attempts.jsonl"] == 1
    assert len(mem.attempts()) == 1


def test_from_folder_reads_a_memory_folder_directly(mem: Memory, tmp_path: Path) -> None:
    copy = Memory.from_folder(tmp_path / "memory")
    assert copy.successes() == mem.successes() and copy.root == mem.root
