"""What the subcommands share: the options every leaf command takes, JSON output, the issue
text from the arguments, and plain-text tables."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from agent.config import AppConfig, with_llm
from agent.workspace import read_issue

SubParsers = argparse._SubParsersAction


def common_options() -> argparse.ArgumentParser:
    """Options every leaf command takes (so they work after nested sub-commands too)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--repo", default=".", help="target repository (default: the current folder)")
    p.add_argument("--data-dir", help="runtime state folder (default: <repo>/.agent_data)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override, e.g. --set llm.n_threads=2 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def dump_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def with_model(config: AppConfig, args: argparse.Namespace) -> AppConfig:
    """The ``configure`` hook of commands with ``--model``: that LLM over the config's."""
    return with_llm(config, model=args.model)


def issue_from_args(args: argparse.Namespace) -> str | None:
    """The issue text of ``plan`` / ``fix`` (None with ``--spec``); bad combinations raise."""
    if args.spec and (args.issue is not None or args.issue_file):
        raise ValueError("give either an issue (text or --issue-file) or --spec, not both")
    if not args.spec and args.issue is None and not args.issue_file:
        raise ValueError(
            "give the issue as text, --issue-file FILE or --spec spec.yaml (see --help)"
        )
    issue = None if args.spec else read_issue(args.issue, args.issue_file)
    if issue is not None and not issue.strip():
        raise ValueError(
            "the issue is empty; describe the change you want (e.g. 'rename foo to bar')"
        )
    return issue


# -- plain-text tables ----------------------------------------------------------------------
WHOLE = {"id", "run", "#"}  # ids stay whole, so they can be copied


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
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


def counts(title: str, key: str, data: Mapping[str, Mapping[str, int]], cols: list[str]) -> Table:
    return table(title, [key, *cols], ([k, *(v.get(c, 0) for c in cols)] for k, v in data.items()))


def pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def short_time(stamp: str) -> str:
    return stamp.replace("T", " ").rstrip("Z")[:16]


def check_limit(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError("--limit must be 1 or more")
    return value
