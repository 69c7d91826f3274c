"""Codemods whose content comes from the LLM, plus decorators.

- ``edit``: swap in the LLM's new source of one function, method or class;
- ``add_function`` / ``add_method``: insert a new definition the LLM wrote;
- ``add_decorator`` / ``remove_decorator``: deterministic, from the op's params.
"""

from __future__ import annotations

import builtins
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.content.members import edit_members, members_source
from agent.codemods.imports import add_import_lines, bound_names, top_level_imports
from agent.codemods.nodes import (
    Def,
    Located,
    dotted,
    finish,
    leading_with_comments,
    locate,
    parse_def_source,
    walk_defs,
)
from planner.spec import Operation

log = logging.getLogger(__name__)

__all__ = [
    "add_decorator",
    "add_function",
    "add_method",
    "edit",
    "remove_decorator",
    "replace_definition",
]

# Decorators that must stay outermost: a new decorator goes below them.
_DESCRIPTORS = {
    "staticmethod",
    "classmethod",
    "property",
    "functools.cached_property",
    "abc.abstractproperty",
}
# Bare decorator names whose import is obvious when the op does not give one.
_KNOWN_IMPORTS = {
    "lru_cache": "from functools import lru_cache",
    "cache": "from functools import cache",
    "cached_property": "from functools import cached_property",
    "wraps": "from functools import wraps",
    "total_ordering": "from functools import total_ordering",
    "singledispatch": "from functools import singledispatch",
    "dataclass": "from dataclasses import dataclass",
    "contextmanager": "from contextlib import contextmanager",
    "abstractmethod": "from abc import abstractmethod",
    "final": "from typing import final",
    "overload": "from typing import overload",
}


def import_lines(value: object) -> list[str]:
    """The ``imports`` slot as a list of lines (a list, or one string with newlines)."""
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return []


def replace_definition(
    files: RepoFiles, loc: Located, source: object, imports: Sequence[str] = ()
) -> Result:
    """Replace ``loc``'s def/class with ``source`` (re-indented, decorators kept if omitted)."""
    old = loc.node
    if old is None:
        return Failed(
            f"{loc.qualname} is a module; this operation rewrites one function, method or "
            "class: target it as module.function or module.Class.method"
        )
    kind = "class" if isinstance(old, cst.ClassDef) else "def"
    parsed = parse_def_source(
        source,
        name=old.name.value,
        what=f"the complete new source of {loc.qualname}",
        steps=loc.steps(),
        kind=kind,
    )
    if isinstance(parsed, Failed):
        return parsed
    new: Def = parsed.node
    notes = [loc.note]
    if not new.decorators and old.decorators:
        new = new.with_changes(
            decorators=old.decorators, lines_after_decorators=old.lines_after_decorators
        )
        kept = ", ".join("@" + (dotted(d.decorator) or "?") for d in old.decorators)
        notes.append(f"kept the original decorators of {loc.qualname} ({kept})")
    new = new.with_changes(
        leading_lines=leading_with_comments(old.leading_lines, new.leading_lines)
    )
    if new.deep_equals(old):
        return Skipped(f"the new source of {loc.qualname} is the same as the current one")
    module = loc.module.deep_replace(old, new)
    assert isinstance(module, cst.Module)
    lines = [*imports, *parsed.imports]
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, notes)


@REGISTRY.register("edit", slots=("source", "imports"))
def edit(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Replace one function, method or class with the LLM's complete new source."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    imports = import_lines(slots.get("imports"))
    if isinstance(loc.node, cst.ClassDef):
        members = members_source(slots.get("source"), loc.node.name.value)
        if members is not None:
            return edit_members(files, loc, members, imports)
    return replace_definition(files, loc, slots.get("source"), imports)


def _main_guard_index(body: Sequence[cst.BaseStatement]) -> int:
    """Index of a trailing ``if __name__ == "__main__":`` block, else ``len(body)``."""
    for i in range(len(body) - 1, -1, -1):
        stmt = body[i]
        if isinstance(stmt, cst.If) and "__name__" in cst.Module([]).code_for_node(stmt.test):
            return i
    return len(body)


def _blank_lines(node: Def, count: int) -> Def:
    comments = [line for line in node.leading_lines if line.comment is not None]
    return node.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * count + comments)


def _new_name(op: Operation) -> str | Failed:
    name = op.params.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        return Failed(f"{op.op} on {op.target} needs param `name`: the new definition's name")
    return name


@REGISTRY.register("add_function", slots=("source", "imports"))
def add_function(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Insert a new module-level function (before an ``if __name__ == "__main__":`` block)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    if loc.node is not None:
        return Failed(
            f"add_function targets a module; {op.target} is a definition inside "
            f"{loc.module_name}: use add_method to add to a class, or target {loc.module_name}"
        )
    name = _new_name(op)
    if isinstance(name, Failed):
        return name
    if name in bound_names(loc.module.body):
        return Failed(
            f"`{name}` already exists in {loc.module_name}; use `edit` on "
            f"{loc.module_name}.{name} to change it, or choose another name"
        )
    parsed = parse_def_source(
        slots.get("source"), name=name, what=f"the new function for {loc.module_name}", kind="def"
    )
    if isinstance(parsed, Failed):
        return parsed
    body = list(loc.module.body)
    at = _main_guard_index(body)
    new = _blank_lines(parsed.node, 2 if at else 0)
    if at < len(body):
        guard = body[at]
        assert isinstance(guard, cst.If)
        if sum(1 for line in guard.leading_lines if line.comment is None) < 2:
            body[at] = guard.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)
    module = loc.module.with_changes(body=[*body[:at], new, *body[at:]])
    lines = [*import_lines(slots.get("imports")), *parsed.imports]
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module)


def _is_placeholder(stmt: cst.BaseStatement) -> bool:
    """A class body statement that only holds the place (``pass`` or ``...``)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    return isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis)
    )


@REGISTRY.register("add_method", slots=("source", "imports"))
def add_method(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Append a new method to a class, at the class body's indentation."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    cls = loc.node
    if not isinstance(cls, cst.ClassDef):
        return Failed(
            f"add_method targets a class; {op.target} is "
            f"{'a module' if cls is None else 'a function'}: name the class as module.Class"
        )
    name = _new_name(op)
    if isinstance(name, Failed):
        return name
    if isinstance(cls.body, cst.IndentedBlock):
        stmts = list(cls.body.body)
        block = cls.body
    else:
        assert isinstance(cls.body, cst.SimpleStatementSuite)
        stmts = [cst.SimpleStatementLine(body=cls.body.body)]
        block = cst.IndentedBlock(body=[])
    if name in bound_names(stmts):
        return Failed(
            f"{loc.qualname} already has `{name}`; use `edit` on {loc.qualname}.{name} "
            "to change it, or choose another name"
        )
    parsed = parse_def_source(
        slots.get("source"),
        name=name,
        what=f"the new method of {loc.qualname}",
        steps=loc.steps(body=True),
        kind="def",
    )
    if isinstance(parsed, Failed):
        return parsed
    if len(stmts) == 1 and _is_placeholder(stmts[0]):
        stmts = [_blank_lines(parsed.node, 0)]
    else:
        stmts.append(_blank_lines(parsed.node, 1))
    module = loc.module.deep_replace(cls, cls.with_changes(body=block.with_changes(body=stmts)))
    assert isinstance(module, cst.Module)
    lines = [*import_lines(slots.get("imports")), *parsed.imports]
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, [loc.note])


# ---------------------------------------------------------------------------- decorators


def _qualify(name: str | None, imports: Mapping[str, str]) -> str:
    """A dotted decorator name with its root resolved through the module's imports."""
    if not name:
        return ""
    root, _, rest = name.partition(".")
    full = imports.get(root, root)
    return f"{full}.{rest}" if rest else full


def _is_descriptor(qual: str) -> bool:
    return qual in _DESCRIPTORS or qual.endswith((".setter", ".getter", ".deleter"))


def _parse_decorator(op: Operation) -> cst.BaseExpression | Failed:
    text = str(op.params.get("decorator") or "").strip().lstrip("@").strip()
    ask = (
        "pass `decorator` as a dotted name or a call of one, like functools.lru_cache(maxsize=256)"
    )
    if not text:
        return Failed(f"{op.op} on {op.target} needs param `decorator`: {ask}")
    try:
        expr = cst.parse_expression(text)
    except cst.ParserSyntaxError as exc:
        return Failed(f"decorator {text!r} is not a Python expression ({exc.message}); {ask}")
    if dotted(expr) is None:
        return Failed(f"decorator {text!r} is not a dotted name or a call of one; {ask}")
    return expr


def _decorator_import(
    op: Operation, loc: Located, root: str, scope_names: set[str]
) -> list[str] | Failed:
    """The import line the decorator needs (none when its root name is already bound)."""
    given = op.params.get("import")
    if isinstance(given, str) and given.strip():
        return [given.strip()]
    if root in scope_names or hasattr(builtins, root):
        return []
    if root in sys.stdlib_module_names:
        return [f"import {root}"]
    if root in _KNOWN_IMPORTS:
        return [_KNOWN_IMPORTS[root]]
    return Failed(
        f"`{root}` is not defined in {loc.module_name}; pass param `import` with the line "
        f"that provides it (for example `from package import {root}`)"
    )


@REGISTRY.register("add_decorator")
def add_decorator(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Add a decorator outermost (below @staticmethod/@classmethod/@property and setters)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    node = loc.node
    if node is None:
        return Failed(f"add_decorator targets a function, method or class; {op.target} is a module")
    expr = _parse_decorator(op)
    if isinstance(expr, Failed):
        return expr
    name = dotted(expr) or ""
    imports = top_level_imports(loc.module)
    qual = _qualify(name, imports)
    for dec in node.decorators:
        if _qualify(dotted(dec.decorator), imports) == qual:
            code = cst.Module([]).code_for_node(dec.decorator)
            return Skipped(f"{loc.qualname} is already decorated with @{code}")
    scope_names = bound_names(loc.module.body)
    for parent in loc.found.parents if loc.found else ():
        if isinstance(parent.body, cst.IndentedBlock):
            scope_names |= bound_names(parent.body.body)
    lines = _decorator_import(op, loc, name.split(".")[0], scope_names)
    if isinstance(lines, Failed):
        return lines
    decorators = list(node.decorators)
    at = 0
    for i, dec in enumerate(decorators):
        if _is_descriptor(_qualify(dotted(dec.decorator), imports)):
            at = i + 1
    decorators.insert(at, cst.Decorator(decorator=expr))
    module = loc.module.deep_replace(node, node.with_changes(decorators=decorators))
    assert isinstance(module, cst.Module)
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, [loc.note])


class _RemoveDecorators(cst.CSTTransformer):
    def __init__(self, targets: set[int], qual: str, imports: Mapping[str, str]) -> None:
        super().__init__()
        self.targets, self.qual, self.imports = targets, qual, imports
        self.removed: list[str] = []

    def _strip(self, original: Def, updated: Def) -> Def:
        if id(original) not in self.targets:
            return updated
        kept: list[cst.Decorator] = []
        carry: list[cst.EmptyLine] = []
        for dec in updated.decorators:
            if _qualify(dotted(dec.decorator), self.imports) == self.qual:
                carry += [line for line in dec.leading_lines if line.comment is not None]
                self.removed.append(original.name.value)
                continue
            kept.append(dec.with_changes(leading_lines=[*carry, *dec.leading_lines]))
            carry = []
        after = [*carry, *updated.lines_after_decorators]
        return updated.with_changes(decorators=kept, lines_after_decorators=after)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        out = self._strip(original_node, updated_node)
        assert isinstance(out, cst.FunctionDef)
        return out

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        out = self._strip(original_node, updated_node)
        assert isinstance(out, cst.ClassDef)
        return out


@REGISTRY.register("remove_decorator")
def remove_decorator(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Remove matching decorators from a def (a class: it and its methods; a module: all)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    expr = _parse_decorator(op)
    if isinstance(expr, Failed):
        return expr
    imports = top_level_imports(loc.module)
    qual = _qualify(dotted(expr), imports)
    if loc.found is None:
        nodes: list[Def] = [f.node for f in walk_defs(loc.module.body)]
    else:
        nodes = [loc.found.node]
        if isinstance(loc.found.node, cst.ClassDef) and isinstance(
            loc.found.node.body, cst.IndentedBlock
        ):
            nodes += [f.node for f in walk_defs(loc.found.node.body.body)]
    remover = _RemoveDecorators({id(n) for n in nodes}, qual, imports)
    module = loc.module.visit(remover)
    if not remover.removed:
        return Skipped(f"no @{dotted(expr)} decorator on {op.target}")
    note = f"removed @{dotted(expr)} from {', '.join(remover.removed)}"
    return finish(files, loc.path, module, [note, loc.note])
