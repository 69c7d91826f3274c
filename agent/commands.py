"""CLI sub-command handlers. Each takes the parsed args and the resolved config."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from agent.config import AppConfig
from agent.ui import console, info
from cores import embedded
from cores.gguf_meta import read_gguf_header
from cores.registry import ModelEntry, ModelRegistry

if TYPE_CHECKING:
    from planner.digest import RepositoryDigest
    from planner.style import StyleProfile

STATUS_MARK = {"ok": "[green]✔[/]", "warn": "[yellow]![/]", "fail": "[red]✘[/]"}


def _emit_json(data: object) -> None:
    from agent.cli import dump_json

    dump_json(data)


def cmd_doctor(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.doctor import run_checks

    checks = run_checks(config)
    failed = [c for c in checks if c.status == "fail"]
    if args.json:
        _emit_json([c.__dict__ for c in checks])
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


def cmd_models(args: argparse.Namespace, config: AppConfig) -> int:
    registry = ModelRegistry(config.data_dir)
    action = args.models_command
    if action == "install":
        names = list(args.names) or ["default", "fast", "minilm"]
        if args.all:
            names = list(dict.fromkeys([*names, *embedded.CATALOG]))
        for name in names:
            path = embedded.install(name, force=args.force, progress=info)
            console().print(f"[green]✔[/] {name}: {path}")
        return 0
    if action == "list":
        entries = registry.entries()
        active = registry.active_names()
        if args.json:
            _emit_json({"active": active, "entries": [e.to_dict() for e in entries]})
            return 0
        table = Table(title=f"models ({registry.file})")
        for col in ("name", "kind", "active", "installed", "adapter", "source"):
            table.add_column(col, overflow="fold")
        for e in entries:
            installed = embedded.is_installed(e.name) if e.embedded else Path(e.path).exists()
            table.add_row(
                e.name,
                e.kind,
                "●" if active.get(e.kind) == e.name else "",
                "yes" if installed else "[red]no[/]",
                e.adapter or "",
                "embedded" if e.embedded else str(e.provenance.get("source", "local")),
            )
        console().print(table)
        return 0
    if action == "show":
        _emit_json(registry.get(args.name).to_dict())
        return 0
    if action == "use":
        entry = registry.use(args.name)
        console().print(f"active {entry.kind} model: {entry.name}")
        return 0
    if action == "add":
        return _models_add(args, registry)
    raise ValueError(f"unknown models action {action!r}")


def _models_add(args: argparse.Namespace, registry: ModelRegistry) -> int:
    from cores.embedded import sha256_file
    from cores.gguf_meta import check_adapter

    path = Path(args.path).expanduser().resolve()
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    digest = None
    if args.kind == "llm":
        header = read_gguf_header(path)
        if header.file_type != "model":
            raise ValueError(f"{path} is a GGUF {header.file_type}; --path needs a base model")
        if args.adapter:
            check_adapter(args.adapter, path)
        digest = sha256_file(path)
    entry = ModelEntry(
        name=args.name,
        kind=args.kind,
        path=str(path),
        adapter=str(Path(args.adapter).resolve()) if args.adapter else None,
        chat_template=args.chat_template,
        provenance={"source": "local"},
        sha256=digest,
    )
    registry.add(entry, overwrite=args.overwrite)
    console().print(f"registered {entry.kind} model {entry.name!r} → {path}")
    return 0


def cmd_generate(args: argparse.Namespace, config: AppConfig) -> int:
    from cores.llm import create_llm
    from cores.types import GenerationParams, Message

    schema = None
    if args.json_schema:
        try:
            schema = json.loads(args.json_schema.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read JSON schema {args.json_schema}: {exc}") from None
    registry = ModelRegistry(config.data_dir)
    with console(stderr=True).status(f"loading {config.llm.model} ({config.llm.backend})"):
        llm = create_llm(config.llm, registry)
    messages = [Message("system", args.system)] if args.system else []
    messages.append(Message("user", args.prompt))
    params = GenerationParams(
        max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed, json_schema=schema
    )
    with console(stderr=True).status("generating"):
        out = llm.chat(messages, params)
    llm.close()
    if args.json:
        _emit_json(out.to_dict())
    else:
        console().print(out.text, markup=False)
        info(
            f"[{out.model_id}] {out.prompt_tokens} prompt + {out.completion_tokens} completion "
            f"tokens in {out.latency_s:.1f}s ({out.tokens_per_s:.1f} tok/s)"
        )
    return 0


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
        _emit_json(
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


def build_digest(config: AppConfig, *, embed: bool = False) -> RepositoryDigest:
    """Build or refresh the digest in ``<data dir>/index``, with a progress bar on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from agent.land.builder import ensure_excluded
    from planner.digest import RepositoryDigest

    if config.data_dir.resolve().is_relative_to(config.repo.resolve()):
        ensure_excluded(config.repo)  # keep .agent_data/ out of `git status`
    embedder = None
    if embed:
        from cores.embedder import SentenceTransformerEmbedder

        with console(stderr=True).status(f"loading embedding model {config.embedder.model}"):
            embedder = SentenceTransformerEmbedder(embedded.locate(config.embedder.model))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeElapsedColumn(), console=console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("reading files", total=None)
        return RepositoryDigest.build(
            config.repo,
            config.data_dir / "index",
            embedder=embedder,
            progress=lambda done, total, what: bar.update(
                task, description=what, completed=done, total=total
            ),
            batch_size=config.embedder.batch_size,
        )


def cmd_index(args: argparse.Namespace, config: AppConfig) -> int:
    """Build the RepositoryDigest into ``<data dir>/index`` (the repo is only read)."""
    cache_dir = config.data_dir / "index"
    digest = build_digest(config, embed=args.embed)
    stats = digest.stats()
    if args.json:
        skipped = [s.to_dict() for s in digest.skipped]
        _emit_json({**stats, "skipped_files": skipped, "index": str(cache_dir)})
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


def cmd_ask(args: argparse.Namespace, config: AppConfig) -> int:
    """Answer a question from the repository's code, each sentence cited (the repo is only read)."""
    from cores.errors import CoreError
    from cores.llm import create_llm
    from planner.ask import answer
    from planner.digest import VECTORS_DIR, RepositoryDigest
    from planner.retrieval import Retriever

    if args.k < 1:
        raise ValueError("--k must be at least 1")
    status = console(stderr=True).status
    cache_dir = config.data_dir / "index"
    embedder = index = None
    if (cache_dir / VECTORS_DIR).is_dir():  # made by `autopatch index --embed`: keep it in use
        from cores.embedder import SentenceTransformerEmbedder

        try:
            with status(f"loading embedding model {config.embedder.model}"):
                embedder = SentenceTransformerEmbedder(embedded.locate(config.embedder.model))
        except CoreError as exc:
            info(f"searching without embeddings: {exc}")
    with status(f"refreshing the index of {config.repo}"):
        digest = RepositoryDigest.build(
            config.repo, cache_dir, embedder=embedder, batch_size=config.embedder.batch_size
        )
    if embedder is not None:
        try:
            index = RepositoryDigest.load_index(cache_dir)
        except CoreError as exc:
            info(f"searching without embeddings: {exc}")
            embedder = None
    retriever = Retriever(digest, index=index, embedder=embedder)
    with status(f"loading {config.llm.model} ({config.llm.backend})"):
        llm = create_llm(config.llm, ModelRegistry(config.data_dir))
    try:
        with status(f"reading the code and answering with {llm.model_id}"):
            result = answer(args.question, retriever, llm, config.repo, k=args.k)
    finally:
        llm.close()
    if args.json:
        _emit_json(result.to_dict())
        return 0
    out = console()
    out.print(result.text, markup=False)
    if result.sources:
        out.print("sources:", markup=False)
        for n, span in enumerate(result.sources, 1):
            out.print(f"  [{n}] {span.ref}  {span.qualname or ''}", markup=False)
    if result.dropped:
        info(f"dropped {len(result.dropped)} sentence(s) citing a source that was not shown")
    info(
        f"[{result.model_id or 'model not called'}] {result.prompt_tokens} prompt + "
        f"{result.completion_tokens} completion tokens; {result.latency_s:.1f}s"
    )
    return 0
