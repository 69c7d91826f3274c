"""Import bookkeeping shared by the content and modernize codemods: what a module binds,
and adding import lines.

``add_import_lines`` puts LLM- or op-supplied import lines after the module's existing
imports, dropping names that are already imported the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from agent.codemods.base import Failed
from agent.codemods.nodes import sub_blocks


def import_bindings(stmt: cst.Import | cst.ImportFrom) -> dict[str, str]:
    """Local name -> what it refers to (``np`` -> ``numpy``, ``Any`` -> ``typing.Any``)."""
    out: dict[str, str] = {}
    if isinstance(stmt.names, cst.ImportStar):
        return out
    base = ""
    if isinstance(stmt, cst.ImportFrom):
        dots = "." * len(stmt.relative)
        mod = cst.Module([]).code_for_node(stmt.module) if stmt.module else ""
        base = dots + mod + ("." if mod else "")
    for alias in stmt.names:
        full = cst.Module([]).code_for_node(alias.name)
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            out[alias.asname.name.value] = base + full
        elif isinstance(stmt, cst.Import):
            out[full.split(".")[0]] = full.split(".")[0]
        else:
            out[full] = base + full
    return out


def top_level_imports(module: cst.Module) -> dict[str, str]:
    """Every import binding of the module's top-level statements (also inside if/try)."""
    out: dict[str, str] = {}
    stack: list[cst.CSTNode] = list(module.body)
    while stack:
        stmt = stack.pop(0)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import | cst.ImportFrom):
                    out.update(import_bindings(small))
        else:
            for suite in sub_blocks(stmt):
                if isinstance(suite, cst.IndentedBlock):
                    stack.extend(suite.body)
    return out


def bound_names(body: Sequence[cst.CSTNode]) -> set[str]:
    """Names bound by these statements (imports, defs, classes, assignments; if/try too)."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import | cst.ImportFrom):
                    names.update(import_bindings(small))
                elif isinstance(small, cst.Assign):
                    for t in small.targets:
                        names.update(_target_names(t.target))
                elif isinstance(small, cst.AnnAssign | cst.AugAssign):
                    names.update(_target_names(small.target))
        else:
            for suite in sub_blocks(stmt):
                if isinstance(suite, cst.IndentedBlock):
                    names |= bound_names(suite.body)
    return names


def _target_names(node: cst.BaseExpression) -> set[str]:
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Tuple | cst.List):
        return set().union(*(_target_names(e.value) for e in node.elements))
    return set()


def _import_index(body: Sequence[cst.BaseStatement]) -> tuple[int, bool]:
    """Where new imports go (after the last import before the first def/class, else after
    the docstring), and whether that follows a non-import statement."""
    last, start = -1, 0
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            break
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        if all(isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body):
            last = i
        elif i == 0 and isinstance(stmt.body[0], cst.Expr):
            start = 1
    return (last + 1, False) if last >= 0 else (start, start > 0)


def add_import_lines(module: cst.Module, lines: Sequence[object]) -> cst.Module | Failed:
    """Add import statements after the module's imports, skipping names already imported."""
    have = top_level_imports(module)
    # Names the module defines itself (a class, a def, an assignment) must not be
    # shadowed by an import the model added "to be safe".
    defined = bound_names(module.body) - set(have)
    new_stmts: list[cst.SimpleStatementLine] = []
    for line in lines:
        if not isinstance(line, str) or not line.strip():
            continue
        try:
            stmt = cst.parse_statement(line.strip() + "\n")
        except cst.ParserSyntaxError as exc:
            return Failed(f"`imports` item {line!r} is not valid Python: {exc.message}")
        if not isinstance(stmt, cst.SimpleStatementLine) or not all(
            isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
        ):
            return Failed(
                f"`imports` item {line!r} is not an import statement; "
                "send lines like `from typing import Any` or `import functools`"
            )
        for small in stmt.body:
            assert isinstance(small, cst.Import | cst.ImportFrom)
            binds = import_bindings(small)
            if binds and all(have.get(k) == v or k in defined for k, v in binds.items()):
                continue
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                keep = [
                    a
                    for a in small.names
                    if not _alias_present(small, a, have) and _local_name(a) not in defined
                ]
                if not keep:
                    continue
                small = small.with_changes(
                    names=[a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in keep]
                )
            have.update(binds)
            new_stmts.append(cst.SimpleStatementLine(body=[small]))
    if not new_stmts:
        return module
    at, after_code = _import_index(module.body)
    body = list(module.body)
    blank = cst.EmptyLine(indent=False)
    if after_code:
        new_stmts[0] = new_stmts[0].with_changes(leading_lines=[blank])
    if at < len(body) and not any(line.comment is None for line in body[at].leading_lines):
        nxt = body[at]
        is_import = isinstance(nxt, cst.SimpleStatementLine) and isinstance(
            nxt.body[0], cst.Import | cst.ImportFrom
        )
        if not is_import:
            count = 2 if isinstance(nxt, cst.FunctionDef | cst.ClassDef) else 1
            body[at] = nxt.with_changes(leading_lines=[blank] * count + list(nxt.leading_lines))
    return module.with_changes(body=body[:at] + new_stmts + body[at:])


def _local_name(alias: cst.ImportAlias) -> str:
    node = alias.asname.name if alias.asname is not None else alias.name
    return cst.Module([]).code_for_node(node).split(".")[0]


def _alias_present(stmt: cst.ImportFrom, alias: cst.ImportAlias, have: dict[str, str]) -> bool:
    one = stmt.with_changes(names=[alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)])
    return all(have.get(k) == v for k, v in import_bindings(one).items())
