"""``FStringCommand``: the LibCST codemod behind ``modernize`` with ``idiom: fstring``.

It finds ``<literal> % args`` and ``<literal>.format(...)`` (also on
``textwrap.dedent(<literal>)``, folded into one f-string line per line of text), works out
what each argument surely is (an int, a float, a str, surely not a tuple, or unknown —
via scopes: a name assigned once from a literal is known), and hands the text to
``fstring_proof``, which converts only what it can prove identical. Skipped
candidates are collected in ``skipped`` with their line and reason.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import (
    Assignment,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from agent.codemods.modernize.fstring_nodes import (
    ATOMIC,
    INT_CALLS,
    OTHER_CALLS,
    STR_CALLS,
    STR_METHODS,
    code_of,
    dotted_name,
    is_simple,
    literal_parts,
    no_comments,
    whitespace_between,
)
from agent.codemods.modernize.fstring_proof import convert_format, convert_percent
from agent.codemods.modernize.fstring_text import Arg, Unconvertible, positional_specifiers

log = logging.getLogger(__name__)

__all__ = ["FStringCommand"]


class FStringCommand(VisitorBasedCodemodCommand):
    """Convert %-formatting and str.format on string literals into identical f-strings."""

    DESCRIPTION = "Convert %-formatting and str.format on string literals into f-strings."
    METADATA_DEPENDENCIES = (
        PositionProvider,
        QualifiedNameProvider,
        ScopeProvider,
        ParentNodeProvider,
    )

    def __init__(self, context: CodemodContext, lines: tuple[int, int] | None = None) -> None:
        super().__init__(context)
        self.lines = lines
        self.converted = 0
        self.skipped: list[str] = []
        self.folded: set[int] = set()  # `dedent` name nodes whose calls were folded

    # -- dropping `from textwrap import dedent` once every use was folded ----------------
    def _folded_import(self, stmt: cst.BaseStatement) -> bool:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
            return False
        imp = stmt.body[0]
        if not (
            isinstance(imp, cst.ImportFrom | cst.Import)
            and not isinstance(imp.names, cst.ImportStar)
        ):
            return False
        if len(imp.names) != 1 or imp.names[0].asname is not None:
            return False
        wanted = (
            "from textwrap import dedent" if isinstance(imp, cst.ImportFrom) else "import textwrap"
        )
        if code_of(imp).strip() != wanted:
            return False
        scope = self.get_metadata(ScopeProvider, imp, None)
        name = "dedent" if isinstance(imp, cst.ImportFrom) else "textwrap"
        if scope is None or not self.folded:
            return False
        refs = [r for a in scope[name] if isinstance(a, Assignment) for r in a.references]
        folded = [r for r in refs if id(r.node) in self.folded]
        return len(folded) == len(refs) > 0

    def _drop_folded(
        self, original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        carry: Sequence[cst.EmptyLine] | None = None
        for old, new in zip(original, updated, strict=True):
            if isinstance(old, cst.SimpleStatementLine) and self._folded_import(old):
                carry = old.leading_lines
                continue
            if carry is not None:
                new = new.with_changes(leading_lines=carry)
                carry = None
            out.append(new)
        return out

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = self._drop_folded(original_node.body, updated_node.body)
        return updated_node.with_changes(body=body or [cst.SimpleStatementLine([cst.Pass()])])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(
            body=self._drop_folded(original_node.body, updated_node.body)
        )

    # -- what a value surely is ------------------------------------------------------
    def _qualnames(self, node: cst.CSTNode) -> set[str]:
        return {q.name for q in self.get_metadata(QualifiedNameProvider, node, set())}

    def kind(self, node: cst.BaseExpression, depth: int = 0) -> str:
        """int | float | str | other (surely not a tuple) | unknown."""
        if isinstance(node, cst.Integer):
            return "int"
        if isinstance(node, cst.Float):
            return "float"
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
            return "other" if "b" in code_of(node).split("'")[0].split('"')[0].lower() else "str"
        if isinstance(node, cst.List | cst.Set | cst.Dict | cst.ListComp | cst.SetComp):
            return "other"
        if isinstance(node, cst.DictComp | cst.GeneratorExp | cst.Lambda | cst.Comparison):
            return "other"
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return "other"
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return "str" if literal_parts(node.left) else "unknown"
        if isinstance(node, cst.Attribute) and node.attr.value in ("__name__", "__qualname__"):
            return "str"
        if isinstance(node, cst.Call):
            return self._call_kind(node)
        if isinstance(node, cst.Name) and depth < 3:
            if node.value in ("None", "True", "False"):
                return "other"
            return self._name_kind(node, depth)
        return "unknown"

    def _call_kind(self, node: cst.Call) -> str:
        func = node.func
        if isinstance(func, cst.Attribute) and literal_parts(func.value):
            if func.attr.value in STR_METHODS:
                return "str"
            if func.attr.value in ("count", "find", "index", "rfind", "rindex"):
                return "int"
        for name in self._qualnames(func):
            short = name.removeprefix("builtins.")
            if name.startswith("builtins."):
                if short in STR_CALLS:
                    return "str"
                if short in INT_CALLS:
                    return "int"
                if short in OTHER_CALLS:
                    return "float" if short == "float" else "other"
        return "unknown"

    def _name_kind(self, node: cst.Name, depth: int) -> str:
        """The kind of a name assigned exactly once, by a plain ``name = value``."""
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return "unknown"
        assignments = list(scope[node.value])
        if len(assignments) != 1 or not isinstance(assignments[0], Assignment):
            return "unknown"
        target = assignments[0].node
        parent = self.get_metadata(ParentNodeProvider, target, None)
        assign = self.get_metadata(ParentNodeProvider, parent, None) if parent else None
        if not (isinstance(parent, cst.AssignTarget) and isinstance(assign, cst.Assign)):
            return "unknown"
        if len(assign.targets) != 1 or parent.target is not target:
            return "unknown"
        return self.kind(assign.value, depth + 1)

    def _plain_parameter(self, node: cst.BaseExpression) -> bool:
        """A name that is a plain (not ``*args``) parameter, never reassigned, not tuple-typed."""
        if not isinstance(node, cst.Name):
            return False
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        assignments = list(scope[node.value])
        if len(assignments) != 1 or not isinstance(assignments[0], Assignment):
            return False
        param = assignments[0].node
        if not isinstance(param, cst.Param) or param.star in ("*", "**"):
            return False
        annotation = code_of(param.annotation.annotation) if param.annotation else ""
        default = param.default
        return "tuple" not in annotation.lower() and not isinstance(default, cst.Tuple)

    # -- arguments -------------------------------------------------------------------
    def arg(self, original: cst.BaseExpression, updated: cst.BaseExpression, order: int) -> Arg:
        code = code_of(updated).strip()
        if "#" in code:
            raise Unconvertible(f"`{code[:40]}` contains a comment or '#'")
        parenthesized = bool(getattr(updated, "lpar", ()))
        atomic = parenthesized or isinstance(updated, ATOMIC)
        if "\n" in code or "\\" in code:
            try:
                code = ast.unparse(ast.parse(f"({code})", mode="eval"))
            except SyntaxError:
                raise Unconvertible("a multi-line argument") from None
            if parenthesized and not isinstance(updated, ATOMIC):
                code = f"({code})"
        bare = isinstance(updated, cst.Lambda | cst.NamedExpr) and not parenthesized
        if bare or code.startswith("{"):
            code, atomic = f"({code})", True
        return Arg(code, self.kind(original), is_simple(original), atomic, order)

    # -- positions ---------------------------------------------------------------------
    def _line(self, node: cst.CSTNode) -> int:
        pos = self.get_metadata(PositionProvider, node, None)
        return pos.start.line if pos is not None else 0

    def _active(self, node: cst.CSTNode) -> bool:
        if self.lines is None:
            return True
        return self.lines[0] <= self._line(node) <= self.lines[1]

    def _skip(self, node: cst.CSTNode, why: Unconvertible) -> None:
        snippet = " ".join(code_of(node).split())
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "..."
        self.skipped.append(f"line {self._line(node)}: left `{snippet}`: {why}")

    # -- building the replacement --------------------------------------------------------
    def _rebuild(
        self, pieces: Sequence[str], literal: cst.BaseExpression, outer: cst.BaseExpression
    ) -> cst.BaseExpression:
        nodes = [cst.parse_expression(p) for p in pieces]
        if len(nodes) == 1:
            return nodes[0]
        spaces = whitespace_between(literal)
        result: cst.BaseExpression = nodes[-1]
        for node, space in zip(reversed(nodes[:-1]), reversed(spaces), strict=True):
            assert isinstance(node, cst.SimpleString | cst.FormattedString)
            assert isinstance(
                result, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString
            )
            result = cst.ConcatenatedString(node, result, whitespace_between=space)
        if "\n" not in code_of(result):
            return result
        source = outer if getattr(outer, "lpar", ()) else literal
        return result.with_changes(
            lpar=getattr(source, "lpar", ()), rpar=getattr(source, "rpar", ())
        )

    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> cst.BaseExpression:
        if not isinstance(original_node.operator, cst.Modulo) or not self._active(original_node):
            return updated_node
        parts = literal_parts(original_node.left)
        if parts is None:
            return updated_node
        try:
            no_comments(original_node)
            codes = [code_of(p) for p in parts]
            packed = self._packed(original_node, codes)
            if packed is not None:
                operand, items = packed
                pieces = convert_percent(codes, items, packed=operand)
            else:
                pieces = convert_percent(codes, self._percent_args(original_node, updated_node))
        except Unconvertible as why:
            if not code_of(parts[0]).lower().startswith(("b", "rb", "br")):
                self._skip(original_node, why)
            return updated_node
        self.converted += 1
        return self._rebuild(pieces, original_node.left, updated_node)

    def _packed(
        self, original: cst.BinaryOperation, codes: Sequence[str]
    ) -> tuple[str, list[Arg]] | None:
        """``name`` and its items ``name[0]``, ``name[1]``, ... for ``'%s %r' % name``.

        With two or more positional specifiers, ``%`` succeeds only on a tuple of exactly
        that many items (any other value raises TypeError), so a right operand that is a
        name or attribute chain of unknown kind (cheap to evaluate again) can be indexed.
        One specifier (or a mapping key, a ``*``) is left to ``_percent_args``: with one,
        the value may or may not be a 1-tuple. None when this does not apply.
        """
        dotted = dotted_name(original.right)
        if dotted is None or self.kind(original.right) != "unknown":
            return None
        count = positional_specifiers(codes)
        if count is None or count < 2:
            return None
        return dotted, [Arg(f"{dotted}[{i}]", "unknown", True, True, i) for i in range(count)]

    def _percent_args(
        self, original: cst.BinaryOperation, updated: cst.BinaryOperation
    ) -> list[Arg] | dict[str, Arg]:
        right, new_right = original.right, updated.right
        if isinstance(right, cst.Tuple) and isinstance(new_right, cst.Tuple):
            args = []
            for i, (old, new) in enumerate(zip(right.elements, new_right.elements, strict=True)):
                if isinstance(old, cst.StarredElement):
                    raise Unconvertible("a starred argument")
                args.append(self.arg(old.value, new.value, i))
            return args
        if (
            isinstance(right, cst.Dict)
            and isinstance(new_right, cst.Dict)
            and "%(" in code_of(original.left)
        ):
            out: dict[str, Arg] = {}
            for i, (old_el, new_el) in enumerate(
                zip(right.elements, new_right.elements, strict=True)
            ):
                if not isinstance(old_el, cst.DictElement) or not isinstance(
                    new_el, cst.DictElement
                ):
                    raise Unconvertible("a ** entry in the dict")
                key = (
                    ast.literal_eval(code_of(old_el.key))
                    if isinstance(old_el.key, cst.SimpleString)
                    else None
                )
                if not isinstance(key, str):
                    raise Unconvertible("a dict key that is not a string literal")
                out[key] = self.arg(old_el.value, new_el.value, i)
            return out
        single = self.arg(right, new_right, 0)
        if single.kind == "unknown" and self._plain_parameter(right):
            # A parameter that only a caller's bug would make a tuple: convert, as a human would.
            single = Arg(single.code, "other", single.simple, single.atomic, single.order)
        if single.kind == "unknown":
            raise Unconvertible(f"`{single.code}` could hold a tuple (its type is not evident)")
        return [single]

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "format"):
            return updated_node
        if not self._active(original_node):
            return updated_node
        receiver, dedent = func.value, False
        parts = literal_parts(receiver)
        if (
            parts is None
            and isinstance(receiver, cst.Call)
            and len(receiver.args) == 1
            and not receiver.args[0].keyword
            and "textwrap.dedent" in self._qualnames(receiver.func)
        ):
            parts, dedent = literal_parts(receiver.args[0].value), True
        if parts is None:
            return updated_node
        try:
            no_comments(original_node)
            positional, keywords = self._format_args(original_node, updated_node)
            codes = [code_of(p) for p in parts]
            pieces = convert_format(codes, positional, keywords, dedent=dedent)
        except Unconvertible as why:
            self._skip(original_node, why)
            return updated_node
        self.converted += 1
        if dedent:
            assert isinstance(receiver, cst.Call)
            self.folded.add(id(receiver.func))
            if isinstance(receiver.func, cst.Attribute):
                self.folded.add(id(receiver.func.value))
            return self._block(original_node, pieces)
        return self._rebuild(pieces, receiver, updated_node)

    def _format_args(
        self, original: cst.Call, updated: cst.Call
    ) -> tuple[list[Arg], dict[str, Arg]]:
        positional: list[Arg] = []
        keywords: dict[str, Arg] = {}
        for i, (old, new) in enumerate(zip(original.args, updated.args, strict=True)):
            if old.star:
                raise Unconvertible("*args or **kwargs")
            arg = self.arg(old.value, new.value, i)
            if old.keyword is not None:
                keywords[old.keyword.value] = arg
            elif keywords:
                raise Unconvertible("positional after keyword")
            else:
                positional.append(arg)
        return positional, keywords

    def _block(self, node: cst.CSTNode, pieces: Sequence[str]) -> cst.BaseExpression:
        """A parenthesized, one-piece-per-line concatenation (indentation is relative)."""
        step = self.module_indent()
        text = "(\n" + "".join(f"{step}{p}\n" for p in pieces) + ")"
        return cst.parse_expression(text)

    def module_indent(self) -> str:
        module = self.context.wrapper.module if self.context.wrapper else None
        return module.default_indent if module is not None else "    "
