"""Find the code a question is about: exact symbol lookup and hybrid search over a digest.

``Retriever.lookup`` resolves a symbol name through ``RepositoryDigest.find`` and,
when nothing matches, carries ``fuzzy`` "did you mean" suggestions. ``search``
ranks definitions for a free-text query by fusing (reciprocal-rank fusion) up to
three lists: exact-name hits for the query's identifiers, a BM25 index over the
definitions' names, qualnames, parameters and docstrings (built lazily, cached on
the retriever), and, when a vector index and an embedder are given, cosine hits
from the definitions' embeddings. Everything works without embeddings. Results
are ``Span``s: a line range of a file plus where the hit came from. Nothing here
writes to the repository.
"""

from __future__ import annotations

import logging
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from planner.digest_query import is_test_path
from planner.digest_types import Definition
from planner.retrieval_terms import (
    _KIND_TERMS,
    KIND_WORDS,
    _Bm25,
    query_identifiers,
    terms,
)

if TYPE_CHECKING:
    from cores.protocols import Embedder
    from cores.vector_index import VectorIndex
    from planner.digest import RepositoryDigest

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SpanSource = Literal["symbol", "lexical", "embedding", "hybrid"]

RRF_K = 60
LIST_WEIGHTS: dict[str, float] = {"symbol": 1.5, "lexical": 1.0, "embedding": 1.0}
TEST_PENALTY = 0.6  # lexical score factor for definitions in test files
KIND_BOOST = 1.5  # "... classes ..." favours classes, and so on
NAME_BOOST = 2.0  # a definition named exactly like a word of the query

KIND_ORDER = {"class": 0, "function": 1, "method": 2, "constant": 3, "variable": 4}


@dataclass(frozen=True)
class Span:
    """A line range of one repository file (1-based, inclusive) that a query hit."""

    path: str
    start_line: int
    end_line: int
    qualname: str | None
    kind: str  # a definition kind, or "chunk"
    score: float
    source: SpanSource
    schema_version: int = SCHEMA_VERSION

    @property
    def ref(self) -> str:
        """``path:start-end``, the form citations use."""
        return f"{self.path}:{self.start_line}-{self.end_line}"

    def snippet(self, repo_root: str | Path, max_lines: int = 40) -> str:
        """The span's lines read from ``repo_root`` (at most ``max_lines``; "" if unreadable)."""
        lines = read_lines(repo_root, self.path)
        stop = min(self.end_line, self.start_line - 1 + max(1, max_lines))
        shown = lines[self.start_line - 1 : stop]
        if shown and stop < self.end_line:
            shown.append(f"# ... ({self.end_line - stop} more lines)")
        return "\n".join(shown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "ref": self.ref,
            "qualname": self.qualname,
            "kind": self.kind,
            "score": self.score,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        return cls(
            path=str(data["path"]),
            start_line=int(data["start_line"]),
            end_line=int(data["end_line"]),
            qualname=data.get("qualname"),
            kind=str(data.get("kind", "chunk")),
            score=float(data.get("score", 0.0)),
            source=data.get("source", "lexical"),
        )

    @classmethod
    def of(cls, d: Definition, score: float, source: SpanSource) -> Span:
        return cls(d.path, d.line, max(d.line, d.end_line), d.qualname, d.kind, score, source)


@dataclass(frozen=True)
class LookupResult:
    """Definitions found for a name; ``suggestions`` are close names when none were found."""

    name: str
    spans: tuple[Span, ...] = ()
    suggestions: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def __bool__(self) -> bool:
        return bool(self.spans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "spans": [s.to_dict() for s in self.spans],
            "suggestions": list(self.suggestions),
        }


def read_lines(repo_root: str | Path, relpath: str) -> list[str]:
    """The lines of a file inside ``repo_root`` (PEP 263 decoding); [] if it cannot be read."""
    root = Path(repo_root).resolve()
    path = (root / relpath).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relpath} lies outside the repository {root}")
    try:
        with tokenize.open(path) as fh:
            return fh.read().splitlines()
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        log.info("cannot read %s: %s", path, exc)
        return []


def _size(d: Definition) -> int:
    return d.end_line - d.line


class Retriever:
    """Symbol lookup and hybrid search over one ``RepositoryDigest``."""

    def __init__(
        self,
        digest: RepositoryDigest,
        *,
        index: VectorIndex | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        if (index is None) != (embedder is None):
            log.info("embedding search needs both an index and an embedder; using lexical only")
        self.digest = digest
        self.index = index if embedder is not None else None
        self.embedder = embedder if index is not None else None
        self._bm25: _Bm25 | None = None

    @property
    def uses_embeddings(self) -> bool:
        return self.index is not None and self.embedder is not None

    def lookup(self, name: str) -> LookupResult:
        """Definitions called ``name`` (bare, dotted suffix or qualname); else suggestions."""
        name = name.strip().strip("`").removesuffix("()")
        found = self.digest.find(name) if name else []
        if found:
            return LookupResult(name, tuple(Span.of(d, 1.0, "symbol") for d in found))
        return LookupResult(name, (), tuple(self.digest.fuzzy(name)) if name else ())

    def search(self, query: str, k: int = 8) -> list[Span]:
        """The ``k`` definitions that best match ``query``, best first (may be fewer)."""
        if k < 1:
            raise ValueError("k must be >= 1")
        pool = max(4 * k, 20)
        ranked: dict[str, list[Definition]] = {
            "symbol": self._symbol_hits(query, pool),
            "lexical": self._lexical_hits(query, pool),
        }
        if self.uses_embeddings:
            ranked["embedding"] = self._embedding_hits(query, pool)
        # One entry per (path, qualname): @overload stubs and property setters fold into the
        # largest definition of that name.
        fused: dict[tuple[str, str], float] = defaultdict(float)
        seen_in: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_key: dict[tuple[str, str], Definition] = {}
        for source, defs in ranked.items():
            for rank, d in enumerate(defs):
                key = (d.path, d.qualname)
                if key not in by_key or _size(d) > _size(by_key[key]):
                    by_key[key] = d
                if source in seen_in[key]:
                    continue
                seen_in[key].append(source)
                fused[key] += LIST_WEIGHTS[source] / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda key: -fused[key])[:k]
        spans = [
            Span.of(
                by_key[key],
                round(fused[key], 6),
                cast(SpanSource, seen_in[key][0]) if len(seen_in[key]) == 1 else "hybrid",
            )
            for key in order
        ]
        log.debug(
            "search %r: %s → %d spans",
            query,
            {s: len(v) for s, v in ranked.items()},
            len(spans),
        )
        return spans

    # -- the ranked lists ---------------------------------------------------------------

    def _symbol_hits(self, query: str, limit: int) -> list[Definition]:
        """Definitions named exactly like a code-like identifier in the query (``get_user``,
        ``Store.load``, ```echo```, ``f()``); test code only when nothing else matches."""
        hits: list[Definition] = []
        for name, codey in query_identifiers(query):
            if not codey:
                continue  # plain words count through the lexical name boost instead
            defs = self.digest.find(name)
            library = [d for d in defs if not is_test_path(d.path)]
            defs = library or defs
            defs.sort(key=lambda d: (KIND_ORDER.get(d.kind, 9), d.qualname, d.line))
            hits.extend(defs[:limit])
        return hits[:limit]

    def _lexical_hits(self, query: str, limit: int) -> list[Definition]:
        if self._bm25 is None:
            self._bm25 = _Bm25(list(self.digest.definitions()))
            log.debug("lexical index: %d definitions", len(self._bm25.definitions))
        words = re.findall(r"[A-Za-z]+", query.lower())
        kinds = {KIND_WORDS[w] for w in words if w in KIND_WORDS}
        query_terms = [t for t in terms(query, query=True) if t not in _KIND_TERMS]
        wants_tests = any(w.startswith("test") for w in words)
        named = {name.lower().rpartition(".")[2] for name, _ in query_identifiers(query)}
        scores = self._bm25.scores(query_terms)
        defs = self._bm25.definitions
        for i in scores:
            d = defs[i]
            if d.kind in kinds:
                scores[i] *= KIND_BOOST
            if d.name.lower() in named:
                scores[i] *= NAME_BOOST
            if not wants_tests and is_test_path(d.path):
                scores[i] *= TEST_PENALTY
        best = sorted(scores, key=lambda i: (-scores[i], defs[i].path, defs[i].line))
        return [defs[i] for i in best[:limit]]

    def _embedding_hits(self, query: str, limit: int) -> list[Definition]:
        assert self.index is not None and self.embedder is not None
        vector = self.embedder.embed([query])
        hits = self.index.search(vector, limit)[0] if len(self.index) else []
        out: list[Definition] = []
        for hit in hits:
            d = self._definition_at(hit.record)
            if d is None:
                log.debug("stale vector record %s; run `autopatch index --embed`", hit.record)
                continue
            out.append(d)
        return out

    def _definition_at(self, record: Mapping[str, Any]) -> Definition | None:
        """The digest's definition a vector record points at, if it is still there."""
        path, qualname, line = record.get("path"), record.get("qualname"), record.get("line")
        if not isinstance(path, str) or path not in self.digest.files:
            return None
        for d in self.digest.files[path].definitions:
            if d.qualname == qualname and d.line == line:
                return d
        return None
