"""Runs, stats and one run's detail, computed from real memory files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memory import SUCCESS_FIELDS, JsonlLog, Memory
from memory.query import resolve_run, run_detail, runs, stats

SPEC = {"issue_id": "rename-x", "operations": [{"op": "rename", "target": "m.x", "params": {}}]}


def write(log: JsonlLog, **record: Any) -> None:
    log.append(record)  # explicit timestamps, so days and order are known


@pytest.fixture()
def mem(tmp_path: Path) -> Memory:
    m = Memory(tmp_path)
    seed = {f: "v" for f in SUCCESS_FIELDS if f != "timestamp_utc"}
    attempts = m.logs["attempts"]
    # run 1 (day 1): an edit that needed one repair, then succeeded with a model
    write(
        attempts,
        timestamp_utc="2026-01-01T10:00:00Z",
        run_id="r1",
        attempt_id="r1:01_edit:1",
        parent_attempt=None,
        role="slot",
        outcome="failed",
        model_id="m-small",
        op={"op": "edit"},
        error="test_total failed",
    )
    write(
        attempts,
        timestamp_utc="2026-01-01T10:00:05Z",
        run_id="r1",
        attempt_id="r1:01_edit:2",
        parent_attempt="r1:01_edit:1",
        role="repair",
        outcome="validated",
        model_id="m-small",
        op={"op": "edit"},
    )
    write(
        m.logs["success"],
        **{**seed, "spec_issue_id": "fix-total"},
        timestamp_utc="2026-01-01T10:00:09Z",
        run_id="r1",
        spec={"issue_id": "fix-total", "operations": [{"op": "edit"}]},
        model_id="m-small",
        patch_set="/repo/.autopatches/20260101-100009-fix-total",
    )
    # run 2 (day 2): a rename that failed validation, no model
    write(
        attempts,
        timestamp_utc="2026-01-02T09:00:00Z",
        run_id="r2",
        role="codemod",
        outcome="failed",
        op={"op": "rename"},
        attempt_id="r2:01_rename:1",
    )
    write(
        m.logs["failures"],
        timestamp_utc="2026-01-02T09:00:03Z",
        run_id="r2",
        spec=SPEC,
        reason="validation failed at lint",
    )
    # run 3 (day 2): killed after its first attempt: no outcome record
    write(
        attempts,
        timestamp_utc="2026-01-02T11:00:00Z",
        run_id="r3",
        role="codemod",
        outcome="validated",
        op={"op": "rename"},
    )
    m.record_feedback("20260101-100009-fix-total", 5, "exactly right")
    return m


def test_runs_newest_first_with_outcome_ops_model_and_rating(mem: Memory) -> None:
    got = {r.run_id: r for r in runs(mem)}
    assert [r.run_id for r in runs(mem)] == ["r3", "r2", "r1"]
    assert got["r1"].outcome == "success" and got["r1"].issue_id == "fix-total"
    assert got["r1"].ops == ("edit",) and got["r1"].model == "m-small" and got["r1"].rating == 5
    assert got["r1"].patch_set == "20260101-100009-fix-total"
    assert got["r2"].outcome == "failure" and got["r2"].issue_id == "rename-x"
    assert got["r2"].ops == ("rename",) and got["r2"].model is None and got["r2"].rating is None
    assert got["r3"].outcome == "incomplete" and got["r3"].ops == ("rename",)
    assert got["r3"].time == "2026-01-02T11:00:00Z"


def test_stats_counts_runs_calls_days_and_torn_lines(mem: Memory) -> None:
    with (mem.root / "failures.jsonl").open("a") as fh:
        fh.write('{"run_id": "r4", "rea')
    data = stats(mem)
    assert data["runs"] == {"success": 1, "failure": 1, "incomplete": 1}
    assert data["success_rate"] == 0.5
    assert data["by_op"] == {"edit": {"success": 1}, "rename": {"failure": 1, "incomplete": 1}}
    assert data["by_model"] == {
        "(no model)": {"failure": 1, "incomplete": 1},
        "m-small": {"success": 1},
    }
    assert data["calls_by_role"] == {
        "codemod": {"failed": 1, "validated": 1},
        "repair": {"validated": 1},
        "slot": {"failed": 1},
    }
    assert data["per_day"] == [
        {"day": "2026-01-01", "success": 1, "failure": 0, "incomplete": 0, "success_rate": 1.0},
        {"day": "2026-01-02", "success": 0, "failure": 1, "incomplete": 1, "success_rate": 0.0},
    ]
    assert data["feedback"] == {"rated_runs": 1, "mean_rating": 5.0}
    assert data["torn_lines"]["failures.jsonl"] == 1


def test_stats_of_an_empty_memory(tmp_path: Path) -> None:
    data = stats(Memory(tmp_path))
    assert data["runs"] == {"success": 0, "failure": 0, "incomplete": 0}
    assert data["success_rate"] is None and data["per_day"] == []


def test_run_detail_has_the_attempt_chain_in_order_and_the_feedback(mem: Memory) -> None:
    detail = run_detail(mem, "r1")
    assert detail["run"]["outcome"] == "success" and detail["failure"] is None
    assert detail["success"]["spec_issue_id"] == "fix-total"
    chain = [(a["attempt_id"], a["parent_attempt"]) for a in detail["attempts"]]
    assert chain == [("r1:01_edit:1", None), ("r1:01_edit:2", "r1:01_edit:1")]
    assert [f["note"] for f in detail["feedback"]] == ["exactly right"]
    failed = run_detail(mem, "r2")
    assert failed["success"] is None and failed["failure"]["reason"].startswith("validation")


def test_runs_are_found_by_prefix_and_patch_set_name(mem: Memory) -> None:
    assert resolve_run(mem, "20260101-100009-fix-total") == "r1"
    assert resolve_run(mem, "r2") == "r2"
    with pytest.raises(ValueError, match="several runs"):
        resolve_run(mem, "r")
    with pytest.raises(ValueError, match="autopatch memory list"):
        resolve_run(mem, "nope")
