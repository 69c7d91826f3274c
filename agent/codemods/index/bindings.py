"""Module-level bindings of one file, read with ``ast``, for the symbol codemods (rename and
friends); ``RepoIndex`` (``index.repo``) caches them per file and answers across files.

LibCST metadata answers "what does this name mean *in this file*"; the questions
here span files and are answered with Python's ``ast`` (fast, C-implemented) on the
few files whose text contains the words involved:

- which ``(module, name)`` pairs refer to one symbol (re-exports, ``from x import *``);
- which classes belong to a class's family (its subclasses, transitively, anywhere);
- whether an attribute name is defined by any other class (for ``obj.attr`` renames).

``rename.target`` says what a target qualname points at.
"""

from __future__ import annotations

import ast
import builtins
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from planner.digest_types import absolute_module

log = logging.getLogger(__name__)

STAR_RE = re.compile(r"\bimport\s*\(?\s*\*")
BUILTIN_ATTRS: frozenset[str] = frozenset(
    attr for obj in vars(builtins).values() if isinstance(obj, type) for attr in dir(obj)
)


def word_re(word: str) -> re.Pattern[str]:
    """A regex matching ``word`` as a whole identifier."""
    return re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")


@dataclass
class ClassInfo:
    """A class defined at module level or nested in a class (not inside a function)."""

    qualpath: str  # ``Outer.Inner``
    bases: list[ast.expr]
    members: dict[str, str]  # name bound in the body -> kind (method / class / attribute)
    self_attrs: set[str]  # ``self.x = ...`` in its methods


@dataclass
class ModuleInfo:
    """The module-level bindings of one file, read with ``ast``."""

    path: str
    module: str
    is_package: bool
    tree: ast.Module
    defs: dict[str, str] = field(default_factory=dict)  # name -> function / class / variable
    from_imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (mod, name)
    module_imports: dict[str, str] = field(default_factory=dict)  # local -> module
    stars: list[str] = field(default_factory=list)
    all_names: list[str] | None = None  # None: no ``__all__``
    all_dynamic: bool = False
    classes: dict[str, ClassInfo] = field(default_factory=dict)

    def bound(self) -> set[str]:
        """Every name bound at module level."""
        return set(self.defs) | set(self.from_imports) | set(self.module_imports)

    def resolve(self, expr: ast.expr) -> str | None:
        """The dotted qualname an expression of module-level names stands for, if known."""
        if isinstance(expr, ast.Name):
            if expr.id in self.from_imports:
                mod, name = self.from_imports[expr.id]
                return f"{mod}.{name}"
            if expr.id in self.module_imports:
                return self.module_imports[expr.id]
            if expr.id in self.defs:
                return f"{self.module}.{expr.id}"
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def iter_top(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at module (or class body) level, through if/try/with/for."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While):
            yield from iter_top(stmt.body)
            yield from iter_top(stmt.orelse)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            yield from iter_top(stmt.body)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            yield from iter_top(stmt.body)
            for handler in stmt.handlers:
                yield from iter_top(handler.body)
            yield from iter_top(stmt.orelse)
            yield from iter_top(stmt.finalbody)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from _target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _str_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [str(e.value) for e in node.elts if isinstance(e, ast.Constant)]
    return None


def _read_all(info: ModuleInfo, stmt: ast.stmt) -> None:
    """Fold one ``__all__`` statement into ``info.all_names``."""
    value: ast.expr | None = None
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
    ):
        info.all_names, value = [], stmt.value
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and (
        isinstance(stmt.target, ast.Name) and stmt.target.id == "__all__"
    ):
        value = stmt.value
        if isinstance(stmt, ast.AnnAssign):
            info.all_names = []
    elif (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and isinstance(stmt.value.func.value, ast.Name)
        and stmt.value.func.value.id == "__all__"
        and stmt.value.args
    ):
        arg = stmt.value.args[0]
        value = ast.List(elts=[arg]) if stmt.value.func.attr == "append" else arg
    if value is None:
        return
    names = _str_list(value)
    if names is None:
        info.all_dynamic = True
    else:
        info.all_names = (info.all_names or []) + names


def _class_info(qualpath: str, node: ast.ClassDef) -> ClassInfo:
    members: dict[str, str] = {}
    self_attrs: set[str] = set()
    for stmt in iter_top(node.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            members[stmt.name] = "method"
            args = stmt.args.posonlyargs + stmt.args.args
            if args:
                me = args[0].arg
                for sub in ast.walk(stmt):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.ctx, ast.Store)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == me
                    ):
                        self_attrs.add(sub.attr)
        elif isinstance(stmt, ast.ClassDef):
            members[stmt.name] = "class"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                members.update(dict.fromkeys(_target_names(target), "attribute"))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            members.update(dict.fromkeys(_target_names(stmt.target), "attribute"))
    return ClassInfo(qualpath, list(node.bases), members, self_attrs)


def _collect_classes(info: ModuleInfo, body: list[ast.stmt], prefix: str) -> None:
    for stmt in iter_top(body):
        if isinstance(stmt, ast.ClassDef):
            qualpath = f"{prefix}{stmt.name}"
            info.classes[qualpath] = _class_info(qualpath, stmt)
            _collect_classes(info, stmt.body, qualpath + ".")


def read_module(path: str, module: str, text: str) -> ModuleInfo | None:
    """Parse one file's module-level bindings; None when it is not valid Python."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        log.debug("%s does not parse: %s", path, exc)
        return None
    is_package = path.endswith("__init__.py")
    info = ModuleInfo(path, module, is_package, tree)
    for stmt in iter_top(tree.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            info.defs[stmt.name] = "function"
        elif isinstance(stmt, ast.ClassDef):
            info.defs[stmt.name] = "class"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                info.defs.update(dict.fromkeys(_target_names(target), "variable"))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            info.defs.update(dict.fromkeys(_target_names(stmt.target), "variable"))
        elif isinstance(stmt, ast.ImportFrom):
            src = absolute_module(stmt.module or "", stmt.level, module, is_package)
            for alias in stmt.names:
                if alias.name == "*":
                    info.stars.append(src)
                else:
                    info.from_imports[alias.asname or alias.name] = (src, alias.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    info.module_imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    info.module_imports[top] = top
        _read_all(info, stmt)
    _collect_classes(info, tree.body, "")
    return info


@dataclass(frozen=True)
class Family:
    """A class and every class deriving from it in the repository."""

    root: tuple[str, str]  # (module, class qualpath)
    members: frozenset[tuple[str, str]]
    fqs: frozenset[str]  # every dotted name any member is reachable by
    root_fqs: frozenset[str]
    names: frozenset[str]  # the local names the members go by
