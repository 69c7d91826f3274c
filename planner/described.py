"""Definitions an issue describes inside a scope it names, without naming them.

"Two small functions in pkg/_compat.py have no docstring: the helper that removes ANSI
escape sequences, and the one next to it that decides ..." names a module and describes
its functions. When the issue names modules but no definition (or only ones it fences
off), ``described_within`` ranks the top-level definitions of those modules against the
issue's words: BM25 over their names, parameters and docstrings and, for
code without a docstring, the names its body uses (``_ansi_re.sub`` says more about
``strip_ansi`` than its name alone). The best few join the grounding as *described*
(strength 1: a candidate for the judge, never a target the plan must cover). Nothing
here knows a phrasing: the words are matched against the code, the judge decides.
``GroundedPlanner`` asks for them only when its candidates are all whole-module changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from planner.digest_query import is_test_path
from planner.ground import Grounded, Grounding
from planner.retrieval_terms import _Bm25, terms

STRENGTH = 1.0
TOP = 3
RELATIVE = 0.3  # a hit counts from this share of the best hit's score


def _scopes(grounding: Grounding, fenced: Collection[str]) -> list[Grounded]:
    """The modules the issue names when it names no definition besides the ones it fences
    off: what it asks to change must then be described, not named. (A named class is a
    target in its own right; its members are not searched.)"""
    if any(
        g.kind != "module" and g.strength >= 1 and g.qualname not in fenced
        for g in grounding.symbols
    ):
        return []
    return [
        g
        for g in grounding.symbols
        if g.kind == "module" and g.strength >= 2 and not g.in_tests and g.qualname not in fenced
    ]


def _body_names(symbols: Any, scopes: set[str]) -> dict[str, list[str]]:
    """The names each definition of ``scopes`` uses in its body (from the digest)."""
    references = getattr(symbols, "references", None)
    if references is None:
        return {}
    names: dict[str, list[str]] = defaultdict(list)
    for r in references():
        if r.scope in scopes:
            names[r.scope].append(r.name)
    return names


def described_within(grounding: Grounding, symbols: Any, fenced: Collection[str] = ()) -> Grounding:
    """``grounding`` with the definitions the issue describes inside the modules it names
    (see the module docstring); unchanged when there are none."""
    scopes = _scopes(grounding, fenced)
    if not scopes:
        return grounding
    found = {g.qualname for g in grounding.symbols}
    query = terms(grounding.issue.raw, query=True)
    added: list[Grounded] = []
    for scope in scopes:
        inner = [
            d
            for d in symbols.definitions()
            if d.kind in ("function", "class")
            and d.module == scope.qualname
            and d.parent is None
            and not is_test_path(d.path)
            and d.qualname not in fenced
        ]
        if len(inner) < 2:
            continue
        body = _body_names(symbols, {d.qualname for d in inner if not d.docstring})
        documents = [
            d if d.docstring else replace(d, docstring=" ".join(body.get(d.qualname, ())))
            for d in inner
        ]
        scores = _Bm25(documents).scores(query)
        if not scores:
            continue
        best = max(scores.values())
        ranked = sorted(scores, key=lambda i: (-scores[i], inner[i].line))
        for i in ranked[:TOP]:
            d = inner[i]
            if scores[i] < RELATIVE * best or d.qualname in found:
                continue
            found.add(d.qualname)
            added.append(
                Grounded(
                    d.qualname,
                    d.kind,
                    d.path,
                    STRENGTH,
                    -1,
                    (f"described in `{scope.qualname}` (its words match the code)",),
                    tuple(getattr(d, "params", ()) or ()),
                    False,
                )
            )
    if not added:
        return grounding
    return replace(grounding, symbols=(*grounding.symbols, *added))
