"""Type hints a drafted definition spells the old way while meaning the same type.

A model that rewrites a function to fix its body often rewrites its signature on the way:
``list[Any]`` becomes ``List[Any]`` (with a new ``from typing import List``), ``X | None``
becomes ``Optional[X]``. That changes nothing the issue asked for and undoes the project's
own style, so ``same_hints_kept`` puts back the original spelling of every annotation that
names the same type, and ``used_imports`` drops the import lines the rewrite alone needed.
An annotation that names another type is the model's (the issue may ask for it).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from agent.codemods.imports import import_bindings

_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "FrozenSet": "frozenset",
    "Tuple": "tuple",
    "Type": "type",
    "DefaultDict": "collections.defaultdict",
    "Deque": "collections.deque",
}


class _Canonical(ast.NodeTransformer):
    """``typing.List[x]`` → ``list[x]``, ``Optional[x]`` → ``x | None``, ``Union`` → ``|``."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id in ("typing", "t"):
            return self.visit(ast.Name(node.attr, ast.Load()))
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name(_ALIASES.get(node.id, node.id), ast.Load())

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        base = self.visit(node.value)
        inner = self.visit(node.slice)
        if isinstance(base, ast.Name) and base.id == "Optional":
            return ast.BinOp(inner, ast.BitOr(), ast.Constant(None))
        if isinstance(base, ast.Name) and base.id == "Union" and isinstance(inner, ast.Tuple):
            out = inner.elts[0]
            for elt in inner.elts[1:]:
                out = ast.BinOp(out, ast.BitOr(), elt)
            return out
        return ast.Subscript(base, inner, ast.Load())


def canonical(code: str) -> str | None:
    """One spelling for a type hint's source (None when it does not parse)."""
    try:
        tree = ast.parse(code.strip().strip("'\""), mode="eval")
    except SyntaxError:
        return None
    return ast.unparse(_Canonical().visit(tree))


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _kept(old: cst.Annotation | None, new: cst.Annotation | None) -> cst.Annotation | None:
    if old is None or new is None or old.annotation.deep_equals(new.annotation):
        return new
    a, b = canonical(_code(old.annotation)), canonical(_code(new.annotation))
    return new.with_changes(annotation=old.annotation) if a is not None and a == b else new


def same_hints_kept(old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
    """``new`` with ``old``'s spelling of each annotation that names the same type."""
    before = {
        p.name.value: p
        for p in (*old.params.posonly_params, *old.params.params, *old.params.kwonly_params)
    }

    def param(p: cst.Param) -> cst.Param:
        was = before.get(p.name.value)
        return p if was is None else p.with_changes(annotation=_kept(was.annotation, p.annotation))

    params = new.params.with_changes(
        posonly_params=[param(p) for p in new.params.posonly_params],
        params=[param(p) for p in new.params.params],
        kwonly_params=[param(p) for p in new.params.kwonly_params],
    )
    return new.with_changes(params=params, returns=_kept(old.returns, new.returns))


def used_imports(lines: Sequence[str], node: cst.CSTNode) -> list[str]:
    """The import lines that bind a name ``node`` uses (a star import is kept)."""
    used: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            used.add(n.value)

    node.visit(_Names())
    out = []
    for line in lines:
        try:
            statement = cst.parse_statement(line)
        except cst.ParserSyntaxError:
            out.append(line)  # reported where the lines are added
            continue
        smalls = getattr(statement, "body", ())
        for small in smalls if isinstance(smalls, Sequence) else ():
            if not isinstance(small, cst.Import | cst.ImportFrom) or isinstance(
                small.names, cst.ImportStar
            ):
                out.append(line)
                break
            if used & import_bindings(small).keys():
                out.append(line)
                break
    return out
