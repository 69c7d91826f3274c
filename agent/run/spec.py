"""The first stage of a run: the issue (or a spec file) becomes a ``Spec``.

Grounded planning judged by the model (see ``FixOptions.spec_llm``); without a judge, the
rules, and the free-form LLM backend when they find nothing specific. Earlier validated
runs the user did not rate down are handed to the judge as examples (``past_plans``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.acceptance.infer import Inferred, infer_expected, open_questions
from agent.run.context import Progress
from agent.run.models import LazyLLM
from agent.run.options import FixOptions
from agent.run.oracle import BEHAVIOUR_OPS
from agent.run.record import Recorder
from memory.store import Memory
from planner.normalize import JudgeContext, SpecNormalizer, from_spec_file
from planner.retrieval import Retriever
from planner.spec import Spec, SpecError


def load_spec(
    issue: str | None,
    spec_path: str | None,
    digest: Any,
    llm: LazyLLM,
    options: FixOptions,
    recorder: Recorder,
    repo: Path | None = None,
) -> Spec:
    if spec_path:
        return from_spec_file(spec_path, digest)
    return normalize_issue(issue or "", digest, llm, options, recorder, repo=repo)


def normalize_issue(
    issue: str,
    digest: Any,
    llm: LazyLLM,
    options: FixOptions,
    recorder: Recorder,
    *,
    repo: Path | None = None,
    retriever: Any = None,
) -> Spec:
    """Grounded planning judged by the model (see ``FixOptions.spec_llm``)."""
    if options.spec_llm == "never":
        return SpecNormalizer(digest).normalize(issue, backends=["rules"])
    if not llm.can_judge:
        return _rules_then_llm(issue, digest, llm, options, recorder)
    backends = ["rules", "llm", "judge"] if options.spec_llm == "always" else ["rules", "judge"]
    normalizer = SpecNormalizer(
        digest,
        llm=llm.get() if "llm" in backends else None,
        judge_llm=llm.judge(),
        judge=JudgeContext(
            repo=repo,
            retriever=retriever if retriever is not None else Retriever(digest),
            examples=past_plans(recorder.memory),
        ),
    )
    spec = normalizer.normalize(issue, backends=backends)
    recorder.spec(normalizer, spec)
    return spec


def _rules_then_llm(
    issue: str, digest: Any, llm: LazyLLM, options: FixOptions, recorder: Recorder
) -> Spec:
    """Without a judge: the rules, and the free-form LLM backend when they find nothing
    specific (or always)."""
    if options.spec_llm == "auto":
        spec = SpecNormalizer(digest).normalize(issue, backends=["rules"])
        if spec.provenance.get("chosen") == "rules" and any(
            o.op != "edit" for o in spec.operations
        ):
            return spec
    normalizer = SpecNormalizer(digest, llm=llm.get())
    spec = normalizer.normalize(issue, backends=["rules", "llm"])
    recorder.spec(normalizer, spec)
    return spec


def read_expected(spec: Spec, llm: LazyLLM, progress: Progress) -> list[Inferred]:
    """What the issue's words ask of the calls it shows only as wrong (the judge model
    reads them; none without one or when the plan writes no behaviour)."""
    if not llm.can_judge or not any(o.op in BEHAVIOUR_OPS for o in spec.operations):
        return []
    if not open_questions(spec.description):
        return []
    progress("reading what the issue's words ask its examples to give")
    found = infer_expected(spec.description, llm.judge)
    for i in found:
        if i.usable:
            progress(f"the issue asks: {i.describe()}")
    return found


def past_plans(memory: Memory, limit: int = 200) -> list[tuple[str, str]]:
    """(issue, plan in words) of earlier validated runs the user did not rate down."""
    from planner.propose import describe

    bad = {k for k, f in memory.latest_feedback().items() if (f.get("rating") or 5) <= 2}
    out = []
    for rec in memory.successes()[-limit:]:
        if rec.get("run_id") in bad or not rec.get("spec"):
            continue
        try:
            spec = Spec.from_dict(rec["spec"])
        except (SpecError, KeyError, TypeError, ValueError):  # an old or foreign record
            continue
        out.append((spec.description, "; ".join(describe(o) for o in spec.operations)))
    return out
