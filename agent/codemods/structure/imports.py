"""Placing and editing import lines with LibCST: sections, sorting, TYPE_CHECKING, aliases.

Pure functions over ``cst.Module`` trees used by the structure codemods: where a new import
line goes (with the module's other imports, in its section, roughly sorted), how to add
imports only type checkers see, and how to drop one alias from an import line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from agent.codemods.nodes import is_docstring
from agent.codemods.structure.shared import ModuleRef, make_from_import

logger = logging.getLogger(__name__)


def uses_relative_imports(module: cst.Module) -> bool:
    """Whether the module imports its siblings with relative imports."""
    return any(
        isinstance(small, cst.ImportFrom) and small.relative
        for stmt in module.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
    )


def is_import_line(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` is a line of import statements only."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and bool(stmt.body)
        and all(isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body)
    )


def is_type_checking_test(test: cst.BaseExpression) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` / ``typing.TYPE_CHECKING`` / ``t.TYPE_CHECKING``."""
    name = get_full_name_for_node(test) or ""
    return name.rpartition(".")[2] == "TYPE_CHECKING"


def import_region_end(body: Sequence[cst.BaseStatement]) -> int:
    """Index of the first top-level statement after the docstring and the import block."""
    for index, stmt in enumerate(body):
        if index == 0 and is_docstring(stmt):
            continue
        if is_import_line(stmt):
            continue
        if isinstance(stmt, cst.If) and is_type_checking_test(stmt.test):
            continue
        if isinstance(stmt, cst.Try) and all(is_import_line(s) for s in stmt.body.body):
            continue
        return index
    return len(body)


def _import_key(stmt: cst.CSTNode, first_party: frozenset[str]) -> tuple[int, int, str, str] | None:
    """Sort key of an import line: (section, from?, module, name); None if not an import."""
    if not is_import_line(stmt):
        return None
    assert isinstance(stmt, cst.SimpleStatementLine)
    small = stmt.body[0]
    if isinstance(small, cst.ImportFrom):
        module = get_full_name_for_node(small.module) if small.module is not None else ""
        name = ""
        if not isinstance(small.names, cst.ImportStar) and small.names:
            name = get_full_name_for_node(small.names[0].name) or ""
        if small.relative:
            return 4, 1, "." * len(small.relative) + (module or "").lower(), name.lower()
        if module == "__future__":
            return 0, 1, module, name.lower()
        section = 3 if (module or "").split(".")[0] in first_party else 2
        return section, 1, (module or "").lower(), name.lower()
    assert isinstance(small, cst.Import)
    module = get_full_name_for_node(small.names[0].name) or ""
    section = 3 if module.split(".")[0] in first_party else 2
    return section, 0, module.lower(), ""


BLANK = cst.EmptyLine(indent=False)


def with_gap(
    stmt: cst.SimpleStatementLine | cst.BaseCompoundStatement,
) -> cst.SimpleStatementLine | cst.BaseCompoundStatement:
    """``stmt`` with the blank lines PEP 8 wants above it (2 for def/class) if it has none."""
    if stmt.leading_lines:
        return stmt
    count = 2 if isinstance(stmt, cst.FunctionDef | cst.ClassDef) else 1
    return stmt.with_changes(leading_lines=(BLANK,) * count)


def insert_imports(
    module: cst.Module, new: Sequence[cst.SimpleStatementLine], first_party: frozenset[str]
) -> cst.Module:
    """Place import lines with the module's other imports, in their section, roughly sorted."""
    body = list(module.body)
    for stmt in new:
        key = _import_key(stmt, first_party)
        assert key is not None
        end = import_region_end(body)
        keyed = [(i, k) for i in range(end) if (k := _import_key(body[i], first_party))]
        same = [(i, k) for i, k in keyed if k[0] == key[0]]
        stmt = stmt.with_changes(leading_lines=())
        if same:
            greater = [i for i, k in same if k > key]
            pos = greater[0] if greater else same[-1][0] + 1
            if greater:  # the line we go before hands us its leading blank lines / comments
                stmt = stmt.with_changes(leading_lines=body[pos].leading_lines)
                body[pos] = body[pos].with_changes(leading_lines=())
        else:
            lower = [i for i, k in keyed if k[0] < key[0]]
            if lower:
                pos = lower[-1] + 1
                stmt = stmt.with_changes(leading_lines=(BLANK,))
            elif keyed:
                pos = keyed[0][0]
                stmt = stmt.with_changes(leading_lines=body[pos].leading_lines)
                body[pos] = body[pos].with_changes(leading_lines=(BLANK,))
            else:
                pos = 1 if body and is_docstring(body[0]) else 0
                if pos:
                    stmt = stmt.with_changes(leading_lines=(BLANK,))
                if pos < len(body):
                    body[pos] = with_gap(body[pos])
        body.insert(pos, stmt)
    return module.with_changes(body=body)


def _type_checking_expr(module: cst.Module) -> str | None:
    for stmt in module.body:
        if not is_import_line(stmt):
            continue
        assert isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if get_full_name_for_node(alias.name) == "typing":
                        bound = get_full_name_for_node(alias.asname.name) if alias.asname else None
                        return f"{bound or 'typing'}.TYPE_CHECKING"
            elif (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and get_full_name_for_node(small.module) == "typing"
                and not isinstance(small.names, cst.ImportStar)
                and any(get_full_name_for_node(a.name) == "TYPE_CHECKING" for a in small.names)
            ):
                return "TYPE_CHECKING"
    return None


def add_type_checking_imports(
    module: cst.Module, new: Sequence[cst.SimpleStatementLine], first_party: frozenset[str]
) -> cst.Module:
    """Add import lines under the module's ``if TYPE_CHECKING:`` block (created if missing)."""
    if not new:
        return module
    body = list(module.body)
    for index, stmt in enumerate(body):
        if isinstance(stmt, cst.If) and is_type_checking_test(stmt.test):
            block = stmt.body
            assert isinstance(block, cst.IndentedBlock)
            lines = [s.with_changes(leading_lines=()) for s in new]
            body[index] = stmt.with_changes(body=block.with_changes(body=[*block.body, *lines]))
            return module.with_changes(body=body)
    expr = _type_checking_expr(module)
    if expr is None:
        module = insert_imports(
            module,
            [make_from_import("typing", [("TYPE_CHECKING", None)], _NOWHERE, relative=False)],
            first_party,
        )
        expr = "TYPE_CHECKING"
    code = "".join(module.code_for_node(s.with_changes(leading_lines=())) for s in new)
    indented = "".join(f"    {line}\n" for line in code.splitlines())
    block_stmt = cst.parse_statement(f"if {expr}:\n{indented}")
    body = list(module.body)
    pos = import_region_end(body)
    block_stmt = block_stmt.with_changes(leading_lines=(BLANK,))
    if pos < len(body):
        body[pos] = with_gap(body[pos])
    body.insert(pos, block_stmt)
    return module.with_changes(body=body)


_NOWHERE = ModuleRef("__nowhere__.py", "__nowhere__")


def has_future_annotations(module: cst.Module) -> bool:
    """Whether the module has ``from __future__ import annotations``."""
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and get_full_name_for_node(small.module) == "__future__"
                and not isinstance(small.names, cst.ImportStar)
                and any(get_full_name_for_node(a.name) == "annotations" for a in small.names)
            ):
                return True
    return False


def add_future_annotations(module: cst.Module) -> cst.Module:
    """Add ``from __future__ import annotations`` right after the module docstring."""
    body = list(module.body)
    pos = 1 if body and is_docstring(body[0]) else 0
    stmt = cst.parse_statement("from __future__ import annotations\n")
    stmt = stmt.with_changes(leading_lines=(BLANK,) if pos else ())
    if pos < len(body):
        lead = tuple(body[pos].leading_lines)
        if not lead or lead[0].comment is not None:
            body[pos] = body[pos].with_changes(leading_lines=(BLANK, *lead))
    body.insert(pos, stmt)
    return module.with_changes(body=body)


def small_statements(stmt: cst.BaseStatement) -> list[cst.CSTNode]:
    """The small statements of a top-level line, or of a block's direct lines."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return list(stmt.body)
    block = getattr(stmt, "body", None)
    if isinstance(block, cst.IndentedBlock):
        return [
            x for line in block.body if isinstance(line, cst.SimpleStatementLine) for x in line.body
        ]
    return []


def main_guard_index(body: Sequence[cst.BaseStatement]) -> int:
    """Index of a trailing ``if __name__ == "__main__":`` (else ``len(body)``)."""
    if body and isinstance(body[-1], cst.If):
        test = cst.Module(body=[]).code_for_node(body[-1].test).replace("'", '"')
        if test.replace(" ", "") in ('__name__=="__main__"', '"__main__"==__name__'):
            return len(body) - 1
    return len(body)


def imported_alias(node: cst.ImportFrom, name: str) -> cst.ImportAlias | None:
    """The alias of ``from m import name [as x]`` that imports ``name``."""
    if isinstance(node.names, cst.ImportStar):
        return None
    return next((a for a in node.names if get_full_name_for_node(a.name) == name), None)


def without_aliases(
    line: cst.SimpleStatementLine, *aliases: cst.ImportAlias
) -> cst.SimpleStatementLine | None:
    """The import line without ``aliases`` (by identity); None when nothing is left."""
    smalls: list[cst.BaseSmallStatement] = []
    gone = {id(a) for a in aliases}
    for small in line.body:
        if (
            isinstance(small, cst.Import | cst.ImportFrom)
            and not isinstance(small.names, cst.ImportStar)
            and any(id(a) in gone for a in small.names)
        ):
            names = [a for a in small.names if id(a) not in gone]
            if not names:
                continue
            names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            small = small.with_changes(names=names)
        smalls.append(small)
    if not smalls:
        return None
    smalls[-1] = smalls[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return line.with_changes(body=smalls)
