"""move_symbol: move a top-level function, class or constant to another module of the repo.

The definition (decorators, leading comments, docstring) goes to the end of the destination's
top-level code, with the imports it needs; the source re-imports it (``from <dest> import
sym``) so every old import path keeps giving the very same object. Package modules that
imported it from the source import it from the destination instead. A move that would close
an import cycle fails with the chain and what to do instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.helpers import get_full_name_for_node

from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.nodes import close_hint
from agent.codemods.structure.deps import (
    Needs,
    analyse,
    collect_needs,
    find_definition,
    node_ids,
)
from agent.codemods.structure.imports import (
    imported_alias,
    insert_imports,
    small_statements,
    uses_relative_imports,
    without_aliases,
)
from agent.codemods.structure.move_dest import MoveRequest, build_destination
from agent.codemods.structure.shared import (
    CodemodError,
    ModuleRef,
    as_bool,
    from_target,
    import_graph,
    make_from_import,
    module_ref,
    new_cycle,
    split_target,
    transform_or_raise,
)
from planner.spec import Operation

logger = logging.getLogger(__name__)


def move_symbol(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Handler of ``move_symbol`` (see the module docstring)."""
    try:
        move = _resolve(files, op)
        if isinstance(move, Skipped):
            return move
        return _apply(move)
    except CodemodError as exc:
        return Failed(str(exc))


def _resolve(files: RepoFiles, op: Operation) -> MoveRequest | Skipped:
    to_module = str(op.params.get("to_module") or "").strip()
    if not to_module:
        raise CodemodError(
            "move_symbol needs params.to_module: the dotted name of an existing module of this "
            "repository to move the symbol into"
        )
    split = split_target(files, op.target)
    if isinstance(split, str):
        raise CodemodError(f"move_symbol: {split}")
    src_ref, sym = split
    if not sym or "." in sym:
        raise CodemodError(
            f"move_symbol moves a top-level function, class or constant; {op.target!r} names "
            + ("a module" if not sym else f"`{sym}` inside {src_ref.name}")
            + ". Target `package.module.name`."
        )
    dst_ref = module_ref(files, to_module)
    if dst_ref is None:
        raise CodemodError(
            f"move_symbol: no module {to_module!r} in this repository"
            + close_hint(to_module, files.modules.values())
            + "; create it first (add_function) or pick an existing one"
        )
    if dst_ref.path == src_ref.path:
        return Skipped(f"`{sym}` is already in {to_module}; nothing to move")
    tops = {name.split(".")[0] for name in files.modules.values()}
    return MoveRequest(
        files=files,
        src=analyse(src_ref, files.sources[src_ref.path]),
        dst=analyse(dst_ref, files.sources[dst_ref.path]),
        sym=sym,
        reexport=as_bool(op.params.get("reexport"), default=True),
        first_party=frozenset(tops),
    )


def _apply(move: MoveRequest) -> Result:
    src, dst, sym = move.src, move.dst, move.sym
    moved = find_definition(src, sym)
    needs = collect_needs(src, moved, sym)
    moved_ids = node_ids([src.module.body[i] for i in moved])
    used_after = any(
        id(access.node) not in moved_ids
        for binding in src.scope.assignments[sym]
        for access in binding.references
    )
    imports_dest = move.reexport or used_after or _listed_in_all(src.module, sym)
    notes: list[str] = []
    new_dst = build_destination(move, moved, needs, imports_dest, notes)
    new_src = _build_source(move, moved, needs, imports_dest, notes)
    changes = {src.ref.path: new_src, dst.ref.path: new_dst}
    changes.update(_retarget_users(move, notes))
    changes = {p: t for p, t in changes.items() if t != move.files.sources[p]}
    if not changes:
        return Skipped(f"moving `{sym}` changed nothing")
    cycle = new_cycle(import_graph(move.files, {}), import_graph(move.files, changes))
    if cycle is not None:
        raise CodemodError(
            f"moving `{sym}` from {src.ref.name} to {dst.ref.name} would create the import cycle "
            f"{' → '.join(cycle)}. Move what {dst.ref.name} would import from that chain "
            "together with it, or pick a destination module the chain does not import."
        )
    notes.insert(0, f"moved `{sym}` from {src.ref.name} to {dst.ref.name}")
    logger.info(
        "move_symbol %s.%s -> %s: %d file(s)", src.ref.name, sym, dst.ref.name, len(changes)
    )
    return Applied(changes=changes, notes=tuple(notes))


# ---------------------------------------------------------------- source


def _listed_in_all(module: cst.Module, name: str) -> bool:
    """Whether a top-level ``__all__`` assignment lists ``name``."""
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets = (
                [t.target for t in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
                if isinstance(small, cst.AugAssign | cst.AnnAssign)
                else []
            )
            value = getattr(small, "value", None)
            listed = {
                e.value.evaluated_value
                for e in getattr(value, "elements", ())
                if isinstance(e.value, cst.SimpleString)
            }
            if any(get_full_name_for_node(t) == "__all__" for t in targets) and name in listed:
                return True
    return False


def _build_source(
    move: MoveRequest, moved: list[int], needs: Needs, imports_dest: bool, notes: list[str]
) -> str:
    src, dst, sym = move.src, move.dst, move.sym
    body: list[cst.SimpleStatementLine | cst.BaseCompoundStatement | None] = [
        None if i in moved else s for i, s in enumerate(src.module.body)
    ]
    dropped = list(dict.fromkeys(c.name for c in needs.removable))
    by_line: dict[int, list[cst.ImportAlias]] = {}
    for carried in needs.removable:
        index = next(
            i for i, s in enumerate(src.module.body) if carried.node in small_statements(s)
        )
        by_line.setdefault(index, []).append(carried.alias)
    for index, aliases in sorted(by_line.items()):
        stmt = src.module.body[index]
        assert isinstance(stmt, cst.SimpleStatementLine)
        new = without_aliases(stmt, *aliases)
        nxt = next((j for j in range(index + 1, len(body)) if body[j] is not None), None)
        if new is None and stmt.leading_lines and nxt is not None:
            following = body[nxt]
            assert following is not None  # its comments and blank lines stay in place
            body[nxt] = following.with_changes(
                leading_lines=(*stmt.leading_lines, *following.leading_lines)
            )
        body[index] = new
    module = src.module.with_changes(body=[s for s in body if s is not None])
    if dropped:
        notes.append(f"removed imports only `{sym}` used from {src.ref.name}: {', '.join(dropped)}")
    if imports_dest:
        module = _add_reexport(move, module)
        how = "re-exported" if move.reexport else "imported (still used there)"
        notes.append(f"`{sym}` is {how} in {src.ref.name} from {dst.ref.name}")
    return module.code


def _add_reexport(move: MoveRequest, module: cst.Module) -> cst.Module:
    src, dst, sym = move.src, move.dst, move.sym
    body = list(module.body)
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if (
            isinstance(small, cst.ImportFrom)
            and not isinstance(small.names, cst.ImportStar)
            and len(small.names) > 1
            and from_target(small, src.ref) == dst.ref.name
        ):
            names = [
                *small.names[:-1],
                small.names[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                ),
            ]
            names.append(cst.ImportAlias(name=cst.Name(sym)))
            body[i] = stmt.with_changes(body=[small.with_changes(names=names)])
            return module.with_changes(body=body)
    relative = _want_relative_for(move, src.module)
    line = make_from_import(dst.ref.name, [(sym, None)], src.ref, relative=relative)
    return insert_imports(module, [line], move.first_party)


def _want_relative_for(move: MoveRequest, module: cst.Module) -> bool:
    return uses_relative_imports(module) and move.dst.ref.name.split(".")[0] in move.first_party


# ---------------------------------------------------------------- other modules


class RetargetImportCommand(VisitorBasedCodemodCommand):
    """Import a moved symbol from its new module instead of the old one.

    A top-level import line that only held the symbol is re-placed among the module's
    imports (sorted); other lines are split in place.
    """

    DESCRIPTION = "Rewrite `from <old> import sym` into `from <new> import sym`."

    def __init__(self, context: CodemodContext, move: MoveRequest, importer: ModuleRef) -> None:
        super().__init__(context)
        self.move = move
        self.importer = importer
        self.depth = 0
        self.pending: list[cst.SimpleStatementLine] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        self.depth += 1
        return True

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        move = self.move
        for small in updated_node.body:
            if not (
                isinstance(small, cst.ImportFrom)
                and from_target(small, self.importer) == move.src.ref.name
            ):
                continue
            alias = imported_alias(small, move.sym)
            if alias is None:
                continue
            asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
            new = make_from_import(
                move.dst.ref.name,
                [(move.sym, asname)],
                self.importer,
                relative=bool(small.relative),
            )
            rest = without_aliases(updated_node, alias)
            if rest is None and self.depth == 0 and not updated_node.leading_lines:
                self.pending.append(new)
                return cst.RemovalSentinel.REMOVE
            if rest is None:
                return new.with_changes(leading_lines=updated_node.leading_lines)
            return cst.FlattenSentinel([rest, new])
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return insert_imports(updated_node, self.pending, self.move.first_party)


def _retarget_users(move: MoveRequest, notes: list[str]) -> dict[str, str]:
    """Point package modules (all modules without a re-export) at the new home."""
    package = move.src.ref.name.split(".")[0]
    changes: dict[str, str] = {}
    for path, name in sorted(move.files.modules.items()):
        if path in (move.src.ref.path, move.dst.ref.path):
            continue
        if move.reexport and name.split(".")[0] != package:
            continue
        text = move.files.sources[path]
        if move.sym not in text:
            continue
        command = RetargetImportCommand(CodemodContext(), move, ModuleRef(path, name))
        new = transform_or_raise(command, text, path)
        if new != text:
            changes[path] = new
    if changes:
        notes.append(f"now importing `{move.sym}` from {move.dst.ref.name}: {', '.join(changes)}")
    dotted = f"{move.src.ref.name}.{move.sym}"
    if not move.reexport:
        left = [p for p, t in move.files.sources.items() if p not in changes and dotted in t]
        if left:
            notes.append(
                f"without the re-export, `{dotted}` is still spelled in: {', '.join(left)}"
            )
    return changes
