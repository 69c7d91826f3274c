"""What a signature operation's target names: a function or method, a class or a module.

``resolve_target`` accepts dotted names (re-exports followed, ``click.wrap_text`` →
``click.formatting.wrap_text``), file paths (``pkg/mod.py::Class.method``) and bare
qualnames that are unique in the repository; what it cannot resolve comes back as an error
message for the LLM saying what exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.codemods.index import RepoIndex
from agent.codemods.index.definitions import DefInfo

FILE_TARGET = re.compile(r"^([\w./-]+\.py)(?:::?(.*))?$")  # pkg/mod.py::Class.method


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
    found = resolve_target(index, target)
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


def resolve_target(index: RepoIndex, target: str) -> Target | str:
    """An operation's target, or an error message for the LLM saying what exists."""
    text = target.strip()
    as_path = FILE_TARGET.match(text)
    if as_path and (as_path[1] in index.files.sources or "/" in as_path[1]):
        path, rest = as_path[1], (as_path[2] or "").strip()
        if path not in index.files.sources:
            return f"target {target!r}: no file {path!r} in the repository"
        text = ".".join(p for p in [index.module_of(path), rest] if p)
    if text in index.path_by_module:
        return Target("module", text, index.path_by_module[text], "")
    split = index.split_module(text)
    if split is None:
        return _search(index, target, text)
    name = index.canonical(text)
    split = index.split_module(name)
    assert split is not None
    module, rest = split
    if not rest:
        return Target("module", module, index.path_by_module[module], "")
    info = index.module_definitions(module)
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


def _search(index: RepoIndex, target: str, text: str) -> Target | str:
    """A target without a module prefix: look for a unique definition of that qualname."""
    hits: list[Target] = []
    for path in index.paths_mentioning([text.rsplit(".", 1)[-1]]):
        info = index.definitions(path)
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


def functions_in(index: RepoIndex, target: Target) -> list[DefInfo]:
    """Every function and method defined in a module or class target."""
    info = index.definitions(target.path)
    if info is None:
        return []
    if target.kind == "module":
        return list(info.functions.values())
    prefix = target.local + "."
    return [d for k, d in info.functions.items() if k.startswith(prefix)]
