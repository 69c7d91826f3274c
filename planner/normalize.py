"""SpecNormalizer: run the configured backends (rules / llm / t5) and fuse them.

A user may also hand in a spec YAML directly (``from_spec_file``); it is checked
against the digest the same way a backend's proposal is.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cores.protocols import LLM, Seq2Seq
from planner.candidates import Candidate, SymbolIndex
from planner.decide import GroundedPlanner
from planner.fusion import OperationChecker, check, fuse, target_files
from planner.spec import Spec, SpecError
from planner.spec_llm import LLMNormalizer
from planner.spec_rules import RulesNormalizer
from planner.spec_t5 import T5Normalizer

log = logging.getLogger(__name__)

BACKENDS = ("rules", "llm", "t5", "judge")


@dataclass(frozen=True)
class SpecConfig:
    """Spec normalization settings.

    Fields:
      backends: which backends run, in order (``rules``, ``llm``, ``t5``, ``judge``); ``t5``
        runs only when a seq2seq model is configured. ``judge`` (grounded planning with the
        model as the judge, ``planner.decide``) runs last, with the others' candidates as
        its proposals, and decides whenever it accepts something.
      llm_samples: LLM samples per issue (more samples, more candidates, more time).
      max_issue_chars: longer issues are cut (prompt cost on small CPUs).
    """

    backends: tuple[str, ...] = ("rules", "llm")
    llm_samples: int = 1
    max_issue_chars: int = 6000

    def __post_init__(self) -> None:
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown:
            raise ValueError(
                f"unknown spec backend(s) {', '.join(unknown)}; valid: {', '.join(BACKENDS)}"
            )


@dataclass(frozen=True)
class JudgeContext:
    """What the judge (grounded planning) sees besides the issue and the symbols.

    Fields:
      repo: the repository folder, to read the code the issue quotes (None: not read).
      retriever: finds the code a free-text issue is about (``planner.retrieval``).
      examples: (issue, plan in words) of past successes (memory), as worked examples.
    """

    repo: Path | None = None
    retriever: Any = None
    examples: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class BackendRun:
    backend: str
    candidate: Candidate | None
    seconds: float
    error: str | None = None


def issue_slug(issue: str) -> str:
    """A short id from the issue's title plus a content hash."""
    title = issue.strip().splitlines()[0] if issue.strip() else "issue"
    words = re.findall(r"[a-z0-9]+", title.lower())[:6]
    digest = hashlib.sha256(issue.encode("utf-8")).hexdigest()[:6]
    return "-".join([*words, digest]) if words else digest


class SpecNormalizer:
    """Issue text → checked ``Spec``, recording which backend produced what."""

    def __init__(
        self,
        symbols: SymbolIndex,
        *,
        config: SpecConfig | None = None,
        llm: LLM | None = None,
        seq2seq: Seq2Seq | None = None,
        judge_llm: LLM | None = None,
        judge: JudgeContext | None = None,
    ) -> None:
        self.symbols = symbols
        self.config = config or SpecConfig()
        self.llm = llm
        self.seq2seq = seq2seq
        self.judge_llm = judge_llm or llm
        judge = judge or JudgeContext()
        self.repo = judge.repo
        self.retriever = judge.retriever
        self.examples = list(judge.examples)  # (issue, plan in words) of past successes
        self.runs: list[BackendRun] = []

    def _backend(self, name: str) -> Any:
        if name == "rules":
            return RulesNormalizer(self.symbols)
        if name == "llm" and self.llm is not None:
            return LLMNormalizer(self.llm, self.symbols)
        if name == "t5" and self.seq2seq is not None:
            return T5Normalizer(self.seq2seq, self.symbols)
        if name == "judge" and self.judge_llm is not None:
            proposals = [r.candidate for r in self.runs if r.candidate is not None]
            return GroundedPlanner(
                self.judge_llm,
                self.symbols,
                repo=self.repo,
                retriever=self.retriever,
                proposals=proposals,
                examples=self.examples,
            )
        return None

    def candidates(self, issue: str, backends: Sequence[str] | None = None) -> list[Candidate]:
        found: list[Candidate] = []
        self.runs = []
        for name in backends or self.config.backends:
            backend = self._backend(name)
            if backend is None:
                log.info("spec backend %s is not configured; skipped", name)
                continue
            start = time.perf_counter()
            try:
                cand = backend.propose(issue)
            except Exception as exc:  # a backend failing must not sink the others
                log.warning("spec backend %s failed: %s", name, exc)
                self.runs.append(
                    BackendRun(
                        name, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"
                    )
                )
                continue
            self.runs.append(BackendRun(name, cand, time.perf_counter() - start))
            if cand is not None:
                found.append(cand)
        return found

    def normalize(
        self, issue: str, *, issue_id: str | None = None, backends: Sequence[str] | None = None
    ) -> Spec:
        text = issue.strip()
        if not text:
            raise SpecError(
                "the issue is empty; describe the change you want (e.g. 'rename foo to bar')"
            )
        text = text[: self.config.max_issue_chars]
        found = self.candidates(text, backends)
        judged = [c for c in found if c.backend == "judge"]
        others = [c for c in found if c.backend != "judge"]
        if judged and judged[0].operations:
            spec = decided(issue_id or issue_slug(text), text, judged[0], others, self.symbols)
        else:
            spec = fuse(issue_id or issue_slug(text), text, others, self.symbols)
            if judged:
                spec = replace(
                    spec,
                    provenance={
                        **spec.provenance,
                        "coverage": judged[0].meta.get("coverage"),
                        "judge": _judge_record(judged[0]),
                    },
                )
        if not spec.operations:
            raise SpecError(
                "no operation could be derived: the issue names nothing that exists in this "
                "repository. Name the function, class or module to change (in `backticks`)"
            )
        timing = {r.backend: round(r.seconds, 2) for r in self.runs}
        return replace(spec, provenance={**spec.provenance, "seconds": timing})


def _judge_record(cand: Candidate) -> dict[str, Any]:
    keep = ("grounding", "kinds", "candidates", "dropped", "judge", "arbitration", "model_id")
    return {k: cand.meta[k] for k in keep if k in cand.meta}


def decided(
    issue_id: str, issue: str, judged: Candidate, others: Sequence[Candidate], symbols: SymbolIndex
) -> Spec:
    """The Spec the judge decided, with the other backends' candidates for the record."""
    checked = check(judged, OperationChecker(symbols), issue)
    return Spec(
        issue_id=issue_id,
        description=issue.strip(),
        operations=checked.operations,
        target_files=target_files(checked.operations, symbols),
        provenance={
            "chosen": "judge",
            "coverage": judged.meta.get("coverage"),
            "judge": _judge_record(judged),
            "candidates": [check(c, OperationChecker(symbols), issue).to_dict() for c in others],
        },
    )


def from_spec_file(path: str | Path, symbols: SymbolIndex) -> Spec:
    """Load a user's spec YAML and check every operation against the digest."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}") from None
    spec = Spec.from_yaml(text, source=str(path))
    checked = check(Candidate("user", spec.operations), OperationChecker(symbols))
    if checked.problems:
        raise SpecError(f"{path}: " + "; ".join(checked.problems))
    return replace(
        spec, operations=checked.operations, provenance={**spec.provenance, "chosen": "user"}
    )
