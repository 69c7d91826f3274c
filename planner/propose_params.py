"""The parameters of a candidate operation, read from the issue's own words.

``mentioned`` finds where a name is written, ``nearest`` orders the issue's new names by
how close they are to a mention, ``default_of`` reads ``name=value`` for a new parameter
and ``keyword_only_choices`` the readings of a keyword-only request. Nothing is invented:
what the words do not give is left for the judge to choose among, or rejected.
"""

from __future__ import annotations

import re
from typing import Any


def mentioned(word: str, text: str) -> list[int]:
    """Offsets where ``word`` is written as a whole name (not part of a dotted one)."""
    return [m.start() for m in re.finditer(rf"(?<![\w.]){re.escape(word)}(?![\w])", text)]


def nearest(names: list[tuple[str, int]], position: int, limit: int = 2) -> list[str]:
    """New names ordered by distance to ``position`` (a name after the symbol wins ties)."""
    ranked = sorted(names, key=lambda kv: abs(kv[1] - position) + (0 if kv[1] >= position else 5))
    return [n for n, _ in ranked[:limit]]


_VALUE = r"(`[^`\n]+`|\"[^\"\n]*\"|'[^'\n]*'|-?\d[\d_.]*\b|True\b|False\b|None\b)"
_STATED = r"\bdefault(?:s|ing|ed)?(?:\s+(?:value|is|to|of|should\s+be|will\s+be))*\s*(?:[:=]\s*)?"


def default_of(name: str, text: str) -> str:
    """The default the issue gives a new parameter: one it states in words near the name
    ("`sep`, defaulting to `","`"), else ``name=value`` outside example calls (a ``>>>``
    line calls the function with a value; it does not define the default), else ``None``."""
    prose = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith((">>>", "..."))
    )
    for m in re.finditer(rf"(?<![\w.]){re.escape(name)}(?![\w])", prose):
        sentence = re.split(r"(?<=[.!?])\s|\n\s*\n", prose[m.end() : m.end() + 160])[0]
        stated = re.search(_STATED + _VALUE, sentence, re.I)
        if stated:
            return stated.group(1).strip("`")
    value = r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,)`]+)"
    written = re.search(rf"\b{re.escape(name)}\s*(?::\s*[\w\[\]., |]+?)?\s*=\s*{value}", prose)
    return written.group(1) if written else "None"


def keyword_only_choices(params: list[str], named: list[str], text: str) -> list[dict[str, Any]]:
    """The parameter choices of a keyword-only change, from the issue's own words: where
    it writes "after `p`" for a parameter `p` (the operation's `after`), that one alone;
    else the parameters it names (or every one after the first), then "every parameter
    after `p`" for each named `p` with parameters after it (an issue that quotes the
    whole signature may ask for everything after one of them)."""
    plain = [p for p in params if not p.startswith("*")]
    named = [p for p in named if p in plain]
    said = [
        p for p in plain[:-1] if re.search(rf"\bafter\s+(?:the\s+)?`{re.escape(p)}`", text, re.I)
    ]
    if said:
        return [{"after": said[0]}]
    if not (named and named != plain[:1]):
        return [{"after": plain[0]} if plain else {"names": named}]
    afters = [{"after": p} for p in named if p != plain[-1]]
    return [{"names": named}, *afters]
