"""``autopatch export | finetune | learn``: memory → datasets → LoRA → GGUF → gated promotion.

The command line lives here; the work is in ``memory.export``, ``memory.finetune`` and
``agent.learn.loop``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

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
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="where LoRA trains (default auto: a GPU when torch sees one)",
    )


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
        epilog="examples:\n  autopatch learn --every 20   (cron-friendly: does nothing until due)\n"
        "  autopatch learn --bootstrap --budget 120   (tasks from the repo itself, 2 hours)\n"
        "  autopatch learn --report   (learning curve: PNG + table)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    _bootstrap_options(p)


def _bootstrap_options(p: argparse.ArgumentParser) -> None:
    from agent.learn.tasks import KINDS as TASK_KINDS

    g = p.add_argument_group("bootstrap (tasks made from the repository itself)")
    g.add_argument(
        "--bootstrap",
        action="store_true",
        help="generate verified tasks from the repo, solve them with fix (rejection "
        "sampling), train, gate on held-out functions; resumes an interrupted loop",
    )
    g.add_argument(
        "--budget",
        type=float,
        default=60.0,
        metavar="MIN",
        help="minutes for the whole loop; picks task counts, sequence length, LoRA rank and "
        "steps (default 60)",
    )
    g.add_argument(
        "--kinds",
        default=",".join(TASK_KINDS),
        help=f"task kinds, comma-separated (default {','.join(TASK_KINDS)})",
    )
    g.add_argument("--python", help="interpreter that runs the repo's tests (default: this one)")
    g.add_argument("--candidates", type=int, default=3, help="drafts sampled per phase (default 3)")
    g.add_argument("--keep", type=int, default=2, help="passing runs kept per task (default 2)")
    g.add_argument("--max-repairs", type=int, default=1, help="fix repair rounds (default 1)")
    g.add_argument(
        "--spec-llm",
        choices=["auto", "always", "never"],
        default="never",
        help="how fix reads the task issues (default never: the rules; the model drafts)",
    )
    g.add_argument("--max-tasks", type=int, default=0, help="override the plan's task count")
    g.add_argument(
        "--test-per-kind", type=int, default=0, help="override the plan's held-out tasks per kind"
    )
    g.add_argument(
        "--paraphrase", action="store_true", help="let the model reword each task's issue"
    )
    g.add_argument(
        "--report",
        action="store_true",
        help="write the learning curve (PNG + table) of the bootstrap loops and exit",
    )
    g.add_argument("--report-out", type=Path, help="PNG path (default <data dir>/reports/)")


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
        "device": args.device,
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
    from agent.learn.loop import learn
    from agent.learn.options import LearnOptions

    if args.report:
        return _report(args, config)
    if args.bootstrap:
        return _bootstrap(args, config)

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


def _report(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.learn.report import report

    path, text, points = report(config.data_dir, args.report_out)
    if args.json:
        _dump({"png": str(path) if path else None, "points": [p.__dict__ for p in points]})
    else:
        info(text)
        if path is not None:
            info(f"✔ learning curve in {path} (table: {path.with_suffix('.md')})")
    return 0


def _bootstrap(args: argparse.Namespace, config: AppConfig) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from agent.learn.bootstrap import learn_bootstrap
    from agent.learn.bootstrap_options import BootstrapOptions, new_real_runs
    from agent.learn.solve import SolveOptions
    from agent.ui import console

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if args.budget <= 0 or not 1 <= args.candidates <= 8 or args.keep < 1:
        raise ValueError("--budget must be > 0, --candidates 1..8 and --keep >= 1")
    if args.every:
        new = new_real_runs(config.data_dir)
        if new < args.every:
            info(f"not due: {new}/{args.every} new real successful runs since the last loop")
            return 0
    config.sandbox.check_usable()
    options = BootstrapOptions(
        budget_minutes=args.budget,
        kinds=kinds,
        device=args.device,
        python=args.python or sys.executable,
        solve=SolveOptions(
            candidates=args.candidates,
            max_repairs=args.max_repairs,
            keep=args.keep,
            spec_llm=args.spec_llm,
        ),
        paraphrase=args.paraphrase,
        promote=not args.no_promote,
        seed=args.seed,
        eval_limit=args.eval_limit,
        max_tasks=args.max_tasks,
        test_per_kind=args.test_per_kind,
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=False) as progress:
        stages: dict[str, Any] = {}

        def bar(stage: str, done: int, total: int) -> None:
            if stage not in stages:
                stages[stage] = progress.add_task(stage, total=total)
            progress.update(stages[stage], completed=done, total=total)

        run = learn_bootstrap(
            config, options, progress=lambda m: progress.console.print(m), bar=bar
        )
    if args.json:
        _dump(run.to_dict())
    else:
        data = run.bootstrap or {}
        info(f"learn --bootstrap {run.run_id}: {run.decision}")
        for kind, v in (data.get("kinds") or {}).items():
            info(
                f"  {kind:>12}: n={v['n_test']} {v['before']:.2f} → {v['after']:.2f} "
                f"(gain {v['gain']:+.2f}, 95% CI {v['gain_ci'][0]:+.2f}..{v['gain_ci'][1]:+.2f})"
            )
        info(
            f"  wall {data.get('wall_s')} s; tasks {data.get('tasks')}; solved {data.get('solved')}"
        )
    return 0
