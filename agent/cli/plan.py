"""``autopatch plan``: turn an issue into a checked spec and an ordered plan (changes nothing)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agent.cli.common import SubParsers, issue_from_args, with_model
from agent.config import AppConfig
from agent.ui import console, info
from agent.workspace import build_digest


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
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
    p.set_defaults(handler=cmd_plan, configure=with_model)


def make_normalizer(config: AppConfig, digest: Any, backends: list[str]) -> Any:
    """A SpecNormalizer with the configured models (loaded only if a backend needs them)."""
    from cores.llm import create_llm
    from cores.registry import ModelRegistry
    from planner.judge import judge_model_name
    from planner.normalize import JudgeContext, SpecConfig, SpecNormalizer

    registry = ModelRegistry(config.data_dir)
    llm = seq2seq = judge = None
    if "llm" in backends:
        with console(stderr=True).status(f"loading {config.llm.model} ({config.llm.backend})"):
            llm = create_llm(config.llm, registry)
    if "judge" in backends:
        if config.llm.backend == "llama_cpp" and not config.llm.model_path:
            name = judge_model_name(registry)
            with console(stderr=True).status(f"loading {name} to judge the plan"):
                judge = create_llm(replace(config.llm, model=name, adapter_path=None), registry)
        else:
            judge = llm or create_llm(config.llm, registry)
    if "t5" in backends and config.seq2seq.model:
        from cores.seq2seq import TransformersSeq2Seq

        seq2seq = TransformersSeq2Seq(registry.get(config.seq2seq.model).resolved_path())
    return SpecNormalizer(
        digest,
        config=SpecConfig(backends=tuple(backends)),
        llm=llm,
        seq2seq=seq2seq,
        judge_llm=judge,
        judge=JudgeContext(repo=config.repo),
    )


def cmd_plan(args: argparse.Namespace, config: AppConfig) -> int:
    from planner.normalize import from_spec_file
    from planner.phases import PhasePlanner

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    issue = issue_from_args(args) or ""
    digest = build_digest(config)
    if args.spec:
        spec = from_spec_file(args.spec, digest)
    else:
        normalizer = make_normalizer(config, digest, backends)
        with console(stderr=True).status("normalizing the issue into a spec"):
            spec = normalizer.normalize(issue)
    plan = PhasePlanner(digest).plan(spec)
    if args.json:
        sys.stdout.write(
            json.dumps({"spec": spec.to_dict(), "plan": plan.to_dict()}, indent=2) + "\n"
        )
        return 0
    out = console()
    out.print(spec.to_yaml(), markup=False)
    out.print("plan:", markup=False)
    for phase in plan.phases:
        deps = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
        out.print(f"  {phase.id}: {phase.operation.summary()}{deps}", markup=False)
        out.print(f"      files: {', '.join(phase.files) or '-'}", markup=False)
        if phase.related_tests:
            out.print(f"      tests: {', '.join(phase.related_tests)}", markup=False)
    info(f"spec from: {spec.provenance.get('chosen')}")
    if getattr(args, "explain", False):
        for line in explain(spec.provenance):
            out.print(line, markup=False, highlight=False)
    return 0


def explain(provenance: Mapping[str, Any]) -> list[str]:
    """The grounding, each candidate with the judge's verdict, the arbitration and coverage."""
    judge = provenance.get("judge") or {}
    lines = ["", "grounding (what the issue's code mentions stand for):"]
    for g in (judge.get("grounding") or {}).get("symbols", []):
        lines.append(
            f"  {g['qualname']} ({g['kind']}) strength {g['strength']}: {', '.join(g['evidence'])}"
        )
    new = (judge.get("grounding") or {}).get("new_names") or []
    if new:
        lines.append(f"  names the repository does not have yet: {', '.join(new)}")
    if judge.get("kinds"):
        lines.append("kinds of change (judge):")
        for kind, p in sorted(judge["kinds"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {p:5.2f}  {kind}")
    if judge.get("candidates"):
        lines.append("candidates (✔ chosen; p = the judge's P(yes), -1 = not asked):")
        for c in judge["candidates"]:
            mark = "✔" if c.get("chosen") else " "
            lines.append(f"  {mark} {c.get('p_yes', -1):5.2f}  {c['plain']}")
    for reason in judge.get("dropped") or []:
        lines.append(f"  dropped: {reason}")
    arb = judge.get("arbitration") or {}
    if arb:
        lines.append("whole plans compared:")
        for p in arb.get("plans", []):
            lines.append(f"  {p['p']:5.2f}  [{p['backend']}] {p['plan']}")
        lines.append(f"  winner: {arb.get('winner')}")
    cov = provenance.get("coverage") or {}
    if cov:
        lines.append("coverage: " + ("complete" if cov.get("complete") else "INCOMPLETE"))
        for q in cov.get("covered", []):
            lines.append(f"  covered   {q}")
        for q, why in (cov.get("context") or {}).items():
            lines.append(f"  context   {q}: {why}")
        for q in cov.get("uncovered", []):
            lines.append(f"  UNCOVERED {q}: named and judged to change, but no operation covers it")
    return lines
