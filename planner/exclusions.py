"""Code an issue names only to say it stays as it is.

Issues often name a symbol to fence it off: "`term_len` is self-explanatory, leave it alone",
"`CliRunner(charset=...)` stays as it is", "(the `UUID` instance keeps its name)". A symbol
whose every mention sits in such a clause is no target: no candidate changes it, and
coverage records it as context. The clause is the part of a sentence between ``;``,
parentheses, "but", "while" and "whereas", so "rename `a`; `b` stays as it is" fences off
`b` alone.
"""

from __future__ import annotations

import re

from planner.ground import Grounding

_LEFT_ALONE = re.compile(
    r"\b(?:leave|leaving)\s+(?:(?:it|them|that|this|those|these|`[^`]+`)\s+)?"
    r"(?:alone|as\s+(?:it\s+is|is|they\s+are)|untouched|unchanged)\b"
    r"|\bleave\s+(?:it|them)\s*(?=[.;,)]|$)"
    r"|\b(?:stays?|remains?|is\s+left|are\s+left|is\s+kept|are\s+kept)\s+"
    r"(?:unchanged|untouched|as\s+(?:it\s+is|is|they\s+are)|the\s+same|alone)\b"
    r"|\bkeeps?\s+(?:its|their)\s+(?:current\s+)?names?\b"
    r"|\b(?:do\s+not|don't|no\s+need\s+to|needn't)\s+(?:touch|change|rename|modify)\s+(?=`)",
    re.I,
)
_CLAUSE_BREAK = re.compile(
    r";|\(|\)|\bbut\b|\bwhile\b|\bwhereas\b|(?<=[.!?])\s+|\n\s*\n|\n\s*[*-]\s"
)


def _clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of ``text`` (code in backticks never breaks one)."""
    masked = re.sub(r"`[^`\n]*`", lambda m: "`" + "x" * (len(m.group()) - 2) + "`", text)
    out, start = [], 0
    for m in _CLAUSE_BREAK.finditer(masked):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(a, b) for a, b in out if b > a]


def left_alone(grounding: Grounding) -> dict[str, str]:
    """Qualname → the clause that fences it off, for each grounded symbol whose every
    mention is in a clause saying it stays as it is."""
    text = grounding.issue.raw
    fenced = [(a, b) for a, b in _clauses(text) if _LEFT_ALONE.search(text[a:b])]
    if not fenced:
        return {}
    out: dict[str, str] = {}
    for g in grounding.symbols:
        spots = [m.position for m in grounding.mentions_of(g.qualname)]
        if not spots:
            continue
        inside = [next(((a, b) for a, b in fenced if a <= p < b), None) for p in spots]
        if all(c is not None for c in inside):
            a, b = inside[0]  # type: ignore[misc]
            out[g.qualname] = " ".join(text[a:b].split())
    return out
