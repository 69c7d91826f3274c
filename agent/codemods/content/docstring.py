"""``add_docstring``: insert or replace the docstring of a module, class or function.

The text comes from the LLM (slot ``docstring``, or the op's ``text`` param). It is laid
out in the file's style: its triple-quote character, summary on the first line or the
next, continuation lines at the body's indentation, doctest lines verbatim. Backslashes
make a raw docstring when the repository writes raw docstrings, else they are escaped;
an embedded triple quote switches the quote character or is escaped.
"""

from __future__ import annotations

import ast
import inspect
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.nodes import Located, finish, locate, walk_defs

log = logging.getLogger(__name__)

__all__ = ["DocStyle", "add_docstring", "docstring_literal"]

_RAW_DOC = re.compile(r"^[ \t]*[rR](\"\"\"|''')", re.M)


@dataclass(frozen=True)
class DocStyle:
    """How a file writes its docstrings."""

    quote: str = '"""'
    summary_on_new_line: bool = False
    raw_when_backslash: bool = False


def _docstring_node(body: Any) -> cst.SimpleStatementLine | None:
    """The docstring statement that opens ``body`` (a module or an indented block)."""
    stmts = getattr(body, "body", ())
    if not stmts or not isinstance(stmts[0], cst.SimpleStatementLine):
        return None
    first = stmts[0]
    if len(first.body) == 1 and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, cst.SimpleString | cst.ConcatenatedString):
            return first
    return None


def measure_style(files: RepoFiles, module: cst.Module) -> DocStyle:
    """The file's docstring quote and layout; raw docstrings if the repository uses them."""
    literals: list[str] = []
    bodies: list[Any] = [module] + [
        f.node.body for f in walk_defs(module.body) if isinstance(f.node.body, cst.IndentedBlock)
    ]
    for body in bodies:
        stmt = _docstring_node(body)
        if stmt is not None:
            expr = stmt.body[0]
            assert isinstance(expr, cst.Expr)
            literals.append(cst.Module([]).code_for_node(expr.value).lstrip("rRuU"))
    singles = sum(lit.startswith("'''") for lit in literals)
    doubles = sum(lit.startswith('"""') for lit in literals)
    multi = [lit for lit in literals if "\n" in lit]
    new_line = sum(lit[3:4] == "\n" for lit in multi)
    raw = any(_RAW_DOC.search(text) for text in files.sources.values())
    return DocStyle(
        quote="'''" if singles > doubles else '"""',
        summary_on_new_line=bool(multi) and new_line * 2 > len(multi),
        raw_when_backslash=raw,
    )


def _clean(text: str) -> str:
    lines = inspect.cleandoc(text.expandtabs(8) if "\t" in text else text).splitlines()
    return "\n".join(line.rstrip() for line in lines)


def docstring_literal(text: str, indent: str, style: DocStyle) -> str:
    """The source of a docstring literal for ``text``, continuation lines at ``indent``."""
    clean = _clean(text)
    lines = clean.splitlines() or [""]
    raw = "\\" in clean and style.raw_when_backslash and not clean.endswith("\\")
    quote = style.quote
    if quote in clean:
        other = "'''" if quote == '"""' else '"""'
        quote = other if other not in clean else quote
    if quote in clean or (len(lines) == 1 and clean.endswith(quote[0])):
        raw = False

    if any(not c.isprintable() for c in clean.replace("\n", "")):
        raw = False

    def esc(line: str) -> str:
        if not raw:
            line = line.replace("\\", "\\\\")
            line = line.replace(quote, "\\" + quote)
            line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
        return line

    body = [esc(line) for line in lines]
    if len(body) == 1:
        last = body[0]
        if last.endswith(quote[0]) and not last.endswith("\\" + quote[0]):
            last = last[:-1] + "\\" + quote[0]
        return f"{'r' if raw else ''}{quote}{last}{quote}"
    first = f"\n{indent}{body[0]}" if style.summary_on_new_line else body[0]
    rest = "".join(f"\n{indent}{line}" if line else "\n" for line in body[1:])
    return f"{'r' if raw else ''}{quote}{first}{rest}\n{indent}{quote}"


def _doc_text(op: Any, slots: Mapping[str, Any]) -> str | Failed:
    text = slots.get("docstring")
    if not (isinstance(text, str) and text.strip()):
        text = op.params.get("text")
    if not (isinstance(text, str) and text.strip()):
        return Failed(
            f"add_docstring on {op.target} needs the `docstring` slot: the docstring's plain "
            "text, without quotes or indentation"
        )
    stripped = text.strip()
    for q in ('"""', "'''"):
        if stripped.startswith(q) and stripped.endswith(q) and len(stripped) >= 6:
            stripped = stripped[3:-3]
    return stripped


def _current(stmt: cst.SimpleStatementLine | None) -> str | None:
    if stmt is None:
        return None
    expr = stmt.body[0]
    assert isinstance(expr, cst.Expr)
    try:
        value = ast.literal_eval(cst.Module([]).code_for_node(expr.value))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _with_docstring(
    loc: Located, literal: str, replace_stmt: cst.SimpleStatementLine | None
) -> cst.Module:
    line = cst.SimpleStatementLine(body=[cst.Expr(cst.SimpleString(literal))])
    node = loc.node
    if node is None:
        body = list(loc.module.body)
        if replace_stmt is not None:
            body[0] = replace_stmt.with_changes(body=line.body)
        else:
            if body and not body[0].leading_lines:
                body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            body.insert(0, line)
        return loc.module.with_changes(body=body)
    if isinstance(node.body, cst.IndentedBlock):
        stmts = list(node.body.body)
        if replace_stmt is not None:
            stmts[0] = replace_stmt.with_changes(body=line.body)
        else:
            stmts.insert(0, line)
        new_body: cst.BaseSuite = node.body.with_changes(body=stmts)
    else:  # `def f(): return 1` becomes an indented block
        assert isinstance(node.body, cst.SimpleStatementSuite)
        inline = cst.SimpleStatementLine(body=node.body.body)
        new_body = cst.IndentedBlock(body=[line, inline])
    module = loc.module.deep_replace(node, node.with_changes(body=new_body))
    assert isinstance(module, cst.Module)
    return module


@REGISTRY.register("add_docstring", slots=("docstring",))
def add_docstring(files: RepoFiles, op: Any, slots: Mapping[str, Any]) -> Result:
    """Insert a docstring, or replace it (param ``replace``, or when the current one is empty)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    text = _doc_text(op, slots)
    if isinstance(text, Failed):
        return text
    holder: Any = loc.module if loc.node is None else loc.node.body
    stmt = _docstring_node(holder)
    current = _current(stmt)
    if stmt is not None and current is not None and current.strip():
        if not op.params.get("replace"):
            return Skipped(
                f"{loc.qualname} already has a docstring; pass param `replace: true` to replace it"
            )
        if _clean(current) == _clean(text):
            return Skipped(f"{loc.qualname} already has this docstring")
    style = measure_style(files, loc.module)
    literal = docstring_literal(text, loc.body_indent(), style)
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError) as exc:  # a bug in docstring_literal, not the LLM's fault
        return Failed(f"could not quote the docstring for {loc.qualname}: {exc}")
    if _clean(value) != _clean(text):
        return Failed(f"could not quote the docstring for {loc.qualname} exactly; send plain text")
    module = _with_docstring(loc, literal, stmt)
    return finish(files, loc.path, module, [loc.note])
