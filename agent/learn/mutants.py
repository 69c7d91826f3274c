"""Bug mutants of one function: the ``fix`` tasks before the tests have judged them.

Five operators, each a small edit of the function's body that keeps the module
importable: flip a comparison, an off-by-one integer, drop a branch (an ``else`` block,
or an early ``return``/``raise`` guard), swap two positional arguments of a call, and a
wrong default for a parameter. Edits replace the exact source span (``ast`` positions),
so the rest of the file is byte-for-byte the original.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator

from agent.learn.task_edits import Func, compiles, functions
from agent.learn.tasks import Candidate

_FLIP: dict[type[ast.cmpop], ast.cmpop] = {
    ast.Lt: ast.GtE(), ast.LtE: ast.Gt(), ast.Gt: ast.LtE(), ast.GtE: ast.Lt(),
    ast.Eq: ast.NotEq(), ast.NotEq: ast.Eq(), ast.In: ast.NotIn(), ast.NotIn: ast.In(),
    ast.Is: ast.IsNot(), ast.IsNot: ast.Is(),
}  # fmt: skip


def _replace(source: str, node: ast.AST, text: str) -> str | None:
    """``source`` with ``node``'s span (one line) replaced by ``text``."""
    start, end = getattr(node, "lineno", 0), getattr(node, "end_lineno", None)
    if not start or start != end:
        return None
    lines = source.splitlines(keepends=True)
    raw = lines[start - 1].encode("utf-8")
    col, end_col = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    line = raw[:col] + text.encode("utf-8") + raw[end_col:]
    lines[start - 1] = line.decode("utf-8")
    return "".join(lines)


def _segment(source: str, node: ast.AST) -> str:
    return ast.get_source_segment(source, node) or ""


def _body_nodes(node: Func) -> Iterator[ast.AST]:
    """Nodes of the function's body, nested functions and classes left out."""
    todo: list[ast.AST] = list(node.body)
    while todo:
        item = todo.pop(0)
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield item
        todo.extend(ast.iter_child_nodes(item))


def _flips(source: str, node: Func) -> Iterator[tuple[str, str | None, str]]:
    for n in _body_nodes(node):
        if isinstance(n, ast.Compare) and len(n.ops) == 1 and type(n.ops[0]) in _FLIP:
            old = _segment(source, n)
            new = ast.Compare(n.left, [_FLIP[type(n.ops[0])]], n.comparators)
            text = ast.unparse(new)
            yield f"flip comparison `{old}` → `{text}`", _replace(source, n, text), old


def _off_by_one(source: str, node: Func) -> Iterator[tuple[str, str | None, str]]:
    for n in _body_nodes(node):
        inside = isinstance(n, ast.Compare | ast.BinOp | ast.Subscript | ast.Slice | ast.Call)
        if not inside:
            continue
        for c in ast.iter_child_nodes(n):
            if isinstance(c, ast.Constant) and type(c.value) is int and 0 <= c.value < 1000:
                old = _segment(source, c)
                text = _replace(source, c, str(c.value + 1))
                yield f"off by one `{old}` → `{c.value + 1}`", text, _segment(source, n)


def _drop_branch(source: str, node: Func) -> Iterator[tuple[str, str | None, str]]:
    lines = source.splitlines(keepends=True)
    for n in _body_nodes(node):
        if not isinstance(n, ast.If):
            continue
        first, last = n.lineno, n.end_lineno or n.lineno
        if n.orelse and not (len(n.orelse) == 1 and isinstance(n.orelse[0], ast.If)):
            else_line = n.orelse[0].lineno - 1  # the `else:` line, 1-based
            if lines[else_line - 1].strip().startswith("else") and else_line > first:
                old = "".join(lines[else_line - 1 : last])
                text = "".join(lines[: else_line - 1] + lines[last:])
                yield "drop the else branch", text, old
        elif not n.orelse and len(n.body) == 1 and isinstance(n.body[0], ast.Return | ast.Raise):
            parent_block = [
                s
                for s in ast.walk(node)
                if isinstance(b := getattr(s, "body", None), list) and n in b
            ]
            if parent_block and len(parent_block[0].body) > 1:  # type: ignore[attr-defined]
                old = "".join(lines[first - 1 : last])
                indent = old[: len(old) - len(old.lstrip())]
                text = "".join(lines[: first - 1] + [f"{indent}pass\n"] + lines[last:])
                yield "drop an early-exit branch", text, old


def _swaps(source: str, node: Func) -> Iterator[tuple[str, str | None, str]]:
    for n in _body_nodes(node):
        if not isinstance(n, ast.Call) or len(n.args) < 2:
            continue
        a, b = n.args[0], n.args[1]
        if isinstance(a, ast.Starred) or isinstance(b, ast.Starred):
            continue
        ta, tb = _segment(source, a), _segment(source, b)
        if not ta or not tb or ta == tb or a.lineno != b.end_lineno:
            continue
        full = _segment(source, n)
        head = _replace(source, b, ta)
        # b lies after a on the same line: replace b first, then a (offsets stay valid)
        text = _replace(head, a, tb) if head is not None else None
        yield f"swap the arguments `{ta}` and `{tb}`", text, full


def _defaults(source: str, node: Func) -> Iterator[tuple[str, str | None, str]]:
    for d in [*node.args.defaults, *(k for k in node.args.kw_defaults if k is not None)]:
        if not isinstance(d, ast.Constant):
            continue
        if isinstance(d.value, bool):
            new = str(not d.value)
        elif isinstance(d.value, int) and 0 <= d.value < 10_000:
            new = str(d.value + 1)
        else:
            continue
        old = _segment(source, d)
        yield f"wrong default `{old}` → `{new}`", _replace(source, d, new), old


OPERATORS = (_flips, _off_by_one, _drop_branch, _swaps, _defaults)


def mutants(path: str, source: str, *, per_function: int = 2, seed: int = 0) -> list[Candidate]:
    """Up to ``per_function`` compiling mutants of each function of one module."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out: list[Candidate] = []
    rng = random.Random(f"{seed}:{path}")
    for qual, node in functions(tree):
        if node.name.startswith("__"):
            continue  # `__init__`, `__doc__`, mangled `__name`: an issue cannot name them well
        found: list[Candidate] = []
        original_fn = ast.get_source_segment(source, node) or ""
        for operator in OPERATORS:
            for detail, text, original in operator(source, node):
                if text is None or text == source or not compiles(text):
                    continue
                found.append(
                    Candidate("fix", path, qual, {path: text}, {"original": original_fn},
                              detail=detail, hidden=(original,))
                )  # fmt: skip
        rng.shuffle(found)
        out.extend(found[:per_function])
    return out
