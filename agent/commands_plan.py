"""``autopatch plan``: issue → checked Spec → ordered phases. Reads the repo, never writes it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.config import AppConfig
from agent.ui import console, info


def read_issue(args: argparse.Namespace) -> str:
    """The issue text from the positional argument or ``--issue-file``."""
    if getattr(args, "issue_file", None):
        path = Path(args.issue_file)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read issue file {path}: {exc}") from None
    if args.issue == "-":
        return sys.stdin.read()
    return str(args.issue or "")


def make_normalizer(config: AppConfig, digest: Any, backends: list[str]) -> Any:
    """A SpecNormalizer with the configured models (loaded only if a backend needs them)."""
    from cores.llm import create_llm
    from cores.registry import ModelRegistry
    from planner.judge import judge_model_name
    from planner.normalize import SpecConfig, SpecNormalizer

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
        repo=config.repo,
    )


def cmd_plan(args: argparse.Namespace, config: AppConfig) -> int:
    from agent.commands import build_digest
    from planner.normalize import from_spec_file
    from planner.phases import PhasePlanner

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.spec and (args.issue is not None or args.issue_file):
        raise ValueError("give either an issue (text or --issue-file) or --spec, not both")
    if not args.spec and args.issue is None and not args.issue_file:
        raise ValueError(
            "give the issue as text, --issue-file FILE or --spec spec.yaml (see --help)"
        )
    issue = "" if args.spec else read_issue(args)
    if not args.spec and not issue.strip():
        raise ValueError(
            "the issue is empty; describe the change you want (e.g. 'rename foo to bar')"
        )
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
