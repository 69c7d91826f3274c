"""``autopatch doctor``: check the installation, models and sandbox."""

from __future__ import annotations

import argparse

from rich.table import Table

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig
from agent.ui import console

EXAMPLE = "example: autopatch doctor --repo path/to/project"
STATUS_MARK = {"ok": "[green]✔[/]", "warn": "[yellow]![/]", "fail": "[red]✘[/]"}


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the installation, models and sandbox",
        epilog=EXAMPLE,
        parents=[common],
    )
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.doctor import run_checks

    checks = run_checks(config)
    failed = [c for c in checks if c.status == "fail"]
    if args.json:
        dump_json([c.__dict__ for c in checks])
        return 1 if failed else 0
    table = Table(title="autopatch doctor", show_lines=False)
    for col in ("", "check", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for c in checks:
        table.add_row(STATUS_MARK[c.status], c.name, c.detail, c.fix)
    console().print(table)
    if failed:
        console().print(
            f"[red]{len(failed)} check(s) failed[/] — run the fix shown for each red line."
        )
        return 1
    console().print("[green]all required checks passed[/]")
    return 0
