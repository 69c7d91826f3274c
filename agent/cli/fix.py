"""``autopatch fix``: the main job, from the command line."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from typing import Any

from agent.cli.common import SubParsers, issue_from_args, with_model
from agent.config import AppConfig
from agent.land.builder import check_branch
from agent.ui import console, info
from agent.workspace import build_digest

EXAMPLE = (
    'example: autopatch fix "rename get_user to fetch_user" --repo path/to/project --apply\n\n'
    "exit codes: 0 validated (the repo's tests, the acceptance checks from the issue and the\n"
    "plan's coverage all pass); 1 failed (no patch set); 2 bad usage; 3 unverified (the\n"
    "candidate patch set is written to .autopatches/ for inspection but nothing lands\n"
    "unless --accept-unverified)"
)


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "fix",
        help="turn an issue into a validated patch set (optionally apply/commit it)",
        epilog=EXAMPLE,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("issue", nargs="?", help="the issue text ('-' reads standard input)")
    p.add_argument("--issue-file", help="read the issue from this file")
    p.add_argument("--spec", help="use this spec YAML instead of an issue")
    land = p.add_mutually_exclusive_group()
    land.add_argument(
        "--apply", action="store_true", help="apply the validated patch to the working tree"
    )
    land.add_argument(
        "--commit", action="store_true", help="commit it on a new branch autopatch/<slug>"
    )
    p.add_argument(
        "--accept-unverified",
        action="store_true",
        help="let --apply/--commit land a change whose acceptance checks failed or whose "
        "plan does not cover the issue (exit code 3 still says it is unverified)",
    )
    p.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="do not ask before drafting (the plan is still stated); for scripts and CI",
    )
    p.add_argument("--branch", help="branch name for --commit")
    p.add_argument(
        "--force", action="store_true", help="touch files even if they have uncommitted changes"
    )
    _checks_and_budget(p)
    p.set_defaults(handler=cmd_fix, writes_data=True, configure=with_model)


def _checks_and_budget(p: argparse.ArgumentParser) -> None:
    """The options of the checks, the repairs, the planning and each phase's budget."""
    p.add_argument(
        "--full-tests",
        nargs="?",
        const="always",
        default="auto",
        choices=["auto", "always", "never"],
        help="the whole pytest suite after the related tests: auto (default; pre-existing "
        "failures ignored, skipped if slower than the sandbox limit), always, never",
    )
    p.add_argument(
        "--max-repairs",
        type=int,
        default=3,
        help="repair rounds after the final validation fails (default 3)",
    )
    p.add_argument(
        "--spec-llm",
        choices=["auto", "always", "never"],
        default="auto",
        help="auto: grounded planning judged by the model (the 1.5B when installed); always: "
        "the free-form LLM backend proposes too; never: the rules alone, no model",
    )
    p.add_argument(
        "--candidates",
        type=int,
        default=8,
        metavar="N",
        help="at most N drafts per model-written phase; the first that passes the phase's "
        "checks (tests, the issue's examples and acceptance checks) wins (default 8)",
    )
    p.add_argument(
        "--phase-seconds",
        type=float,
        default=300.0,
        metavar="S",
        help="time budget of one model-written phase, drafting and checking (default 300)",
    )
    p.add_argument(
        "--one-model",
        action="store_true",
        help="draft with the configured model only (by default every other fresh sample of "
        "model-written code comes from the 1.5B judge model where it is installed)",
    )
    p.add_argument(
        "--phase-calls",
        type=int,
        default=24,
        metavar="N",
        help="model-call budget of one model-written phase (default 24)",
    )
    p.add_argument("--python", help="interpreter that runs the project's tests (default: this one)")
    p.add_argument(
        "--unsafe-sandbox",
        action="store_true",
        help="run generated code even without bubblewrap, with only rlimits and an audit hook "
        "(no isolation; config: sandbox.unsafe: true)",
    )
    p.add_argument("--model", help="registry model name (default: the active llm)")


def _checked(args: argparse.Namespace, config: AppConfig) -> AppConfig:
    """The config ``fix`` runs with, once its options and the sandbox are checked."""
    if not 1 <= args.candidates <= 32:
        raise ValueError("--candidates must be between 1 and 32")
    if args.phase_seconds <= 0 or args.phase_calls < 1:
        raise ValueError("--phase-seconds must be above 0 and --phase-calls at least 1")
    if args.max_repairs < 0:
        raise ValueError("--max-repairs must be 0 or more")
    if args.branch is not None:
        check_branch(config.repo, args.branch)
    if args.python is not None and shutil.which(args.python) is None:
        raise ValueError(f"--python {args.python}: no such interpreter")
    if args.unsafe_sandbox:
        config = replace(config, sandbox=replace(config.sandbox, unsafe=True))
    config.sandbox.check_usable()
    return config


def cmd_fix(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.run.confirm import Confirmer
    from agent.run.job import FixRun
    from agent.run.models import LazyLLM
    from agent.run.options import FixConfig, FixOptions
    from cores.llm import create_llm
    from cores.registry import ModelRegistry
    from planner.judge import judge_model_name
    from planner.style import StyleProfiler

    issue = issue_from_args(args)
    config = _checked(args, config)
    options = FixOptions(
        apply=args.apply,
        commit=args.commit,
        accept_unverified=args.accept_unverified,
        branch=args.branch,
        force=args.force,
        full_tests=args.full_tests,
        max_repairs=args.max_repairs,
        spec_llm=args.spec_llm,
        candidates=args.candidates,
        phase_calls=args.phase_calls,
        phase_seconds=args.phase_seconds,
        one_model=args.one_model,
    )
    digest = build_digest(config)
    style = StyleProfiler.load(config.data_dir)
    if style is None:
        style = StyleProfiler(config.repo).profile()
        StyleProfiler.save(style, config.data_dir)
    registry = ModelRegistry(config.data_dir)

    def make_llm() -> Any:
        with console(stderr=True).status(f"loading {config.llm.model} ({config.llm.backend})"):
            return create_llm(config.llm, registry)

    def make_judge() -> Any:
        name = judge_model_name(registry)
        with console(stderr=True).status(f"loading {name} to judge the plan"):
            return create_llm(replace(config.llm, model=name, adapter_path=None), registry)

    # the judge: the 1.5B when installed, for the embedded models; a served or user-given
    # model judges itself; the scripted backend does not judge (its replies are for drafts)
    own = config.llm.backend == "llama_cpp" and not config.llm.model_path
    judge = make_judge if own else (None if config.llm.backend == "scripted" else make_llm)
    llm = LazyLLM(make_llm, judge)
    fix_config = FixConfig(
        config.repo,
        config.data_dir,
        args.python or sys.executable,
        options,
        config.sandbox,
        config.memory,
    )
    run = FixRun(
        fix_config,
        digest,
        llm,
        style=style,
        progress=lambda msg: info(f"… {msg}"),
        confirm=Confirmer(
            digest,
            ask=not args.yes and args.issue != "-" and sys.stdin.isatty(),
            say=info,
        ),
    )
    try:
        result = run.run(issue, args.spec)
    finally:
        llm.close()
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    elif result.patch is not None:
        shown = result.patch.diff.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        console().print(shown, markup=False, highlight=False)
    mark = {"validated": "✔ ", "unverified": "? "}.get(result.status, "✘ ")
    info(mark + result.message + f" ({result.seconds:.0f} s)")
    return result.exit_code
