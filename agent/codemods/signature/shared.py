"""Small pieces the signature codemods share: names from a slot, qualified names made
absolute, the kind of a method from its decorators."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import libcst as cst
from libcst.metadata import QualifiedName, QualifiedNameSource

from planner.digest_types import absolute_module


def as_names(value: Any) -> list[str]:
    """A ``names`` param as a list (a YAML list, or one string separated by commas/spaces)."""
    if isinstance(value, str):
        return [n for n in re.split(r"[,\s]+", value) if n]
    if isinstance(value, Sequence):
        return [str(n).strip() for n in value if str(n).strip()]
    return []


def absolute_name(qname: QualifiedName, module: str, is_package: bool) -> str:
    """A ``QualifiedNameProvider`` name made absolute: ``.formatting.f`` → ``click.formatting.f``."""
    if qname.source == QualifiedNameSource.LOCAL:
        return f"{module}.{qname.name}"
    name = qname.name
    if name.startswith("."):
        level = len(name) - len(name.lstrip("."))
        return absolute_module(name[level:], level, module, is_package)
    return name


def decorator_kind(decorators: Iterable[cst.Decorator]) -> str:
    """``staticmethod`` / ``classmethod`` / ``property`` / ``method`` from a def's decorators."""
    for deco in decorators:
        expr = deco.decorator
        name = expr.value if isinstance(expr, cst.Name) else ""
        if isinstance(expr, cst.Attribute):
            name = expr.attr.value
        if name in ("staticmethod", "classmethod"):
            return name
        if name in ("property", "cached_property", "setter", "getter", "deleter"):
            return "property"
    return "method"
