"""``apply_operation``: run one operation's handler from ``REGISTRY`` and keep the project in
step with it (docstring examples after a rename, ``.pyi`` stubs). Never raises: a crash in a
codemod becomes ``Failed`` with its traceback."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from agent.codemods.base import REGISTRY, Applied, Failed, RepoFiles, Result
from agent.codemods.follow_docs import follow_docs
from agent.codemods.follow_doctests import follow_parameter, follow_rename
from agent.codemods.follow_stubs import follow_stubs
from planner.spec import Operation


def apply_operation(
    files: RepoFiles, op: Operation, slots: Mapping[str, Any] | None = None
) -> Result:
    """Run one operation's handler; an unexpected exception becomes ``Failed`` with its traceback."""
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
    """Keep the project in step: docstring examples and documentation files (rename) and
    ``.pyi`` stubs."""
    changes = dict(result.changes)
    if op.op == "rename":
        changes = follow_docs(files, op, follow_rename(files, op, changes))
    elif op.op == "rename_parameter":
        changes = follow_parameter(files, op, changes)
    changes = follow_stubs(files, op, changes)
    extra = sorted(set(changes) - set(result.changes))
    notes = (*result.notes, *([f"kept in step: {', '.join(extra)}"] if extra else ()))
    return Applied(dict(sorted(changes.items())), notes)
