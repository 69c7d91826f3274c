"""``__repr__`` / ``__eq__`` / ``__hash__`` from a template and a typed slot.

Asking a small model for a whole dunder method gives plausible code with the wrong
attributes. Here the model fills one structured slot — which instance attributes take part
(a JSON array whose items are constrained to the attributes ``__init__`` really sets) — and
the method is rendered from a template: the repr starts with ``type(self).__name__`` (so
subclasses show their own name), equality returns ``NotImplemented`` for other types, and
the hash agrees with equality (dicts and lists are hashed as sorted tuples). Attributes
whose names look like secrets are never offered for a repr, and neither are attributes that
evidently hold objects without a useful repr (an instance of a project class, a callable):
those print as ``<... object at 0x...>`` and say nothing in a log.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, replace
from typing import Any

from agent.draft.script import LLMCall
from agent.draft.slots import DraftContext, SlotRequest, ask
from planner.spec import Operation

TEMPLATED = ("__repr__", "__eq__", "__hash__")
PURPOSE = {
    "__repr__": "shown in the repr (leave out anything sensitive such as keys or passwords, "
    "and internal caches)",
    "__eq__": "that must be equal for two instances to be equal",
    "__hash__": "hashed (the same ones equality compares)",
}
SENSITIVE = re.compile(r"secret|passw|token|credential|private|api_?key|(^|_)keys?$", re.I)


# Types whose values have a readable repr (also as items of containers).
_DATA_TYPES = frozenset((
    "str", "bytes", "bytearray", "int", "float", "complex", "bool", "None", "NoneType",
    "list", "dict", "set", "frozenset", "tuple", "List", "Dict", "Set", "FrozenSet", "Tuple",
    "Optional", "Union", "Sequence", "Mapping", "Iterable", "Literal", "Decimal", "Fraction",
    "Path", "PurePath", "date", "datetime", "time", "timedelta", "type", "Type",
))  # fmt: skip
_DATA_CALLS = frozenset((
    "str", "bytes", "int", "float", "bool", "list", "dict", "set", "frozenset", "tuple", "sorted",
))  # fmt: skip


# Names that by convention are type variables, not classes.
_TYPEVAR = re.compile(r"^_?(?:[A-Z]{1,2}|[A-Z]\w*T|\w+_co|\w+_contra|AnyStr)$")


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: str = "other"  # dict | list | set | other
    opaque: bool = False  # evidently an object whose repr is ``<... at 0x...>``


def _kind(value: ast.expr, star_kwargs: str | None) -> str:
    if isinstance(value, ast.Dict | ast.DictComp) or (
        isinstance(value, ast.Name) and value.id == star_kwargs
    ):
        return "dict"
    if isinstance(value, ast.List | ast.ListComp):
        return "list"
    if isinstance(value, ast.Set | ast.SetComp):
        return "set"
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return {"dict": "dict", "list": "list", "set": "set"}.get(value.func.id, "other")
    return "other"


def _names(annotation: ast.expr) -> set[str]:
    """The type names an annotation mentions (``a.b.C`` counts as ``C``; strings are parsed)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return {"?"}
    out: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.Constant) and node.value is None:
            out.add("None")
    if isinstance(annotation, ast.Attribute):  # ``t.Any``: the module prefix is not a type
        out = {annotation.attr}
    return out - {"t", "typing", "cabc", "abc", "collections"}


def _opaque(annotation: ast.expr | None, value: ast.expr | None) -> bool:
    """Whether the attribute evidently holds an object with the default ``object`` repr.

    By its annotation: one that names only project classes or callables (``Any`` and
    unknowns say nothing). By its value: a call of a capitalized name (an instance of a
    class) or a lambda.
    """
    if annotation is not None:
        names = _names(annotation)
        if "Any" in names or "?" in names or not names:
            return False
        if names & {"Callable", "Awaitable", "Coroutine", "Iterator", "Generator"}:
            return True
        named = names - {"None", "NoneType", "Optional", "Union"}
        if any(_TYPEVAR.match(n) for n in named):
            return False  # a type variable (``T``, ``_ValueT_co``) says nothing about the value
        return bool(named) and not named & _DATA_TYPES
    if isinstance(value, ast.Lambda):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name[:1].isupper() and name not in _DATA_TYPES and name not in _DATA_CALLS
    return False


def instance_attributes(class_source: str) -> list[Attribute]:
    """The ``self.x = ...`` attributes ``__init__`` sets, in order (empty if none / unparsable)."""
    try:
        tree = ast.parse(class_source)
    except SyntaxError:
        return []
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    # the implementation, not the ``@overload`` stubs before it: the last ``__init__``
    inits = [
        n
        for n in (cls.body if cls else [])
        if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    ]
    init = inits[-1] if inits else None
    if init is None:
        return []
    star = init.args.kwarg.arg if init.args.kwarg else None
    params = {
        a.arg: a.annotation
        for a in [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]
        if a.annotation is not None
    }
    seen: dict[str, Attribute] = {}
    for node in ast.walk(init):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        annotation: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value, annotation = [node.target], node.value, node.annotation
        if annotation is None and isinstance(value, ast.Name):
            annotation = params.get(value.id)  # ``self.x = x`` takes the parameter's type
        for t in targets:
            for el in t.elts if isinstance(t, ast.Tuple) else [t]:
                if (
                    isinstance(el, ast.Attribute)
                    and isinstance(el.value, ast.Name)
                    and el.value.id == "self"
                    and el.attr not in seen
                ):
                    kind = (
                        _kind(value, star)
                        if value is not None and not isinstance(t, ast.Tuple)
                        else "other"
                    )
                    single = not isinstance(t, ast.Tuple)
                    opaque = single and _opaque(annotation, value)
                    seen[el.attr] = Attribute(el.attr, kind, opaque)
    return sorted(seen.values(), key=lambda a: _order(init, a.name))


def _order(init: ast.FunctionDef, name: str) -> int:
    for node in ast.walk(init):
        if isinstance(node, ast.Attribute) and node.attr == name:
            return getattr(node, "lineno", 0) * 1000 + getattr(node, "col_offset", 0)
    return 0


def offered(method: str, attributes: list[Attribute]) -> list[Attribute]:
    """The attributes a slot may choose from.

    A repr never offers secret-looking ones, nor (unless nothing else is left) ones that
    evidently hold objects whose repr is the uninformative ``<... object at 0x...>``.
    """
    if method == "__repr__":
        safe = [a for a in attributes if not SENSITIVE.search(a.name)]
        readable = [a for a in safe if not a.opaque]
        return readable or safe
    return list(attributes)


def fields_schema(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "fields": {
                "type": "array",
                "items": {"type": "string", "enum": names},
                "minItems": 1,
                "maxItems": len(names),
            }
        },
        "required": ["fields"],
    }


def _hashable(attr: Attribute, obj: str) -> str:
    ref = f"{obj}.{attr.name}"
    if attr.kind == "dict":
        return f"tuple(sorted({ref}.items()))"
    if attr.kind == "list":
        return f"tuple({ref})"
    if attr.kind == "set":
        return f"frozenset({ref})"
    return ref


def render(method: str, fields: list[Attribute]) -> str:
    """The source of ``method`` over ``fields`` (at module indentation)."""
    if method == "__repr__":
        parts = ", ".join(f"{a.name.lstrip('_')}={{self.{a.name}!r}}" for a in fields)
        return f'def __repr__(self):\n    return f"{{type(self).__name__}}({parts})"\n'
    if method == "__eq__":
        mine = ", ".join(f"self.{a.name}" for a in fields)
        theirs = ", ".join(f"other.{a.name}" for a in fields)
        comma = "," if len(fields) == 1 else ""
        return (
            "def __eq__(self, other):\n"
            "    if not isinstance(other, type(self)) and not isinstance(self, type(other)):\n"
            "        return NotImplemented\n"
            f"    return ({mine}{comma}) == ({theirs}{comma})\n"
        )
    if method == "__hash__":
        values = ", ".join(_hashable(a, "self") for a in fields)
        comma = "," if len(fields) == 1 else ""
        return f"def __hash__(self):\n    return hash(({values}{comma}))\n"
    raise ValueError(f"no template for {method}; templated: {', '.join(TEMPLATED)}")


def draft_dunder(
    ctx: DraftContext, op: Operation, request: SlotRequest
) -> tuple[str | None, LLMCall] | None:
    """``__repr__``/``__eq__``/``__hash__``: the model picks the attributes, a template writes it."""
    method = str(op.params.get("name") or "")
    if method not in TEMPLATED:
        return None
    node, _ = ctx.node_source(op.target, request.files)
    choices = offered(method, instance_attributes(textwrap.dedent(node)))
    if not choices:
        return None
    names = [a.name for a in choices]
    messages = ask(
        'You choose instance attributes. Reply with JSON: {"fields": [names]}, using '
        "only the listed names.",
        f"Class:\n```python\n{node[:3000]}\n```\n\nRequest:\n{ctx.issue[:800]}\n\n"
        f"Which of these attributes should be {PURPOSE[method]} in `{method}`? " + ", ".join(names),
        request.feedback,
        "Your previous choice",
    )
    schema = fields_schema(names)
    value, _, call = ctx.ask_json(request.role, messages, schema, 120, request.sample)
    picked = value.get("fields") if isinstance(value, dict) else None
    picked = [str(n) for n in picked if n in names] if isinstance(picked, list) else []
    if not picked:
        return None, replace(call, error=call.error or "no attribute was chosen")
    code = render(method, [a for a in choices if a.name in picked]).rstrip("\n")
    return code, replace(call, parsed={"fields": picked, "source": code})
