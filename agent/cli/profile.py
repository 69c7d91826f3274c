"""``autopatch profile``: measure the repo's code style and save it to the data dir."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.table import Table

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig
from agent.ui import console, info
from cores.registry import ModelRegistry

if TYPE_CHECKING:
    from planner.style import StyleProfile


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "profile",
        help="measure the repo's code style and save it to the data dir",
        epilog="example: autopatch profile --repo path/to/project",
        parents=[common],
    )
    p.set_defaults(handler=cmd_profile, writes_data=True)


def cmd_profile(args: argparse.Namespace, config: AppConfig) -> int:
    """Measure the target repo's style; save it under the data dir (the repo is not touched)."""
    from planner.style import StyleProfiler

    refiner = None
    if config.seq2seq.model:
        from cores.seq2seq import TransformersSeq2Seq

        entry = ModelRegistry(config.data_dir).get(config.seq2seq.model)
        if entry.kind != "seq2seq":
            raise ValueError(f"seq2seq.model {entry.name!r} is a {entry.kind} model, not seq2seq")
        refiner = TransformersSeq2Seq(entry.resolved_path())
    with console(stderr=True).status(f"profiling the style of {config.repo}"):
        profile = StyleProfiler(config.repo, refiner=refiner).profile()
    path = StyleProfiler.save(profile, config.data_dir)
    if args.json:
        dump_json(
            {
                "path": str(path),
                "profile_hash": profile.profile_hash(),
                "formatter_settings": profile.formatter_settings(),
                "profile": profile.to_dict(),
            }
        )
        return 0
    table = Table(title=f"style of {config.repo}")
    table.add_column("aspect")
    table.add_column("style", overflow="fold")
    table.add_column("evidence", overflow="fold")
    for row in _profile_rows(profile):
        table.add_row(*row)
    console().print(table)
    info(f"saved to {path} (hash {profile.profile_hash()})")
    return 0


def _profile_rows(p: StyleProfile) -> list[tuple[str, str, str]]:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    shares = ", ".join(f"{k} {pct(v)}" for k, v in p.indent_shares.items())
    stats = ", ".join(f"{k} {v}" for k, v in p.line_length_stats.items())
    return [
        ("sample", f"{p.files_sampled} files", f"{p.lines_sampled} lines, {p.files_skipped} skipped"),
        ("indent", p.indent, shares),
        ("quotes", p.quote, f"single {pct(p.single_quote_share)}"),
        ("line length", str(p.line_length), f"{p.line_length_source}; {stats}"),
        *((f"naming: {kind}", conv, f"{pct(p.naming_shares.get(kind, {}).get(conv))} of names")
          for kind, conv in p.naming.items()),
        ("docstrings", p.docstring_style, f"coverage {pct(p.docstring_coverage)}"),
        ("annotations", "yes" if p.use_annotations else "no",
         f"params {pct(p.annotated_params)}, returns {pct(p.annotated_returns)}"),
        ("imports", f"from-imports {pct(p.from_import_share)}",
         f"relative {pct(p.relative_import_share)}, "
         f"__future__ annotations {pct(p.future_annotations_share)}"),
        ("formatting", p.formatting, ", ".join(f"{k} {v}" for k, v in p.formatting_counts.items())),
        ("trailing commas", pct(p.trailing_comma_share), "in exploded calls and literals"),
        ("refined by", p.refined_by or "-", ", ".join(p.refined_fields)),
    ]  # fmt: skip
