"""Plans as data, for ``planner.decide``: symbols named in one list (``siblings``), the
judged plan joined with another proposer's (``_unions``), operations inside another one's
target, or inherited from an ancestor's, dropped (``subsumed_dropped``,
``inherited_dropped``), the operations the issue's quoted code asks for, worked examples
from past plans, the keys that compare proposals and plans, the symbols the judge is shown
(``_context``) and one plan vote asked in two orders (``_vote``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner.digest_query import is_test_path
from planner.ground import Grounding
from planner.judge import Judge
from planner.propose import Proposal, describe
from planner.snippets import Evidence
from planner.spec import Operation

_LIST_GAP = re.compile(r"^[\s`()]*(?:,|\band\b|\bor\b|/|&)[\s,`()]*(?:(?:and|or)\s+)?[\s`]*$")


@dataclass(frozen=True)
class Coverage:
    """Which named symbols the plan covers, and why the others are left alone."""

    complete: bool
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    context: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "covered": list(self.covered),
            "uncovered": list(self.uncovered),
            "context": dict(self.context),
        }


def siblings(grounding: Grounding) -> dict[str, tuple[str, ...]]:
    """Symbols named in one list (only commas, "and", "or" between their mentions)."""
    text = grounding.issue.raw
    spans = sorted(
        (m.position, m.position + len(m.text), m.text)
        for m in grounding.issue.mentions
        if m.kind == "name"
    )
    groups: list[list[str]] = []
    for (_a0, a1, a), (b0, _, b) in zip(spans, spans[1:], strict=False):
        gap = text[a1:b0]
        if _LIST_GAP.match(gap.replace("()", "")):
            if groups and groups[-1][-1] == a:
                groups[-1].append(b)
            else:
                groups.append([a, b])
    by_text: dict[str, list[str]] = defaultdict(list)
    for g in grounding.symbols:
        for m in grounding.mentions_of(g.qualname):
            by_text[m.text].append(g.qualname)
    out: dict[str, tuple[str, ...]] = {}
    for group in groups:
        members = tuple(q for t in group for q in by_text.get(t, ()))
        for q in members:
            out[q] = tuple(dict.fromkeys((*out.get(q, ()), *members)))
    return out


def worked_examples(issue: str, pairs: Sequence[tuple[str, str]], k: int = 2) -> str:
    """The ``k`` past (issue, plan) pairs closest to ``issue`` by shared words, as text."""
    words = set(re.findall(r"[a-z_]{3,}", issue.lower()))
    scored = []
    for past, plan in pairs:
        theirs = set(re.findall(r"[a-z_]{3,}", past.lower()))
        overlap = len(words & theirs) / max(1, len(words | theirs))
        if overlap > 0.05:
            scored.append((overlap, past, plan))
    scored.sort(key=lambda x: -x[0])
    return "\n".join(
        f"- Issue: {past.strip().splitlines()[0][:160]}\n  Plan: {plan}"
        for _, past, plan in scored[:k]
    )


_NAMING_OPS = {"rename": "new_name", "add_function": "name", "extract_constant": "name"}


def _new_name(op: Operation) -> str | None:
    """The one new name an operation introduces (a method name may recur across classes)."""
    key = _NAMING_OPS.get(op.op)
    return str(op.params.get(key)) if key and op.params.get(key) else None


def _unions(plans: list[tuple[str, list[Proposal]]]) -> list[tuple[str, list[Proposal]]]:
    """The judged plan together with each other plan that changes other symbols: an issue
    with two requests ("rename `A`; and rename the parameter of `f`") may be read half by
    one proposer and half by another. Plans that touch a common symbol do not combine."""
    if not plans or plans[0][0] != "judge":
        return []
    judged = plans[0][1]
    out = []
    for backend, plan in plans[1:]:
        if all(_apart(a.operation.target, b.operation.target) for a in judged for b in plan):
            out.append((f"judge+{backend}", [*judged, *plan]))
    return out


def _named(target: str) -> str:
    """The symbol an issue names for ``target``: a constructor is named by its class."""
    return target.removesuffix(".__init__")


def _apart(a: str, b: str) -> bool:
    return a != b and not a.startswith(b + ".") and not b.startswith(a + ".")


def subsumed_dropped(chosen: list[Proposal]) -> list[Proposal]:
    """Drop an operation whose target lies inside another target of the same operation
    (modernizing a module already modernizes its classes' methods), and an ``edit`` of a
    function that gains a parameter (``add_parameter`` rewrites its body already)."""
    threaded = {q.operation.target for q in chosen if q.operation.op == "add_parameter"}
    return [
        p
        for p in chosen
        if not any(
            q.operation.op == p.operation.op
            and p.operation.target.startswith(q.operation.target + ".")
            for q in chosen
        )
        and not (p.operation.op == "edit" and p.operation.target in threaded)
    ]


def inherited_dropped(chosen: list[Proposal], symbols: Any) -> list[Proposal]:
    """Drop adding a method to a class when the plan adds the same method to one of its
    ancestors: the subclass inherits it ("add `__repr__` to `Signer`, so subclasses like
    `TimestampSigner` benefit too")."""
    ancestors = getattr(symbols, "class_ancestors", None)
    if ancestors is None:
        return chosen
    added = {
        (p.operation.target, p.operation.params.get("name"))
        for p in chosen
        if p.operation.op == "add_method"
    }
    return [
        p
        for p in chosen
        if p.operation.op != "add_method"
        or not any(
            (a, p.operation.params.get("name")) in added for a in ancestors(p.operation.target)
        )
    ]


def _override_params(op: Operation) -> list[str] | None:
    """The parameters an override must have for ``op`` to apply to it as well; None for
    changes that do not carry over (``after`` a parameter the override may place elsewhere,
    a glob, a new parameter whose body the override would have to thread)."""
    if op.op == "rename_parameter":
        return [str(op.params.get("old"))]
    if op.op == "remove_parameter" and "*" not in str(op.params.get("name", "*")):
        return [str(op.params["name"])]
    names = op.params.get("names")
    if op.op == "make_keyword_only" and not op.params.get("after") and names:
        return [str(n) for n in names]
    return None


def with_overrides(chosen: list[Proposal], symbols: Any) -> list[Proposal]:
    """Carry a parameter change of a method to its overrides in the repository's subclasses
    that have the same parameters: renaming `key` of `Base.get` but not of `Sub.get`, which
    callers reach through the same `obj.get(key=...)`, leaves the hierarchy out of step.
    Subclasses in test code are the tests' business, not the plan's."""
    ancestors = getattr(symbols, "class_ancestors", None)
    if ancestors is None:
        return chosen
    classes = [
        d.qualname for d in symbols.definitions() if d.kind == "class" and not is_test_path(d.path)
    ]
    have = {(p.operation.op, p.operation.target) for p in chosen}
    out = list(chosen)
    for p in chosen:
        op = p.operation
        needed = _override_params(op)
        owner, _, method = op.target.rpartition(".")
        if needed is None or not any(
            d.qualname == op.target and d.kind == "method" for d in symbols.find(op.target)
        ):
            continue
        for cls in classes:
            target = f"{cls}.{method}"
            if (op.op, target) in have or owner not in ancestors(cls):
                continue
            over = [d for d in symbols.find(target) if d.qualname == target and d.kind == "method"]
            if not over or not set(needed) <= {x.lstrip("*") for x in over[0].params}:
                continue
            new = Operation(op.op, target, dict(op.params))
            out.append(Proposal(new, f"{describe(new)} (it overrides `{op.target}`)", p.symbol))
            have.add((op.op, target))
    return out


def _evidence_operations(evidence: Sequence[Evidence]) -> list[Operation]:
    """The operations the issue's code asks for that the proposer cannot spell: a
    parameter whose name exists elsewhere in the repository, annotations it writes."""
    out: list[Operation] = []
    for e in evidence:
        for target in e.targets:
            if e.op == "add_parameter":
                default = e.params.get("default") or "None"
                out.append(
                    Operation("add_parameter", target, {"name": e.value, "default": default})
                )
            elif e.op == "add_annotations":
                out.append(Operation("add_annotations", target, {}))
    return out


def _same_plan(a: Sequence[Operation], b: Sequence[Operation]) -> bool:
    return sorted(repr(o.to_dict()) for o in a) == sorted(repr(o.to_dict()) for o in b)


def _key(p: Proposal) -> tuple[str, str, str]:
    return (p.operation.op, p.operation.target, repr(sorted(p.operation.params.items())))


def _context(grounding: Grounding, symbols: Any, limit: int = 8) -> str:
    """The grounded symbols the judge sees, with their kinds and signatures."""
    lines: list[str] = []
    for g in grounding.symbols:
        if g.strength < 1 or len(lines) >= limit:
            continue
        d = next(iter(symbols.find(g.qualname)), None)
        sig = getattr(d, "signature", "") if d is not None else ""
        lines.append(
            f"- `{g.qualname}` ({g.kind}{', in tests' if g.in_tests else ''}) {sig}".rstrip()
        )
    return "\n".join(lines)


def _vote(judge: Judge, plans: list[tuple[str, list[Proposal]]]) -> list[float]:
    """P(each plan) from one lettered choice asked in two orders (position bias)."""
    texts = ["; ".join(p.plain for p in plan) for _, plan in plans]
    question = "Which plan does exactly what the issue asks, no more and no less?"
    forward = judge.choose(question, texts)
    backward = judge.choose(question, texts[::-1])[::-1]
    return [(a + b) / 2 for a, b in zip(forward, backward, strict=True)]


# -- 5: coverage -----------------------------------------------------------------


def readings(
    options: list[Proposal], target_p: dict[tuple[str, str, str], float], judge: Judge
) -> None:
    """Several readings of one change to one target (`names` or "everything after
    `width`"): yes/no questions let a small model say yes to each, so the readings
    compete in one lettered choice, asked both ways; the likeliest keeps the group's
    best P(yes), the others scale down with their share."""
    groups: dict[tuple[str, str], list[Proposal]] = defaultdict(list)
    for p in options:
        groups[(p.operation.op, p.operation.target)].append(p)
    for group in groups.values():
        if len(group) < 2:
            continue
        shares = judge.choose_both_ways(
            "Which of these does the issue ask for?", [p.plain for p in group]
        )
        top, most = max(target_p[_key(p)] for p in group), max(shares) or 1.0
        for p, share in zip(group, shares, strict=True):
            target_p[_key(p)] = top * share / most
