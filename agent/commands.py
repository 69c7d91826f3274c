"""CLI sub-command handlers. Each takes the parsed args and the resolved config."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from agent.config import AppConfig
from agent.ui import console, info
from cores import embedded
from cores.gguf_meta import read_gguf_header
from cores.registry import ModelEntry, ModelRegistry

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
