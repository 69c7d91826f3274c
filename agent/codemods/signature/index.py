"""What the signature codemods know about a repository: definitions, classes, imports.

``RepoIndex`` scans the files of a ``RepoFiles`` snapshot lazily (``signature.scan``,
with ``ast``: a file is read only when one of its names is asked about, or when a
regular expression says it may mention what is searched for) and answers the
questions the call-site rewriters ask:

- ``canonical(name)``: follow re-exports (``click.wrap_text`` → ``click.formatting.wrap_text``);
- ``lookup(cls, attr)``: which class of the (depth-first approximated) MRO defines ``attr``;
- ``family(cls)``: a class and every subclass of it in the repository;
- ``resolve_target(text)``: an operation's target as a function, a class or a module.

The codemods get qualified names from LibCST's ``QualifiedNameProvider``;
``absolute_name`` makes them absolute against the module they appear in, so relative
imports resolve like the interpreter would, and ``canonical`` follows them home.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import QualifiedName, QualifiedNameSource

from agent.codemods.base import RepoFiles
from agent.codemods.signature.scan import ClassInfo, DefInfo, ModuleInfo, scan_module

__all__ = ["DefInfo", "RepoIndex", "Target", "absolute_name", "decorator_kind", "function_target"]
from planner.digest_types import absolute_module

log = logging.getLogger(__name__)

MAX_ALIAS_HOPS = 8
FILE_TARGET = re.compile(r"^([\w./-]+\.py)(?:::?(.*))?$")  # pkg/mod.py::Class.method


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


class RepoIndex:
    """Lazily scanned view of a ``RepoFiles`` snapshot, shared by one operation's codemods."""

    def __init__(self, files: RepoFiles) -> None:
        self.files = files
        self.path_by_module = {m: p for p, m in sorted(files.modules.items())}
        self._infos: dict[str, ModuleInfo | None] = {}

    # -- files and modules -------------------------------------------------------------

    def is_package(self, path: str) -> bool:
        return path == "__init__.py" or path.endswith("/__init__.py")

    def module_of(self, path: str) -> str:
        return self.files.modules.get(path) or path.removesuffix(".py").replace("/", ".")

    def info(self, path: str) -> ModuleInfo | None:
        """The parsed module at ``path`` (None when it does not parse)."""
        if path not in self._infos:
            self._infos[path] = self._parse(path)
        return self._infos[path]

    def _parse(self, path: str) -> ModuleInfo | None:
        return scan_module(
            path, self.module_of(path), self.is_package(path), self.files.sources[path]
        )

    def paths_matching(self, patterns: Iterable[str]) -> list[str]:
        """Files whose text matches any of the regular expressions (cheap pre-filter)."""
        wanted = [re.compile(p) for p in set(patterns) if p]
        return sorted(
            p for p, text in self.files.sources.items() if any(w.search(text) for w in wanted)
        )

    def paths_mentioning(self, names: Iterable[str]) -> list[str]:
        """Files that contain any of ``names`` as a word."""
        return self.paths_matching(rf"\b{re.escape(n)}\b" for n in names if n)

    def split_module(self, name: str) -> tuple[str, list[str]] | None:
        """``pkg.mod.C.m`` → (``pkg.mod``, [``C``, ``m``]) for the longest known module prefix."""
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module in self.path_by_module:
                return module, parts[cut:]
        return None

    def module_info(self, module: str) -> ModuleInfo | None:
        path = self.path_by_module.get(module)
        return self.info(path) if path is not None else None

    # -- names ------------------------------------------------------------------------

    def canonical(self, name: str) -> str:
        """Follow imports and re-exports to where ``name`` is defined (unchanged if unknown)."""
        for _ in range(MAX_ALIAS_HOPS):
            split = self.split_module(name)
            if split is None or not split[1]:
                return name
            module, rest = split
            info = self.module_info(module)
            if info is None or rest[0] in info.defined:
                return name
            target = info.imports.get(rest[0])
            if target is None or target == name:
                return name
            name = ".".join([target, *rest[1:]])
        return name

    def class_info(self, name: str) -> ClassInfo | None:
        split = self.split_module(self.canonical(name))
        if split is None or not split[1]:
            return None
        info = self.module_info(split[0])
        return info.classes.get(".".join(split[1])) if info else None

    def def_info(self, qualname: str) -> DefInfo | None:
        split = self.split_module(qualname)
        if split is None or not split[1]:
            return None
        info = self.module_info(split[0])
        return info.functions.get(".".join(split[1])) if info else None

    def lookup(self, cls: str, attr: str) -> str | None:
        """The class (absolute qualname) whose body defines ``attr`` first in ``cls``'s MRO."""
        seen: set[str] = set()

        def walk(name: str) -> str | None:
            info = self.class_info(name)
            if info is None or info.qualname in seen:
                return None
            seen.add(info.qualname)
            if attr in info.attrs:
                return info.qualname
            for base in info.bases:
                found = walk(base)
                if found is not None:
                    return found
            return None

        return walk(cls)

    def lookup_after(self, cls: str, attr: str) -> str | None:
        """Like ``lookup`` but starting after ``cls`` (what ``super().attr`` finds)."""
        info = self.class_info(cls)
        if info is None:
            return None
        for base in info.bases:
            found = self.lookup(base, attr)
            if found is not None:
                return found
        return None

    def family(self, cls: str) -> set[str]:
        """``cls`` and its subclasses in the repository (absolute qualnames)."""
        info = self.class_info(cls)
        if info is None:
            return set()
        members = {info.qualname}
        scanned: set[str] = set()
        while True:
            names = sorted({re.escape(m.rsplit(".", 1)[-1]) for m in members})
            subclassing = rf"class\s+\w+\s*\([^)]*\b({'|'.join(names)})\b"
            todo = [p for p in self.paths_matching([subclassing]) if p not in scanned]
            if not todo:
                return members
            for path in todo:
                scanned.add(path)
                module_info = self.info(path)
                for klass in module_info.classes.values() if module_info else ():
                    if any(self.canonical(b) in members for b in klass.bases):
                        members.add(klass.qualname)

    def call_pattern(self, target: DefInfo) -> str:
        """A regular expression that every file calling ``target`` matches.

        A function is called through its name or an alias of it (the import names it); a
        method through an attribute (``.m(``); ``__init__`` through the class or a
        subclass (``C(...)``, ``C.__init__``, ``super()`` inside ``class D(C)``)."""
        if target.name == "__init__" and target.owner is not None:
            names = sorted({re.escape(c.rsplit(".", 1)[-1]) for c in self.family(target.owner)})
            return rf"\b({'|'.join(names)})\b"
        if target.owner is not None:
            return rf"\.\s*{re.escape(target.name)}\s*\("
        return rf"\b{re.escape(target.name)}\b"

    # -- operation targets ------------------------------------------------------------

    def resolve_target(self, target: str) -> Target | str:
        """An operation's target, or an error message for the LLM saying what exists."""
        text = target.strip()
        as_path = FILE_TARGET.match(text)
        if as_path and (as_path[1] in self.files.sources or "/" in as_path[1]):
            path, rest = as_path[1], (as_path[2] or "").strip()
            if path not in self.files.sources:
                return f"target {target!r}: no file {path!r} in the repository"
            text = ".".join(p for p in [self.module_of(path), rest] if p)
        if text in self.path_by_module:
            return Target("module", text, self.path_by_module[text], "")
        split = self.split_module(text)
        if split is None:
            return self._search(target, text)
        name = self.canonical(text)
        split = self.split_module(name)
        assert split is not None
        module, rest = split
        if not rest:
            return Target("module", module, self.path_by_module[module], "")
        info = self.module_info(module)
        local = ".".join(rest)
        if info is None:
            return f"target {target!r}: module {module!r} does not parse"
        if local in info.functions:
            return Target("function", module, info.path, local)
        if local in info.classes:
            return Target("class", module, info.path, local)
        known = sorted([*info.functions, *info.classes])
        known = [k for k in known if "<locals>" not in k]
        return (
            f"target {target!r} not found: module {module!r} ({info.path}) defines no {local!r}. "
            f"It defines: {', '.join(known[:40]) or 'no functions or classes'}"
        )

    def _search(self, target: str, text: str) -> Target | str:
        """A target without a module prefix: look for a unique definition of that qualname."""
        hits: list[Target] = []
        for path in self.paths_mentioning([text.rsplit(".", 1)[-1]]):
            info = self.info(path)
            if info is None:
                continue
            if text in info.functions:
                hits.append(Target("function", info.module, path, text))
            elif text in info.classes:
                hits.append(Target("class", info.module, path, text))
        if len(hits) == 1:
            return hits[0]
        if hits:
            names = ", ".join(f"{h.module}.{h.local}" for h in hits)
            return f"target {target!r} is ambiguous; send one of: {names}"
        return (
            f"target {target!r} not found: no module of the repository starts it and no "
            "function or class has that name; send the dotted path (package.module.Class.method)"
        )

    def functions_in(self, target: Target) -> list[DefInfo]:
        """Every function and method defined in a module or class target."""
        info = self.info(target.path)
        if info is None:
            return []
        if target.kind == "module":
            return list(info.functions.values())
        prefix = target.local + "."
        return [d for k, d in info.functions.items() if k.startswith(prefix)]


@dataclass(frozen=True)
class Target:
    """A resolved operation target: a function/method, a class or a module."""

    kind: str  # function | class | module
    module: str
    path: str
    local: str

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.local}" if self.local else self.module


def function_target(index: RepoIndex, target: str) -> DefInfo | str:
    """The function or method an op names (a class means its ``__init__``), or an error."""
    found = index.resolve_target(target)
    if isinstance(found, str):
        return found
    if found.kind == "module":
        return (
            f"target {target!r} is a module; this operation needs a function, a method "
            "(module.Class.method) or a class (its __init__)"
        )
    if found.kind == "class":
        info = index.def_info(f"{found.qualname}.__init__")
        if info is None:
            owner = index.lookup(found.qualname, "__init__")
            hint = (
                f"; it inherits __init__ from {owner}, target that class instead"
                if owner
                else "; it has no __init__ of its own"
            )
            return f"class {found.qualname} does not define __init__{hint}"
        return info
    info = index.def_info(found.qualname)
    assert info is not None
    return info
