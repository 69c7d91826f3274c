"""Attributes a method reads from ``self`` that nothing ever gives the instance.

A small model writing a method body invents attribute names: ``self.key`` in a ``__repr__``
of a class that stores ``self.secret_keys``. Such a body imports, lints clean under
pyflakes, and fails only when the method runs, which the repository's tests may never do.
``unknown_attributes(text)`` finds, per class of one module, the ``self.<name>`` reads that
no definition in the class body, no ``self.<name> = ...`` in any of its methods, no base
class and no subclass in the same module accounts for. The validator's ``lint`` check
reports the findings the change introduced (before vs after, like ruff's), and none in a
class that already read such attributes before (a mixin reads what its users set), so a
pre-existing dynamic pattern never blocks a change.

It is deliberately conservative: a class is not judged when anything could give it
attributes this file does not show (a base imported from elsewhere, a metaclass, a class
decorator other than ``dataclass``, ``__getattr__``, ``__slots__`` from a base,
``setattr(self, ...)`` or ``self.__dict__``).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

CODE = "AP001"
# bases that give no attributes of their own worth naming, or whose parameters are types
NEUTRAL_BASES = frozenset({"Generic", "Protocol", "ABC", "object"})
KNOWN_DECORATORS = frozenset({"dataclass", "total_ordering", "final"})


@dataclass
class _Class:
    node: ast.ClassDef
    defined: set[str] = field(default_factory=set)
    read: dict[str, int] = field(default_factory=dict)  # name -> first line read
    bases: list[str] = field(default_factory=list)  # same-module or builtin base names
    opaque: bool = False  # something this file does not show may add attributes


def _name(expr: ast.expr) -> str | None:
    """``Base``, ``mod.Base``, ``Base[T]`` → the last name part (``Base``)."""
    if isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return None


def _body_names(body: list[ast.stmt]) -> Iterator[str]:
    """Names bound directly in a class body (through ``if``/``try``/``with`` blocks too)."""
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield stmt.name
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        yield node.id
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                yield (alias.asname or alias.name).split(".")[0]
        elif isinstance(stmt, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for block in ("body", "orelse", "finalbody"):
                yield from _body_names(getattr(stmt, block, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _body_names(handler.body)


def _methods(body: list[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            yield stmt
        elif isinstance(stmt, ast.If | ast.Try):
            yield from _methods(stmt.body + stmt.orelse + getattr(stmt, "finalbody", []))


def _receiver(method: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name the method's instance (or class) goes by, None for a static method."""
    decorators = {_name(d) for d in method.decorator_list}
    if "staticmethod" in decorators:
        return None
    args = method.args.posonlyargs + method.args.args
    return args[0].arg if args else None


def _walk_method(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a method, nested functions included, nested classes not."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            continue
        yield child
        yield from _walk_method(child)


def _scan(node: ast.ClassDef) -> _Class:
    cls = _Class(node)
    cls.defined.update(_body_names(node.body))
    if node.keywords or any(_name(d) not in KNOWN_DECORATORS for d in node.decorator_list):
        cls.opaque = True  # a metaclass or a decorator may add anything
    for base in node.bases:
        name = _name(base)
        if name is None:
            cls.opaque = True
        elif name not in NEUTRAL_BASES:
            cls.bases.append(name)
    if {"__getattr__", "__getattribute__"} & cls.defined:
        cls.opaque = True
    for method in _methods(node.body):
        receiver = _receiver(method)
        if receiver is None:
            continue
        for sub in _walk_method(method):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                if sub.value.id != receiver:
                    continue
                if isinstance(sub.ctx, ast.Store | ast.Del):
                    cls.defined.add(sub.attr)
                elif sub.attr == "__dict__":
                    cls.opaque = True
                else:
                    cls.read.setdefault(sub.attr, sub.lineno)
            elif (
                isinstance(sub, ast.Call)
                and _name(sub.func) in {"setattr", "vars"}
                and sub.args
                and isinstance(sub.args[0], ast.Name)
                and sub.args[0].id == receiver
            ):
                cls.opaque = True
    return cls


def _builtin_attributes(name: str) -> set[str] | None:
    value = getattr(builtins, name, None)
    return set(dir(value)) if isinstance(value, type) else None


def unknown_attributes(text: str) -> list[dict[str, Any]]:
    """Findings (ruff's shape: code, message, row, column) for ``self.<name>`` reads that
    nothing in the module gives the instance; [] when the text does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    classes: dict[str, _Class] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            if node.name in classes:  # two classes of one name: which is the base is unclear
                classes[node.name].opaque = True
                continue
            classes[node.name] = _scan(node)

    def known(name: str, seen: frozenset[str] = frozenset()) -> set[str] | None:
        """Every attribute ``name``'s instances have here, None when it cannot be told."""
        if name in seen:
            return None
        cls = classes.get(name)
        if cls is None:
            return _builtin_attributes(name)
        if cls.opaque:
            return None
        names = set(cls.defined) | set(dir(object))
        for base in cls.bases:
            inherited = known(base, seen | {name})
            if inherited is None:
                return None
            names |= inherited
        return names

    findings = []
    for name, cls in classes.items():
        have = known(name)
        if have is None:
            continue
        # a mixin reads what the classes that use it set: count its subclasses here
        for other in classes.values():
            if name in other.bases:
                have |= other.defined
        for attr, line in sorted(cls.read.items(), key=lambda item: item[1]):
            if attr in have or (attr.startswith("__") and attr.endswith("__")):
                continue
            findings.append(
                {
                    "code": CODE,
                    "message": f"`{name}` reads `self.{attr}`, which nothing in `{name}` "
                    "or its bases sets or defines",
                    "row": line,
                    "column": 0,
                    "class": name,
                }
            )
    return findings
