"""Node location and splicing helpers shared by the content codemods.

``locate`` turns a spec target (``pkg.mod``, ``pkg.mod.func``, ``pkg.mod.Class.method``,
nested classes, or a file path) into the file, its parsed ``libcst.Module`` and the
definition node, with ``Failed`` messages that list the close names when it is missing.
``parse_def_source`` checks an LLM-written slot (exactly one def/class with the expected
name) and parses it at the target's indentation, so multi-line strings are re-indented
with the code. ``add_import_lines`` puts import lines after the module's imports.
"""

from __future__ import annotations

import difflib
import logging
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from agent.codemods.base import Applied, Failed, RepoFiles, Skipped

log = logging.getLogger(__name__)

Def = cst.FunctionDef | cst.ClassDef
_FENCE = re.compile(r"^\s*```[\w+-]*\s*\n(?P<body>.*?)\n\s*```\s*$", re.S)


@dataclass(frozen=True)
class Found:
    """A definition inside a module: its qualname parts and the indented blocks around it."""

    parts: tuple[str, ...]
    node: Def
    blocks: tuple[cst.IndentedBlock, ...]  # the blocks that contain it, outermost first
    parents: tuple[Def, ...]  # enclosing defs/classes, outermost first


@dataclass(frozen=True)
class Located:
    """A resolved target: a whole module (``found is None``) or one definition in it."""

    path: str
    module_name: str
    module: cst.Module
    found: Found | None
    note: str = ""

    @property
    def node(self) -> Def | None:
        return self.found.node if self.found else None

    @property
    def qualname(self) -> str:
        return ".".join((self.module_name, *self.found.parts)) if self.found else self.module_name

    def indent(self) -> str:
        """Absolute indentation of the target's own ``def``/``class`` line."""
        blocks = self.found.blocks if self.found else ()
        return "".join(
            b.indent if b.indent is not None else self.module.default_indent for b in blocks
        )

    def body_indent(self) -> str:
        """Absolute indentation of statements in the target's body."""
        if self.found is None:
            return ""
        body = self.found.node.body
        step = getattr(body, "indent", None)
        return self.indent() + (step if step is not None else self.module.default_indent)

    def steps(self, *, body: bool = False) -> list[str]:
        """Indentation steps (outermost first) of the blocks around the target, or of its body."""
        blocks = self.found.blocks if self.found else ()
        out = [b.indent if b.indent is not None else self.module.default_indent for b in blocks]
        if body and self.found is not None:
            step = getattr(self.found.node.body, "indent", None)
            out.append(step if step is not None else self.module.default_indent)
        return out


def sub_blocks(stmt: cst.CSTNode) -> Iterator[cst.BaseSuite]:
    """Bodies of a compound statement that is not a def/class (if/try/with/for/while)."""
    if isinstance(stmt, cst.If):
        yield stmt.body
        if stmt.orelse is not None:
            yield from (
                sub_blocks(stmt.orelse) if isinstance(stmt.orelse, cst.If) else (stmt.orelse.body,)
            )
    elif isinstance(stmt, cst.Try | cst.TryStar):
        yield stmt.body
        for handler in stmt.handlers:
            yield handler.body
        if stmt.orelse is not None:
            yield stmt.orelse.body
        if stmt.finalbody is not None:
            yield stmt.finalbody.body
    elif isinstance(stmt, cst.With | cst.For | cst.While):
        yield stmt.body
        orelse = getattr(stmt, "orelse", None)
        if orelse is not None:
            yield orelse.body


def walk_defs(
    body: Sequence[cst.CSTNode],
    prefix: tuple[str, ...] = (),
    blocks: tuple[cst.IndentedBlock, ...] = (),
    parents: tuple[Def, ...] = (),
) -> Iterator[Found]:
    """Every def/class under ``body`` (conditional ones too), with its qualname parts."""
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            found = Found((*prefix, stmt.name.value), stmt, blocks, parents)
            yield found
            if isinstance(stmt.body, cst.IndentedBlock):
                yield from walk_defs(
                    stmt.body.body, found.parts, (*blocks, stmt.body), (*parents, stmt)
                )
            continue
        for suite in sub_blocks(stmt):
            if isinstance(suite, cst.IndentedBlock):
                yield from walk_defs(suite.body, prefix, (*blocks, suite), parents)


def is_docstring(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` is a lone string expression (a docstring where it stands first)."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def close_names(name: str, candidates: Sequence[str], n: int = 5) -> list[str]:
    """The candidates closest to ``name`` (by full name, then by last component)."""
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
    last = name.rsplit(".", 1)[-1]
    by_last = {c.rsplit(".", 1)[-1]: c for c in candidates}
    close += [by_last[m] for m in difflib.get_close_matches(last, list(by_last), n=n, cutoff=0.6)]
    return list(dict.fromkeys(close))[:n]


def close_hint(name: str, candidates: Iterable[str], n: int = 5) -> str:
    """`` (close: a, b)`` for an error message, or an empty string.

    Unlike ``close_names`` it falls back to the candidates that contain ``name``; the structure
    codemods word their errors with it.
    """
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not close:
        close = [c for c in pool if name.lower() in c.lower()][:n]
    return f" (close: {', '.join(close)})" if close else ""


def parse_file(files: RepoFiles, path: str) -> cst.Module | Failed:
    try:
        return cst.parse_module(files.sources[path])
    except cst.ParserSyntaxError as exc:
        return Failed(f"{path} does not parse, so it cannot be changed: {exc.message}")


def _split_target(files: RepoFiles, target: str) -> tuple[str, str, list[str]] | Failed:
    """(path, module name, remaining qualname parts) for a dotted target or a file path."""
    target = target.strip()
    for sep in ("::", ":"):
        if ".py" + sep in target:
            file_part, _, rest = target.partition(".py" + sep)
            path = file_part + ".py"
            if path in files.sources:
                return path, files.modules.get(path, path), [p for p in rest.split(".") if p]
    if target in files.sources:
        return target, files.modules.get(target, target), []
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        found = files.path_of(".".join(parts[:cut]))
        if found is not None:
            return found, ".".join(parts[:cut]), parts[cut:]
    modules = sorted(files.modules.values())
    hint = close_names(target, modules)
    also = f"; close modules: {', '.join(hint)}" if hint else ""
    return Failed(
        f"target {target!r} is in no module of this repository{also}. "
        "Name it as package.module.function, package.module.Class.method or a file path."
    )


def _grep_defs(files: RepoFiles, name: str, skip: str) -> list[str]:
    """Qualnames of top-level-ish defs named ``name`` in other files (a cheap text search)."""
    pattern = re.compile(rf"^(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", re.M)
    hits = []
    for path, text in files.sources.items():
        if path != skip and pattern.search(text):
            hits.append(f"{files.modules.get(path, path)}.{name}")
    return sorted(hits)[:5]


def locate(files: RepoFiles, target: str) -> Located | Failed:
    """Resolve ``target`` to its file, module and (unless it is a module) definition node."""
    split = _split_target(files, target)
    if isinstance(split, Failed):
        return split
    path, module_name, parts = split
    module = parse_file(files, path)
    if isinstance(module, Failed):
        return module
    if not parts:
        return Located(path, module_name, module, None)
    wanted = tuple(parts)
    defs = list(walk_defs(module.body))
    matches = [f for f in defs if f.parts == wanted]
    if not matches:
        names = [".".join((module_name, *f.parts)) for f in defs]
        hint = close_names(".".join((module_name, *wanted)), names)
        hint += _grep_defs(files, wanted[-1], path)
        also = f" Close names: {', '.join(dict.fromkeys(hint))}." if hint else ""
        return Failed(
            f"{'.'.join(wanted)!r} is not defined in module {module_name} ({path}).{also}"
        )
    note = ""
    if len(matches) > 1:
        note = f"{target} is defined {len(matches)} times in {path}; used the first definition"
    return Located(path, module_name, module, matches[0], note)


def strip_fences(text: str) -> str:
    """Drop a Markdown code fence around LLM output, if any."""
    match = _FENCE.match(text)
    return match.group("body") if match else text


def _indent_wrapper(source: str, steps: Sequence[str]) -> str:
    """``source`` nested in ``if True:`` blocks so that it parses at the given indentation."""
    lines, prefix = [], ""
    for step in steps:
        lines.append(f"{prefix}if True:\n")
        prefix += step
    return "".join(lines) + textwrap.indent(source, prefix)


def _unwrap(module: cst.Module, depth: int) -> cst.BaseStatement:
    stmt: cst.BaseStatement = module.body[0]
    for _ in range(depth):
        assert isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock)
        stmt = stmt.body.body[0]
    return stmt


def _describe(stmt: cst.CSTNode, code: str) -> str:
    if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
        kind = "class" if isinstance(stmt, cst.ClassDef) else "def"
        return f"{kind} {stmt.name.value}"
    first = code.strip().splitlines()[0] if code.strip() else ""
    return f"statement `{first[:60]}`"


class _ModuleIndent(cst.CSTTransformer):
    """Blocks indented by the source's own unit follow the target module's unit instead."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if updated_node.indent == self.unit:
            return updated_node.with_changes(indent=None)
        return updated_node


def _relative_blocks(node: Def, unit: str) -> Def:
    out = node.visit(_ModuleIndent(unit))
    assert isinstance(out, cst.FunctionDef | cst.ClassDef)
    return out


@dataclass(frozen=True)
class ParsedSource:
    """An LLM-written definition, parsed at the target indentation, plus its import lines."""

    node: Def
    imports: tuple[str, ...]


def parse_def_source(
    source: object, *, name: str, what: str, steps: Sequence[str] = (), kind: str = "any"
) -> ParsedSource | Failed:
    """Parse a slot holding exactly one def/class named ``name`` (leading imports allowed).

    ``steps`` is the indentation (one string per enclosing block) the node will live at;
    ``kind`` is ``"def"``, ``"class"`` or ``"any"``. ``what`` names the slot's purpose in
    the error messages (for example "the new source of pkg.mod.func").
    """
    want = {"def": "a `def`", "class": "a `class`"}.get(kind, "a `def` or `class`")
    ask = f"Send {what} as {want} named `{name}`, and nothing else."
    if not isinstance(source, str) or not source.strip():
        return Failed(f"the `source` slot is empty or not a string. {ask}")
    text = textwrap.dedent(strip_fences(source))
    text = text.strip("\n") + "\n"
    try:
        flat = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        lines = text.splitlines()
        bad = lines[exc.raw_line - 1] if 0 < exc.raw_line <= len(lines) else ""
        return Failed(
            f"the `source` slot is not valid Python: {exc.message} "
            f"(source line {exc.raw_line}: `{bad.strip()}`). {ask}"
        )
    imports: list[str] = []
    defs: list[Def] = []
    others: list[str] = []
    for stmt in flat.body:
        code = flat.code_for_node(stmt)
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            defs.append(stmt)
        elif (
            not defs
            and isinstance(stmt, cst.SimpleStatementLine)
            and all(isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body)
        ):
            imports.append(code.strip())
        else:
            others.append(_describe(stmt, code))
    got = [_describe(d, "") for d in defs] + others
    if len(defs) != 1 or others:
        return Failed(
            f"expected exactly one definition, received: {', '.join(got) or 'nothing'}. {ask}"
        )
    node = defs[0]
    if node.name.value != name:
        return Failed(f"the source defines `{node.name.value}` but the target is `{name}`. {ask}")
    if (
        kind == "def"
        and not isinstance(node, cst.FunctionDef)
        or (kind == "class" and not isinstance(node, cst.ClassDef))
    ):
        return Failed(f"received {_describe(node, '')}, the target needs {want}. {ask}")
    body = flat.code_for_node(node)
    if steps:
        wrapped = cst.parse_module(_indent_wrapper(body, steps))
        inner = _unwrap(wrapped, len(steps))
        assert isinstance(inner, cst.FunctionDef | cst.ClassDef)
        node = _relative_blocks(inner, flat.default_indent)
    else:
        reparsed = cst.parse_module(body).body[0]
        assert isinstance(reparsed, cst.FunctionDef | cst.ClassDef)
        node = reparsed
    return ParsedSource(node, tuple(imports))


# ---------------------------------------------------------------------------- results


def finish(
    files: RepoFiles, path: str, module: cst.Module | str, notes: Sequence[str] = ()
) -> Applied | Failed | Skipped:
    """``Applied`` with the new text if it compiles and differs; else ``Failed``/``Skipped``."""
    code = module if isinstance(module, str) else module.code
    if code == files.sources[path]:
        return Skipped(f"{path} is already in the requested state")
    try:
        compile(code, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return Failed(
            f"the change to {path} would not compile: {exc.msg} (line {exc.lineno}); "
            "nothing was changed"
        )
    return Applied({path: code}, tuple(n for n in notes if n))


def leading_with_comments(
    original: Sequence[cst.EmptyLine], new: Sequence[cst.EmptyLine]
) -> list[cst.EmptyLine]:
    """The original's blank lines and comments, or its blank lines plus the new comments."""
    if not any(line.comment for line in new):
        return list(original)
    blanks = [line for line in original if line.comment is None]
    return blanks + [line for line in new if line.comment is not None]


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain (the callee for a call), else None."""
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None
