"""``modernize`` idiom ``typing_namedtuple``: ``collections.namedtuple`` → ``typing.NamedTuple``.

Handles ``class X(namedtuple("X", "a b")): ...`` (the body is kept, minus ``__slots__ = ()``,
which ``NamedTuple`` forbids and already implies) and ``X = namedtuple("X", ["a", "b"],
defaults=(...))``. Field order and defaults are kept, so repr, pickling and ``_fields`` do
not change. The only thing the codemod cannot know is each field's type: the
``field_types`` slot (field → annotation, JSON-constrained) carries it; names the
annotations need are imported from ``typing``, and ``collections`` / ``namedtuple``
imports that fall out of use are removed.
"""

from __future__ import annotations

import ast
import builtins
import sys
import typing
from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor

from agent.codemods.base import Failed, RepoFiles, Result
from agent.codemods.imports import add_import_lines, bound_names
from agent.codemods.nodes import finish

_code = cst.Module([]).code_for_node


def _strings(node: cst.BaseExpression) -> list[str] | None:
    if isinstance(node, cst.SimpleString):
        value = ast.literal_eval(node.value)
        return value.replace(",", " ").split() if isinstance(value, str) else None
    if isinstance(node, cst.List | cst.Tuple):
        out = []
        for el in node.elements:
            if not isinstance(el.value, cst.SimpleString):
                return None
            out.append(ast.literal_eval(el.value.value))
        return out
    return None


def _namedtuple_call(node: cst.BaseExpression) -> tuple[list[str], list[str]] | None:
    """(fields, default sources) of a ``namedtuple("X", fields[, defaults=...])`` call."""
    if not isinstance(node, cst.Call) or not _code(node.func).endswith("namedtuple"):
        return None
    positional = [a for a in node.args if a.keyword is None]
    if len(positional) != 2:
        return None
    fields = _strings(positional[1].value)
    defaults: list[str] = []
    for arg in node.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value != "defaults" or not isinstance(arg.value, cst.List | cst.Tuple):
            return None  # rename= / module= have no NamedTuple equivalent here
        defaults = [_code(el.value) for el in arg.value.elements]
    if not fields or not all(f.isidentifier() for f in fields) or len(defaults) > len(fields):
        return None
    return fields, defaults


def find_namedtuple(module: cst.Module, name: str) -> tuple[int, list[str], list[str]] | None:
    """(index in the module body, fields, defaults) of the namedtuple called ``name``."""
    for i, stmt in enumerate(module.body):
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == name and len(stmt.bases) == 1:
            found = _namedtuple_call(stmt.bases[0].value)
        elif (
            isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Assign)
            and len(stmt.body[0].targets) == 1
            and _code(stmt.body[0].targets[0].target) == name
        ):
            found = _namedtuple_call(stmt.body[0].value)
        else:
            continue
        if found is not None:
            return i, *found
    return None


def namedtuple_fields(source: str, name: str) -> list[str]:
    """The field names of namedtuple ``name`` in ``source`` (empty when there is none)."""
    try:
        found = find_namedtuple(cst.parse_module(source), name)
    except cst.ParserSyntaxError:
        return []
    return found[1] if found else []


def _annotation_names(types: Mapping[str, str]) -> set[str] | Failed:
    names: set[str] = set()
    for field, text in types.items():
        try:
            tree = ast.parse(str(text).strip(), mode="eval")
        except SyntaxError:
            return Failed(
                f"the type of `{field}` ({text!r}) is not a Python expression; send a type "
                "such as `int`, `float | None` or `list[str]`"
            )
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


def _is_slots(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Assign)
        and _code(stmt.body[0].targets[0].target) == "__slots__"
    )


def _class(
    old: cst.BaseStatement,
    name: str,
    fields: Sequence[str],
    defaults: Sequence[str],
    types: Mapping[str, str],
) -> cst.ClassDef:
    first_default = len(fields) - len(defaults)
    lines = []
    for i, f in enumerate(fields):
        default = f" = {defaults[i - first_default]}" if i >= first_default else ""
        lines.append(cst.parse_statement(f"{f}: {str(types[f]).strip()}{default}\n"))
    doc: list[cst.BaseStatement] = []
    rest: list[cst.BaseStatement] = []
    if isinstance(old, cst.ClassDef) and isinstance(old.body, cst.IndentedBlock):
        body = [s for s in old.body.body if not _is_slots(s)]
        if (
            body
            and isinstance(body[0], cst.SimpleStatementLine)
            and isinstance(body[0].body[0], cst.Expr)
            and isinstance(body[0].body[0].value, cst.SimpleString | cst.ConcatenatedString)
        ):
            doc, body = [body[0]], body[1:]
        rest = body
        if rest:
            rest[0] = rest[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    leading = old.leading_lines if isinstance(old, cst.ClassDef | cst.SimpleStatementLine) else ()
    return cst.ClassDef(
        name=cst.Name(name),
        bases=[cst.Arg(cst.Name("NamedTuple"))],
        body=cst.IndentedBlock(body=[*doc, *lines, *rest]),
        leading_lines=leading,
    )


def module_of(files: RepoFiles, qualname: str) -> str | None:
    """The path of the module that holds module-level ``qualname``."""
    parent = qualname.rsplit(".", 1)[0]
    return next((p for p, m in files.modules.items() if m == parent), None)


def to_typing_namedtuple(files: RepoFiles, qualname: str, types: object) -> Result:
    """Rewrite module-level namedtuple ``qualname`` with ``types`` (field → annotation)."""
    path = module_of(files, qualname)
    if path is None:
        return Failed(f"{qualname} must be a module-level name (module.Name) of this repository")
    module = cst.parse_module(files.sources[path])
    name = qualname.rsplit(".", 1)[-1]
    found = find_namedtuple(module, name)
    if found is None:
        return Failed(
            f"{qualname} is not a module-level `namedtuple(...)` (class base or assignment) "
            "with literal field names; use `edit` for other shapes"
        )
    index, fields, defaults = found
    if not isinstance(types, Mapping) or set(types) != set(fields):
        return Failed(
            f"the `field_types` slot must map every field of {qualname} ({', '.join(fields)}) "
            'to its type annotation, e.g. {"' + fields[0] + '": "int"}'
        )
    used = _annotation_names(types)
    if isinstance(used, Failed):
        return used
    body = list(module.body)
    body[index] = _class(body[index], name, fields, defaults, types)
    module = module.with_changes(body=body)
    known = bound_names(module.body) | set(dir(builtins))
    typing_names = sorted(n for n in used - known if n in typing.__all__)
    modules = sorted(n for n in used - known - set(typing.__all__) if n in sys.stdlib_module_names)
    unknown = sorted(used - known - set(typing.__all__) - set(modules))
    if unknown:
        return Failed(
            f"the field types use {', '.join(unknown)}, which {path} neither defines nor "
            "imports; use builtins, typing names or the module's own classes"
        )
    added = add_import_lines(
        module,
        [
            *(f"import {m}" for m in modules),
            f"from typing import {', '.join(['NamedTuple', *typing_names])}",
        ],
    )
    if isinstance(added, Failed):
        return added
    context = CodemodContext(filename=path)
    RemoveImportsVisitor.remove_unused_import(context, "collections")
    RemoveImportsVisitor.remove_unused_import(context, "collections", "namedtuple")
    cleaned = RemoveImportsVisitor(context).transform_module(added)
    return finish(files, path, cleaned, [f"{qualname}: namedtuple → typing.NamedTuple"])
