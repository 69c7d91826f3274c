"""The lexical side of retrieval, for ``planner.retrieval``: the terms of a text (stemmed,
identifiers split on ``_``, ``.`` and camelCase, function words dropped), the identifiers a
query writes, and BM25 over the digest's definitions (one weighted bag of terms each)."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from planner.digest_types import Definition

FIELD_WEIGHTS: dict[str, float] = {"name": 3.0, "parent": 1.0, "module": 0.5, "doc": 1.0}
DOC_WORDS = 80  # docstring words indexed per definition
BM25_K1 = 1.2
BM25_B = 0.75

_STOP_TEXT = (
    "a an and are as at be been being by can could did do does done for from has have how i "
    "if in into is it its me my of on or should so that the their them then there these this "
    "those to was we what when where which who why will with would you"
)
STOPWORDS = frozenset(_STOP_TEXT.split())
# Words that say what the asker wants, not what the code is called (dropped from queries only).
_QUESTION_TEXT = (
    "code repo repository defined define defines definition located location find found "
    "implemented implement implementation happen happens happening place places part "
    "work works working responsible"
)
QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())
KIND_WORDS: dict[str, str] = {
    "class": "class",
    "classes": "class",
    "function": "function",
    "functions": "function",
    "method": "method",
    "methods": "method",
    "constant": "constant",
    "constants": "constant",
}
_IDENT = re.compile(r"`?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`?(\()?")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def stem(word: str) -> str:
    """A light English stemmer: fetched/fetches/fetching → fetch, classes → class."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            return word[: -len(suffix)]
    return word


_KIND_TERMS = frozenset(stem(w) for w in KIND_WORDS) | frozenset(KIND_WORDS)


def terms(text: str, *, query: bool = False) -> list[str]:
    """Stemmed lowercase terms: identifiers split on ``_``, ``.`` and camelCase, plus whole.

    Function words are dropped; with ``query`` the asking words ("where ... defined") too.
    """
    drop = STOPWORDS | QUESTION_WORDS if query else STOPWORDS
    out: list[str] = []
    for raw in re.findall(r"[A-Za-z0-9_]+", text):
        parts = [p for chunk in raw.split("_") for p in _CAMEL.findall(chunk)]
        words = [p.lower() for p in parts if p]
        out.extend(stem(w) for w in words if w not in drop)
        if len(words) > 1:
            out.append(raw.lower())
    return out


class _Bm25:
    """BM25 over the digest's definitions, one weighted bag of terms per definition."""

    def __init__(self, definitions: list[Definition]) -> None:
        self.definitions = definitions
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        lengths: list[float] = []
        for i, d in enumerate(definitions):
            bag: dict[str, float] = defaultdict(float)
            for field, text in _fields(d).items():
                for term in terms(text):
                    bag[term] += FIELD_WEIGHTS[field]
            for term, tf in bag.items():
                self.postings[term].append((i, tf))
            lengths.append(sum(bag.values()))
        self.lengths = lengths
        self.avg_length = (sum(lengths) / len(lengths)) if lengths else 1.0

    def scores(self, query_terms: list[str]) -> dict[int, float]:
        n = len(self.definitions)
        out: dict[int, float] = defaultdict(float)
        for term in set(query_terms):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for i, tf in posting:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths[i] / self.avg_length)
                out[i] += idf * tf * (BM25_K1 + 1) / (tf + norm)
        return out


def _fields(d: Definition) -> dict[str, str]:
    parent = d.parent.rpartition(".")[2] if d.parent else ""
    doc = " ".join((d.docstring or "").split()[:DOC_WORDS])
    return {
        "name": d.name,
        "parent": parent,
        "module": d.module.replace(".", " "),
        "doc": f"{doc} {' '.join(p.lstrip('*') for p in d.params)}",
    }


def query_identifiers(query: str) -> list[tuple[str, bool]]:
    """Candidate symbol names in a query, each with whether it is written like code."""
    found: dict[str, bool] = {}
    for m in _IDENT.finditer(query):
        name = m.group(1)
        codey = (
            "_" in name
            or "." in name
            or m.group(0).startswith("`")
            or bool(m.group(2))
            or any(c.isupper() for c in name[1:])
        )
        if not codey and (len(name) < 3 or name.lower() in STOPWORDS | QUESTION_WORDS):
            continue
        found[name] = found.get(name, False) or codey
    return list(found.items())
