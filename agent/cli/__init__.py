"""The ``autopatch`` command line. ``main(argv) -> int``; logging is configured here only.

One module per subcommand (``patches`` holds ``list`` and ``show``, ``learn`` holds
``export``, ``finetune`` and ``learn``), each with ``add_parser(sub, common)``: its arguments,
help and example beside its handler, which the parser records with ``set_defaults(handler=...)``
(plus ``writes_data`` and a ``configure(config, args)`` hook where the command needs them).
``main`` parses, loads the config and calls the handler.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from agent import __version__
from agent.cli import (
    ask,
    doctor,
    feedback,
    fix,
    generate,
    index,
    learn,
    memory,
    models,
    patches,
    plan,
    profile,
)
from agent.cli.common import common_options
from agent.config import ConfigError, load_config
from agent.land.builder import CommitError
from agent.run.rundir import LockHeld
from agent.verify.sandbox import SandboxError
from agent.verify.scratch import ScratchError

__all__ = ["build_parser", "main"]

log = logging.getLogger("autopatch")

# In the order ``autopatch --help`` lists them.
COMMANDS = (
    doctor,
    models,
    generate,
    profile,
    index,
    ask,
    plan,
    fix,
    feedback,
    memory,
    patches,
    learn,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autopatch",
        description="A local, private, self-improving code-change agent for Python repositories.",
        epilog="Run `autopatch COMMAND --help` for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"autopatch {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.set_defaults(handler=None, writes_data=False, configure=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for command in COMMANDS:
        command.add_parser(sub, common)
    return parser


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
        if args.writes_data:
            ensure_writable(config.data_dir)
        if args.configure is not None:
            config = args.configure(config, args)
        return int(args.handler(args, config))
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
