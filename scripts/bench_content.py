"""Model-written code and prose on the public patchbench tasks that need it.

    python scripts/bench_content.py --models default --n 1 8 --out docs/bench/content.json

The tasks: the categories whose change the model writes (bugfix, structural,
annotations-docs) and the tasks whose right plan threads a new parameter into a body
(``add_parameter`` in tests/data/plan_expectations.yaml). Each task runs through the
patchbench harness (a fresh repository, graded by the task's hidden check and the
project's regression suite) with

    autopatch fix --issue-file ISSUE --apply --yes --json --spec-llm never --candidates N

The rules plan (``--spec-llm never``) is right on every public task, so the numbers
measure the drafting, not the planning. Per task: passed, seconds, model calls, drafts,
completion tokens and decoding speed (from the run's memory), the status ``fix`` reported
(a ``validated`` run that fails the hidden check is a false validated).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("PATCHBENCH_DIR", ROOT.parent / "shared" / "bench"))
EVAL_PYTHON = Path.home() / ".cache" / "patchbench" / "venv" / "bin" / "python"
CATEGORIES = ("bugfix", "structural", "annotations-docs")


def content_tasks() -> list[str]:
    """The public tasks whose change the model writes (see the module docstring)."""
    expected = yaml.safe_load((ROOT / "tests" / "data" / "plan_expectations.yaml").read_text())
    out = []
    for task_yaml in sorted((BENCH / "tasks").glob("*/task.yaml")):
        task = yaml.safe_load(task_yaml.read_text())
        ops = expected.get(task["id"], {}).get("ops", [])
        if task["category"] in CATEGORIES or "add_parameter" in ops:
            out.append(task["id"])
    return out


def run_task(task_id: str, model: str, n: int, work: Path, timeout: int) -> dict[str, Any]:
    """One task through the harness; the harness row plus what ``fix`` reported."""
    data = work / f"{model}-n{n}" / task_id
    data.mkdir(parents=True, exist_ok=True)
    commit = _commit()  # the code this task ran with
    report = data / "fix.json"
    fix = [
        sys.executable,
        "-m",
        "agent",
        "fix",
        "--repo",
        "{repo}",
        "--issue-file",
        "{issue_file}",
        "--apply",
        "--yes",
        "--json",
        "--spec-llm",
        "never",
        "--candidates",
        str(n),
        "--model",
        model.split("+")[0],
        *([] if "+" in model else ["--one-model"]),
        "--data-dir",
        str(data / "agent_data"),
        "--python",
        str(EVAL_PYTHON),
    ]
    cmd = f"{shlex.join(fix)} > {shlex.quote(str(report))}"
    rows = data / "harness.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "run",
            "--tasks",
            task_id,
            "--cmd",
            cmd,
            "--out",
            str(rows),
            "--timeout",
            str(timeout),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = rows.read_text().splitlines() if rows.exists() else []
    row = json.loads(lines[-1]) if lines else {"id": task_id, "passed": False, "seconds": None}
    try:
        result = json.loads(report.read_text())
    except (OSError, ValueError):
        result = {}
    calls = [
        a
        for a in _jsonl(data / "agent_data" / "memory" / "attempts.jsonl")
        if a.get("role") in ("slot", "repair")
    ]
    tokens = sum(int(a.get("completion_tokens") or 0) for a in calls)
    latency = sum(float(a.get("latency_s") or 0.0) for a in calls)
    phases = result.get("phases") or []
    return {
        "id": task_id,
        "commit": commit,
        "category": row.get("category"),
        "model": model,
        "n": n,
        "passed": bool(row.get("passed")),
        "seconds": row.get("seconds"),
        "status": result.get("status"),
        "false_validated": result.get("status") == "validated" and not row.get("passed"),
        "model_calls": len(calls),
        "drafts": sum(int((p.get("spend") or {}).get("drafts", 0)) for p in phases),
        "winning_draft": max((int(p.get("attempts", 0)) for p in phases if p.get("ok")), default=0),
        "completion_tokens": tokens,
        "tokens_per_s": round(tokens / latency, 1) if latency else None,
        "message": str(result.get("message") or row.get("stderr_tail", ""))[-300:],
    }


def _commit() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in rows if r["seconds"] is not None]
    speeds = [r["tokens_per_s"] for r in rows if r["tokens_per_s"]]
    bugfix = [r for r in rows if r["category"] == "bugfix"]
    return {
        "tasks": len(rows),
        "passed": sum(r["passed"] for r in rows),
        "pass_rate": round(sum(r["passed"] for r in rows) / len(rows), 3) if rows else 0.0,
        "bugfix_passed": f"{sum(r['passed'] for r in bugfix)}/{len(bugfix)}",
        "false_validated": sum(r["false_validated"] for r in rows),
        "median_seconds": round(statistics.median(seconds), 1) if seconds else None,
        "model_calls": sum(r["model_calls"] for r in rows),
        "median_tokens_per_s": round(statistics.median(speeds), 1) if speeds else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--models",
        nargs="+",
        default=["default"],
        help="registry names; NAME+quality: NAME drafts, the 1.5B gives every other fresh "
        "sample (fix's own default); NAME alone: --one-model",
    )
    p.add_argument("--n", nargs="+", type=int, default=[1, 4, 8], help="drafts per phase")
    p.add_argument("--tasks", nargs="*", help="task ids (default: every content task)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per task")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "content.json")
    args = p.parse_args(argv)
    tasks = args.tasks or content_tasks()
    work = Path(tempfile.mkdtemp(prefix="bench-content-"))
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs: dict[str, Any] = existing.get("runs", {})
    for model in args.models:
        for n in args.n:
            key = f"{model}-n{n}"
            rows = []
            start = time.perf_counter()
            for task_id in tasks:
                row = run_task(task_id, model, n, work, args.timeout)
                rows.append(row)
                print(
                    f"{key} {task_id}: {'PASS' if row['passed'] else 'fail'} "
                    f"{row['status']} {row['seconds']} s, {row['model_calls']} call(s), "
                    f"draft {row['winning_draft']}",
                    flush=True,
                )
            wall = round(time.perf_counter() - start, 1)
            if args.tasks and key in runs:  # a re-run of some tasks replaces their rows
                again = {r["id"] for r in rows}
                rows = [r for r in runs[key]["rows"] if r["id"] not in again] + rows
                wall = round(runs[key]["wall_s"] + wall, 1)
            for row in rows:
                row.setdefault("commit", _commit())
            runs[key] = {"summary": summarize(rows), "wall_s": wall, "rows": rows}
            print(key, json.dumps(runs[key]["summary"]), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            everything = sorted({r["id"] for run in runs.values() for r in run["rows"]})
            args.out.write_text(json.dumps({"tasks": everything, "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
