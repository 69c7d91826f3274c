"""The ``source`` slot of extract_helper, parsed: its imports and defs (``Snippet``), and the
signature of a def as comparable text."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

from agent.codemods.nodes import is_docstring
from agent.codemods.structure.imports import is_import_line
from agent.codemods.structure.shared import CodemodError


def signature_parts(fn: cst.FunctionDef) -> list[str]:
    """One entry per parameter: kind, name and default (normalized through ``ast``)."""
    code = cst.Module(body=[])

    def default(param: cst.Param) -> str:
        if param.default is None:
            return ""
        text = code.code_for_node(param.default)
        try:
            return "=" + ast.dump(ast.parse(text.strip(), mode="eval").body)
        except SyntaxError:
            return "=" + text.strip()

    p = fn.params
    out = [f"/{x.name.value}{default(x)}" for x in p.posonly_params]
    out += [f"{x.name.value}{default(x)}" for x in p.params]
    if isinstance(p.star_arg, cst.Param):
        out.append(f"*{p.star_arg.name.value}")
    elif p.kwonly_params:
        out.append("*")
    out += [f"{x.name.value}{default(x)}" for x in p.kwonly_params]
    if p.star_kwarg is not None:
        out.append(f"**{p.star_kwarg.name.value}")
    return out


def show_signature(fn: cst.FunctionDef) -> str:
    return cst.Module(body=[]).code_for_node(fn.params)


def defs_of(body: Sequence[cst.BaseStatement]) -> dict[str, cst.FunctionDef]:
    return {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}


def is_method_like(fn: cst.FunctionDef) -> bool:
    decorators = {get_full_name_for_node(d.decorator) for d in fn.decorators}
    first = fn.params.posonly_params or fn.params.params
    return bool(decorators & {"staticmethod", "classmethod"}) or bool(
        first and first[0].name.value in ("self", "cls")
    )


class Snippet:
    """The parsed ``source`` slot: imports and defs."""

    def __init__(self, source: str, original: str = "") -> None:
        try:
            module = cst.parse_module(textwrap.dedent(source).strip("\n") + "\n")
        except cst.ParserSyntaxError as exc:
            raise CodemodError(
                f"slot `source` does not parse ({exc.message} at line {exc.raw_line}); send the "
                "helper def and the rewritten defs as one valid Python snippet"
            ) from None
        body = list(module.body)
        classes = [s for s in body if isinstance(s, cst.ClassDef)]
        if classes and len(classes) == 1 and not defs_of(body):
            body = [s for s in body if not isinstance(s, cst.ClassDef)] + list(classes[0].body.body)  # type: ignore[arg-type]
        self.imports = [s for s in body if is_import_line(s)]
        # A class or constant repeated unchanged from the module is noise, not an edit.
        same = {" ".join(line.split()) for line in original.splitlines()}

        def repeated(stmt: cst.BaseStatement) -> bool:
            code = cst.Module(body=[]).code_for_node(stmt)
            lines = [" ".join(line.split()) for line in code.splitlines() if line.strip()]
            return bool(lines) and all(line in same for line in lines)

        body = [
            s
            for s in body
            if isinstance(s, cst.FunctionDef) or is_import_line(s) or not repeated(s)
        ]
        others = [
            s
            for s in body
            if not (is_import_line(s) or is_docstring(s) or isinstance(s, cst.FunctionDef))
        ]
        if others:
            shown = cst.Module(body=[]).code_for_node(others[0]).strip().splitlines()[0]
            raise CodemodError(
                "slot `source` may hold only imports and defs (the helper and the rewritten "
                f"functions); it also holds `{shown}`"
            )
        self.defs = defs_of(body)
        self.module = module
