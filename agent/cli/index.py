"""``autopatch index``: build or refresh the repository digest (symbols, references, graphs)."""

from __future__ import annotations

import argparse

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig
from agent.ui import console, info
from agent.workspace import build_digest

EXAMPLE = "example: autopatch index --repo path/to/project --embed"


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "index",
        help="build or refresh the repository digest (symbols, references, graphs)",
        epilog=EXAMPLE,
        parents=[common],
    )
    p.add_argument(
        "--embed",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also embed every definition for retrieval (loads the embedding model)",
    )
    p.set_defaults(handler=cmd_index, writes_data=True)


def cmd_index(args: argparse.Namespace, config: AppConfig) -> int:
    """Build the RepositoryDigest into ``<data dir>/index`` (the repo is only read)."""
    cache_dir = config.data_dir / "index"
    digest = build_digest(config, embed=args.embed)
    stats = digest.stats()
    if args.json:
        skipped = [s.to_dict() for s in digest.skipped]
        dump_json({**stats, "skipped_files": skipped, "index": str(cache_dir)})
        return 0
    kinds = ", ".join(f"{n} {k}" for k, n in stats["definitions_by_kind"].items())
    out = console()
    out.print(
        f"indexed {digest.root}: {stats['files']} files "
        f"({stats['parsed']} parsed, {stats['reused']} reused from cache, "
        f"{stats['removed']} removed), {stats['skipped']} skipped",
        markup=False,
    )
    for s in digest.skipped[:20]:
        out.print(f"  skipped {s.relpath}: {s.reason}", markup=False)
    if len(digest.skipped) > 20:
        out.print(f"  … and {len(digest.skipped) - 20} more (--json lists all)", markup=False)
    out.print(f"{stats['definitions']} definitions ({kinds or 'none'})", markup=False)
    out.print(f"{stats['references']} references, {stats['modules']} modules", markup=False)
    for path in stats["parse_errors"]:
        out.print(f"  could not parse {path}: {digest.files[path].parse_error}", markup=False)
    if args.embed:
        out.print(
            f"embeddings: {stats['embedded_chunks']} chunks embedded, "
            f"{stats['embedded_files']} files in the vector index",
            markup=False,
        )
    info(f"took {stats['seconds']:.2f}s; index at {cache_dir}")
    return 0
