"""The codemod contract: pure functions from repository sources to changed sources.

Every operation of the spec vocabulary is a handler ``(files, op, slots) -> Result``:
- ``files`` is a ``RepoFiles`` snapshot (relative path → source text, and module names);
- ``op`` is the ``planner.spec.Operation`` (target qualname or module, params);
- ``slots`` carries content only an LLM can know (a docstring's text, a new function's
  source, a rewritten node), already validated as Python where it is code.

Handlers never touch the disk and never raise for expected failures: they return
``Applied`` (the changed files, full new text), ``Failed`` (an error written for the
LLM that will try again: what failed, what succeeded, what to send next) or
``Skipped`` (nothing to do). The drafted, standalone scripts in a patch set call
``apply_to_disk`` through ``agent.codemods.run``.
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


def apply_operation(
    files: RepoFiles, op: Operation, slots: Mapping[str, Any] | None = None
) -> Result:
    """Run one operation's handler; an unexpected exception becomes ``Failed`` with its traceback."""
    import traceback

    handler = REGISTRY.handlers.get(op.op)
    if handler is None:
        return Failed(
            f"no codemod for op {op.op!r}; available: {', '.join(sorted(REGISTRY.handlers))}"
        )
    try:
        result = handler(files, op, slots or {})
        if isinstance(result, Applied):
            result = _follow_up(files, op, result)
        return result
    except Exception as exc:  # a bug in a codemod must not kill the run
        return Failed(
            f"{op.op} on {op.target} crashed: {type(exc).__name__}: {exc}", traceback.format_exc()
        )


def _follow_up(files: RepoFiles, op: Operation, result: Applied) -> Applied:
    """Keep the project in step: docstring examples (rename) and ``.pyi`` stubs."""
    from agent.codemods.follow_doctests import follow_parameter, follow_rename
    from agent.codemods.follow_stubs import follow_stubs

    changes = dict(result.changes)
    if op.op == "rename":
        changes = follow_rename(files, op, changes)
    elif op.op == "rename_parameter":
        changes = follow_parameter(files, op, changes)
    changes = follow_stubs(files, op, changes)
    extra = sorted(set(changes) - set(result.changes))
    notes = (*result.notes, *([f"kept in step: {', '.join(extra)}"] if extra else ()))
    return Applied(dict(sorted(changes.items())), notes)
