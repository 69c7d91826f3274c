"""A rename follows the symbol into docstring examples (``>>> old(...)`` lines); a
parameter rename follows the keyword (``>>> f(old=1)``) the same way.

Doctests call a symbol by its bare name in the module that defines it (the doctest's
globals are the module's), by its bare name after an ``import`` inside the same
docstring, and as ``module.old``. Only ``>>>`` / ``...`` source lines of real docstrings
(the first statement of a module, class or function) change; their expected outputs,
prose, comments and other strings stay. A method is followed as ``.old(`` in the
docstrings of its own class.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from agent.codemods.base import RepoFiles
from agent.codemods.index import RepoIndex
from agent.codemods.rename.target import Target, resolve_target
from planner.spec import Operation

_SOURCE = re.compile(r"^(\s*)(>>>|\.\.\.)( ?)(.*)$")


def _docstrings(tree: ast.Module) -> Iterator[tuple[ast.Constant, tuple[str, ...]]]:
    """Each docstring node with its class path (``()`` for module level and functions)."""

    def walk(body: list[ast.stmt], classes: tuple[str, ...]) -> Iterator[Any]:
        for node in body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (*classes, node.name) if isinstance(node, ast.ClassDef) else classes
                yield from _first(node.body, inner)
                yield from walk(node.body, inner)

    yield from _first(tree.body, ())
    yield from walk(tree.body, ())


def _first(body: list[ast.stmt], classes: tuple[str, ...]) -> Iterator[Any]:
    if body and isinstance(body[0], ast.Expr):
        value = body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield value, classes


def _rewrite_lines(lines: list[str], start: int, end: int, rx: re.Pattern[str], new: str) -> bool:
    changed = False
    for i in range(start, end + 1):
        m = _SOURCE.match(lines[i])
        if m is None:
            continue
        code = rx.sub(new, m.group(4))
        if code != m.group(4):
            lines[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}{code}" + _eol(lines[i])
            changed = True
    return changed


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _imports_name(text: str, name: str) -> bool:
    return bool(re.search(rf"import\s+(?:[\w.,\s]*\b)?{re.escape(name)}\b", text))


def follow_rename(files: RepoFiles, op: Operation, changes: Mapping[str, str]) -> dict[str, str]:
    """``changes`` plus the docstring examples that still call the renamed symbol."""
    new = str(op.params.get("new_name", ""))
    target = resolve_target(RepoIndex(files), op.target)
    if isinstance(target, str) or not new.isidentifier() or target.kind == "module":
        return dict(changes)
    out = dict(changes)
    for path, original in files.sources.items():
        text = out.get(path, original)
        if target.name not in text or ">>>" not in text:
            continue
        updated = _follow_in(text, path, files, target, new)
        if updated is not None:
            out[path] = updated
    return out


def _follow_in(text: str, path: str, files: RepoFiles, target: Target, new: str) -> str | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    old = re.escape(target.name)
    own_module = files.modules.get(path) == target.module
    lines = text.splitlines(keepends=True)
    changed = False
    for node, classes in _docstrings(tree):
        doc = str(node.value)
        if ">>>" not in doc or target.name not in doc:
            continue
        start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        if target.container:
            if ".".join(classes) != target.container:
                continue
            rx = re.compile(rf"(?<=\.){old}(?=\s*\()")
        elif own_module or _imports_name(doc, target.name):
            # a bare name, not a keyword argument of the same spelling (``f(old=1)``)
            bare = rf"(?<![\w.]){old}\b(?!\s*=(?!=))"
            rx = re.compile(rf"{bare}|(?<=\b{re.escape(target.module)}\.){old}\b")
        else:
            rx = re.compile(rf"(?<=\b{re.escape(target.module)}\.){old}\b")
        changed |= _rewrite_lines(lines, start, end, rx, new)
    return "".join(lines) if changed else None


def follow_parameter(files: RepoFiles, op: Operation, changes: Mapping[str, str]) -> dict[str, str]:
    """``changes`` plus docstring examples that pass the renamed parameter by keyword."""
    old, new = str(op.params.get("old", "")), str(op.params.get("new", ""))
    target = resolve_target(RepoIndex(files), op.target)
    if isinstance(target, str) or not (old.isidentifier() and new.isidentifier()):
        return dict(changes)
    name = target.parts[-2] if target.name == "__init__" and len(target.parts) > 1 else target.name
    call = re.compile(rf"\b{re.escape(name)}\s*\(")
    keyword = re.compile(rf"(?<![\w.]){re.escape(old)}(?=\s*=(?!=))")
    out = dict(changes)
    for path, original in files.sources.items():
        text = out.get(path, original)
        if ">>>" not in text or old not in text:
            continue
        lines = text.splitlines(keepends=True)
        changed = False
        for i, line in enumerate(lines):
            m = _SOURCE.match(line)
            if m is None or not call.search(m.group(4)):
                continue
            code = keyword.sub(new, m.group(4))
            if code != m.group(4):
                lines[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}{code}" + _eol(line)
                changed = True
        if changed:
            out[path] = "".join(lines)
    return out
