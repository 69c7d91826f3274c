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
from planner.fusion import OperationChecker, check, fuse
from planner.spec import Spec, SpecError
from planner.spec_llm import LLMNormalizer
from planner.spec_rules import RulesNormalizer
from planner.spec_t5 import T5Normalizer

log = logging.getLogger(__name__)

BACKENDS = ("rules", "llm", "t5")


@dataclass(frozen=True)
class SpecConfig:
    """Spec normalization settings.

    Fields:
      backends: which backends run, in order (``rules``, ``llm``, ``t5``); ``t5`` runs
        only when a seq2seq model is configured.
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
    ) -> None:
        self.symbols = symbols
        self.config = config or SpecConfig()
        self.llm = llm
        self.seq2seq = seq2seq
        self.runs: list[BackendRun] = []

    def _backend(self, name: str) -> Any:
        if name == "rules":
            return RulesNormalizer(self.symbols)
        if name == "llm" and self.llm is not None:
            return LLMNormalizer(self.llm, self.symbols)
        if name == "t5" and self.seq2seq is not None:
            return T5Normalizer(self.seq2seq, self.symbols)
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
        spec = fuse(
            issue_id or issue_slug(text), text, self.candidates(text, backends), self.symbols
        )
        if not spec.operations:
            raise SpecError(
                "no operation could be derived: the issue names nothing that exists in this "
                "repository. Name the function, class or module to change (in `backticks`)"
            )
        timing = {r.backend: round(r.seconds, 2) for r in self.runs}
        return replace(spec, provenance={**spec.provenance, "seconds": timing})


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
