"""Code the issue writes, checked against the code it names: evidence of the kind of change.

Words vary from one writer to the next; the code an issue quotes does not. Each backticked
snippet is parsed as Python and compared with the repository:

- a signature of an existing function with a parameter it lacks
  (`sign(value, timestamp: int | None = None)`) asks for that parameter;
- a signature of a function the repository lacks asks for that new function;
- a lone parameter with a default (`err: bool = False`) that a named function lacks asks to
  add it there;
- a parameter with only a type (`maxsize: int`) that a named function has asks for
  annotations on it;
- ``NAME = literal`` with a new constant name asks for a named constant;
- ``@decorator`` asks to put that decorator on (or take it off) a named function.

The planner takes the kinds this evidence points to as the main change and favours the
targets it names; the judge still decides everything else.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from planner.ground import CALLABLE_KINDS, Grounded, Grounding

_SPAN = re.compile(r"`([^`\n]+)`")
_SIGNATURE = re.compile(r"^(?:def\s+)?([A-Za-z_][\w.]*)\s*\((.*)\)\s*(?:->\s*(.+))?:?$")
_PARAMETER = re.compile(r"^([a-z_][a-z0-9_]*)\s*(?::\s*([^=]+?))?\s*(?:=\s*(.+))?$")
_CONSTANT = re.compile(r"^(_?[A-Z][A-Z0-9_]*)\s*=\s*(.+)$")
_DECORATOR = re.compile(r"^@([A-Za-z_][\w.]*)(?:\(.*\))?$")


@dataclass(frozen=True)
class Evidence:
    """One snippet's reading: an operation kind, the targets it names (empty: any target
    of that kind), and the one parameter value it fixes (a new name, a decorator)."""

    op: str
    targets: tuple[str, ...] = ()
    value: str = ""
    span: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "targets": list(self.targets),
            "value": self.value,
            "span": self.span,
        }


def code_evidence(grounding: Grounding, symbols: Any) -> list[Evidence]:
    """What the issue's backticked code says about the change (see the module docstring)."""
    callables = [
        g
        for g in grounding.symbols
        if g.kind in CALLABLE_KINDS and g.strength >= 2 and not g.in_tests
    ]
    new_names = {n for n, _ in grounding.new_names}
    out: list[Evidence] = []
    for span in dict.fromkeys(m.strip() for m in _SPAN.findall(grounding.issue.raw)):
        found = (
            _decorator(span, callables)
            or _constant(span, new_names)
            or _signature(span, grounding, symbols, new_names)
            or _parameter(span, callables)
        )
        out += found
    return out


def _params(g: Grounded) -> set[str]:
    return {p.lstrip("*") for p in g.params} - {"self", "cls"}


def _decorator(span: str, callables: list[Grounded]) -> list[Evidence]:
    """``@name`` (not a call) in an issue about one function."""
    m = _DECORATOR.match(span)
    if not m or "(" in span or len(callables) != 1:
        return []
    return [Evidence("decorator", tuple(g.qualname for g in callables), m.group(1), span)]


def _constant(span: str, new_names: set[str]) -> list[Evidence]:
    m = _CONSTANT.match(span)
    if not m or m.group(1) not in new_names:
        return []
    try:
        value = ast.literal_eval(m.group(2).strip())
    except (ValueError, SyntaxError):
        return []
    if not isinstance(value, int | float | str | bytes | tuple | frozenset):
        return []
    return [Evidence("extract_constant", (), m.group(1), span)]


def _signature(
    span: str, grounding: Grounding, symbols: Any, new_names: set[str]
) -> list[Evidence]:
    m = _SIGNATURE.match(span)
    if not m:
        return []
    name, params, returns = m.group(1), m.group(2), m.group(3)
    try:
        tree = ast.parse(f"def _f({params}){' -> ' + returns if returns else ''}: pass")
    except SyntaxError:
        return []  # a call with values (`f(1, 'x')`), not a signature
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    written = [x for x in (*a.posonlyargs, *a.args, *a.kwonlyargs) if x.arg not in ("self", "cls")]
    declared = (
        span.startswith("def ")
        or returns
        or a.defaults
        or any(d is not None for d in a.kw_defaults)
        or any(x.annotation is not None for x in written)
    )
    if not declared:
        return []  # `f(a, b)` reads as a call as much as a signature
    names = {x.arg for x in written}
    same_name = [d for d in symbols.find(name.rsplit(".", 1)[-1]) if d.kind in CALLABLE_KINDS]
    if any(names <= {p.lstrip("*") for p in (getattr(d, "params", ()) or ())} for d in same_name):
        return []  # it quotes a function that exists as written
    short = name.rsplit(".", 1)[-1]
    named = [
        g
        for g in grounding.symbols
        if g.kind in CALLABLE_KINDS
        and (g.qualname == name or g.qualname.endswith("." + name))
        and not g.in_tests
    ]
    if not named:
        if short in new_names and not symbols.find(short) and (written or returns):
            # a new callable: a method when the issue is about a class, else a function
            about_class = any(g.kind == "class" and g.strength >= 2 for g in grounding.symbols)
            return [Evidence("add_method" if about_class else "add_function", (), short, span)]
        return []
    out: list[Evidence] = []
    defaults = dict(
        zip([x.arg for x in a.args[len(a.args) - len(a.defaults) :]], a.defaults, strict=False)
    )
    defaults.update(
        {x.arg: d for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None}
    )
    typed = span.startswith("def ") or returns or any(x.annotation is not None for x in written)
    for g in named:
        lacking = [x.arg for x in written if x.arg not in _params(g)]
        if not typed and len(lacking) == len(written):
            continue  # `f(key=len)` passes a keyword; a signature writes what `f` has too
        if lacking and len(lacking) <= 2:
            default = defaults.get(lacking[0])
            out.append(
                Evidence(
                    "add_parameter",
                    (g.qualname,),
                    lacking[0],
                    span,
                    {"default": ast.unparse(default) if default is not None else None},
                )
            )
        elif not lacking and (returns or any(x.annotation is not None for x in written)):
            out.append(Evidence("add_annotations", (g.qualname,), "", span))
    return out


def _parameter(span: str, callables: list[Grounded]) -> list[Evidence]:
    """``name: type = default`` (a declaration; ``name=value`` reads as a call's keyword)
    that named functions lack while others have it; ``name: type`` of one function's
    parameter."""
    m = _PARAMETER.match(span)
    if not m or not m.group(2):
        return []
    name, annotation, default = m.group(1), m.group(2), m.group(3)
    try:
        ast.parse(f"def _f({span}): pass")
    except SyntaxError:
        return []
    having = tuple(g.qualname for g in callables if name in _params(g))
    lacking = tuple(g.qualname for g in callables if name not in _params(g))
    if default is not None and lacking and having:
        # a flag other named functions already take, and these lack: add it to them
        return [Evidence("add_parameter", lacking, name, span, {"default": default.strip()})]
    if default is None and annotation and len(having) == 1:
        return [Evidence("add_annotations", having, "", span)]
    return []


def matches(e: Evidence, op: str, target: str, params: dict[str, Any]) -> bool:
    """Does the operation ``op`` on ``target`` do what the evidence asks?"""
    if e.op == "decorator":
        if op not in ("add_decorator", "remove_decorator"):
            return False
        dec = str(params.get("decorator", ""))
        return (dec == e.value or dec.rsplit(".", 1)[-1] == e.value) and target in e.targets
    if op != e.op or (e.targets and target not in e.targets):
        return False
    key = {
        "add_parameter": "name",
        "add_function": "name",
        "add_method": "name",
        "extract_constant": "name",
    }.get(op)
    if key is None:
        return True
    if str(params.get(key)) != e.value:
        return False
    wanted = e.params.get("default")
    return op != "add_parameter" or wanted is None or _same_code(str(params.get("default")), wanted)


def _same_code(a: str, b: str) -> bool:
    """Two expressions written alike (quotes and spacing aside)."""
    try:
        return ast.unparse(ast.parse(a, mode="eval")) == ast.unparse(ast.parse(b, mode="eval"))
    except SyntaxError:
        return a.strip() == b.strip()
