"""The codemod contract: pure functions from repository sources to changed sources.

Every operation of the spec vocabulary is a handler ``(files, op, slots) -> Result``:
- ``files`` is a ``RepoFiles`` snapshot (relative path → source text, and module names);
- ``op`` is the ``planner.spec.Operation`` (target qualname or module, params);
- ``slots`` carries content only an LLM can know (a docstring's text, a new function's
  source, a rewritten node), already validated as Python where it is code.

Handlers never touch the disk and never raise for expected failures: they return
``Applied`` (the changed files, full new text), ``Failed`` (an error written for the
LLM that will try again: what failed, what succeeded, what to send next) or
``Skipped`` (nothing to do). ``agent.codemods.apply.apply_operation`` runs one; the
drafted, standalone scripts in a patch set call ``apply_to_disk`` through
``agent.codemods.run``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.spec import Operation


@dataclass(frozen=True)
class RepoFiles:
    """A snapshot of a repository's Python sources."""

    root: Path
    sources: Mapping[str, str]  # posix relpath -> text
    modules: Mapping[str, str]  # posix relpath -> dotted module name

    def path_of(self, module: str) -> str | None:
        for path, name in self.modules.items():
            if name == module:
                return path
        return None

    @classmethod
    def load(cls, root: str | Path) -> RepoFiles:
        """Read every Python file the digest would read (same skip rules)."""
        from planner.digest import strip_src
        from planner.digest_types import module_name
        from planner.files import discover

        root = Path(root).resolve()
        found = discover(root)
        src_layout = strip_src(found)
        sources = {f.relpath: f.text for f in found.files}
        modules = {p: module_name(p, strip_src=src_layout) for p in sources}
        return cls(root=root, sources=sources, modules=modules)


@dataclass(frozen=True)
class Applied:
    changes: Mapping[str, str]  # relpath -> full new text (only files that changed)
    notes: tuple[str, ...] = ()
    status: str = "applied"


@dataclass(frozen=True)
class Failed:
    error: str
    traceback: str | None = None
    status: str = "failed"


@dataclass(frozen=True)
class Skipped:
    reason: str
    status: str = "skipped"


Result = Applied | Failed | Skipped
Handler = Callable[[RepoFiles, Operation, Mapping[str, Any]], Result]


@dataclass
class Registry:
    """op name -> handler, plus which slots each op needs from the LLM."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def register(self, op: str, *, slots: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.handlers[op] = fn
            self.slots[op] = slots
            return fn

        return deco


REGISTRY = Registry()
