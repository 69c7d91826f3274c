"""Shared pieces of the structure codemods: targets, imports and the import graph.

Everything here is pure: functions from LibCST trees or source text to new trees, tables or
messages. ``structure.move``, ``structure.constant`` and ``structure.helper`` build on it.
"""

from __future__ import annotations

import ast
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import Codemod, TransformFailure, TransformSuccess, transform_module
from libcst.helpers import get_full_name_for_node

from agent.codemods.base import RepoFiles
from agent.codemods.nodes import close_hint

logger = logging.getLogger(__name__)

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y"})


class CodemodError(Exception):
    """An expected failure found deep in a codemod; its message is written for the LLM."""


def as_bool(value: object, *, default: bool) -> bool:
    """A spec param as a bool (YAML gives bools, the LLM sometimes strings)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def is_package_path(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def parse_module(text: str, path: str) -> cst.Module:
    """Parse ``text``; a syntax error becomes a ``CodemodError`` naming the file."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise CodemodError(
            f"{path} does not parse ({exc.message} at line {exc.raw_line}); "
            "fix the syntax error before restructuring it"
        ) from None


def transform_or_raise(command: Codemod, code: str, path: str) -> str:
    """Run one LibCST codemod command over ``code`` through ``transform_module``."""
    result = transform_module(command, code)
    if isinstance(result, TransformSuccess):
        return result.code
    if isinstance(result, TransformFailure):
        if isinstance(result.error, CodemodError):
            raise result.error
        raise CodemodError(f"{type(command).__name__} failed on {path}: {result.error}")
    return code


@dataclass(frozen=True)
class ModuleRef:
    """One module of the repository."""

    path: str
    name: str

    @property
    def is_package(self) -> bool:
        return is_package_path(self.path)

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def module_ref(files: RepoFiles, dotted_or_path: str) -> ModuleRef | None:
    """The module named by a dotted name or a relative path, if the repository has it."""
    if dotted_or_path in files.modules:
        return ModuleRef(dotted_or_path, files.modules[dotted_or_path])
    path = files.path_of(dotted_or_path)
    return ModuleRef(path, dotted_or_path) if path is not None else None


def split_target(files: RepoFiles, target: str) -> tuple[ModuleRef, str] | str:
    """``pkg.a.sym.attr`` → (module ``pkg.a``, ``"sym.attr"``), or an error message."""
    target = target.strip()
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        ref = module_ref(files, ".".join(parts[:cut]))
        if ref is not None:
            return ref, ".".join(parts[cut:])
    direct = module_ref(files, target)
    if direct is not None:
        return direct, ""
    return f"no module of this repository contains {target!r}" + close_hint(
        target.rpartition(".")[0] or target, files.modules.values()
    )


# ---------------------------------------------------------------- imports


def resolve_from(importer: ModuleRef, level: int, module: str | None) -> str | None:
    """The absolute module a ``from`` import names (``level`` leading dots)."""
    if level == 0:
        return module
    base = importer.package.split(".") if importer.package else []
    if level - 1 > len(base):
        return None
    parts = base[: len(base) - (level - 1)] + (module.split(".") if module else [])
    return ".".join(parts) or None


def from_target(node: cst.ImportFrom, importer: ModuleRef) -> str | None:
    module = get_full_name_for_node(node.module) if node.module is not None else None
    return resolve_from(importer, len(node.relative), module)


def relative_spec(target: str, importer: ModuleRef) -> tuple[int, str] | None:
    """(level, rest) to import ``target`` relatively from ``importer``; None if impossible."""
    pkg = importer.package.split(".") if importer.package else []
    tgt = target.split(".")
    common = 0
    while common < min(len(pkg), len(tgt)) and pkg[common] == tgt[common]:
        common += 1
    if common == 0:
        return None
    return len(pkg) - common + 1, ".".join(tgt[common:])


def alias_code(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname and asname != name else name


def make_from_import(
    target: str, names: Sequence[tuple[str, str | None]], importer: ModuleRef, *, relative: bool
) -> cst.SimpleStatementLine:
    """``from <target> import a, b as c`` written relatively when asked and possible."""
    spec = relative_spec(target, importer) if relative else None
    module = f"{'.' * spec[0]}{spec[1]}" if spec else target
    listed = ", ".join(alias_code(n, a) for n, a in names)
    stmt = cst.parse_statement(f"from {module} import {listed}\n")
    assert isinstance(stmt, cst.SimpleStatementLine)
    return stmt


# ---------------------------------------------------------------- import graph


def _runtime_imports(stmts: Iterable[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports executed when the module is imported (not in defs, not under TYPE_CHECKING)."""
    for stmt in stmts:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield stmt
        elif isinstance(stmt, ast.If):
            test = ast.unparse(stmt.test)
            if test.rpartition(".")[2] != "TYPE_CHECKING":
                yield from _runtime_imports(stmt.body)
            yield from _runtime_imports(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for part in (stmt.body, stmt.orelse, stmt.finalbody):
                yield from _runtime_imports(part)
            for handler in stmt.handlers:
                yield from _runtime_imports(handler.body)
        elif isinstance(stmt, ast.With):
            yield from _runtime_imports(stmt.body)


def import_graph(files: RepoFiles, overrides: Mapping[str, str]) -> dict[str, set[str]]:
    """module → repository modules it imports at import time (parents not counted)."""
    names = set(files.modules.values())
    graph: dict[str, set[str]] = {}
    for path, name in files.modules.items():
        text = overrides.get(path, files.sources.get(path, ""))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        ref = ModuleRef(path, name)
        edges: set[str] = set()
        for node in _runtime_imports(tree.body):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in names)
                continue
            base = resolve_from(ref, node.level, node.module)
            if base is None:
                continue
            if base in names:
                edges.add(base)
            edges.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in names)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_path(graph: Mapping[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest import chain ``start → … → goal``, or None."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            chain = [node]
            while (back := previous[chain[-1]]) is not None:
                chain.append(back)
            return chain[::-1]
        for nxt in sorted(graph.get(node, ())):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def new_cycle(before: Mapping[str, set[str]], after: Mapping[str, set[str]]) -> list[str] | None:
    """An import cycle that a new edge of ``after`` closes, as a chain, or None."""
    for module, targets in sorted(after.items()):
        for target in sorted(targets - before.get(module, set())):
            back = find_path(after, target, module)
            if back is not None:
                return [module, *back]
    return None
