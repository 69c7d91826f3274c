"""Grounded planning: ground → propose → check against the code → judge → cover.

1. ``ground`` resolves every code mention of the issue to repository symbols;
   when the candidates are all whole-module changes, ``described_within`` adds the
   definitions it describes inside the modules it names without naming them.
2. ``Proposer`` enumerates the operations valid for each symbol's kind, with
   parameters from the issue's own words; other backends' proposals (the rules,
   past specs from memory) join the pool and count as evidence, never as the verdict.
3. Every candidate is checked against the digest (``OperationChecker``); what does
   not resolve is dropped with the reason.
4. The model judges: first which kinds of change the issue asks for, then which
   symbols each kind applies to (only where there is a choice).
5. Coverage: every symbol the issue names strongly is covered by an operation or
   recorded as context with the reason; an uncovered symbol makes the plan incomplete.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cores.protocols import LLM
from planner.candidates import Candidate, SymbolIndex
from planner.decide_plans import (
    Coverage,
    _context,
    _evidence_operations,
    _key,
    _named,
    _new_name,
    _same_plan,
    _unions,
    _vote,
    inherited_dropped,
    readings,
    siblings,
    subsumed_dropped,
    with_overrides,
    worked_examples,
)
from planner.described import described_within
from planner.exclusions import left_alone
from planner.fusion import OperationChecker, invented_name
from planner.ground import Grounding, ground
from planner.issue_text import quoted_failure
from planner.judge import Judge
from planner.propose import KIND_QUESTIONS, Proposal, Proposer, describe
from planner.snippets import Evidence, code_evidence, matches
from planner.spec import Operation

log = logging.getLogger(__name__)

KIND_THRESHOLD = 0.2  # P(kind) from which a kind of change is taken (one lettered choice)
TARGET_THRESHOLD = 0.5  # P(yes) below which a further target of a chosen kind is never taken
SURE = 0.75  # P(the issue asks to change it) of a named, uncovered symbol: the plan is incomplete
TARGET_MARGIN = 0.1  # a further target must be about as likely as the best one
MAX_KINDS = 3
SECOND_KIND = 0.4  # P(kind) a change besides the main one needs in the "what else" choice
STOP_FAILURE = 0.5  # P(yes) that the issue wants a quoted failure gone, for a behaviour change
DESCRIBING = frozenset({"add_annotations", "add_docstring"})  # kinds that change no behaviour
# Evidence from a proposer that read the issue another way (the rules, a past spec).
PROPOSER_BONUS = 0.1


class GroundedPlanner:
    """Issue text → one judged ``Candidate`` (backend ``judge``) with its reasons in ``meta``."""

    name = "judge"

    def __init__(
        self,
        llm: LLM,
        symbols: SymbolIndex,
        *,
        repo: Path | None = None,
        retriever: Any = None,
        proposals: Sequence[Candidate] = (),
        examples: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.llm = llm
        self.symbols = symbols
        self.repo = repo
        self.retriever = retriever
        self.others = list(proposals)
        self.examples = list(examples)
        self.checker = OperationChecker(symbols)
        self.evidence: list[Evidence] = []  # what the issue's own code asks for (``_pool``)

    def propose(self, issue: str) -> Candidate | None:
        grounding, pool, dropped = self._grounded_pool(issue)
        self._siblings = siblings(grounding)
        judge = Judge(
            self.llm,
            issue,
            context=_context(grounding, self.symbols),
            examples=worked_examples(issue, self.examples),
        )
        meta: dict[str, Any] = {
            "grounding": grounding.to_dict(),
            "dropped": dropped,
            "model_id": self.llm.model_id,
        }
        if not pool:
            meta["coverage"] = self._coverage(grounding, [], judge, {}).to_dict()
            meta["judge"] = judge.answers
            return None
        evidenced = list(dict.fromkeys(p.operation.op for p in pool if self._evidenced(p)))
        meta["code_evidence"] = [e.to_dict() for e in self.evidence]
        kinds = self._kinds(pool, judge, evidenced)
        chosen, target_p = self._targets(pool, kinds, judge)
        chosen, meta["arbitration"] = self._arbitrate(issue, chosen, judge)
        chosen = with_overrides(
            inherited_dropped(subsumed_dropped(chosen), self.symbols), self.symbols
        )
        coverage = self._coverage(grounding, chosen, judge, target_p)
        meta.update(
            kinds={k: round(p, 3) for k, p in kinds.items()},
            candidates=[
                {
                    **p.to_dict(),
                    "p_yes": round(target_p.get(_key(p), -1.0), 3),
                    "chosen": p in chosen,
                }
                for p in pool
            ],
            coverage=coverage.to_dict(),
            judge=judge.answers,
        )
        if not chosen:
            return Candidate(self.name, (), notes=("the judge accepted no candidate",), meta=meta)
        return Candidate(self.name, tuple(p.operation for p in chosen), meta=meta)

    # -- 1-3: the checked pool ---------------------------------------------------------
    def _grounded_pool(self, issue: str) -> tuple[Grounding, list[Proposal], list[str]]:
        """The grounding, the checked candidates and the dropped ones, with what the issue
        describes inside the modules it names when the candidates are all whole-module
        changes (then those descriptions may be what it asks to change)."""
        grounding = ground(issue, self.symbols, retriever=self.retriever)
        self._left_alone = left_alone(grounding)
        pool, dropped = self._pool(issue, grounding)
        if all(p.operation.target in self.checker.modules for p in pool):
            wider = described_within(grounding, self.symbols, self._left_alone)
            if wider is not grounding:
                grounding = wider
                pool, dropped = self._pool(issue, grounding)
        return grounding, pool, dropped

    def _pool(self, issue: str, grounding: Grounding) -> tuple[list[Proposal], list[str]]:
        raw = Proposer(grounding, self.symbols, self.repo).all()
        self.supported: dict[tuple[str, str], str] = {}
        self.evidence = code_evidence(grounding, self.symbols)
        for op in _evidence_operations(self.evidence):
            raw.append(Proposal(op, describe(op), op.target))
        for cand in self.others:
            for op in cand.operations:
                raw.append(Proposal(op, describe(op), op.target))
                self.supported[(op.op, op.target)] = cand.backend
        pool: list[Proposal] = []
        dropped: list[str] = []
        seen: set[str] = set()
        for p in raw:
            if invented_name(p.operation, issue) is not None:
                dropped.append(f"{p.plain}: the issue never names the new name")
                continue
            if self._fenced(p.operation.target):
                dropped.append(f"{p.plain}: the issue says it stays as it is")
                continue
            good, problems, _ = self.checker.resolve(p.operation)
            if problems or not good:
                dropped.append(f"{p.plain}: {'; '.join(problems) or 'does not resolve'}")
                continue
            for op in good:
                key = repr(op.to_dict())
                if key in seen:
                    continue
                seen.add(key)
                supported = self.supported.get((p.operation.op, p.operation.target))
                if supported:
                    self.supported[(op.op, op.target)] = supported
                proposal = Proposal(op, describe(op) if op != p.operation else p.plain, p.symbol)
                if self._evidenced(proposal):
                    self.supported[(op.op, op.target)] = "the issue's code"
                pool.append(proposal)
        return pool, dropped

    # -- 4: the judge ----------------------------------------------------------------
    def _evidenced(self, p: Proposal) -> bool:
        op = p.operation
        return any(matches(e, op.op, op.target, dict(op.params)) for e in self.evidence)

    def _kinds(
        self, pool: list[Proposal], judge: Judge, evidenced: Sequence[str] = ()
    ) -> dict[str, float]:
        """P(kind) for the kinds the pool offers, from lettered choices so that the kinds
        compete (independent yes/no questions let a small model say yes to everything):
        the main change, then what else besides it ("nothing else" is an option). Kinds
        the issue's own code points to (``planner.snippets``) are the main change."""
        ops = list(dict.fromkeys(p.operation.op for p in pool))
        if evidenced:
            kinds = {op: 0.0 for op in ops}
            main = [op for op in ops if op in evidenced]
        else:
            probs = judge.choose_both_ways(
                "What is the main change the issue asks for?", [KIND_QUESTIONS[op] for op in ops]
            )
            kinds = dict(zip(ops, probs, strict=True))
            main = [max(kinds, key=lambda k: kinds[k])]
        rest = [op for op in ops if op not in main]
        if rest:
            more = judge.choose_both_ways(
                f"Besides this main change ({'; '.join(KIND_QUESTIONS[m] for m in main)}), "
                "what else does the issue ask for?",
                ["nothing else", *[KIND_QUESTIONS[op] for op in rest]],
            )
            for op, p in zip(rest, more[1:], strict=True):
                second = p > more[0] and p >= SECOND_KIND
                kinds[op] = p if second else min(kinds[op], KIND_THRESHOLD - 0.01)
        for m in main:
            kinds[m] = max(kinds[m], 1.0)
        self._stop_failure(ops, kinds, judge)
        return kinds

    def _stop_failure(self, ops: list[str], kinds: dict[str, float], judge: Judge) -> None:
        """An issue that quotes a failure (an exception its code raises) while every kind
        taken only describes code (type hints, docstrings) cannot be done by that plan when
        it wants the failure gone. The judge says whether it does; then the behaviour change
        it picks among the pool's joins the plan as a main change."""
        failure = quoted_failure(judge.issue)
        taken = [k for k, p in kinds.items() if p >= KIND_THRESHOLD]
        behaviour = [op for op in ops if op not in DESCRIBING]
        if failure is None or not behaviour or any(k not in DESCRIBING for k in taken):
            return
        quoted = failure if len(failure) <= 160 else failure[:157] + "..."
        wanted = judge.ask(
            f"The issue quotes this failure: `{quoted}`. Does the issue ask for the code to "
            "stop failing this way?"
        )
        if wanted < STOP_FAILURE:
            return
        probs = judge.choose_both_ways(
            f"Which change makes the code stop failing with `{quoted}`?",
            [KIND_QUESTIONS[op] for op in behaviour],
        )
        best = behaviour[max(range(len(behaviour)), key=lambda i: probs[i])]
        kinds[best] = 1.0

    def _targets(
        self, pool: list[Proposal], kinds: dict[str, float], judge: Judge
    ) -> tuple[list[Proposal], dict[tuple[str, str, str], float]]:
        ranked = sorted(kinds.items(), key=lambda kv: -kv[1])
        taken = [k for k, p in ranked if p >= KIND_THRESHOLD][:MAX_KINDS]
        chosen: list[Proposal] = []
        target_p: dict[tuple[str, str, str], float] = {}
        for kind in taken:
            options = [p for p in pool if p.operation.op == kind]
            if len(options) == 1:
                chosen.append(options[0])
                target_p[_key(options[0])] = kinds[kind]
                continue
            for p in options:
                p_yes = judge.ask(f"Does the issue ask to {p.plain}?")
                if (p.operation.op, p.operation.target) in self.supported:
                    p_yes = min(1.0, p_yes + PROPOSER_BONUS)
                target_p[_key(p)] = p_yes
            readings(options, target_p, judge)
            chosen += self._select(options, target_p)
        return chosen, target_p

    def _select(
        self, options: list[Proposal], target_p: dict[tuple[str, str, str], float]
    ) -> list[Proposal]:
        """The best option, the ones nearly as likely, and the best one's list siblings
        (symbols named together: "`a`, `b` and `c`"); one parameter choice per target and,
        for operations that introduce a name, each new name given to one target only (the
        likeliest pairs first, so two constants for two modules both survive)."""
        best: dict[tuple[str, str], Proposal] = {}
        taken: set[str] = set()
        # of two readings of one change, the one the issue's own code writes (`f(x, key=None)`
        # fixes the default that a later example call's `key=len` does not)
        quoted = {(p.operation.op, p.operation.target) for p in options if self._evidenced(p)}
        options = [
            p
            for p in options
            if (p.operation.op, p.operation.target) not in quoted or self._evidenced(p)
        ]
        for p in sorted(options, key=lambda p: -target_p[_key(p)]):
            k = (p.operation.op, p.operation.target)
            new = _new_name(p.operation)
            if k in best or (new is not None and new in taken):
                continue
            best[k] = p
            if new is not None:
                taken.add(new)
        ranked = sorted(best.values(), key=lambda p: -target_p[_key(p)])
        top = target_p[_key(ranked[0])]
        keep = [
            p for p in ranked if target_p[_key(p)] >= max(TARGET_THRESHOLD, top - TARGET_MARGIN)
        ] or ranked[:1]
        # a kept target's list siblings come with it ("`A`, `B` and `C`"; a constructor is
        # named by its class)
        siblings = {s for p in keep for s in self.grounding_siblings(_named(p.operation.target))}
        return [p for p in ranked if p in keep or _named(p.operation.target) in siblings]

    def grounding_siblings(self, target: str) -> set[str]:
        return set(self._siblings.get(target, ()))

    def _arbitrate(
        self, issue: str, chosen: list[Proposal], judge: Judge
    ) -> tuple[list[Proposal], dict[str, Any]]:
        """Whole plans compete: the judged one and each other backend's checked plan, each in
        plain words, as one lettered choice asked in two orders (position bias averages out).
        When the judged plan does what the issue's own code asks for, only plans that do so
        too compete with it."""
        plans: list[tuple[str, list[Proposal]]] = [("judge", chosen)] if chosen else []
        evidenced = any(self._evidenced(p) for p in chosen)
        for cand in self.others:
            ops: list[Operation] = []
            for op in cand.operations:
                if invented_name(op, issue) is None and not self._fenced(op.target):
                    good, problems, _ = self.checker.resolve(op)
                    ops += [] if problems else [o for o in good if o not in ops]
            proposals = [Proposal(o, describe(o), o.target) for o in ops]
            if evidenced and not any(self._evidenced(p) for p in proposals):
                continue  # a plan that ignores what the issue's own code asks for
            if ops and not any(_same_plan(ops, [p.operation for p in plan]) for _, plan in plans):
                plans.append((cand.backend, proposals))
        unions = _unions(plans)
        if len(plans) < 2:
            return chosen, {}
        votes = _vote(judge, plans)
        best = max(range(len(plans)), key=lambda i: votes[i])
        record: dict[str, Any] = {
            "plans": [
                {"backend": b, "plan": "; ".join(p.plain for p in plan), "p": round(v, 3)}
                for (b, plan), v in zip(plans, votes, strict=True)
            ],
            "winner": plans[best][0],
        }
        # the winner against its union with the other half, head to head (asked together with
        # the halves, a union would split the votes of the plans it contains)
        winner = plans[best]
        for union in unions:
            if winner[0] not in union[0].split("+"):
                continue
            duel = _vote(judge, [winner, union])
            record["plans"].append(
                {
                    "backend": union[0],
                    "plan": "; ".join(p.plain for p in union[1]),
                    "p": round(duel[1], 3),
                    "against": winner[0],
                }
            )
            if duel[1] > duel[0]:
                winner = union
        record["winner"] = winner[0]
        return winner[1], record

    def _coverage(
        self,
        grounding: Grounding,
        chosen: list[Proposal],
        judge: Judge,
        target_p: dict[tuple[str, str, str], float],
    ) -> Coverage:
        """Each strongly named symbol: covered by an operation (on it, or on the module or
        class it lives in), or context with the reason, or uncovered — the judge, asked
        contrastively, is sure the issue wants it changed and nothing changes it."""
        targets = {p.operation.target for p in chosen}
        covered, uncovered, context = [], [], {}
        asked: dict[str, float] = defaultdict(float)
        for (_, target, _), p in target_p.items():
            asked[target] = max(asked[target], p)
        for g in grounding.symbols:
            q = g.qualname
            if g.strength < 2:
                continue
            if q in targets or any(q.startswith(t + ".") for t in targets):
                covered.append(q)
                continue
            reason = self._context_reason(g, targets)
            if reason is not None:
                context[q] = reason
                continue
            why = judge.choose_both_ways(
                f"The issue names `{q}`. Why?",
                [
                    f"the issue asks to change `{q}` itself",
                    f"`{q}` is context: an example, a comparison, a caller, or where another "
                    "change shows",
                ],
            )
            if why[0] >= SURE:
                uncovered.append(q)
            else:
                seen = f", P(target)={asked[q]:.2f}" if q in asked else ""
                context[q] = f"context by the judge (P(change it)={why[0]:.2f}{seen})"
        return Coverage(not uncovered, tuple(covered), tuple(uncovered), context)

    def _fenced(self, target: str) -> bool:
        """Does the issue say that ``target`` (or the class it constructs) stays as it is?"""
        fenced = getattr(self, "_left_alone", {})
        return target in fenced or _named(target) in fenced

    def _context_reason(self, g: Any, targets: set[str]) -> str | None:
        """Why a named symbol is context without asking the model, if it evidently is."""
        q = g.qualname
        if any(t.startswith(q + ".") for t in targets):
            return "contains a changed symbol"
        if self._fenced(q):
            return f"the issue says it stays as it is ({self._left_alone[q][:80]})"
        ancestors = getattr(self.symbols, "class_ancestors", None)
        if g.kind == "class" and ancestors is not None:
            changed = [a for a in ancestors(q) if a in targets]
            if changed:
                return f"inherits the change of `{changed[0]}`"
        if g.in_tests:
            return "test code"
        if g.kind == "module":
            return "a module named as the place of a change"
        if "traceback frame" in g.evidence and "backticks" not in g.evidence:
            return "an outer traceback frame"
        refs = getattr(self.symbols, "references_to", None)
        if refs is None:
            return None
        for t in targets:
            scopes = {r.scope for r in refs(t)}
            if q in scopes or any(s.startswith(q + ".") for s in scopes):
                return f"uses `{t}` (its uses change with it)"
        return None
