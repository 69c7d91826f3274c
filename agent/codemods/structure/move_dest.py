"""The destination side of move_symbol: what the moved code needs there, and the new text.

``build_destination`` removes a now-redundant import of the symbol, appends the definition
(before a trailing ``if __name__ == "__main__":``), copies TypeVars / loggers, and adds the
imports the moved code needs — type-checking-only ones under ``if TYPE_CHECKING:``. Names the
source module defines are imported back from it only when that cannot close an import cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ClassScope, GlobalScope, ImportAssignment

from agent.codemods.base import RepoFiles
from agent.codemods.structure.deps import Analysed, Carried, Needs, alias_for, node_ids
from agent.codemods.structure.imports import (
    BLANK,
    add_future_annotations,
    add_type_checking_imports,
    has_future_annotations,
    import_region_end,
    insert_imports,
    main_guard_index,
    small_statements,
    uses_relative_imports,
    with_gap,
    without_aliases,
)
from agent.codemods.structure.shared import (
    CodemodError,
    ModuleRef,
    alias_code,
    from_target,
    make_from_import,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveRequest:
    """The resolved request."""

    files: RepoFiles
    src: Analysed
    dst: Analysed
    sym: str
    reexport: bool
    first_party: frozenset[str]


def dest_binding(dst: Analysed, name: str) -> list[Any]:
    """The module-level bindings of ``name`` in the destination (LibCST assignments)."""
    return list(dst.scope.assignments[name]) if name in dst.scope else []


def import_identity(node: cst.CSTNode, name: str, ref: ModuleRef) -> tuple[str, ...] | None:
    """What an import binding of ``name`` points at: (module, attribute) or (module,)."""
    if not isinstance(node, cst.Import | cst.ImportFrom):
        return None
    alias = alias_for(node, name)
    if alias is None:
        return None
    full = get_full_name_for_node(alias.name) or ""
    if isinstance(node, cst.Import):
        return (full,)
    base = from_target(node, ref)
    return (base or "", full)


def _want_relative(move: MoveRequest, target: str, was_relative: bool) -> bool:
    if target.split(".")[0] not in move.first_party:
        return False
    dst_module = move.dst.module
    if uses_relative_imports(dst_module):
        return True
    return was_relative and not any(
        isinstance(s, cst.SimpleStatementLine)
        and any(isinstance(x, cst.ImportFrom) and not x.relative for x in s.body)
        for s in dst_module.body
    )


def _carried_import(move: MoveRequest, carried: Carried) -> cst.SimpleStatementLine | None:
    """The import line the destination needs for ``carried`` (None when it already has it)."""
    src, dst = move.src, move.dst
    node, alias, name = carried.node, carried.alias, carried.name
    full = get_full_name_for_node(alias.name) or ""
    identity = (full,) if isinstance(node, cst.Import) else (from_target(node, src.ref) or "", full)
    bound = dest_binding(dst, name)
    if identity[0] == dst.ref.name and len(identity) == 2:
        if bound:
            return None
        raise CodemodError(
            f"{src.ref.name} imports `{name}` from {dst.ref.name}, but {dst.ref.name} does not "
            "bind it at module level; define it there first"
        )
    plain_imports = all(
        isinstance(b, ImportAssignment) and isinstance(b.node, cst.Import) for b in bound
    )
    if any(
        isinstance(b, ImportAssignment) and import_identity(b.node, name, dst.ref) == identity
        for b in bound
    ):
        return None
    if bound and not (isinstance(node, cst.Import) and alias.asname is None and plain_imports):
        raise CodemodError(
            f"`{move.sym}` uses `{name}` (imported from {identity[0]} in {src.ref.name}), but "
            f"{dst.ref.name} already binds `{name}` to something else; rename one of them first"
        )
    asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
    if isinstance(node, cst.Import):
        stmt = cst.parse_statement(f"import {alias_code(full, asname)}\n")
        assert isinstance(stmt, cst.SimpleStatementLine)
        return stmt
    relative = _want_relative(move, identity[0], bool(node.relative))
    return make_from_import(identity[0], [(full, asname)], dst.ref, relative=relative)


def _local_imports(
    move: MoveRequest, needs: Needs, imports_dest: bool, lazy_ok: bool
) -> tuple[list[cst.SimpleStatementLine], list[cst.SimpleStatementLine]]:
    """Imports of names the source defines: (runtime, type-checking only)."""
    src, dst = move.src, move.dst
    runtime, checking, blocked = [], [], []
    for name, annotation_only in sorted(needs.local.items()):
        for binding in dest_binding(dst, name):
            if import_identity(binding.node, name, dst.ref) != (src.ref.name, name):
                raise CodemodError(
                    f"`{move.sym}` uses `{name}` from {src.ref.name}, but {dst.ref.name} "
                    f"already binds `{name}` to something else; rename one of them first"
                )
        if dest_binding(dst, name):
            continue
        relative = _want_relative(move, src.ref.name, uses_relative_imports(src.module))
        line = make_from_import(src.ref.name, [(name, None)], dst.ref, relative=relative)
        if annotation_only and lazy_ok:
            checking.append(line)
        elif imports_dest:
            blocked.append(name)
        else:
            runtime.append(line)
    if blocked:
        listed = ", ".join(f"`{n}`" for n in blocked)
        raise CodemodError(
            f"`{move.sym}` uses {listed}, defined in {src.ref.name}. After the move "
            f"{src.ref.name} imports `{move.sym}` from {dst.ref.name} (re-export), so "
            f"{dst.ref.name} importing {listed} back from {src.ref.name} would be a circular "
            f"import. Move {listed} first (move_symbol {src.ref.name}.{blocked[0]} to "
            f"{dst.ref.name}), then move `{move.sym}`; nothing was changed."
        )
    return runtime, checking


class _Rebase(cst.CSTTransformer):
    """Rewrite relative imports inside moved code for their new module."""

    def __init__(self, move: MoveRequest) -> None:
        super().__init__()
        self.move = move

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        if not updated_node.relative or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        target = from_target(updated_node, self.move.src.ref)
        if target is None or target == from_target(updated_node, self.move.dst.ref):
            return updated_node
        names = [
            (
                get_full_name_for_node(a.name) or "",
                get_full_name_for_node(a.asname.name) if a.asname else None,
            )
            for a in updated_node.names
        ]
        line = make_from_import(target, names, self.move.dst.ref, relative=True)
        new = line.body[0]
        assert isinstance(new, cst.ImportFrom)
        return new


def build_destination(
    move: MoveRequest, moved: list[int], needs: Needs, imports_dest: bool, notes: list[str]
) -> str:
    src, dst, sym = move.src, move.dst, move.sym
    body: list[cst.BaseStatement | None] = list(dst.module.body)
    drop: dict[int, list[cst.ImportAlias]] = {}
    first_use = len(body)
    stmt_ids: list[set[int]] = []
    for binding in dest_binding(dst, sym):
        if import_identity(binding.node, sym, dst.ref) != (src.ref.name, sym):
            raise CodemodError(
                f"{dst.ref.name} already defines `{sym}`; rename one of them or remove it first"
            )
        index = next(
            i for i, s in enumerate(dst.module.body) if binding.node in small_statements(s)
        )
        alias = alias_for(binding.node, sym)
        assert alias is not None
        drop.setdefault(index, []).append(alias)
        stmt_ids = stmt_ids or [node_ids([s]) for s in dst.module.body]
        for access in binding.references:
            if isinstance(access.scope, GlobalScope | ClassScope):
                used = [i for i, ids in enumerate(stmt_ids) if id(access.node) in ids]
                first_use = min([first_use, *used])
    if any(isinstance(dst.module.body[i], cst.If | cst.Try) for i in drop):
        raise CodemodError(
            f"{dst.ref.name} imports `{sym}` from {src.ref.name} inside a block; "
            "remove that import first"
        )
    for index, aliases in drop.items():
        line = dst.module.body[index]
        assert isinstance(line, cst.SimpleStatementLine)
        body[index] = without_aliases(line, *aliases)
    if drop:
        notes.append(f"removed the now-redundant `{sym}` import from {dst.ref.name}")
    moved_stmts = [
        s
        for i in moved
        if isinstance(s := src.module.body[i].visit(_Rebase(move)), cst.BaseStatement)
    ]
    lazy = has_future_annotations(dst.module) or has_future_annotations(src.module)
    runtime_local, checking_local = _local_imports(move, needs, imports_dest, lazy)
    pos = min(first_use, main_guard_index(dst.module.body))
    head = moved_stmts[0]
    comments = list(head.leading_lines)
    while comments and comments[0].comment is None:
        comments.pop(0)
    moved_stmts[0] = head.with_changes(leading_lines=(BLANK, BLANK, *comments))
    body[pos:pos] = moved_stmts
    module = dst.module.with_changes(body=[s for s in body if s is not None])
    runtime = [ln for c in needs.carried if not c.guarded and (ln := _carried_import(move, c))]
    checking = [ln for c in needs.carried if c.guarded and (ln := _carried_import(move, c))]
    if (checking or checking_local) and not has_future_annotations(module):
        module = add_future_annotations(module)
        notes.append(f"added `from __future__ import annotations` to {dst.ref.name}")
    elif (
        has_future_annotations(src.module)
        and not has_future_annotations(module)
        and _has_annotations(moved_stmts)
    ):
        module = add_future_annotations(module)
        notes.append(
            f"added `from __future__ import annotations` to {dst.ref.name} (as in the source)"
        )
    module = insert_imports(module, runtime + runtime_local, move.first_party)
    module = add_type_checking_imports(module, checking + checking_local, move.first_party)
    module = _add_copies(module, move, needs, notes)
    added = [
        module.code_for_node(s).strip() for s in runtime + runtime_local + checking + checking_local
    ]
    if added:
        notes.append(f"added to {dst.ref.name}: " + "; ".join(added))
    return module.code


def _add_copies(
    module: cst.Module, move: MoveRequest, needs: Needs, notes: list[str]
) -> cst.Module:
    """Copy TypeVars / loggers the moved code needs, right after the destination's imports."""
    src, dst = move.src, move.dst
    existing = {module.code_for_node(s).strip() for s in module.body}
    copies = [src.module.body[i] for i in needs.copies]
    copies = [c for c in copies if src.module.code_for_node(c).strip() not in existing]
    for copy in copies:
        name = cst.Module(body=[]).code_for_node(copy).split("=")[0].split(":")[0].strip()
        if dest_binding(dst, name):
            raise CodemodError(
                f"`{move.sym}` uses `{name}` (`{src.module.code_for_node(copy).strip()}` in "
                f"{src.ref.name}), but {dst.ref.name} already binds `{name}` differently; "
                "rename one of them first"
            )
    if not copies:
        return module
    body = list(module.body)
    pos = import_region_end(body)
    lines = [c.with_changes(leading_lines=()) for c in copies]
    lines[0] = lines[0].with_changes(leading_lines=(BLANK,))
    if pos < len(body):
        body[pos] = with_gap(body[pos])
    body[pos:pos] = lines
    notes.append("copied: " + "; ".join(src.module.code_for_node(c).strip() for c in copies))
    return module.with_changes(body=body)


class _AnyAnnotation(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        self.found = True
        return False


def _has_annotations(nodes: Sequence[cst.CSTNode]) -> bool:
    """Whether the moved code has annotations (written for lazy evaluation in its source)."""
    visitor = _AnyAnnotation()
    for node in nodes:
        node.visit(visitor)
    return visitor.found
