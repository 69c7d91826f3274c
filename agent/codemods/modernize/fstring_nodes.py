"""What the f-string codemod asks of single nodes: literal parts, atoms, comments inside,
dotted names, and which builtin calls and ``str`` methods surely give a ``str`` or an ``int``."""

from __future__ import annotations

import io
import tokenize

import libcst as cst

from agent.codemods.modernize.fstring_text import Unconvertible

STR_CALLS = {"str", "repr", "ascii", "format", "chr", "hex", "oct", "bin"}
INT_CALLS = {"len", "int", "ord", "id", "hash"}
OTHER_CALLS = {"list", "dict", "set", "frozenset", "sorted", "type", "bool", "float"}
STR_METHODS = {
    "join", "format", "upper", "lower", "strip", "lstrip", "rstrip", "replace", "title",
    "capitalize", "center", "ljust", "rjust", "zfill", "casefold", "swapcase",
}  # fmt: skip
_EMPTY = cst.Module([])


def code_of(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def literal_parts(node: cst.BaseExpression) -> list[cst.SimpleString] | None:
    """The string literals of ``node`` (a literal or an implicit concatenation), else None."""
    if isinstance(node, cst.SimpleString):
        return [node]
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_parts(node.left), literal_parts(node.right)
        return left + right if left is not None and right is not None else None
    return None


def whitespace_between(node: cst.BaseExpression) -> list[cst.BaseParenthesizableWhitespace]:
    if isinstance(node, cst.ConcatenatedString):
        return [node.whitespace_between, *whitespace_between(node.right)]
    return []


ATOMIC = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.Tuple,
    cst.SimpleString,
    cst.FormattedString,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def no_comments(node: cst.CSTNode) -> None:
    """Refuse an expression with a comment inside: the f-string would lose it."""
    code = code_of(node)
    if "#" not in code:
        return
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(f"({code})").readline))
    except (tokenize.TokenError, SyntaxError):
        raise Unconvertible("its tokens could not be read") from None
    if any(t.type == tokenize.COMMENT for t in tokens):
        raise Unconvertible("a comment inside the expression would be lost")


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``name`` or ``name.attr.attr`` (parentheses dropped) for a name chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


def is_simple(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name | cst.SimpleString | cst.Integer | cst.Float):
        return True
    return isinstance(node, cst.Attribute) and is_simple(node.value)
