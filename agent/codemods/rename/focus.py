"""The focused view of a module: only the statements that can matter for some words.

Scope analysis and tree walks are the costly parts of a LibCST codemod. A statement
whose text never mentions any of the words an operation is about (the old name, the
class names involved) can neither bind, shadow nor use the symbol, and holds no node
the operation edits. ``focus`` builds a view of the module without such statements,
at every depth (module, class and function bodies, if/for/while/try/with/match
suites), sharing every kept node with the real tree. Imports are always kept (they
resolve other names), and so are docstrings (an operation may edit them).

Statement line spans come from the ``ast`` tree of the same text, aligned with the
LibCST statements suite by suite (``a; b`` is one LibCST line, two ``ast``
statements); if the trees ever disagree, the view is the whole module.
"""

from __future__ import annotations

import ast
import bisect
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import libcst as cst

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_N = TypeVar("_N", bound=cst.CSTNode)
_PASS = cst.SimpleStatementLine([cst.Pass()])


def hit_lines(text: str, words: Collection[str]) -> list[int]:
    """Sorted 1-based numbers of the lines where any of ``words`` occurs as an identifier."""
    alternatives = "|".join(re.escape(w) for w in sorted(words))
    rx = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")
    lines: list[int] = []
    line, pos = 1, 0
    for match in rx.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    return start, node.end_lineno or node.lineno


def _has_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return False
    return any(isinstance(sub, ast.Import | ast.ImportFrom) for sub in ast.walk(node))


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


class _Misaligned(Exception):
    """The ``ast`` and LibCST statement lists do not correspond."""


def _expect(node: Any, kinds: type | tuple[type, ...]) -> Any:
    if not isinstance(node, kinds):
        raise _Misaligned
    return node


def _same(new: Sequence[_T], old: Sequence[_T]) -> Sequence[_T]:
    """``old`` when ``new`` holds the very same nodes (so the parent need not be rebuilt)."""
    if len(new) == len(old) and all(a is b for a, b in zip(new, old, strict=True)):
        return old
    return new


@dataclass
class FocusView:
    """A module without the statements that cannot matter.

    ``skipped``: the statements left out; ``origin``: view node → real-tree node for the
    (few) container nodes the view had to rebuild.
    """

    module: cst.Module
    skipped: set[cst.CSTNode] = field(default_factory=set)
    origin: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)


class _Pruner:
    def __init__(self, hits: list[int]) -> None:
        self.hits = hits
        self.skipped: set[cst.CSTNode] = set()
        self.origin: dict[cst.CSTNode, cst.CSTNode] = {}

    def rebuild(self, node: _N, **changes: Any) -> _N:
        """``node`` with ``changes``, or ``node`` itself when every child is unchanged."""
        if all(getattr(node, k) is v for k, v in changes.items()):
            return node
        new = node.with_changes(**changes)
        self.origin[new] = node
        return new

    def _hit(self, low: int, high: int) -> bool:
        i = bisect.bisect_left(self.hits, low)
        return i < len(self.hits) and self.hits[i] <= high

    def body(
        self, stmts: Sequence[cst.BaseStatement], nodes: Sequence[ast.stmt], docstring: bool
    ) -> list[cst.BaseStatement]:
        """The statements of one body worth keeping (the others go to ``skipped``)."""
        kept: list[cst.BaseStatement] = []
        index = 0
        for stmt in stmts:
            count = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
            group = nodes[index : index + count]
            if len(group) != count or not count:
                raise _Misaligned
            low, high = min(_span(n)[0] for n in group), max(_span(n)[1] for n in group)
            keep = (
                self._hit(low, high)
                or any(map(_has_import, group))
                or (docstring and index == 0 and _is_docstring(group[0]))
            )
            index += count
            if not keep:
                self.skipped.add(stmt)
            elif isinstance(stmt, cst.SimpleStatementLine):
                kept.append(stmt)
            else:
                kept.append(self.compound(stmt, group[0]))
        if index != len(nodes):
            raise _Misaligned
        return kept

    def suite(
        self, suite: cst.BaseSuite, nodes: Sequence[ast.stmt], docstring: bool = False
    ) -> Any:
        """An indented block with its body pruned (a one-line suite is kept as is)."""
        if not isinstance(suite, cst.IndentedBlock):
            return suite
        kept = self.body(suite.body, nodes, docstring)
        return self.rebuild(suite, body=_same(kept, suite.body) if kept else [_PASS])

    def _else(self, orelse: Any, nodes: list[ast.stmt]) -> Any:
        if orelse is None:
            if nodes:
                raise _Misaligned
            return None
        return self.rebuild(orelse, body=self.suite(orelse.body, nodes))

    def compound(self, stmt: cst.BaseStatement, node: ast.stmt) -> cst.BaseStatement:
        """A compound statement with each of its suites pruned."""
        if isinstance(stmt, cst.FunctionDef):
            n = _expect(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            return self.rebuild(stmt, body=self.suite(stmt.body, n.body, docstring=True))
        if isinstance(stmt, cst.ClassDef):
            n = _expect(node, ast.ClassDef)
            return self.rebuild(stmt, body=self.suite(stmt.body, n.body, docstring=True))
        if isinstance(stmt, cst.With):
            n = _expect(node, (ast.With, ast.AsyncWith))
            return self.rebuild(stmt, body=self.suite(stmt.body, n.body))
        if isinstance(stmt, cst.For | cst.While):
            n = _expect(node, (ast.For, ast.AsyncFor) if isinstance(stmt, cst.For) else ast.While)
            return self.rebuild(
                stmt, body=self.suite(stmt.body, n.body), orelse=self._else(stmt.orelse, n.orelse)
            )
        if isinstance(stmt, cst.If):
            n = _expect(node, ast.If)
            orelse: Any = stmt.orelse
            if isinstance(orelse, cst.If):
                if len(n.orelse) != 1:
                    raise _Misaligned
                orelse = self.compound(orelse, n.orelse[0])
            else:
                orelse = self._else(orelse, n.orelse)
            return self.rebuild(stmt, body=self.suite(stmt.body, n.body), orelse=orelse)
        if isinstance(stmt, cst.Try | cst.TryStar):
            n = _expect(node, ast.Try if isinstance(stmt, cst.Try) else ast.TryStar)
            if len(stmt.handlers) != len(n.handlers):
                raise _Misaligned
            old: Sequence[Any] = stmt.handlers
            handlers = _same(
                [
                    self.rebuild(h, body=self.suite(h.body, a.body))
                    for h, a in zip(old, n.handlers, strict=True)
                ],
                old,
            )
            return self.rebuild(
                stmt,
                body=self.suite(stmt.body, n.body),
                handlers=handlers,
                orelse=self._else(stmt.orelse, n.orelse),
                finalbody=self._else(stmt.finalbody, n.finalbody),
            )
        if isinstance(stmt, cst.Match):
            n = _expect(node, ast.Match)
            if len(stmt.cases) != len(n.cases):
                raise _Misaligned
            cases = [
                self.rebuild(c, body=self.suite(c.body, a.body))
                for c, a in zip(stmt.cases, n.cases, strict=True)
            ]
            return self.rebuild(stmt, cases=_same(cases, stmt.cases))
        raise _Misaligned


def focus(
    tree: cst.Module, text: str, syntax: ast.Module | None, words: Collection[str]
) -> FocusView:
    """The view of ``tree`` that scope analysis needs for ``words``."""
    if syntax is None or not words:
        return FocusView(tree)
    pruner = _Pruner(hit_lines(text, words))
    try:
        body = pruner.body(tree.body, syntax.body, docstring=True)
    except _Misaligned:
        log.debug("ast and cst statements do not line up; analysing the whole module")
        return FocusView(tree)
    return FocusView(
        pruner.rebuild(tree, body=_same(body, tree.body)), pruner.skipped, pruner.origin
    )
