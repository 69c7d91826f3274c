"""``autopatch export | finetune | learn``: memory → datasets → LoRA → GGUF → gated promotion.

The command line lives here; the work is in ``memory.export``, ``memory.finetune`` and
``agent.learn``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.cli.common import SubParsers
from agent.config import AppConfig
from agent.ui import info
from memory.pg_store import is_dsn

KINDS = ("sft", "repair", "spec", "style", "preference")
FORMATS = ("messages", "prompt-completion", "alpaca", "sharegpt")


def _dump(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _memory_source(text: str) -> Path | str:
    """A memory folder, or a PostgreSQL URL kept as text."""
    return text if is_dsn(text) else Path(text)


def _export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--memory",
        action="append",
        default=[],
        type=_memory_source,
        metavar="DIR|DSN",
        help="also read this memory folder, or (export only) a postgres store "
        "postgresql://user@host/db (repeatable; default: <data dir>/memory only)",
    )
    p.add_argument(
        "--min-rating",
        type=int,
        default=4,
        help="feedback rating (1-5) below which a run is left out (default 4)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share of runs held out for validation (default 0.2)",
    )
    p.add_argument("--seed", type=int, default=0, help="split seed (default 0)")


def _finetune_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", help="registry llm name or HF folder (default: the active llm)")
    p.add_argument("--steps", type=int, help="optimizer steps (default: about one epoch)")
    p.add_argument("--lr", type=float, default=2e-4, help="learning rate (default 2e-4)")
    p.add_argument("--lora-r", type=int, default=16, help="LoRA rank (default 16)")
    p.add_argument("--lora-alpha", type=int, default=32, help="LoRA alpha (default 32)")
    p.add_argument(
        "--target-modules",
        default="q_proj,k_proj,v_proj,o_proj",
        help="comma-separated module names LoRA adapts (default q/k/v/o_proj)",
    )
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-length", type=int, default=768, help="token cap per example")
    p.add_argument("--merged", action="store_true", help="also write a merged q8_0 GGUF")
    p.add_argument("--no-resume", action="store_true", help="start over, ignore checkpoints")


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export",
        help="turn memory into training datasets (sft, repair, spec, style, preference)",
        epilog="example: autopatch export --kind all --format messages --out datasets/",
        parents=[common],
    )
    p.add_argument("--kind", default="all", choices=[*KINDS, "all"])
    p.add_argument("--format", default="messages", choices=FORMATS, dest="fmt")
    p.add_argument("--out", type=Path, help="output folder (default <data dir>/datasets/<time>)")
    p.set_defaults(handler=cmd_export, writes_data=True)
    _export_options(p)

    p = sub.add_parser(
        "finetune",
        help="train a LoRA adapter (or the T5 spec normalizer) on exported datasets",
        epilog="example: autopatch finetune --data .agent_data/datasets/20261123-0101 --steps 40",
        parents=[common],
    )
    p.add_argument("--data", type=Path, required=True, help="folder written by autopatch export")
    p.add_argument("--out", dest="out_name", help="registry name of the new model version")
    p.add_argument("--t5", action="store_true", help="train the Seq2Seq spec normalizer instead")
    p.set_defaults(handler=cmd_finetune, writes_data=True)
    _finetune_options(p)

    p = sub.add_parser(
        "learn",
        help="export → finetune → evaluate against the current model → promote only if better",
        epilog="example: autopatch learn --every 20   (cron-friendly: does nothing until due)",
        parents=[common],
    )
    p.add_argument(
        "--every",
        type=int,
        default=0,
        metavar="N",
        help="run only when N new successful runs arrived since the last loop (default: now)",
    )
    p.add_argument(
        "--eval-limit", type=int, default=24, help="held-out LLM calls replayed per model"
    )
    p.add_argument(
        "--validate-edits",
        type=int,
        default=4,
        metavar="N",
        help="held-out edit answers re-validated per model (checks + related tests; default 4)",
    )
    p.add_argument("--no-promote", action="store_true", help="evaluate but never switch models")
    p.set_defaults(handler=cmd_learn, writes_data=True)
    _export_options(p)
    _finetune_options(p)


def _kinds(kind: str) -> tuple[str, ...]:
    return KINDS if kind == "all" else (kind,)


def _finetune_settings(args: argparse.Namespace) -> dict[str, object]:
    return {
        "base": args.base,
        "steps": args.steps,
        "lr": args.lr,
        "lora_r": args.lora_r,
        "lora_alpha": args.lora_alpha,
        "target_modules": tuple(m for m in args.target_modules.split(",") if m),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "merged": args.merged,
        "resume": not args.no_resume,
    }


def cmd_export(args: argparse.Namespace, config: AppConfig) -> int:
    from memory.export import ExportOptions, default_out, export_datasets

    out = args.out or default_out(config.data_dir)
    manifest = export_datasets(
        [
            *([own] if (own := config.data_dir / "memory").is_dir() or not args.memory else []),
            *args.memory,
        ],
        out,
        ExportOptions(
            kinds=_kinds(args.kind),
            fmt=args.fmt,
            min_rating=args.min_rating,
            val_fraction=args.val_fraction,
            seed=args.seed,
        ),
    )
    if args.json:
        _dump(manifest)
    else:
        for kind, counts in manifest["kinds"].items():
            info(f"{kind:>10}: {counts['train']} train, {counts['validation']} validation")
        info(f"✔ datasets in {out} (manifest.json)")
    return 0


def cmd_finetune(args: argparse.Namespace, config: AppConfig) -> int:
    from cores.llm import resolve_model_name
    from cores.registry import ModelRegistry
    from memory.finetune import FinetuneOptions, finetune, finetune_t5

    registry = ModelRegistry(config.data_dir)
    options = FinetuneOptions(out_name=args.out_name, **_finetune_settings(args))  # type: ignore[arg-type]
    run = finetune_t5 if args.t5 else finetune
    result = run(
        args.data,
        registry,
        options,
        work_root=config.data_dir / "training",
        active_llm=resolve_model_name(config.llm, registry),
        progress=info,
    )
    if args.json:
        _dump(result.to_dict())
    else:
        info(result.report())
    return 0


def _folders(sources: list[Path | str]) -> tuple[Path, ...]:
    dsns = [s for s in sources if not isinstance(s, Path)]
    if dsns:
        raise ValueError(
            "learn --memory takes memory folders only, not postgres stores; "
            "`autopatch export --memory postgresql://…` exports one"
        )
    return tuple(s for s in sources if isinstance(s, Path))


def cmd_learn(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.learn import LearnOptions, learn

    outcome = learn(
        config,
        LearnOptions(
            every=args.every,
            eval_limit=args.eval_limit,
            promote=not args.no_promote,
            extra_memory=_folders(args.memory),
            min_rating=args.min_rating,
            val_fraction=args.val_fraction,
            seed=args.seed,
            finetune=_finetune_settings(args),
            validate_edits=args.validate_edits,
        ),
        progress=info,
    )
    if args.json:
        _dump(outcome.to_dict())
    else:
        info(outcome.report())
    return 0
