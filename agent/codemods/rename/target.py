"""What an operation's target qualname points at: ``resolve_target``.

A qualname is split at the longest module prefix the repository has; the rest
names a module-level symbol or a class member. A re-exported name is followed to
its definition. When nothing matches, the error lists the names that do exist
(and the closest ones) so the LLM can send a corrected target.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from agent.codemods.index import RepoIndex


@dataclass(frozen=True)
class Target:
    """What a qualname points at."""

    qualname: str
    module: str
    path: str
    parts: tuple[str, ...]  # (name,) for a top-level symbol, (Class, ..., member) otherwise
    kind: str
    note: str = ""

    @property
    def name(self) -> str:
        """The last part: the symbol's own name."""
        return self.parts[-1]

    @property
    def container(self) -> str:
        """The class path holding a member (empty for a module-level symbol)."""
        return ".".join(self.parts[:-1])


def _listing(names: Iterable[str], wanted: str, limit: int = 40) -> str:
    names = sorted(set(names))
    close = difflib.get_close_matches(wanted, names, n=3)
    shown = ", ".join(names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "")
    hint = f"; closest: {', '.join(close)}" if close else ""
    return (shown or "(none)") + hint


def split_module(index: RepoIndex, qualname: str) -> tuple[str, list[str]] | None:
    """The longest repository module prefix of ``qualname`` and the remaining parts."""
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in index.by_module:
            return module, parts[cut:]
    return None


def resolve_target(
    index: RepoIndex, qualname: str, _seen: frozenset[str] = frozenset()
) -> Target | str:
    """The symbol ``qualname`` names, or an error message for the LLM."""
    split = split_module(index, qualname)
    if split is None:
        head = qualname.rpartition(".")[0] or qualname
        return (
            f"{qualname} was not found: no module {head} in the repository; modules: "
            f"{_listing(index.by_module, head, 25)}. Send the symbol's full dotted name, "
            "e.g. pkg.module.function or pkg.module.Class.method."
        )
    module, rest = split
    path = index.by_module[module]
    info = index.bindings(path)
    if info is None:
        return f"{qualname} was not found: {path} is not valid Python, so it cannot be read."
    if not rest:
        return f"{qualname} is a module ({path}); name a function, class, method or variable in it."
    first = rest[0]
    if first not in info.bound():
        missing = f"no module {module}.{first} and " if len(rest) > 1 else ""
        return (
            f"{qualname} was not found: {missing}no top-level name {first} in {path}; defined "
            f"names: {_listing(info.bound(), first)}."
        )
    if first in info.from_imports and first not in info.defs:
        src, orig = info.from_imports[first]
        if src not in index.by_module or qualname in _seen:
            return (
                f"{qualname} was not found in the repository: {path} imports {first} from {src}, "
                "which is not part of this repository."
            )
        if orig != first:
            return (
                f"{module}.{first} is an alias of {src}.{orig} (`import {orig} as {first}` in "
                f"{path}); rename {src}.{orig}, or edit that import."
            )
        followed = resolve_target(index, ".".join([src, orig, *rest[1:]]), _seen | {qualname})
        if isinstance(followed, Target) and not followed.note:
            note = f"{qualname} is re-exported from {src}; renamed at its definition {followed.qualname}"
            return Target(
                followed.qualname,
                followed.module,
                followed.path,
                followed.parts,
                followed.kind,
                note,
            )
        return followed
    if len(rest) == 1:
        return Target(qualname, module, path, (first,), info.defs.get(first, "variable"))
    classpath = ".".join(rest[:-1])
    cls = info.classes.get(classpath)
    if cls is None:
        return (
            f"{qualname} was not found: {module}.{classpath} is not a class in {path}; classes: "
            f"{_listing(info.classes, classpath)}."
        )
    member = rest[-1]
    if member not in cls.members and member not in cls.self_attrs:
        return (
            f"{qualname} was not found: class {module}.{classpath} ({path}) has no attribute "
            f"{member}; its methods and attributes: {_listing(set(cls.members) | cls.self_attrs, member)}."
        )
    return Target(qualname, module, path, tuple(rest), cls.members.get(member, "attribute"))
