"""add_annotations with the `signatures` slot: one small JSON object per function."""

from __future__ import annotations

import typing

import pytest

from agent.codemods.base import Skipped
from agent.draft.code import annotation_targets, unannotated
from tests.agent.codemods.test_content import applied, dedent, repo, run

MODULE = dedent(
    """
    __all__ = ("merge", "valmap", "Box")


    def merge(*dicts, **kwargs):
        return {}


    def valmap(func, d, factory=dict):
        return factory((k, func(v)) for k, v in d.items())


    def _private(x):
        return x


    class Box:
        def __init__(self, item):
            self.item = item

        def get(self, default=None):
            return self.item or default
    """
)


def load(code: str) -> dict[str, typing.Any]:
    namespace: dict[str, typing.Any] = {}
    exec(compile(code, "m", "exec", dont_inherit=True), namespace)
    return namespace


def test_module_target_is_fully_annotated_and_hints_resolve() -> None:
    sigs = {
        "pkg.mod.merge": {"dicts": "Mapping", "kwargs": "Any", "return": "dict"},
        "pkg.mod.valmap": {
            "func": "Callable",
            "d": "Mapping",
            "factory": "Frobnicator",
            "return": "Mapping",
        },
    }
    out = applied(
        run(repo(**{"pkg.mod": MODULE}), "add_annotations", "pkg.mod", {}, signatures=sigs)
    )
    assert "def merge(*dicts: Mapping, **kwargs: Any) -> dict:" in out
    assert "def valmap(func: Callable, d: Mapping, factory: Any = dict) -> Mapping:" in out
    assert "def _private(x: Any) -> Any:" in out  # not asked: Any
    assert "def __init__(self, item: Any) -> None:" in out
    assert "from typing import Any, Callable, Mapping" in out
    namespace = load(out)
    for name in ("merge", "valmap", "_private"):
        hints = typing.get_type_hints(namespace[name])
        assert "return" in hints
    assert typing.get_type_hints(namespace["valmap"])["func"] is typing.Callable


def test_already_annotated_is_skipped() -> None:
    src = "def f(x: int) -> int:\n    return x\n"
    result = run(repo(**{"pkg.mod": src}), "add_annotations", "pkg.mod", {}, signatures={"x": {}})
    assert isinstance(result, Skipped)


def test_drafter_targets_follow_all_classes_and_functions() -> None:
    quals = [q for q, _, _ in annotation_targets(MODULE, "pkg.mod", "pkg.mod")]
    assert quals == ["pkg.mod.merge", "pkg.mod.valmap"]
    quals = [q for q, _, _ in annotation_targets(MODULE, "pkg.mod.Box", None)]
    assert quals == ["pkg.mod.Box.__init__", "pkg.mod.Box.get"]
    ((_, fn, code),) = annotation_targets(MODULE, "pkg.mod.valmap", None)
    assert unannotated(fn) == ["func", "d", "factory", "return"] and code.startswith("def valmap")
    (_, init, _), _ = annotation_targets(MODULE, "pkg.mod.Box", None)
    assert unannotated(init) == ["item", "return"]


@pytest.mark.parametrize(
    ("types", "wanted"),
    [
        pytest.param(
            {"dicts": "collections.abc.Mapping", "kwargs": "Any", "return": "dict"},
            ("import collections\n", "*dicts: collections.abc.Mapping"),
            id="stdlib_module_types_are_imported",
        ),
        pytest.param(
            {"dicts": "builtins", "kwargs": "typing", "return": "dict"},
            ("def merge(*dicts: Any, **kwargs: Any) -> dict:",),
            id="a_bare_module_is_not_a_type",
        ),
    ],
)
def test_merge_signature_types(types: dict[str, str], wanted: tuple[str, ...]) -> None:
    sigs = {"pkg.mod.merge": types}
    out = applied(
        run(repo(**{"pkg.mod": MODULE}), "add_annotations", "pkg.mod.merge", {}, signatures=sigs)
    )
    assert all(w in out for w in wanted), out


def test_types_written_in_words_become_python() -> None:
    sigs = {
        "pkg.mod.valmap": {
            "func": "function",
            "d": "dictionary or list",
            "factory": "None",
            "return": "a dict",
        }
    }
    out = applied(
        run(repo(**{"pkg.mod": MODULE}), "add_annotations", "pkg.mod.valmap", {}, signatures=sigs)
    )
    assert "def valmap(func: Callable, d: Union[dict, list], factory: Any = dict) -> dict:" in out
    hints = typing.get_type_hints(load(out)["valmap"])
    assert hints["func"] is typing.Callable and typing.get_args(hints["d"]) == (dict, list)
