"""``autopatch feedback``: rate a patch set, optionally with a note and the diff you wanted."""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig
from agent.ui import info


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
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
    p.set_defaults(handler=cmd_feedback, writes_data=True)


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
        dump_json(record)
    else:
        run = f" (run {record['run_id']})" if record.get("run_id") else ""
        info(f"✔ feedback {record['rating']}/5 recorded for {record['patch_set']}{run}")
    return 0
