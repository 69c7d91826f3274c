"""``autopatch list | show``: the patch sets under ``<repo>/.autopatches/``."""

from __future__ import annotations

import argparse

from rich.text import Text

from agent.cli.common import SubParsers, check_limit, dump_json, table
from agent.config import AppConfig
from agent.ui import console, info


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "list",
        help="patch sets under <repo>/.autopatches/, newest first",
        epilog="example: autopatch list --repo path/to/project --limit 5",
        parents=[common],
    )
    p.add_argument("--limit", type=int, help="show only the newest N")
    p.set_defaults(handler=cmd_list)
    p = sub.add_parser(
        "show",
        help="one patch set: its summary and diff",
        epilog="example: autopatch show 20261123-101500-rename-get-user",
        parents=[common],
    )
    p.add_argument("patch_id", help="patch-set name (or a unique prefix) or run id")
    p.set_defaults(handler=cmd_show)


def cmd_list(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.land.read import list_patch_sets

    sets = list_patch_sets(config.repo, check_limit(args.limit))
    if args.json:
        dump_json([s.to_dict() for s in sets])
        return 0
    if not sets:
        info(f"no patch sets under {config.repo / '.autopatches'}; `autopatch fix ISSUE` makes one")
        return 0
    rows = ([s.name, s.time, ", ".join(s.files), s.state, s.validation] for s in sets)
    console().print(table("patch sets", ["id", "time", "files", "state", "validation"], rows))
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
        dump_json(data)
        return 0
    out = console()
    out.print(data["summary"] or "(no summary.md)", markup=False, highlight=False)
    out.print(
        Text(f"state: {data['state']}; validation: {data['validation']}; path: {data['path']}")
    )
    out.print(data["diff"], markup=False, highlight=False)
    return 0
