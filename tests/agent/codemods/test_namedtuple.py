"""modernize idiom=typing_namedtuple: deterministic rewrite, field types from the slot."""

from __future__ import annotations

from typing import Any

import pytest

from agent.codemods.base import Failed
from tests.agent.codemods.test_content import applied, dedent, repo, run

SUBCLASS = dedent(
    '''
    import collections
    import collections.abc


    class Info(collections.namedtuple("Info", "hits misses maxsize")):
        """Statistics."""

        __slots__ = ()

        @classmethod
        def make(cls, hits):
            return cls(hits, 0, None)


    def is_map(x):
        return isinstance(x, collections.abc.Mapping)
    '''
)


def load(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "nt_mod"}
    exec(compile(code, "nt_mod", "exec", dont_inherit=True), namespace)
    return namespace


def test_subclass_form_keeps_body_docstring_order_and_repr() -> None:
    types = {"hits": "int", "misses": "int", "maxsize": "Optional[int]"}
    out = applied(
        run(
            repo(**{"pkg.mod": SUBCLASS}),
            "modernize",
            "pkg.mod.Info",
            {"idiom": "typing_namedtuple"},
            field_types=types,
        )
    )
    assert "class Info(NamedTuple):" in out
    assert "__slots__" not in out and '"""Statistics."""' in out
    assert "from typing import NamedTuple, Optional" in out
    assert "import collections.abc" in out
    old, new = load(SUBCLASS)["Info"], load(out)["Info"]
    assert repr(old.make(3)) == repr(new.make(3)) == "Info(hits=3, misses=0, maxsize=None)"
    assert new._fields == old._fields and not hasattr(new.make(1), "__dict__")
    assert new.__annotations__["hits"] is int


def test_assignment_form_with_defaults_and_unused_import_removed() -> None:
    src = "from collections import namedtuple\n\nPoint = namedtuple('Point', ['x', 'y'], defaults=(0,))\n"
    out = applied(
        run(
            repo(**{"pkg.mod": src}),
            "modernize",
            "pkg.mod.Point",
            {"idiom": "typing_namedtuple"},
            field_types={"x": "float", "y": "float"},
        )
    )
    assert (
        out
        == "from typing import NamedTuple\n\nclass Point(NamedTuple):\n    x: float\n    y: float = 0\n"
    )
    point = load(out)["Point"]
    assert point(1.5) == (1.5, 0)


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ({"hits": "int"}, "must map every field"),
        ({"hits": "int(", "misses": "int", "maxsize": "int"}, "not a Python expression"),
        ({"hits": "Frob", "misses": "int", "maxsize": "int"}, "neither defines nor imports"),
    ],
)
def test_bad_field_types_are_explained(types: dict[str, str], message: str) -> None:
    result = run(
        repo(**{"pkg.mod": SUBCLASS}),
        "modernize",
        "pkg.mod.Info",
        {"idiom": "typing_namedtuple"},
        field_types=types,
    )
    assert isinstance(result, Failed) and message in result.error


def test_stdlib_modules_named_by_the_types_are_imported() -> None:
    types = {"hits": "int", "misses": "int", "maxsize": "numbers.Number | None"}
    out = applied(
        run(
            repo(**{"pkg.mod": SUBCLASS}),
            "modernize",
            "pkg.mod.Info",
            {"idiom": "typing_namedtuple"},
            field_types=types,
        )
    )
    assert "import numbers\n" in out and "maxsize: numbers.Number | None" in out
    assert load(out)["Info"].make(1).maxsize is None
