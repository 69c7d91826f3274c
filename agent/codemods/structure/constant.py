"""extract_constant: replace a repeated literal of a module by one module-level constant.

``ExtractConstantCommand`` finds every string, bytes or number literal (docstrings, type
annotations, ``Literal[...]``, ``__all__``, ``match`` patterns and implicit concatenations
are left alone), picks the one asked for (or the most repeated one, at least twice, never
0, 1, -1 or a string of at most one visible character; ties go to the longer literal), adds
``NAME = <literal>`` after the imports and before the literal's first use, and puts ``NAME``
everywhere the literal was: call arguments, comparisons, and default values of parameters,
overloads included. An occurrence where ``NAME`` is a local name is kept (and reported).
"""

from __future__ import annotations

import keyword
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, SkipFile
from libcst.helpers import get_full_name_for_node
from libcst.metadata import GlobalScope, MetadataWrapper, ScopeProvider

from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.nodes import is_docstring
from agent.codemods.structure.imports import (
    BLANK,
    import_region_end,
    with_gap,
)
from agent.codemods.structure.shared import (
    CodemodError,
    module_ref,
    split_target,
    transform_or_raise,
)
from planner.spec import Operation

logger = logging.getLogger(__name__)

LiteralKey = tuple[str, object]
TRIVIAL: frozenset[LiteralKey] = frozenset(
    {("int", 0), ("int", 1), ("int", -1), ("str", ""), ("bytes", b"")}
)
Number = cst.Integer | cst.Float | cst.Imaginary


def literal_key(node: cst.CSTNode) -> LiteralKey | None:
    """(kind, value) of a string, bytes or number literal node; None for anything else."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return ("bytes" if isinstance(value, bytes) else "str", value)
    if isinstance(node, Number):
        kind = {cst.Integer: "int", cst.Float: "float", cst.Imaginary: "complex"}[type(node)]
        return kind, node.evaluated_value
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, Number)
    ):
        inner = literal_key(node.expression)
        assert inner is not None and isinstance(inner[1], int | float | complex)
        return inner[0], -inner[1]
    return None


def _trivial(key: LiteralKey) -> bool:
    """Literals never picked on their own: 0, 1, -1 and strings of at most one visible char."""
    if key in TRIVIAL:
        return True
    return isinstance(key[1], str | bytes) and len(key[1].strip()) <= 1


def _show(key: LiteralKey) -> str:
    return repr(key[1])


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _similar(key: LiteralKey, found: list[LiteralKey]) -> list[str]:
    """Literals of the module that look like the one asked for (b"x" for "x", …)."""
    text = _text(key[1])
    out = [
        _show(k)
        for k in dict.fromkeys(found)
        if k != key and (_text(k[1]) == text or (len(text) >= 3 and text in _text(k[1])))
    ]
    return out[:5]


class _Finder(cst.CSTVisitor):
    """Collect replaceable literal occurrences, in source order."""

    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[tuple[cst.BaseExpression, LiteralKey]] = []
        self.shadowed: set[int] = set()
        self.skip: set[int] = set()

    def _skip_docstring(self, body: Any) -> None:
        stmts = body.body if isinstance(body, cst.IndentedBlock | cst.Module) else []
        if stmts and is_docstring(stmts[0]):
            self.skip.add(id(stmts[0]))

    def visit_Module(self, node: cst.Module) -> bool:
        self._skip_docstring(node)
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._skip_docstring(node.body)
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._skip_docstring(node.body)
        return True

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return id(node) not in self.skip

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return False

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return False

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        return True

    def visit_MatchCase(self, node: cst.MatchCase) -> bool:
        if node.guard is not None:
            node.guard.visit(self)
        node.body.visit(self)
        return False

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        name = get_full_name_for_node(node.value) or ""
        return name.rpartition(".")[2] != "Literal"

    def visit_Assign(self, node: cst.Assign) -> bool:
        names = {get_full_name_for_node(t.target) for t in node.targets}
        return "__all__" not in names

    def visit_Call(self, node: cst.Call) -> bool:
        name = (get_full_name_for_node(node.func) or "").rpartition(".")[2]
        if name == "cast" and node.args:  # cast("Type", value): the first one is a type
            node.func.visit(self)
            for arg in node.args[1:]:
                arg.visit(self)
            return False
        return True

    def _record(self, node: cst.BaseExpression) -> bool:
        key = literal_key(node)
        if key is None:
            return True
        scope = self.get_metadata(ScopeProvider, node, None)
        if (
            scope is not None
            and self.name in scope
            and any(not isinstance(a.scope, GlobalScope) for a in scope[self.name])
        ):
            self.shadowed.add(id(node))
        self.found.append((node, key))
        return False

    def visit_SimpleString(self, node: cst.SimpleString) -> bool:
        return self._record(node)

    def visit_Integer(self, node: cst.Integer) -> bool:
        return self._record(node)

    def visit_Float(self, node: cst.Float) -> bool:
        return self._record(node)

    def visit_Imaginary(self, node: cst.Imaginary) -> bool:
        return self._record(node)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> bool:
        return self._record(node)


class _Replace(cst.CSTTransformer):
    def __init__(self, targets: set[int], name: str) -> None:
        super().__init__()
        self.targets = targets
        self.name = name

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        if id(original_node) in self.targets:
            return cst.Name(self.name)
        return updated_node


class ExtractConstantCommand(Codemod):
    """One module: literal → ``NAME``; the outcome is left in ``notes`` / ``skip_reason``."""

    DESCRIPTION = "Replace a repeated literal with a module-level constant."

    def __init__(self, context: CodemodContext, name: str, value: str | None) -> None:
        super().__init__(context)
        self.name = name
        self.value = value
        self.notes: list[str] = []
        self.skip_reason = ""

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
        finder = _Finder(self.name)
        wrapper.visit(finder)
        scope = wrapper.resolve(ScopeProvider)[tree]
        key = self._pick(finder)
        existing = self._existing(tree, scope, key)
        hits = [n for n, k in finder.found if k == key and id(n) not in existing]
        targets = {id(n) for n in hits if id(n) not in finder.shadowed}
        if len(targets) < len(hits):
            self.notes.append(
                f"kept {len(hits) - len(targets)} occurrence(s) where `{self.name}` is a local name"
            )
        if not targets:
            self.skip_reason = f"{_show(key)} has no occurrence left to replace"
            raise SkipFile(self.skip_reason)
        code = tree.code_for_node(hits[0])  # the file's own spelling of the literal
        if not existing:
            tree = self._insert(tree, targets, code)
        new = tree.visit(_Replace(targets, self.name))
        self.notes.append(f"replaced {len(targets)} occurrence(s) of {code} with `{self.name}`")
        return new

    def _pick(self, finder: _Finder) -> LiteralKey:
        if self.value is not None:
            try:
                key = literal_key(cst.parse_expression(self.value.strip()))
            except cst.ParserSyntaxError:
                key = None
            if key is None:
                raise CodemodError(
                    f"extract_constant: value {self.value!r} is not a string, bytes or number "
                    "literal; send it as Python source, e.g. b\"salt\", 'text' or 3600"
                )
            if all(k != key for _, k in finder.found):
                similar = _similar(key, [k for _, k in finder.found])
                hint = f"; similar literals here: {', '.join(similar[:5])}" if similar else ""
                self.skip_reason = f"the literal {self.value.strip()} does not occur{hint}"
                raise SkipFile(self.skip_reason)
            return key
        counts = Counter(k for _, k in finder.found if not _trivial(k))
        best = sorted(counts.items(), key=lambda kv: (-kv[1], -len(repr(kv[0][1]))))
        if not best or best[0][1] < 2:
            self.skip_reason = "no string, bytes or number literal occurs twice or more"
            raise SkipFile(self.skip_reason)
        return best[0][0]

    def _existing(self, tree: cst.Module, scope: Any, key: LiteralKey) -> set[int]:
        """ids of the literal in an existing ``NAME = <literal>``; raise if NAME means else."""
        if self.name not in scope:
            return set()
        bindings = list(scope.assignments[self.name])
        for stmt in tree.body:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
                small = stmt.body[0]
                if (
                    isinstance(small, cst.Assign | cst.AnnAssign)
                    and small.value is not None
                    and get_full_name_for_node(
                        small.targets[0].target if isinstance(small, cst.Assign) else small.target
                    )
                    == self.name
                ):
                    if literal_key(small.value) == key and len(bindings) == 1:
                        self.notes.append(f"`{self.name}` already holds {_show(key)}; reused it")
                        return {id(small.value)}
                    raise CodemodError(
                        f"`{self.name}` already exists in this module as "
                        f"`{tree.code_for_node(stmt).strip()}`, not {_show(key)}; "
                        "pick another name"
                    )
        raise CodemodError(
            f"`{self.name}` is already bound in this module (import, def or local use); "
            "pick another name"
        )

    def _insert(self, tree: cst.Module, targets: set[int], code: str) -> cst.Module:
        body = list(tree.body)
        pos = import_region_end(body)
        for index, stmt in enumerate(body):
            if index >= pos:
                break
            if _contains(stmt, targets) and not isinstance(stmt, cst.SimpleStatementLine):
                pos = index
                break
        line = cst.parse_statement(f"{self.name} = {code}\n")
        line = line.with_changes(leading_lines=(BLANK,) if pos else ())
        if pos < len(body):
            body[pos] = with_gap(body[pos])
        body.insert(pos, line)
        self.notes.append(f"added `{self.name} = {code}` at top-level statement {pos + 1}")
        return tree.with_changes(body=body)


class _Contains(cst.CSTVisitor):
    def __init__(self, targets: set[int]) -> None:
        super().__init__()
        self.targets = targets
        self.hit = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.hit = self.hit or id(node) in self.targets
        return not self.hit


def _contains(node: cst.CSTNode, targets: set[int]) -> bool:
    visitor = _Contains(targets)
    node.visit(visitor)
    return visitor.hit


def extract_constant(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Handler of ``extract_constant``: target a module, params ``name`` and optional ``value``."""
    name = str(op.params.get("name") or "").strip()
    if not name.isidentifier() or keyword.iskeyword(name):
        return Failed(
            f"extract_constant needs params.name, a valid Python identifier (got {name!r}), "
            "e.g. DEFAULT_SALT"
        )
    ref = module_ref(files, op.target)
    if ref is None:
        split = split_target(files, op.target)
        if isinstance(split, str):
            return Failed(f"extract_constant: {split}")
        ref = split[0]
        logger.info("extract_constant: using module %s of target %s", ref.name, op.target)
    raw = op.params.get("value")
    value = None if raw is None or str(raw).strip() == "" else str(raw)
    command = ExtractConstantCommand(CodemodContext(), name, value)
    text = files.sources[ref.path]
    try:
        new = transform_or_raise(command, text, ref.path)
    except CodemodError as exc:
        return Failed(f"{exc} (module {ref.name}, nothing changed)")
    if new == text:
        return Skipped(f"{ref.name}: {command.skip_reason or 'nothing to replace'}")
    return Applied(changes={ref.path: new}, notes=tuple(command.notes))
