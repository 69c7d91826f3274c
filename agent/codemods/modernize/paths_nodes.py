"""What the pathlib codemod asks of single nodes: the known text of a string literal and
whether ``Path`` would normalize it, dotted and imported names, imports inside functions."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import ImportAssignment, Scope

from agent.codemods.imports import import_bindings


@dataclass(frozen=True)
class LiteralText:
    """What is known of a (possibly partly formatted) string literal's text."""

    head: str | None  # the text it starts with, if known
    tail: str | None  # the text it ends with, if known
    whole: str | None  # all of it, if known
    texts: tuple[str, ...]  # every literal fragment
    is_bytes: bool = False


def literal_text(expr: cst.BaseExpression) -> LiteralText | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        if isinstance(value, bytes):
            return LiteralText(None, None, None, (), is_bytes=True)
        return LiteralText(value, value, value, (value,))
    if isinstance(expr, cst.FormattedString):
        texts = tuple(p.value for p in expr.parts if isinstance(p, cst.FormattedStringText))
        if not expr.parts:
            return LiteralText("", "", "", ())
        first, last = expr.parts[0], expr.parts[-1]
        head = first.value if isinstance(first, cst.FormattedStringText) else None
        tail = last.value if isinstance(last, cst.FormattedStringText) else None
        whole = head if len(expr.parts) == 1 else None
        return LiteralText(head, tail, whole, texts)
    if isinstance(expr, cst.ConcatenatedString):
        left, right = literal_text(expr.left), literal_text(expr.right)
        if left is None or right is None:
            return None
        if left.is_bytes or right.is_bytes:
            return LiteralText(None, None, None, (), is_bytes=True)
        whole = None if left.whole is None or right.whole is None else left.whole + right.whole
        head = left.head if left.whole is None else left.whole + (right.head or "")
        tail = right.tail if right.whole is None else (left.tail or "") + right.whole
        seam = (left.tail or "") + (right.head or "")  # a "//" may span the two parts
        return LiteralText(head, tail, whole, (*left.texts, *right.texts, seam))
    return None


def normalize_hazard(expr: cst.BaseExpression, last: bool) -> str:
    """Why ``Path`` would not keep this argument's text as ``os.path`` does ('' if it would)."""
    lit = literal_text(expr)
    if lit is None:
        return ""
    if lit.is_bytes:
        return "bytes paths have no pathlib form"
    shown = lit.whole if lit.whole is not None else (lit.head or lit.tail or "")
    normalized = f"Path would normalize the literal {shown!r}"
    if lit.whole in ("", "."):
        return normalized
    if lit.head is not None and lit.head.startswith("./"):
        return normalized
    if any("//" in t or "/./" in t for t in lit.texts):
        return normalized
    if lit.tail is not None and lit.tail.endswith("/.") and lit.whole != "/.":
        return normalized
    if last and lit.tail is not None and lit.tail.endswith("/") and lit.whole != "/":
        return normalized
    return ""


def head_name(expr: cst.BaseExpression) -> cst.Name | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr if isinstance(expr, cst.Name) else None


def code_of(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)


def local_name(alias: cst.ImportAlias, is_from: bool) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    name = code_of(alias.name)
    return name if is_from else name.split(".")[0]


def only_imports_of(scope: Scope, name: str, target: str) -> bool:
    """Every module-level binding of ``name`` is an import of ``target`` (or there is none)."""
    for assignment in scope.assignments[name]:
        if not isinstance(assignment, ImportAssignment):
            return False
        node = assignment.node
        if not isinstance(node, cst.Import | cst.ImportFrom):
            return False
        if import_bindings(node).get(name) != target:
            return False
    return True


def imports_in_functions(module: cst.Module) -> bool:
    """Whether any function in the module has an ``import`` statement of its own."""

    class Finder(cst.CSTVisitor):
        depth = 0
        found = False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.depth += 1

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self.depth -= 1

        def visit_Import(self, node: cst.Import) -> None:
            self.found = self.found or self.depth > 0

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            self.found = self.found or self.depth > 0

    finder = Finder()
    module.visit(finder)
    return finder.found
