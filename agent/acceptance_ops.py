"""Postconditions of each operation (and the statements tied to one), for ``acceptance_checks``.

``OpChecks.operation(op)`` adds the checks one operation must leave true: a rename's new
name resolves and its old one is gone (or kept, warning, as the issue asks), its
docstring examples follow, the rest of the module stays; a move's destination and old
path; ``inspect.signature`` for the signature operations; docstrings, annotations,
decorators, idioms, new functions and methods.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.acceptance_issue import Statements, sessions
from agent.validate_tools import importable
from planner.digest_query import is_test_path
from planner.digest_types import Definition
from planner.spec import Operation, Spec

MAX_OTHER_NAMES = 40
# ops that change behaviour: an output the issue shows as current is one it wants changed
BEHAVIOUR_OPS = frozenset({"edit", "add_parameter", "add_method", "extract_helper"})
_UNUSED_OK = re.compile(r"\b(ignored|unused|not used|for compatibility|placeholder)\b", re.I)


@dataclass(frozen=True)
class AcceptanceCheck:
    """One test function of ``acceptance_test.py``."""

    name: str  # the test function's name
    kind: str  # example | statement | postcondition
    doc: str  # one line: what is checked, and where the requirement comes from
    body: str  # the function body (Python statements, not indented)
    invariant: bool = False  # holds before the change too; failing there, it does not apply

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "doc": self.doc, "invariant": self.invariant}


@dataclass
class RepoView:
    """What the checks need to know about the repository before the change."""

    definitions: Sequence[Definition]
    by_qualname: dict[str, Definition] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_qualname = {d.qualname: d for d in self.definitions}
        self.modules = {d.module for d in self.definitions}
        self.modules |= {m.rsplit(".", 1)[0] for m in self.modules if "." in m}

    def reachable(self, d: Definition) -> bool:
        """Can a check get at ``d`` by its dotted name (module importable, no function parent)?"""
        if is_test_path(d.path) or not importable(d.path):
            return False
        parent = self.by_qualname.get(d.parent) if d.parent else None
        return d.parent is None or (parent is not None and parent.kind == "class")

    def roots(self) -> set[str]:
        return {m.split(".")[0] for m in self.modules}

    def module_of(self, target: str) -> str:
        d = self.by_qualname.get(target)
        if d is not None:
            return d.module
        return target if target in self.modules else target.rsplit(".", 1)[0]

    def container(self, target: str) -> str:
        """The module or class that holds ``target``."""
        d = self.by_qualname.get(target)
        if d is not None:
            return d.parent or d.module
        return target.rsplit(".", 1)[0]

    def siblings(self, container: str) -> list[str]:
        """Names defined directly in a module or class (before the change)."""
        out = []
        for d in self.definitions:
            holder = d.parent or d.module
            if holder == container and d.name not in out:
                out.append(d.name)
        return out


class OpChecks:
    """Builds the checks; one method per operation (``op_<name>``)."""

    def __init__(self, issue: str, spec: Spec, definitions: Sequence[Definition]) -> None:
        self.issue = issue
        self.spec = spec
        self.repo = RepoView(definitions)
        self.says = Statements.of(issue)
        self.checks: list[AcceptanceCheck] = []
        self.removed: set[str] = set()  # qualnames the spec takes away (unless kept)
        self.touched: set[str] = set()  # qualnames the spec renames, moves or removes
        self.added: dict[str, str] = {}  # short name -> qualname after the change

    def add(self, kind: str, what: str, doc: str, body: str, *, invariant: bool = False) -> None:
        slug = re.sub(r"\W+", "_", what).strip("_").lower()[:60] or "check"
        name = f"test_{kind}_{slug}"
        taken = {c.name for c in self.checks}
        n = 2
        base = name
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self.checks.append(AcceptanceCheck(name, kind, doc, body.strip("\n"), invariant))

    # -- postconditions and the statements tied to one operation ----------------------
    def operation(self, op: Operation) -> None:
        handler = getattr(self, f"op_{op.op}", None)
        if handler is not None:
            handler(op)

    def op_rename(self, op: Operation) -> None:
        old_q, new = op.target, str(op.params.get("new_name", ""))
        old = old_q.rsplit(".", 1)[-1]
        if not new.isidentifier():
            return
        holder = self.repo.container(old_q) if old_q not in self.repo.modules else ""
        new_q = f"{holder}.{new}" if holder else f"{old_q.rsplit('.', 1)[0]}.{new}".lstrip(".")
        if old_q in self.repo.modules and "." not in old_q:
            new_q = new
        self.touched.add(old_q)
        self.added[new] = new_q
        title = f"rename `{old_q}` → `{new}`"
        self.add(
            "postcondition",
            f"rename {old} new name",
            f"{title}: the new name resolves.",
            f"assert has({new_q!r}), 'the new name {new_q} does not resolve'",
        )
        keep = bool(op.params.get("keep_alias")) or self.says.keeps_old(old, old_q)
        if keep:
            self.add(
                "statement",
                f"rename {old} old name kept",
                f"{title}: the issue asks for the old name to keep working.",
                f"assert has({old_q!r}), 'the old name {old_q} no longer resolves'",
            )
            deprecated = op.params.get("keep_alias") == "deprecated"
            if deprecated or self.says.deprecation(old, old_q):
                call, names = self._example_using(old)
                self.add(
                    "statement",
                    f"rename {old} deprecation warning",
                    f"{title}: the issue asks for a DeprecationWarning on the old name.",
                    f"warns_when_used({old_q!r}, call={call!r}, names={names!r})",
                )
            elif self.says.same_object():
                self.add(
                    "statement",
                    f"rename {old} same object",
                    f"{title}: the issue asks for the old name to be the very same object.",
                    f"assert obj({old_q!r}) is obj({new_q!r})",
                )
        else:
            self.removed.add(old_q)
            d = self.repo.by_qualname.get(old_q)
            gone = f"assert not has({old_q!r}), 'the old name {old_q} still resolves'"
            if d is not None and d.kind == "method" and d.parent:
                gone = f"assert {old!r} not in vars(obj({d.parent!r})), '{old_q} is still defined'"
            self.add(
                "postcondition",
                f"rename {old} old name gone",
                f"{title}: the old name is gone (the issue does not ask to keep it).",
                gone,
            )
        self._doctests_follow(old, old_q, new, new_q, title)
        if holder:
            self._others_intact(holder, {old, new}, title)

    def _doctests_follow(self, old: str, old_q: str, new: str, new_q: str, title: str) -> None:
        target = self.repo.by_qualname.get(old_q)
        method = target is not None and target.kind == "method" and target.parent
        word = re.compile(
            rf"\.{re.escape(old)}\s*\(" if method else rf"(?<![\w.]){re.escape(old)}\b"
        )
        for d in self.repo.definitions:
            if not self.repo.reachable(d):
                continue
            if method and target and d.qualname != target.parent and d.parent != target.parent:
                continue
            doc = d.docstring or ""
            lines = [x for x in doc.splitlines() if x.strip().startswith((">>>", "..."))]
            if not any(word.search(x) for x in lines):
                continue
            where = new_q if d.qualname == old_q else d.qualname
            if where.startswith(old_q + "."):
                where = new_q + where[len(old_q) :]
            self.add(
                "postcondition",
                f"rename {old} doctests in {d.name}",
                f"{title}: the doctests in the docstring of `{d.qualname}` use the new name.",
                f"lines = doctest_lines({where!r})\n"
                f"stale = [x for x in lines if re.search({word.pattern!r}, x)]\n"
                f"assert not stale, 'docstring examples still call {old}: ' + repr(stale)",
            )

    def _others_intact(self, holder: str, skip: set[str], title: str) -> None:
        touched = {q.rsplit(".", 1)[-1] for q in self.spec_touched()}
        others = [n for n in self.repo.siblings(holder) if n not in skip | touched]
        if not others:
            return
        others = others[:MAX_OTHER_NAMES]
        self.add(
            "postcondition",
            f"{title} others intact",
            f"{title}: every other name of `{holder}` still resolves under its own name.",
            f"missing = [n for n in {others!r} if not has({holder!r} + '.' + n)]\n"
            "assert not missing, 'renamed or lost by the change: ' + ', '.join(missing)",
            invariant=True,
        )

    def spec_touched(self) -> set[str]:
        kinds = ("rename", "move_symbol")
        return {o.target for o in self.spec.operations if o.op in kinds}

    def op_move_symbol(self, op: Operation) -> None:
        dest = _module_name(str(op.params.get("to_module", "")))
        name = op.target.rsplit(".", 1)[-1]
        if not dest:
            return
        new_q = f"{dest}.{name}"
        self.added[name] = new_q
        self.touched.add(op.target)
        title = f"move `{op.target}` to `{dest}`"
        d = self.repo.by_qualname.get(op.target)
        body = f"assert has({new_q!r}), '{name} is not in {dest}'"
        if d is not None and d.kind in ("function", "class"):
            body += f"\nassert obj({new_q!r}).__module__ == {dest!r}, 'not defined in {dest}'"
        self.add(
            "postcondition", f"move {name} defined", f"{title}: defined in the destination.", body
        )
        if op.params.get("reexport", True) is not False:
            self.add(
                "postcondition",
                f"move {name} old path same object",
                f"{title}: the old import path yields the very same object.",
                f"assert obj({op.target!r}) is obj({new_q!r})",
            )
        if self.says.export(name) and "__all__" in self.issue:
            self.add(
                "statement",
                f"move {name} in all",
                f"{title}: the issue asks for `{name}` in `__all__` of `{dest}`.",
                f"assert {name!r} in getattr(obj({dest!r}), '__all__', ())",
            )

    def op_make_keyword_only(self, op: Operation) -> None:
        after, names = op.params.get("after"), op.params.get("names")
        d = self.repo.by_qualname.get(op.target)
        what = f"every parameter after `{after}`" if after else f"{_list(names)}"
        title = f"make {what} of `{op.target}` keyword-only"
        arg = f"after={after!r}" if after else f"names={list(names or [])!r}"
        self.add(
            "postcondition",
            f"keyword only {op.target}",
            f"{title}: inspect.signature.",
            f"keyword_only({op.target!r}, {arg})",
        )
        first = _first_after(d, after) if after else (list(names or []) or [None])[0]
        if first and self.says.positional_type_error():
            self.add(
                "statement",
                f"positional {first} type error",
                f"{title}: the issue says passing `{first}` by position raises TypeError.",
                f"positional_rejected({op.target!r}, {first!r})",
            )

    def op_add_parameter(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        if not name.isidentifier():
            return
        title = f"add parameter `{name}` to `{op.target}`"
        body = f"assert {name!r} in params({op.target!r}), 'no parameter {name}'"
        default = op.params.get("default")
        if isinstance(default, str) and _literal(default):
            body += (
                f"\nassert signature({op.target!r}).parameters[{name!r}].default == "
                f"{default}, 'wrong default'"
            )
        self.add("postcondition", f"add parameter {name}", f"{title}: inspect.signature.", body)
        if op.params.get("keyword_only"):
            self.add(
                "postcondition",
                f"add parameter {name} keyword only",
                f"{title}: keyword-only.",
                f"keyword_only({op.target!r}, names=[{name!r}])",
            )
        if not _UNUSED_OK.search(self.issue):
            self.add(
                "postcondition",
                f"add parameter {name} used",
                f"{title}: the function uses it (an unused parameter changes nothing).",
                f"parameter_used({op.target!r}, {name!r})",
            )

    def op_rename_parameter(self, op: Operation) -> None:
        old, new = str(op.params.get("old", "")), str(op.params.get("new", ""))
        title = f"rename parameter `{old}` of `{op.target}` to `{new}`"
        body = f"assert {new!r} in params({op.target!r}), 'no parameter {new}'"
        if not self.says.keeps_old(old):
            body += f"\nassert {old!r} not in params({op.target!r}), 'parameter {old} still there'"
        self.add("postcondition", f"rename parameter {old}", f"{title}: inspect.signature.", body)

    def op_remove_parameter(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        d = self.repo.by_qualname.get(op.target)
        if d is None or d.kind not in ("function", "method", "class"):
            return
        self.add(
            "postcondition",
            f"remove parameter {name}",
            f"remove parameter `{name}` of `{op.target}`: inspect.signature.",
            f"no_params_matching({op.target!r}, {name!r})",
        )

    def op_add_function(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        module = _module_name(op.target)
        new_q = f"{module}.{name}"
        self.added[name] = new_q
        title = f"add function `{name}` to `{module}`"
        self.add(
            "postcondition",
            f"add function {name}",
            f"{title}: it exists.",
            f"assert callable(obj({new_q!r})), '{new_q} is not a function'",
        )
        if "__all__" in self.issue and self.says.export(name):
            self.add(
                "statement",
                f"add function {name} exported",
                f"{title}: the issue asks for it in `__all__`.",
                f"assert {name!r} in getattr(obj({module!r}), '__all__', ())",
            )

    def op_add_method(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        self.add(
            "postcondition",
            f"add method {name}",
            f"add method `{name}` to `{op.target}`: defined on the class itself.",
            f"assert {name!r} in vars(obj({op.target!r})), 'no {name} on {op.target}'\n"
            f"assert callable(getattr(obj({op.target!r}), {name!r}))",
        )

    def op_add_docstring(self, op: Operation) -> None:
        d = self.repo.by_qualname.get(op.target)
        title = f"docstring of `{op.target}`"
        self.add(
            "postcondition",
            f"docstring {op.target}",
            f"{title}: present.",
            f"assert (inspect.getdoc(obj({op.target!r})) or '').strip(), 'no docstring'",
        )
        if (
            d is not None
            and d.kind in ("function", "method", "class")
            and (self.says.docstring_params())
        ):
            self.add(
                "statement",
                f"docstring {op.target} names parameters",
                f"{title}: names every parameter, as the issue asks.",
                f"docstring_names_params({op.target!r})",
            )

    def op_add_annotations(self, op: Operation) -> None:
        self.add(
            "postcondition",
            f"annotations {op.target}",
            f"type annotations on `{op.target}`: every parameter and return.",
            f"fully_annotated({op.target!r})",
        )

    def op_add_decorator(self, op: Operation) -> None:
        deco = str(op.params.get("decorator", "")).lstrip("@").split("(")[0]
        self.add(
            "postcondition",
            f"decorator {deco} on {op.target}",
            f"add decorator `@{deco}` to `{op.target}`.",
            f"assert any(d == {deco!r} or d.endswith('.' + {deco!r}) "
            f"or {deco!r}.endswith('.' + d) for d in decorators({op.target!r})), "
            f"decorators({op.target!r})",
        )

    def op_remove_decorator(self, op: Operation) -> None:
        deco = str(op.params.get("decorator", "")).lstrip("@").split("(")[0]
        short = deco.rsplit(".", 1)[-1]
        self.add(
            "postcondition",
            f"no decorator {deco} on {op.target}",
            f"remove decorator `@{deco}` from `{op.target}`.",
            f"assert not [d for d in decorators({op.target!r}) "
            f"if d.rsplit('.', 1)[-1] == {short!r}], decorators({op.target!r})",
        )

    def op_modernize(self, op: Operation) -> None:
        idiom = str(op.params.get("idiom", ""))
        self.add(
            "postcondition",
            f"modernize {idiom} {op.target}",
            f"modernize `{op.target}` ({idiom}): the old idiom is gone.",
            f"left = old_idiom_uses({op.target!r}, {idiom!r})\n"
            f"assert not left, OLD_IDIOMS[{idiom!r}] + ' still used at source lines ' "
            "+ repr(left)",
        )

    def op_extract_constant(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        module = _module_name(op.target)
        self.add(
            "postcondition",
            f"constant {name}",
            f"extract constant `{name}` in `{module}`.",
            f"assert has({module + '.' + name!r})",
        )

    # -- the issue's names ----------------------------------------------------------------
    def _example_using(self, name: str) -> tuple[str | None, dict[str, str]]:
        """The issue's own ``>>>`` call of ``name`` (to trigger a deprecation), if any."""
        word = re.compile(rf"(?<![\w.]){re.escape(name)}\s*\(")
        for s in sessions(self.issue):
            for e in s.examples:
                if word.search(e.source):
                    return e.source, self.names_for([e.source])
        return None, {}

    def names_for(self, sources: Iterable[str]) -> dict[str, str]:
        """Free names of the sources → the dotted name of a repo symbol or module."""
        top: dict[str, list[str]] = {}
        for d in self.repo.definitions:
            if d.parent is None:
                top.setdefault(d.name, []).append(d.qualname)
        targets = {self.repo.module_of(o.target) for o in self.spec.operations}
        out: dict[str, str] = {}
        for name in sorted(_free_names(sources)):
            if name in self.added:
                out[name] = self.added[name]
                continue
            found = top.get(name, [])
            preferred = [q for q in found if q.rsplit(".", 1)[0] in targets]
            if len(preferred) == 1 or len(found) == 1:
                out[name] = (preferred or found)[0]
            elif name in self.repo.roots():
                out[name] = name
        return out


def _free_names(sources: Iterable[str]) -> set[str]:
    names: set[str] = set()
    bound: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.Name):
                (names if isinstance(n.ctx, ast.Load) else bound).add(n.id)
            elif isinstance(n, ast.alias):
                bound.add((n.asname or n.name).split(".")[0])
    return {n for n in names - bound if not hasattr(builtins, n)}


def _module_name(text: str) -> str:
    text = text.strip()
    if text.endswith((".py", ".pyi")):
        text = text.rsplit(".", 1)[0].replace("/", ".")
        text = text.removeprefix("src.").removesuffix(".__init__")
    return text


def _first_after(d: Definition | None, after: object) -> str | None:
    if d is None or not isinstance(after, str):
        return None
    names = [p for p in d.params if p not in ("self", "cls")]
    rest = names[names.index(after) + 1 :] if after in names else []
    return next((p for p in rest if not p.startswith("*")), None)


def _literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


def _list(names: object) -> str:
    items = list(names) if isinstance(names, list | tuple) else [names]
    return ", ".join(f"`{n}`" for n in items)
