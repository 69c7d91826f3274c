"""The source changes that turn a function back into a task's starting state: its
docstring removed, its annotations or keyword-only marker dropped (LibCST, the rest of the
file untouched), a module-level function renamed everywhere; and the module's functions
these apply to."""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

import libcst as cst

Func = ast.FunctionDef | ast.AsyncFunctionDef


# -- functions of a module ---------------------------------------------------------------
def functions(tree: ast.Module) -> Iterator[tuple[str, Func]]:
    """Module-level functions and the methods of module-level classes, with qualified names."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def compiles(source: str) -> bool:
    try:
        compile(source, "<task>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def params_of(node: Func) -> list[ast.arg]:
    a = node.args
    return [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs] + (
        [a.kwarg] if a.kwarg else []
    )


def _is_method(qualname: str) -> bool:
    return "." in qualname


# -- docstring -----------------------------------------------------------------------------
def strip_docstring(source: str, node: Func) -> str | None:
    """The source without ``node``'s docstring (None when it has none or nothing else)."""
    doc = ast.get_docstring(node, clean=False)
    if not doc or len(node.body) < 2:
        return None
    first = node.body[0]
    lines = _lines(source)
    start, end = first.lineno - 1, (first.end_lineno or first.lineno) - 1
    if lines[start][: first.col_offset].strip() or lines[end].encode()[
        first.end_col_offset or 0 :
    ].strip(b" \t\r\n;"):
        return None  # shares a line with other code
    return "".join(lines[:start] + lines[end + 1 :])


# -- annotations / keyword-only markers (LibCST, the rest of the file untouched) -----------
class _OneFunction(cst.CSTTransformer):
    def __init__(self, qualname: str) -> None:
        self.qualname = qualname
        self.stack: list[str] = []
        self.changed = False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.stack.append(node.name.value)
        return True

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.stack.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.stack.append(node.name.value)
        return False  # nested functions are not ours

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        here = ".".join(self.stack)
        self.stack.pop()
        if here != self.qualname:
            return updated
        new = self.change(updated)
        self.changed = self.changed or not new.deep_equals(updated)
        return new

    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        raise NotImplementedError


class _StripAnnotations(_OneFunction):
    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        def bare(p: cst.Param) -> cst.Param:
            return p.with_changes(annotation=None)

        ps = node.params
        star = ps.star_arg
        params = ps.with_changes(
            posonly_params=[bare(p) for p in ps.posonly_params],
            params=[bare(p) for p in ps.params],
            kwonly_params=[bare(p) for p in ps.kwonly_params],
            star_arg=bare(star) if isinstance(star, cst.Param) else star,
            star_kwarg=bare(ps.star_kwarg) if ps.star_kwarg else None,
        )
        return node.with_changes(params=params, returns=None)


class _DropKeywordOnly(_OneFunction):
    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        ps = node.params
        if not isinstance(ps.star_arg, cst.ParamStar) or not ps.kwonly_params:
            return node
        moved = [p.with_changes(comma=cst.MaybeSentinel.DEFAULT) for p in ps.kwonly_params]
        params = (
            [
                *ps.params[:-1],
                ps.params[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                ),
            ]
            if ps.params
            else []
        )
        return node.with_changes(
            params=ps.with_changes(
                params=[*params, *moved], star_arg=cst.MaybeSentinel.DEFAULT, kwonly_params=[]
            )
        )


def _transform(source: str, transformer: _OneFunction) -> str | None:
    try:
        module = cst.parse_module(source)
        out = module.visit(transformer).code
    except (cst.ParserSyntaxError, cst.CSTValidationError, TypeError, ValueError):
        return None
    return out if transformer.changed and out != source and compiles(out) else None


def annotations_of(node: Func) -> dict[str, str]:
    """Parameter name (``return`` for the return value) → annotation source."""
    found = {p.arg: ast.unparse(p.annotation) for p in params_of(node) if p.annotation}
    if node.returns is not None:
        found["return"] = ast.unparse(node.returns)
    return found


def strip_annotations(source: str, qualname: str) -> str | None:
    return _transform(source, _StripAnnotations(qualname))


def drop_keyword_only(source: str, qualname: str) -> str | None:
    return _transform(source, _DropKeywordOnly(qualname))


# -- renames ---------------------------------------------------------------------------
_SYNONYMS = {
    "get": "fetch", "fetch": "get", "make": "build", "build": "make", "create": "new",
    "compute": "calc", "calc": "compute", "remove": "delete", "delete": "remove",
    "add": "append", "find": "lookup", "load": "read", "read": "load", "write": "save",
    "save": "write", "parse": "decode", "check": "verify", "to": "as", "is": "check",
}  # fmt: skip


def old_name(name: str, taken: set[str]) -> str | None:
    """A plausible earlier name for ``name`` that the repository does not use."""
    lead = name.startswith("_")
    words = name.lstrip("_").split("_")
    tries = []
    if words[0] in _SYNONYMS:
        tries.append("_".join([_SYNONYMS[words[0]], *words[1:]]))
    tries += [f"{name.lstrip('_')}_impl", f"do_{name.lstrip('_')}"]
    for t in tries:
        t = ("_" if lead else "") + t
        if t != name and t not in taken and t.isidentifier():
            return t
    return None


def identifiers(source: str) -> set[str]:
    try:
        return {
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type == tokenize.NAME
        }
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set()


def rename_everywhere(source: str, old: str, new: str) -> str:
    """``old`` → ``new`` for every NAME token and every string literal that is exactly it."""
    out, changed = [], False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    for tok in tokens:
        text = tok.string
        if tok.type == tokenize.NAME and text == old:
            text, changed = new, True
        elif tok.type == tokenize.STRING and text in (f'"{old}"', f"'{old}'"):
            text, changed = text[0] + new + text[-1], True
        out.append(tok._replace(string=text))
    return tokenize.untokenize(out) if changed else source
