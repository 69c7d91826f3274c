"""Raw style measurements of one Python source, and the repository helpers behind them.

``measure_source`` turns one file (or snippet) into a ``Tally`` of counts using
``ast`` and ``tokenize`` only. ``list_python_files`` / ``rank_files`` choose which
files of a repository to measure, and ``configured_line_length`` reads the line
limit that the repo's own linter configuration declares. Nothing here writes.
"""

from __future__ import annotations

import ast
import io
import logging
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

NAME_KINDS = ("functions", "methods", "classes", "constants", "variables", "parameters")
CONVENTIONS = ("snake_case", "camelCase", "PascalCase", "UPPER_CASE")
DOCSTRING_STYLES = ("google", "numpy", "rest", "plain", "none")
FORMATTING = ("fstring", "format", "percent")

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "virtualenv", "build", "dist",
     "node_modules", "vendor", "_vendor", "vendored", "third_party", "__pycache__",
     ".agent_data", ".autopatches", ".tox", ".nox", ".eggs", "site-packages", ".mypy_cache",
     ".pytest_cache", ".ruff_cache"}
)  # fmt: skip
TEST_PARTS = frozenset({"test", "tests", "testing", "conftest.py"})
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
AUX_PARTS = frozenset({"examples", "example", "docs", "doc", "scripts", "benchmarks", "bench"})

_GOOGLE = re.compile(
    r"^\s*(Args|Arguments|Params|Parameters|Returns?|Yields?|Raises|Attributes|"
    r"Keyword Args|Keyword Arguments|Other Parameters):\s*$",
    re.M,
)
_NUMPY = re.compile(
    r"^\s*(Parameters|Returns|Yields|Raises|Attributes|Examples|Notes|See Also|"
    r"Other Parameters|Warns|References)\s*\n\s*-{3,}\s*$",
    re.M,
)
_REST = re.compile(
    r"^\s*:(param|parameter|arg|argument|key|keyword|type|raises?|except|exception|"
    r"returns?|rtype|yields?|ytype|var|ivar|cvar)\b[^:\n]*:",
    re.M,
)


@dataclass
class Tally:
    """Counts measured from one source; ``lower`` naming = a one-word lowercase name."""

    lines: int = 0
    indent: Counter[str] = field(default_factory=Counter)
    quotes: Counter[str] = field(default_factory=Counter)
    line_lengths: list[int] = field(default_factory=list)
    naming: dict[str, Counter[str]] = field(
        default_factory=lambda: {kind: Counter() for kind in NAME_KINDS}
    )
    docstrings: Counter[str] = field(default_factory=Counter)
    params: Counter[str] = field(default_factory=Counter)
    returns: Counter[str] = field(default_factory=Counter)
    imports: Counter[str] = field(default_factory=Counter)
    future_annotations: bool = False
    formatting: Counter[str] = field(default_factory=Counter)
    trailing_commas: Counter[str] = field(default_factory=Counter)


def classify_name(name: str) -> str | None:
    """snake_case / camelCase / PascalCase / UPPER_CASE, ``lower``, ``other``, or None."""
    core = name.strip("_")
    if not any(c.isalpha() for c in core):
        return None
    if core.upper() == core:
        return "UPPER_CASE"
    if core.lower() == core:
        return "snake_case" if "_" in core else "lower"
    if "_" in core:
        return "other"
    return "PascalCase" if core[0].isupper() else "camelCase"


def classify_docstring(text: str) -> str:
    """google / numpy / rest / plain for one (cleaned) docstring."""
    if _NUMPY.search(text):
        return "numpy"
    if _REST.search(text):
        return "rest"
    if _GOOGLE.search(text):
        return "google"
    return "plain"


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is not None
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        keys = [k for k in node.keys if k is not None]
        return (
            bool(node.values)
            and len(keys) == len(node.values)
            and all(_is_literal(e) for e in (*keys, *node.values))
        )
    return False


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


class _DefVisitor:
    """Walks statements in scope order: naming, docstrings and annotations."""

    def __init__(self, tally: Tally) -> None:
        self.t = tally

    def _name(self, kind: str, name: str) -> None:
        label = classify_name(name)
        if label is not None:
            self.t.naming[kind][label] += 1

    def block(self, body: list[ast.stmt], ctx: str, public: bool) -> None:
        for node in body:
            self.stmt(node, ctx, public)

    def stmt(self, node: ast.stmt, ctx: str, public: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(node, ctx, public)
            return
        if isinstance(node, ast.ClassDef):
            self._name("classes", node.name)
            is_public = public and ctx != "function" and not node.name.startswith("_")
            if is_public:
                self._docstring(node)
            self.block(node.body, "class", is_public)
            return
        self._assignments(node, ctx)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.stmt(child, ctx, public)
            elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                self.block(child.body, ctx, public)

    def function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: str, public: bool
    ) -> None:
        dunder = node.name.startswith("__") and node.name.endswith("__")
        if not dunder:
            self._name("methods" if ctx == "class" else "functions", node.name)
        if public and ctx != "function" and not node.name.startswith("_"):
            self._docstring(node)
        a = node.args
        params = [*a.posonlyargs, *a.args]
        static = any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
        )
        if ctx == "class" and not static and params:
            params = params[1:]
        params += [*a.kwonlyargs, *(p for p in (a.vararg, a.kwarg) if p is not None)]
        for p in params:
            self._name("parameters", p.arg)
            self.t.params["annotated" if p.annotation is not None else "bare"] += 1
        self.t.returns["annotated" if node.returns is not None else "bare"] += 1
        self.block(node.body, "function", False)

    def _docstring(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        doc = ast.get_docstring(node, clean=True)
        self.t.docstrings[classify_docstring(doc) if doc else "none"] += 1

    def _assignments(self, node: ast.stmt, ctx: str) -> None:
        if ctx == "module":
            value = getattr(node, "value", None)
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if _is_literal(value):
                    for target in targets:
                        for name in _target_names(target):
                            if not name.startswith("__"):
                                self._name("constants", name)
            return
        if ctx != "function":
            return
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for target in targets:
            for name in _target_names(target):
                self._name("variables", name)


def _expressions(tree: ast.Module, tally: Tally) -> set[tuple[int, int]]:
    """Imports and string formatting; returns the start positions of string statements."""
    doc_positions: set[tuple[int, int]] = set()
    specs = {id(n.format_spec) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tally.imports["import"] += 1
        elif isinstance(node, ast.ImportFrom):
            tally.imports["from"] += 1
            tally.imports["relative" if node.level else "absolute"] += 1
            if node.module == "__future__" and any(a.name == "annotations" for a in node.names):
                tally.future_annotations = True
        elif isinstance(node, ast.JoinedStr) and id(node) not in specs:
            tally.formatting["fstring"] += 1
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
        ):
            tally.formatting["format"] += 1
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            tally.formatting["percent"] += 1
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            doc_positions.add((node.lineno, node.col_offset))
    return doc_positions


def _exploded(tree: ast.Module) -> list[ast.expr]:
    """Calls and literals with two or more elements that start on different lines."""
    out: list[ast.expr] = []
    for node in ast.walk(tree):
        items: list[ast.expr | ast.keyword]
        if isinstance(node, ast.Call):
            items = [*node.args, *node.keywords]
            items.sort(key=lambda n: (n.lineno, n.col_offset))
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = list(node.elts)
        elif isinstance(node, ast.Dict):
            items = list(node.values)
        else:
            continue
        if len(items) >= 2 and items[-1].lineno > items[0].lineno:
            out.append(node)
    return out


def _count_quote(literal: str, tally: Tally) -> None:
    """Count a one-line string literal's quote, unless it is triple-quoted or holds quotes."""
    i = min((literal.find(q) for q in "'\"" if q in literal), default=0)
    body = literal[i + 1 : -1]
    if literal[i : i + 3] not in ('"""', "'''") and "'" not in body and '"' not in body:
        tally.quotes["single" if literal[i] == "'" else "double"] += 1


def _tokens(
    text: str, tally: Tally, doc_positions: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, int]]:
    """Indentation and quotes; returns closing bracket end -> (previous token, its row)."""
    stack = [0]
    closers: dict[tuple[int, int], tuple[str, int]] = {}
    prev: tokenize.TokenInfo | None = None
    fstrings: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.INDENT:
            if "\t" in tok.string:
                tally.indent["tab"] += 1
            elif len(tok.string) > stack[-1]:
                tally.indent[f"{len(tok.string) - stack[-1]} spaces"] += 1
            stack.append(len(tok.string))
        elif tok.type == tokenize.DEDENT and len(stack) > 1:
            stack.pop()
        elif tok.type == tokenize.STRING and tok.start not in doc_positions and not fstrings:
            _count_quote(tok.string, tally)
        elif tok.type == _FSTRING_START:  # Python 3.12+ splits f-strings into parts
            fstrings.append(tok.start)
        elif tok.type == _FSTRING_END and fstrings:
            start = fstrings.pop()
            if not fstrings and start[0] == tok.end[0] and start not in doc_positions:
                _count_quote(lines[start[0] - 1][start[1] : tok.end[1]], tally)
        elif tok.type == tokenize.OP and tok.string in ")]}" and prev is not None:
            closers[tok.end] = (prev.string, prev.end[0])
        if tok.type not in skip:
            prev = tok
    return closers


def measure_source(text: str) -> Tally:
    """All counts for one source; raises ``SyntaxError`` (or ``ValueError``) if unparseable."""
    tree = ast.parse(text)
    tally = Tally(lines=len(text.splitlines()))
    tally.line_lengths = [len(line.rstrip()) for line in text.splitlines() if line.strip()]
    doc_positions = _expressions(tree, tally)
    try:
        closers = _tokens(text, tally, doc_positions)
    except tokenize.TokenError as exc:
        raise SyntaxError(str(exc)) from None
    _DefVisitor(tally).block(tree.body, "module", True)
    lines = text.splitlines()
    for node in _exploded(tree):
        assert node.end_lineno is not None and node.end_col_offset is not None
        raw = lines[node.end_lineno - 1].encode()[: node.end_col_offset]
        found = closers.get((node.end_lineno, len(raw.decode(errors="replace"))))
        if found and found[1] < node.end_lineno:
            tally.trailing_commas["yes" if found[0] == "," else "no"] += 1
    return tally


# -- repository helpers ---------------------------------------------------------------
