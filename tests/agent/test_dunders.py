from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from agent.draft import Drafter, dunders
from cores.llm_scripted import ScriptedLLM
from planner.phases import Phase
from planner.spec import Operation

ITEM = textwrap.dedent(
    """
    class Item:
        def __init__(self, value, type="plain", help=None, **kwargs):
            self.value = value
            self.type = type
            self.help = help
            self._info = kwargs
            self.secret_key = b"k"
            self.tags = []
    """
).lstrip()


def build(*methods: tuple[str, list[str]]) -> type:
    attrs = {a.name: a for a in dunders.instance_attributes(ITEM)}
    code = ITEM + "".join(
        textwrap.indent("\n" + dunders.render(m, [attrs[f] for f in fields]), "    ")
        for m, fields in methods
    )
    namespace: dict[str, type] = {}
    exec(code, namespace)
    return namespace["Item"]


def test_attributes_in_init_order_with_their_kinds() -> None:
    attrs = dunders.instance_attributes(ITEM)
    assert [(a.name, a.kind) for a in attrs] == [
        ("value", "other"),
        ("type", "other"),
        ("help", "other"),
        ("_info", "dict"),
        ("secret_key", "other"),
        ("tags", "list"),
    ]
    assert "secret_key" not in [a.name for a in dunders.offered("__repr__", attrs)]
    assert "secret_key" in [a.name for a in dunders.offered("__eq__", attrs)]


def test_rendered_methods_behave() -> None:
    fields = ["value", "type", "help", "_info", "tags"]
    item = build(("__eq__", fields), ("__hash__", fields), ("__repr__", ["value", "help"]))
    a, b = item("red", x=1), item("red", x=1)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != item("red", x=2) and a != item("green", x=1)
    assert (a == "red") is False
    assert repr(a) == "Item(value='red', help=None)"

    class Sub(item):  # type: ignore[misc, valid-type]
        pass

    assert repr(Sub("blue")).startswith("Sub(")


def test_the_drafter_fills_the_fields_slot_and_renders(tmp_path: Path) -> None:
    class Digest:
        kind = "class"
        path, line, end_line = "pkg/mod.py", 1, ITEM.count("\n")

        def find(self, name: str) -> list[object]:
            return [self] if name == "pkg.mod.Item" else []

        def module_path(self, module: str) -> str | None:
            return None

    llm = ScriptedLLM([json.dumps({"fields": ["value", "help"]})])
    drafter = Drafter(llm, tmp_path, Digest(), issue="Give Item a repr with value and help")
    op = Operation("add_method", "pkg.mod.Item", {"name": "__repr__"})
    draft = drafter.draft(Phase("01_add_method", op, ("pkg/mod.py",)), {"pkg/mod.py": ITEM})
    assert draft.slots["source"] == dunders.render(
        "__repr__", [dunders.Attribute("value"), dunders.Attribute("help")]
    ).rstrip("\n")
    schema = llm.calls[0][1].json_schema
    assert schema is not None
    assert schema["properties"]["fields"]["items"]["enum"] == [
        "value",
        "type",
        "help",
        "_info",
        "tags",
    ]


def test_no_template_for_other_methods() -> None:
    with pytest.raises(ValueError, match="no template"):
        dunders.render("__lt__", [])


def test_the_implementation_init_wins_over_overload_stubs() -> None:
    src = textwrap.dedent(
        """
        class S:
            @overload
            def __init__(self, key: str) -> None: ...

            def __init__(self, key, salt=b"x"):
                self.secret_key = key
                self.salt = salt
        """
    )
    assert [a.name for a in dunders.instance_attributes(src)] == ["secret_key", "salt"]


SIGNER = textwrap.dedent(
    """
    class Signer:
        def __init__(
            self,
            secret_key: str | bytes,
            salt: str | bytes | None = b"signer",
            sep: "str | bytes" = b".",
            digest_method: t.Any | None = None,
            algorithm: SigningAlgorithm | None = None,
            on_error: Callable[[str], None] | None = None,
        ):
            self.secret_keys: list[bytes] = [secret_key]
            self.salt = salt
            self.sep = sep
            self.digest_method = digest_method
            self.algorithm: SigningAlgorithm = algorithm or HMACAlgorithm()
            self.cache = LRUCache(10)
            self.on_error = on_error
            self.counts = dict()
    """
).lstrip()


def test_repr_leaves_out_objects_without_a_readable_repr() -> None:
    attrs = dunders.instance_attributes(SIGNER)
    opaque = {a.name for a in attrs if a.opaque}
    assert opaque == {"algorithm", "cache", "on_error"}
    offered = [a.name for a in dunders.offered("__repr__", attrs)]
    assert offered == ["salt", "sep", "digest_method", "counts"]
    # equality and hashing still see every attribute
    assert len(dunders.offered("__eq__", attrs)) == len(attrs)


def test_repr_offers_opaque_attributes_when_nothing_else_is_left() -> None:
    src = "class A:\n    def __init__(self, conn: Connection):\n        self.conn = conn\n"
    assert [a.name for a in dunders.offered("__repr__", dunders.instance_attributes(src))] == [
        "conn"
    ]


def test_a_type_variable_annotation_is_not_an_opaque_object() -> None:
    src = textwrap.dedent(
        """
        class Item(t.Generic[_ValueT_co]):
            def __init__(self, value: _ValueT_co, item: T, help: str | None = None, **kwargs):
                self.value: _ValueT_co = value
                self.item = item
                self.help: str | None = help
                self._info = kwargs
        """
    ).lstrip()
    attrs = dunders.instance_attributes(src)
    assert [a.name for a in attrs if a.opaque] == []
    assert [a.name for a in dunders.offered("__repr__", attrs)] == [
        "value",
        "item",
        "help",
        "_info",
    ]
