"""``__repr__`` / ``__eq__`` / ``__hash__`` from a template and a typed slot.

Asking a small model for a whole dunder method gives plausible code with the wrong
attributes. Here the model fills one structured slot — which instance attributes take part
(a JSON array whose items are constrained to the attributes ``__init__`` really sets) — and
the method is rendered from a template: the repr starts with ``type(self).__name__`` (so
subclasses show their own name), equality returns ``NotImplemented`` for other types, and
the hash agrees with equality (dicts and lists are hashed as sorted tuples). Attributes
whose names look like secrets are never offered for a repr.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

TEMPLATED = ("__repr__", "__eq__", "__hash__")
PURPOSE = {
    "__repr__": "shown in the repr (leave out anything sensitive such as keys or passwords, "
    "and internal caches)",
    "__eq__": "that must be equal for two instances to be equal",
    "__hash__": "hashed (the same ones equality compares)",
}
SENSITIVE = re.compile(r"secret|passw|token|credential|private|api_?key|(^|_)keys?$", re.I)


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: str = "other"  # dict | list | set | other


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
    seen: dict[str, Attribute] = {}
    for node in ast.walk(init):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
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
                    seen[el.attr] = Attribute(el.attr, kind)
    return sorted(seen.values(), key=lambda a: _order(init, a.name))


def _order(init: ast.FunctionDef, name: str) -> int:
    for node in ast.walk(init):
        if isinstance(node, ast.Attribute) and node.attr == name:
            return getattr(node, "lineno", 0) * 1000 + getattr(node, "col_offset", 0)
    return 0


def offered(method: str, attributes: list[Attribute]) -> list[Attribute]:
    """The attributes a slot may choose from (a repr never offers secret-looking ones)."""
    if method == "__repr__":
        return [a for a in attributes if not SENSITIVE.search(a.name)]
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
