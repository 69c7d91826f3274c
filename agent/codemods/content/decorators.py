"""``add_decorator`` / ``remove_decorator``: deterministic, from the op's params.

A new decorator goes below the descriptors that must stay outermost (``property``,
``staticmethod``, ...); its import is the op's ``import`` param, an obvious one for well-known
names, or none when the name is already bound.
"""

from __future__ import annotations

import builtins
import logging
import sys
from collections.abc import Mapping
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.imports import add_import_lines, bound_names, top_level_imports
from agent.codemods.nodes import Def, Located, dotted, finish, locate, walk_defs
from planner.spec import Operation

log = logging.getLogger(__name__)

__all__ = ["add_decorator", "remove_decorator"]

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
