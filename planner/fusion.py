"""Spec fusion: check every backend's candidate against the digest, repair near
misses, keep the best-supported one, and fall back to a generic ``edit``."""

from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.candidates import Candidate, SymbolIndex
from planner.digest_query import is_test_path
from planner.issue_text import parse_issue
from planner.spec import Operation, Spec

# Ops whose target may be a whole module.
MODULE_OPS = {
    "extract_constant",
    "extract_helper",
    "add_function",
    "modernize",
    "add_annotations",
    "remove_parameter",
    "add_docstring",
    "edit",
}
# Ops on a callable: a class stands for its __init__.
CALLABLE_OPS = {"rename_parameter", "add_parameter", "remove_parameter", "make_keyword_only"}
PRIOR = {"rules": 0.3, "llm": 0.2, "t5": 0.15, "user": 1.0, "fallback": 0.0}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Checked:
    """A candidate after checking: the operations that survived, and what happened."""

    backend: str
    operations: tuple[Operation, ...]
    problems: tuple[str, ...]
    repairs: tuple[str, ...]
    proposed: int
    score: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "score": round(self.score, 3),
            "proposed": self.proposed,
            "operations": [o.to_dict() for o in self.operations],
            "problems": list(self.problems),
            "repairs": list(self.repairs),
        }


class OperationChecker:
    """Resolves targets and validates params against the repository's symbols."""

    def __init__(self, symbols: SymbolIndex) -> None:
        self.symbols = symbols
        self.modules = symbols.modules()

    def module_for(self, text: str) -> str | None:
        text = text.strip().strip("`")
        if text in self.modules:
            return text
        if text.endswith((".py", ".pyi")):
            stem = text.strip("./")
            for module, path in self.modules.items():
                if path == stem or path.endswith("/" + stem):
                    return module
        hits = [m for m in self.modules if m.endswith("." + text)]
        return hits[0] if len(hits) == 1 else None

    def resolve(self, op: Operation) -> tuple[list[Operation], list[str], list[str]]:
        """(resolved operations, problems, repairs) for one proposed operation."""
        target = op.target.strip().strip("`").removesuffix("()")
        repairs: list[str] = []
        if "*" in target:
            matches = [
                d.qualname
                for d in self.symbols.definitions()
                if fnmatch.fnmatchcase(d.qualname, "*" + target.lstrip("*"))
            ]
            if not matches:
                return [], [f"{op.op}: no symbol matches {target!r}"], []
            return (
                [o for q in matches for o in self.resolve(Operation(op.op, q, op.params))[0]],
                [],
                [f"expanded {target} to {len(matches)} symbols"],
            )
        module = self.module_for(target)
        defs = list(self.symbols.find(target))
        if module and op.op in MODULE_OPS:
            resolved, issues = self._params(Operation(op.op, module, op.params), None)
            return resolved, issues, repairs
        prefix = target.rpartition(".")[0]
        if (
            op.op == "change_import"
            and defs
            and (self.module_for(prefix) or self.symbols.module_path(prefix))
        ):
            # the name as it is imported today (``pkg.old.sym``), not where it is defined
            return self._params(Operation(op.op, target, op.params), None)[0], [], repairs
        if not defs and op.op == "replace_calls" and self._outside(target):
            # calls of another package's callable (``time.time``): the codemod finds them by
            # qualified name, nothing of ours is defined there
            return self._params(Operation(op.op, target, op.params), None)[0], [], repairs
        if not defs:
            close = self.symbols.fuzzy(target.rsplit(".", 1)[-1], n=3)
            near = [
                c
                for c in close
                if difflib.SequenceMatcher(
                    None, c.lower(), target.rsplit(".", 1)[-1].lower()
                ).ratio()
                >= 0.85
            ]
            if near and (defs := list(self.symbols.find(near[0]))):
                repairs.append(f"target {target!r} not found; repaired to {defs[0].qualname!r}")
            else:
                hint = f"; close: {', '.join(close)}" if close else ""
                return (
                    [],
                    [f"{op.op}: {target!r} is not a symbol or module of this repository{hint}"],
                    [],
                )
        if len(defs) > 1 and op.op != "rename":
            defs = defs[:1]
        out: list[Operation] = []
        problems: list[str] = []
        for d in defs:
            if op.op in CALLABLE_OPS and d.kind == "class":
                init = list(self.symbols.find(f"{d.qualname}.__init__"))
                if not init:
                    problems.append(f"{op.op}: class {d.qualname} defines no __init__")
                    continue
                d = init[0]
            ops, probs = self._params(Operation(op.op, d.qualname, op.params), d)
            out += ops
            problems += probs
        return out, problems, repairs

    def _outside(self, dotted: str) -> bool:
        """A dotted name of an importable module that is not part of this repository."""
        top = dotted.split(".", 1)[0]
        ours = {m.split(".", 1)[0] for m in self.modules}
        return "." in dotted and top not in ours and importlib.util.find_spec(top) is not None

    def _params(self, op: Operation, d: Any) -> tuple[list[Operation], list[str]]:
        problems = op.check_params()
        p = op.params
        params = tuple(getattr(d, "params", ()) or ())
        if op.op == "rename" and not _IDENT.match(str(p.get("new_name", ""))):
            problems.append(
                f"rename {op.target}: new_name {p.get('new_name')!r} is not an identifier"
            )
        if op.op == "rename" and d is not None and p.get("new_name") == d.name:
            problems.append(f"rename {op.target}: the new name equals the old one")
        elif op.op == "rename" and d is not None and _crosses_case(d.name, str(p.get("new_name"))):
            problems.append(
                f"rename {op.target}: `{p.get('new_name')}` is spelled like a "
                f"{'class' if d.name.lstrip('_')[:1].islower() else 'function or variable'}, "
                f"`{d.name}` is not one"
            )
        if op.op == "rename_parameter" and p.get("old") not in params:
            problems.append(
                f"rename_parameter {op.target}: it has no parameter {p.get('old')!r} (it has {', '.join(params)})"
            )
        if op.op == "make_keyword_only" and p.get("after") and p.get("after") not in params:
            problems.append(f"make_keyword_only {op.target}: no parameter {p.get('after')!r}")
        elif op.op == "make_keyword_only" and p.get("after") and d is not None:
            plain = [x for x in params if not x.startswith("*") and x not in ("self", "cls")]
            if plain and plain[-1] == p.get("after"):
                problems.append(
                    f"make_keyword_only {op.target}: no parameter comes after {p.get('after')!r}"
                )
        if op.op == "add_parameter" and p.get("name") in params:
            problems.append(
                f"add_parameter {op.target}: parameter {p.get('name')!r} already exists"
            )
        if op.op == "move_symbol" and not self.module_for(str(p.get("to_module", ""))):
            problems.append(
                f"move_symbol {op.target}: destination {p.get('to_module')!r} is not a module here"
            )
        if op.op == "extract_helper" and isinstance(p.get("functions"), list | tuple):
            # keep only names that are functions of the target (issues also quote params)
            known = [
                f
                for f in p["functions"]
                if any(
                    x.kind in ("function", "method") for x in self.symbols.find(f"{op.target}.{f}")
                )
            ]
            if len(known) >= 2 and len(known) < len(p["functions"]):
                op = Operation(op.op, op.target, {**p, "functions": known})
        if op.op == "move_symbol" and not problems:
            op = Operation(
                op.op, op.target, {**p, "to_module": self.module_for(str(p["to_module"]))}
            )
        return ([] if problems else [op]), problems


# The new identifier each op introduces: it must be one the issue spells out.
NEW_NAME_PARAM = {"rename": "new_name", "rename_parameter": "new", "add_parameter": "name"}


def invented_name(op: Operation, issue: str) -> str | None:
    """The new name ``op`` introduces when the issue never mentions it (a model's guess)."""
    key = NEW_NAME_PARAM.get(op.op)
    value = str(op.params.get(key, "")) if key else ""
    name = value.rsplit(".", 1)[-1]
    if not name or re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", issue):
        return None
    return name


def check(candidate: Candidate, checker: OperationChecker, issue: str | None = None) -> Checked:
    ops: list[Operation] = []
    problems: list[str] = []
    repairs: list[str] = []
    for op in candidate.operations:
        invented = invented_name(op, issue) if issue is not None else None
        if invented is not None:
            problems.append(f"{op.op} {op.target}: the issue never names {invented!r}")
            continue
        good, bad, fixed = checker.resolve(op)
        ops += [o for o in good if o not in ops]
        problems += bad
        repairs += fixed
    ops = _drop_test_twins(_drop_same_parameter(ops), checker)
    return Checked(
        candidate.backend,
        tuple(ops),
        tuple(problems),
        tuple(repairs),
        len(candidate.operations),
        meta=candidate.meta,
    )


def _drop_same_parameter(ops: list[Operation]) -> list[Operation]:
    """One ``add_parameter`` per (function, name): an example call in the issue
    (``f(x, key=len)``) must not add the parameter a second time with another default."""
    seen: set[tuple[str, str]] = set()
    out = []
    for o in ops:
        key = (o.target, str(o.params.get("name")))
        if o.op == "add_parameter" and key in seen:
            continue
        if o.op == "add_parameter":
            seen.add(key)
        out.append(o)
    return out


def _drop_test_twins(ops: list[Operation], checker: OperationChecker) -> list[Operation]:
    """Drop operations on test code when the same op also targets library code."""

    def in_tests(op: Operation) -> bool:
        defs = checker.symbols.find(op.target)
        path = defs[0].path if defs else checker.modules.get(op.target, "")
        return bool(path) and is_test_path(path)

    library_ops = {o.op for o in ops if not in_tests(o)}
    return [o for o in ops if not (o.op in library_ops and in_tests(o))]


def _score(c: Checked, others: Sequence[Checked]) -> float:
    if not c.operations:
        return 0.0
    valid = 1.0 - len(c.problems) / max(1, c.proposed + len(c.problems))
    agree = any(
        o.backend != c.backend
        and {x.op for x in o.operations} & {x.op for x in c.operations}
        and {x.target for x in o.operations} & {x.target for x in c.operations}
        for o in others
    )
    generic = all(o.op == "edit" for o in c.operations)
    return (
        valid
        + PRIOR.get(c.backend, 0.1)
        + (0.3 if agree else 0.0)
        - 0.1 * len(c.repairs)
        - (0.35 if generic else 0.0)
    )


def fallback_edit(issue: str, symbols: SymbolIndex, limit: int = 2) -> tuple[Operation, ...]:
    """The generic change on the most relevant symbols: lexical overlap with the issue."""
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", issue)}
    scored = []
    for d in symbols.definitions():
        if d.kind not in ("function", "method", "class"):
            continue
        parts = {p for p in re.split(r"[._]", d.qualname.lower()) if len(p) > 2}
        hit = len(parts & words) + (3 if d.name.lower() in words else 0)
        if hit:
            scored.append((hit, -len(d.qualname), d.qualname))
    scored.sort(reverse=True)
    title = parse_issue(issue).title
    return tuple(Operation("edit", q, {"instruction": title}) for _, _, q in scored[:limit])


def target_files(operations: Sequence[Operation], symbols: SymbolIndex) -> tuple[str, ...]:
    """The files the operations touch (for ``replace_calls`` of an outside callable: its importers)."""
    files = (
        {d.path for o in operations for d in symbols.find(o.target)}
        | {p for o in operations if (p := symbols.module_path(o.target))}
        | {
            p
            for o in operations
            if o.op == "replace_calls" and not symbols.find(o.target)
            for p in getattr(symbols, "importers_of", lambda _: [])(o.target.split(".", 1)[0])
        }
    )
    return tuple(sorted(files))


def fuse(issue_id: str, issue: str, candidates: Sequence[Candidate], symbols: SymbolIndex) -> Spec:
    """Pick the best-supported checked candidate (or the fallback edit) as the Spec."""
    checker = OperationChecker(symbols)
    checked = [check(c, checker, issue) for c in candidates]
    scored = [
        Checked(
            c.backend, c.operations, c.problems, c.repairs, c.proposed, _score(c, checked), c.meta
        )
        for c in checked
    ]
    best = max(scored, key=lambda c: c.score, default=None)
    if best is not None and best.operations:
        chosen, operations = best.backend, best.operations
    else:
        chosen, operations = "fallback", fallback_edit(issue, symbols)
    return Spec(
        issue_id=issue_id,
        description=issue.strip(),
        operations=tuple(operations),
        target_files=target_files(operations, symbols),
        provenance={"chosen": chosen, "candidates": [c.to_dict() for c in scored]},
    )


def _style(name: str) -> str:
    """``class`` for CapWords, ``lower`` for snake_case / UPPER_CASE, ``mixed`` otherwise."""
    core = name.strip("_")
    if not core:
        return "mixed"
    if core.isupper() or core.islower() or not any(c.isalpha() for c in core):
        return "lower"
    return "class" if core[0].isupper() and "_" not in core else "mixed"


def _crosses_case(old: str, new: str) -> bool:
    """A rename that turns a function/variable name into a class name or back (PEP 8
    spells the two apart): ``ttl_cache`` → ``_UnboundedTTLCache`` renames something else."""
    pair = {_style(old), _style(new)}
    return pair == {"class", "lower"}
