"""Scopes and name resolution of one module, for ``planner.digest_parse``: which dotted
name a name stands for where it is used (``ScopeTracker``: the module's and classes'
bindings, imports made absolute, function locals, ``self``)."""

from __future__ import annotations

import ast

from planner.digest_ast import Scope
from planner.digest_types import absolute_module

_LOCAL = ""  # binding of a plain local variable: not resolvable
_SELF = "\0"  # prefix marking the ``self``/``cls`` parameter's binding
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


class ScopeTracker(ast.NodeVisitor):
    """The scopes of the module being walked; ``owner`` is the innermost one that is not a
    comprehension."""

    def __init__(self, path: str, module: str) -> None:
        self.path = path
        self.module = module
        self.is_package = path == "__init__.py" or path.endswith("/__init__.py")
        self.scopes: list[Scope] = []
        self.owner = Scope("module", module, {})  # innermost non-comprehension scope

    def _push(self, scope: Scope) -> Scope:
        previous = self.owner
        self.scopes.append(scope)
        if scope.kind != "comprehension":
            self.owner = scope
        return previous

    def _pop(self, previous: Scope) -> None:
        self.scopes.pop()
        self.owner = previous

    def _abs(self, module: str, level: int) -> str:
        return absolute_module(module, level, self.module, self.is_package)

    def _block_bindings(self, body: list[ast.stmt], prefix: str) -> dict[str, str]:
        """Names a module or class body binds (not inside its functions) → dotted names."""
        out: dict[str, str] = {}
        stack: list[ast.AST] = list(reversed(body))
        while stack:
            node = stack.pop()
            if isinstance(node, (*_FUNCS, ast.ClassDef)):
                out.setdefault(node.name, f"{prefix}.{node.name}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                out.update((k, v) for k, v in self._import_bindings(node) if k not in out)
            elif isinstance(node, ast.Name):
                if not isinstance(node.ctx, ast.Load):
                    out.setdefault(node.id, f"{prefix}.{node.id}")
            elif isinstance(node, (ast.stmt, ast.ExceptHandler, ast.match_case, ast.withitem)):
                stack.extend(ast.iter_child_nodes(node))
            elif isinstance(node, (ast.Tuple, ast.List, ast.Starred, ast.NamedExpr)):
                stack.extend(ast.iter_child_nodes(node))  # assignment targets, walrus
        return out

    def _import_bindings(self, node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
        if isinstance(node, ast.Import):
            out = []
            for a in node.names:
                top = a.name.split(".")[0]
                out.append((a.asname, a.name) if a.asname else (top, top))
            return out
        base = self._abs(node.module or "", node.level)
        return [
            (a.asname or a.name, f"{base}.{a.name}" if base else a.name)
            for a in node.names
            if a.name != "*"
        ]

    def _bind_local(self, name: str, value: str = _LOCAL) -> None:
        """Record a binding made while walking a function (or comprehension) body."""
        scope = self.scopes[-1]
        if scope.kind in ("function", "comprehension") and name not in scope.declared:
            scope.bindings[name] = value

    def _lookup(self, name: str) -> str | None:
        """The binding of ``name`` (``_LOCAL`` for a local variable), None if unbound."""
        last = len(self.scopes) - 1
        for i in range(last, -1, -1):
            scope = self.scopes[i]
            if scope.kind == "class" and i != last:
                continue  # class bodies are not visible from nested functions
            found = scope.bindings.get(name)
            if found is not None:
                return found
        return None

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            found = self._lookup(node.id)
            return found.removeprefix(_SELF) if found else None
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _annotated_class(self, node: ast.expr) -> str | None:
        """The dotted name of the one class an annotation names (``C``, ``m.C``, ``"C"``,
        ``C | None``, ``Optional[C]``), through this module's bindings; else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [n for n in (node.left, node.right) if not _is_none(n)]
            return self._annotated_class(sides[0]) if len(sides) == 1 else None
        if isinstance(node, ast.Subscript) and _last_name(node.value) == "Optional":
            return self._annotated_class(node.slice)
        if isinstance(node, ast.Name | ast.Attribute):
            return self._dotted(node) or None
        return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
