"""Codemods whose content comes from the LLM.

- ``edit``: swap in the LLM's new source of one function, method or class;
- ``add_function`` / ``add_method``: insert a new definition the LLM wrote.

``add_decorator`` / ``remove_decorator`` live in ``content.decorators``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.content.members import edit_members, members_source
from agent.codemods.content.spelling import same_hints_kept, used_imports
from agent.codemods.imports import add_import_lines, bound_names
from agent.codemods.nodes import (
    Def,
    Located,
    dotted,
    finish,
    leading_with_comments,
    locate,
    parse_def_source,
)
from planner.spec import Operation

log = logging.getLogger(__name__)

__all__ = ["add_function", "add_method", "edit", "import_lines", "replace_definition"]


def import_lines(value: object) -> list[str]:
    """The ``imports`` slot as a list of lines (a list, or one string with newlines)."""
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return []


def replace_definition(
    files: RepoFiles, loc: Located, source: object, imports: Sequence[str] = ()
) -> Result:
    """Replace ``loc``'s def/class with ``source`` (re-indented, decorators kept if omitted)."""
    old = loc.node
    if old is None:
        return Failed(
            f"{loc.qualname} is a module; this operation rewrites one function, method or "
            "class: target it as module.function or module.Class.method"
        )
    kind = "class" if isinstance(old, cst.ClassDef) else "def"
    parsed = parse_def_source(
        source,
        name=old.name.value,
        what=f"the complete new source of {loc.qualname}",
        steps=loc.steps(),
        kind=kind,
    )
    if isinstance(parsed, Failed):
        return parsed
    new: Def = parsed.node
    notes = [loc.note]
    if not new.decorators and old.decorators:
        new = new.with_changes(
            decorators=old.decorators, lines_after_decorators=old.lines_after_decorators
        )
        kept = ", ".join("@" + (dotted(d.decorator) or "?") for d in old.decorators)
        notes.append(f"kept the original decorators of {loc.qualname} ({kept})")
    new = new.with_changes(
        leading_lines=leading_with_comments(old.leading_lines, new.leading_lines)
    )
    lines = [*imports, *parsed.imports]
    if isinstance(old, cst.FunctionDef) and isinstance(new, cst.FunctionDef):
        new = same_hints_kept(old, new)
        lines = used_imports(lines, new)
    if new.deep_equals(old):
        return Skipped(f"the new source of {loc.qualname} is the same as the current one")
    module = loc.module.deep_replace(old, new)
    assert isinstance(module, cst.Module)
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, notes)


@REGISTRY.register("edit", slots=("source", "imports"))
def edit(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Replace one function, method or class with the LLM's complete new source."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    imports = import_lines(slots.get("imports"))
    if isinstance(loc.node, cst.ClassDef):
        members = members_source(slots.get("source"), loc.node.name.value)
        if members is not None:
            return edit_members(files, loc, members, imports)
    return replace_definition(files, loc, slots.get("source"), imports)


def _main_guard_index(body: Sequence[cst.BaseStatement]) -> int:
    """Index of a trailing ``if __name__ == "__main__":`` block, else ``len(body)``."""
    for i in range(len(body) - 1, -1, -1):
        stmt = body[i]
        if isinstance(stmt, cst.If) and "__name__" in cst.Module([]).code_for_node(stmt.test):
            return i
    return len(body)


def _blank_lines(node: Def, count: int) -> Def:
    comments = [line for line in node.leading_lines if line.comment is not None]
    return node.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * count + comments)


def _new_name(op: Operation) -> str | Failed:
    name = op.params.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        return Failed(f"{op.op} on {op.target} needs param `name`: the new definition's name")
    return name


@REGISTRY.register("add_function", slots=("source", "imports"))
def add_function(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Insert a new module-level function (before an ``if __name__ == "__main__":`` block)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    if loc.node is not None:
        return Failed(
            f"add_function targets a module; {op.target} is a definition inside "
            f"{loc.module_name}: use add_method to add to a class, or target {loc.module_name}"
        )
    name = _new_name(op)
    if isinstance(name, Failed):
        return name
    if name in bound_names(loc.module.body):
        return Failed(
            f"`{name}` already exists in {loc.module_name}; use `edit` on "
            f"{loc.module_name}.{name} to change it, or choose another name"
        )
    parsed = parse_def_source(
        slots.get("source"), name=name, what=f"the new function for {loc.module_name}", kind="def"
    )
    if isinstance(parsed, Failed):
        return parsed
    body = list(loc.module.body)
    at = _main_guard_index(body)
    new = _blank_lines(parsed.node, 2 if at else 0)
    if at < len(body):
        guard = body[at]
        assert isinstance(guard, cst.If)
        if sum(1 for line in guard.leading_lines if line.comment is None) < 2:
            body[at] = guard.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * 2)
    module = loc.module.with_changes(body=[*body[:at], new, *body[at:]])
    lines = [*import_lines(slots.get("imports")), *parsed.imports]
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module)


def _is_placeholder(stmt: cst.BaseStatement) -> bool:
    """A class body statement that only holds the place (``pass`` or ``...``)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    return isinstance(small, cst.Pass) or (
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis)
    )


@REGISTRY.register("add_method", slots=("source", "imports"))
def add_method(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Append a new method to a class, at the class body's indentation."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    cls = loc.node
    if not isinstance(cls, cst.ClassDef):
        return Failed(
            f"add_method targets a class; {op.target} is "
            f"{'a module' if cls is None else 'a function'}: name the class as module.Class"
        )
    name = _new_name(op)
    if isinstance(name, Failed):
        return name
    if isinstance(cls.body, cst.IndentedBlock):
        stmts = list(cls.body.body)
        block = cls.body
    else:
        assert isinstance(cls.body, cst.SimpleStatementSuite)
        stmts = [cst.SimpleStatementLine(body=cls.body.body)]
        block = cst.IndentedBlock(body=[])
    if name in bound_names(stmts):
        return Failed(
            f"{loc.qualname} already has `{name}`; use `edit` on {loc.qualname}.{name} "
            "to change it, or choose another name"
        )
    parsed = parse_def_source(
        slots.get("source"),
        name=name,
        what=f"the new method of {loc.qualname}",
        steps=loc.steps(body=True),
        kind="def",
    )
    if isinstance(parsed, Failed):
        return parsed
    if len(stmts) == 1 and _is_placeholder(stmts[0]):
        stmts = [_blank_lines(parsed.node, 0)]
    else:
        stmts.append(_blank_lines(parsed.node, 1))
    module = loc.module.deep_replace(cls, cls.with_changes(body=block.with_changes(body=stmts)))
    assert isinstance(module, cst.Module)
    lines = [*import_lines(slots.get("imports")), *parsed.imports]
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, [loc.note])
