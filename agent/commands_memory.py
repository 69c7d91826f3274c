"""``autopatch memory | feedback | list | show``: what autopatch remembers and the patch sets it wrote."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from agent.config import AppConfig
from agent.ui import console, info

if TYPE_CHECKING:
    from memory.store import Memory

OUTCOME_CHOICES = ("success", "failure", "incomplete")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "feedback",
        help="rate a patch set (1-5), optionally with a note and the diff you wanted instead",
        epilog="example: autopatch feedback 20261123-101500-rename-get-user --rating 4 "
        '--note "good, but missed the docs" --corrected-diff fixed.diff',
        parents=[common],
    )
    p.add_argument("patch_id", help="patch-set name (see `autopatch list`) or run id")
    p.add_argument("--rating", type=int, required=True, help="1 (useless) to 5 (perfect)")
    p.add_argument("--note", default="", help="what was right or wrong with it")
    p.add_argument("--corrected-diff", type=Path, help="file with the diff that should have come")

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

    p = sub.add_parser(
        "list",
        help="patch sets under <repo>/.autopatches/, newest first",
        epilog="example: autopatch list --repo path/to/project --limit 5",
        parents=[common],
    )
    p.add_argument("--limit", type=int, help="show only the newest N")
    p = sub.add_parser(
        "show",
        help="one patch set: its summary and diff",
        epilog="example: autopatch show 20261123-101500-rename-get-user",
        parents=[common],
    )
    p.add_argument("patch_id", help="patch-set name (or a unique prefix) or run id")


# -- output helpers ------------------------------------------------------------------------
def _dump(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


WHOLE = {"id", "run", "#"}  # ids stay whole, so they can be copied


def _table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    """A rich table of plain-text cells; long values fold rather than being cut."""
    cells = [[Text("-" if v is None else str(v)) for v in row] for row in rows]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, c in enumerate(columns):
        longest = max((len(r[i].plain) for r in cells), default=0)
        table.add_column(
            c, no_wrap=c in WHOLE, overflow="fold", min_width=min(max(len(c), longest), 10)
        )
    for row in cells:
        table.add_row(*row)
    return table


def _counts(title: str, key: str, data: Mapping[str, Mapping[str, int]], cols: list[str]) -> Table:
    return _table(title, [key, *cols], ([k, *(v.get(c, 0) for c in cols)] for k, v in data.items()))


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _short_time(stamp: str) -> str:
    return stamp.replace("T", " ").rstrip("Z")[:16]


def _in_run(attempt_id: Any, run_id: str) -> str | None:
    """An attempt id without its run prefix (the run is shown above the table)."""
    return str(attempt_id).removeprefix(f"{run_id}:") if attempt_id else None


def _limit(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError("--limit must be 1 or more")
    return value


# -- feedback ------------------------------------------------------------------------------
def cmd_feedback(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.land.read import find_patch_set, patch_set_names
    from memory.store import Memory

    memory = Memory(config.data_dir, config.memory)
    corrected = None
    if args.corrected_diff is not None:
        path: Path = args.corrected_diff
        if not path.is_file():
            raise ValueError(f"--corrected-diff: no such file {path}")
        corrected = path.read_text(encoding="utf-8", errors="replace")
        if not corrected.strip():
            raise ValueError(f"--corrected-diff: {path} is empty; give the diff you wanted")
    key = args.patch_id
    if memory.find_success(key) is None:
        folder = find_patch_set(config.repo, key)
        key = folder.name if folder is not None else key
    record = memory.record_feedback(
        key, args.rating, args.note, corrected, patch_sets=patch_set_names(config.repo)
    )
    if args.json:
        _dump(record)
    else:
        run = f" (run {record['run_id']})" if record.get("run_id") else ""
        info(f"✔ feedback {record['rating']}/5 recorded for {record['patch_set']}{run}")
    return 0


# -- memory stats | list | show --------------------------------------------------------------
def cmd_memory(args: argparse.Namespace, config: AppConfig) -> int:
    from memory.store import Memory

    memory = Memory(config.data_dir)
    action = {"stats": _memory_stats, "list": _memory_list, "show": _memory_show}
    return action[args.memory_command](args, memory)


def _memory_stats(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import stats

    data = stats(memory)
    if args.json:
        _dump(data)
        return 0
    out = console()
    runs = data["runs"]
    out.print(
        Text(
            f"runs: {runs['success']} success, {runs['failure']} failure, "
            f"{runs['incomplete']} incomplete; success rate {_pct(data['success_rate'])}"
        )
    )
    outcomes = list(OUTCOME_CHOICES)
    out.print(_counts("runs by operation", "op", data["by_op"], outcomes))
    out.print(_counts("runs by model", "model", data["by_model"], outcomes))
    calls = data["calls_by_role"]
    call_outcomes = sorted({o for v in calls.values() for o in v})
    out.print(_counts("attempts (LLM calls, codemod runs) by role", "role", calls, call_outcomes))
    rows = [
        [d["day"], d["success"], d["failure"], _pct(d["success_rate"])] for d in data["per_day"]
    ]
    out.print(_table("success rate per day (UTC)", ["day", "success", "failure", "rate"], rows))
    fb = data["feedback"]
    torn = sum(data["torn_lines"].values())
    out.print(Text(f"feedback: {fb['rated_runs']} rated run(s), mean {fb['mean_rating'] or '-'}"))
    detail = ", ".join(f"{k}: {v}" for k, v in data["torn_lines"].items() if v)
    out.print(Text(f"torn lines skipped: {torn}" + (f" ({detail})" if detail else "")))
    return 0


def _memory_list(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import runs

    limit = _limit(args.limit)
    selected = [r for r in runs(memory) if args.outcome in (None, r.outcome)][:limit]
    if args.json:
        _dump([r.to_dict() for r in selected])
        return 0
    if not selected:
        info("no runs in memory yet; `autopatch fix ISSUE` makes one")
        return 0
    rows = (
        [r.run_id, _short_time(r.time), r.outcome, r.issue_id, ",".join(r.ops), r.model, r.rating]
        for r in selected
    )
    cols = ["run", "time (UTC)", "outcome", "issue", "ops", "model", "rating"]
    console().print(_table("recent runs", cols, rows))
    return 0


def _memory_show(args: argparse.Namespace, memory: Memory) -> int:
    from memory.query import run_detail

    detail = run_detail(memory, args.run_id)
    if args.json:
        _dump(detail)
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
        out.print(_table("attempts, in order", cols, rows))
    else:
        out.print(Text("no attempts recorded (the run stopped before any phase ran)"))
    for f in detail["feedback"]:
        out.print(
            Text(f"feedback {f.get('timestamp_utc')}: {f.get('rating')}/5 {f.get('note') or ''}")
        )
    if detail["success"]:
        out.print(detail["success"].get("diff", ""), markup=False, highlight=False)
    return 0


# -- patch sets: list | show ------------------------------------------------------------------
def cmd_list(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.land.read import list_patch_sets

    sets = list_patch_sets(config.repo, _limit(args.limit))
    if args.json:
        _dump([s.to_dict() for s in sets])
        return 0
    if not sets:
        info(f"no patch sets under {config.repo / '.autopatches'}; `autopatch fix ISSUE` makes one")
        return 0
    rows = ([s.name, s.time, ", ".join(s.files), s.state, s.validation] for s in sets)
    console().print(_table("patch sets", ["id", "time", "files", "state", "validation"], rows))
    return 0


def cmd_show(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.land.read import find_patch_set, patch_root, read_patch_set
    from memory.store import Memory, patch_set_name

    memory = Memory(config.data_dir)
    folder = find_patch_set(config.repo, args.patch_id)
    success = memory.find_success(folder.name if folder else args.patch_id)
    if folder is None and success is not None:
        name = patch_set_name(success)
        folder = patch_root(config.repo) / name if name else None
    if folder is None or not folder.is_dir():
        raise ValueError(
            f"no patch set {args.patch_id!r} under {patch_root(config.repo)}; "
            "`autopatch list` shows the patch sets"
        )
    data = read_patch_set(config.repo, folder)
    data["run_id"] = success.get("run_id") if success else None
    data["feedback"] = memory.feedback_for(data["run_id"] or folder.name)
    if args.json:
        _dump(data)
        return 0
    out = console()
    out.print(data["summary"] or "(no summary.md)", markup=False, highlight=False)
    out.print(
        Text(f"state: {data['state']}; validation: {data['validation']}; path: {data['path']}")
    )
    out.print(data["diff"], markup=False, highlight=False)
    return 0
