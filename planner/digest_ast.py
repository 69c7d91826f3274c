"""Small ``ast`` helpers for the digest parser: scopes, signatures, targets, ``__all__``."""

from __future__ import annotations

import ast


class Scope:
    """A lexical scope while walking: its kind, qualname and name → dotted-name bindings.

    Module and class scopes are scanned up front (functions may use names bound
    later in the module); a function scope learns its bindings while it is walked.
    """

    __slots__ = ("bindings", "declared", "kind", "qualname")

    def __init__(self, kind: str, qualname: str, bindings: dict[str, str]) -> None:
        self.kind = kind  # module | class | function | comprehension
        self.qualname = qualname
        self.bindings = bindings
        self.declared: set[str] = set()  # ``global`` / ``nonlocal`` names of a function


def short(expr: ast.expr, limit: int = 80) -> str:
    """A one-line rendering of a value for a constant's signature."""
    if (expr.end_lineno or expr.lineno) - expr.lineno > 1:
        if isinstance(expr, ast.Call):
            return f"{short(expr.func)}(...)"
        brackets = {ast.Dict: "{...}", ast.Set: "{...}", ast.List: "[...]", ast.Tuple: "(...)"}
        return brackets.get(type(expr), "...")
    text = ast.unparse(expr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def params_of(args: ast.arguments) -> tuple[str, ...]:
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return tuple(names)


def target_names(target: ast.expr) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in target_names(elt)]
    return []


def all_strings(value: ast.expr) -> list[ast.Constant]:
    """String literals of an ``__all__`` value: list/tuple literals and their ``+`` sums."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return [e for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return all_strings(value.left) + all_strings(value.right)
    return []


def is_all_extension(call: ast.Call) -> bool:
    """``__all__.extend([...])`` or ``__all__.append("x")``."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "__all__"
        and func.attr in ("extend", "append")
        and bool(call.args)
    )
