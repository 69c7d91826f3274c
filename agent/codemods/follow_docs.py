"""A rename follows the symbol into the project's documentation files.

``.rst``, ``.md`` and ``.txt`` files under the repository (README, ``docs/``) that name the
renamed symbol change with the code, in the places where a name is unambiguous code:

- a dotted path through the defining module or one of its parent packages
  (``pkg.mod.Old`` / ``pkg.Old`` → ``…New``; ``pkg.mod.Class.old`` for a method);
- a Sphinx cross-reference (``:func:`Old```, ``:class:`~pkg.Old```, ``.. autofunction::
  pkg.mod.Old``);
- a code span or ``>>>`` line that is the name or calls it (`` `Old` ``, `` `Old(x)` ``,
  ``>>> Old(1)``).

Prose words and history files (CHANGES, CHANGELOG, HISTORY, NEWS: they record what the
name *was*) never change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from agent.codemods.base import RepoFiles
from agent.codemods.index import RepoIndex
from agent.codemods.rename.target import resolve_target
from planner.spec import Operation

DOC_SUFFIXES = (".rst", ".md", ".txt")
_HISTORY = re.compile(r"^(changes|changelog|history|news|release[-_ ]?notes)", re.I)
_SKIP_DIRS = {".git", ".autopatches", ".agent_data", "node_modules", "build", "dist", ".tox"}
MAX_DOC_BYTES = 2_000_000


def doc_files(root: Path) -> list[str]:
    """Posix relpaths of the documentation files under ``root`` (no history files)."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            continue
        if path.suffix.lower() not in DOC_SUFFIXES or _HISTORY.match(path.name):
            continue
        if path.is_file() and path.stat().st_size <= MAX_DOC_BYTES:
            out.append(rel.as_posix())
    return out


def follow_docs(files: RepoFiles, op: Operation, changes: Mapping[str, str]) -> dict[str, str]:
    """``changes`` plus the documentation files that name the renamed symbol."""
    new = str(op.params.get("new_name", ""))
    target = resolve_target(RepoIndex(files), op.target)
    if isinstance(target, str) or not new.isidentifier() or target.kind == "module":
        return dict(changes)
    old = target.name
    member = ".".join(target.parts)  # `Class.old` for a method, `old` at module level
    packages = target.module.split(".")
    prefixes = [".".join(packages[:i]) for i in range(len(packages), 0, -1)]
    dotted = "|".join(re.escape(f"{p}.{member}") for p in prefixes)
    rules = [
        # a dotted path through the module or a parent package
        (re.compile(rf"(?<![\w.])(~?)({dotted})\b"), lambda m: m.group(1) + _swap(m.group(2))),
        # a Sphinx role naming it bare or as Class.old
        (
            re.compile(rf"(:\w+:`~?)({re.escape(member)})`"),
            lambda m: m.group(1) + _swap(m.group(2)) + "`",
        ),
        # a code span that is the name, or calls it
        (
            re.compile(rf"(?<!`)`({re.escape(member)})(\(.*?\))?`(?!`)"),
            lambda m: "`" + _swap(m.group(1)) + (m.group(2) or "") + "`",
        ),
        # a doctest line calling it by its bare name
        (re.compile(rf"^(\s*(?:>>>|\.\.\.) .*?)(?<![\w.]){re.escape(old)}(?=\()", re.M), None),
    ]

    def _swap(text: str) -> str:
        return text[: len(text) - len(old)] + new

    out = dict(changes)
    for rel in doc_files(files.root):
        try:
            text = (files.root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if old not in text:
            continue
        updated = text
        for rx, swap in rules:
            if swap is None:
                updated = rx.sub(lambda m: m.group(1) + new, updated)
            else:
                updated = rx.sub(swap, updated)
        if updated != text:
            out[rel] = updated
    return out
