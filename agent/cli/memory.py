"""``autopatch memory stats | list | show``: what autopatch remembers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.text import Text

from agent.cli.common import SubParsers, check_limit, counts, dump_json, pct, short_time, table
from agent.config import AppConfig
from agent.ui import console, info

if TYPE_CHECKING:
    from memory.store import Memory

OUTCOME_CHOICES = ("success", "failure", "incomplete")


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "memory",
        help="what autopatch remembers: stats, recent runs, one run in full",
        epilog="example: autopatch memory stats; autopatch memory list --outcome failure",
    )
    msub = p.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    msub.add_parser(
        "stats",
        help="runs by outcome, op and model; LLM calls by role; success rate per day",
        epilog="example: autopatch memory stats --json",
        parents=[common],
    )
    q = msub.add_parser(
        "list",
        help="recent runs, newest first",
        epilog="example: autopatch memory list --limit 10 --outcome failure",
        parents=[common],
    )
    q.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    q.add_argument("--outcome", choices=OUTCOME_CHOICES, help="only runs with this outcome")
    q = msub.add_parser(
        "show",
        help="one run: its success/failure record, attempts in order, feedback",
        epilog="example: autopatch memory show 20261123-101500-ab12cd",
        parents=[common],
    )
    q.add_argument("run_id", help="run id (or a unique prefix, or a patch-set name)")
    p.set_defaults(handler=cmd_memory)


def cmd_memory(args: argparse.Namespace, config: AppConfig) -> int:
    from memory.store import Memory

    memory = Memory(config.data_dir)
    action = {"stats": _memory_stats, "list": _memory_list, "show": _memory_show}
    return action[args.memory_command](args, memory)


def _memory_stats(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import stats

    data = stats(memory)
    if args.json:
        dump_json(data)
        return 0
    out = console()
    runs = data["runs"]
    out.print(
        Text(
            f"runs: {runs['success']} success, {runs['failure']} failure, "
            f"{runs['incomplete']} incomplete; success rate {pct(data['success_rate'])}"
        )
    )
    outcomes = list(OUTCOME_CHOICES)
    out.print(counts("runs by operation", "op", data["by_op"], outcomes))
    out.print(counts("runs by model", "model", data["by_model"], outcomes))
    calls = data["calls_by_role"]
    call_outcomes = sorted({o for v in calls.values() for o in v})
    out.print(counts("attempts (LLM calls, codemod runs) by role", "role", calls, call_outcomes))
    rows = [[d["day"], d["success"], d["failure"], pct(d["success_rate"])] for d in data["per_day"]]
    out.print(table("success rate per day (UTC)", ["day", "success", "failure", "rate"], rows))
    fb = data["feedback"]
    torn = sum(data["torn_lines"].values())
    out.print(Text(f"feedback: {fb['rated_runs']} rated run(s), mean {fb['mean_rating'] or '-'}"))
    detail = ", ".join(f"{k}: {v}" for k, v in data["torn_lines"].items() if v)
    out.print(Text(f"torn lines skipped: {torn}" + (f" ({detail})" if detail else "")))
    return 0


def _memory_list(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import runs

    limit = check_limit(args.limit)
    selected = [r for r in runs(memory) if args.outcome in (None, r.outcome)][:limit]
    if args.json:
        dump_json([r.to_dict() for r in selected])
        return 0
    if not selected:
        info("no runs in memory yet; `autopatch fix ISSUE` makes one")
        return 0
    rows = (
        [r.run_id, short_time(r.time), r.outcome, r.issue_id, ",".join(r.ops), r.model, r.rating]
        for r in selected
    )
    cols = ["run", "time (UTC)", "outcome", "issue", "ops", "model", "rating"]
    console().print(table("recent runs", cols, rows))
    return 0


def _memory_show(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import run_detail

    detail = run_detail(memory, args.run_id)
    if args.json:
        dump_json(detail)
        return 0
    out = console()
    run = detail["run"]
    out.print(
        Text(
            f"run {run['run_id']}: {run['outcome']} at {run['time']}, issue {run['issue_id'] or '-'}, "
            f"ops {', '.join(run['ops']) or '-'}, model {run['model'] or '-'}"
        )
    )
    final = detail["success"] or detail["failure"]
    if detail["success"]:
        s = detail["success"]
        out.print(Text(f"patch set: {s.get('patch_set')}\n{s.get('successful_diff_summary')}"))
    elif final:
        out.print(Text(f"failure: {final.get('reason') or '(no reason recorded)'}"))
    rows = (
        [
            i + 1,
            _in_run(a.get("attempt_id"), run["run_id"]) or a.get("phase"),
            _in_run(a.get("parent_attempt"), run["run_id"]),
            a.get("role"),
            a.get("outcome"),
            a.get("model_id"),
            (a.get("error") or "")[:120] or None,
        ]
        for i, a in enumerate(detail["attempts"])
    )
    cols = ["#", "attempt", "repairs", "role", "outcome", "model", "error"]
    if detail["attempts"]:
        out.print(table("attempts, in order", cols, rows))
    else:
        out.print(Text("no attempts recorded (the run stopped before any phase ran)"))
    for f in detail["feedback"]:
        out.print(
            Text(f"feedback {f.get('timestamp_utc')}: {f.get('rating')}/5 {f.get('note') or ''}")
        )
    if detail["success"]:
        out.print(detail["success"].get("diff", ""), markup=False, highlight=False)
    return 0


def _in_run(attempt_id: Any, run_id: str) -> str | None:
    """An attempt id without its run prefix (the run is shown above the table)."""
    return str(attempt_id).removeprefix(f"{run_id}:") if attempt_id else None
