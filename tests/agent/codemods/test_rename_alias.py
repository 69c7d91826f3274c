"""``rename`` with ``keep_alias``: the old name keeps working (and warns when deprecated)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from agent.acceptance.issue import with_stated_aliases
from agent.codemods import Applied, Failed, RepoFiles, apply_operation
from planner.spec import Operation, Spec

MODULE = '''"""Users."""

from __future__ import annotations


def get_user(uid):
    return f"user-{uid}"


class Store:
    def __init__(self, size):
        self.size = size


LIMIT = 3
'''


@pytest.fixture()
def files(tmp_path: Path) -> RepoFiles:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "core.py").write_text(MODULE)
    return RepoFiles.load(tmp_path)


def renamed(files: RepoFiles, target: str, new: str, keep: str) -> dict:
    result = apply_operation(
        files, Operation("rename", target, {"new_name": new, "keep_alias": keep})
    )
    assert isinstance(result, Applied), result
    namespace: dict = {}
    exec(compile(result.changes["pkg/core.py"], "core.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    ("target", "new", "use"),
    [
        ("pkg.core.get_user", "fetch_user", lambda ns: ns["get_user"](2) == "user-2"),
        ("pkg.core.Store", "Cache", lambda ns: ns["Store"](4).size == 4),
        ("pkg.core.LIMIT", "MAX_ITEMS", lambda ns: ns["__getattr__"]("LIMIT") == 3),
    ],
)
def test_deprecated_alias_warns_and_works(files: RepoFiles, target: str, new: str, use) -> None:  # type: ignore[no-untyped-def]
    ns = renamed(files, target, new, "deprecated")
    assert new in ns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert use(ns)
    assert [w.category for w in caught] == [DeprecationWarning]


def test_plain_alias_is_the_same_object(files: RepoFiles) -> None:
    ns = renamed(files, "pkg.core.get_user", "fetch_user", "alias")
    assert ns["get_user"] is ns["fetch_user"]


def test_import_goes_after_the_docstring_and_future_import(files: RepoFiles) -> None:
    result = apply_operation(
        files,
        Operation("rename", "pkg.core.get_user", {"new_name": "fetch", "keep_alias": "deprecated"}),
    )
    assert isinstance(result, Applied)
    assert result.changes["pkg/core.py"].startswith(
        '"""Users."""\n\nfrom __future__ import annotations\n\nimport warnings\n'
    )


def test_a_method_cannot_keep_an_alias(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("class A:\n    def f(self):\n        return 1\n")
    result = apply_operation(
        RepoFiles.load(tmp_path),
        Operation("rename", "m.A.f", {"new_name": "g", "keep_alias": "alias"}),
    )
    assert isinstance(result, Failed) and "keep_alias works for module-level" in result.error


def test_the_issue_decides_the_alias() -> None:
    op = Operation("rename", "pkg.core.get_user", {"new_name": "fetch_user"})
    asked = Spec(
        "t", "Rename `get_user` to `fetch_user`; `get_user` must keep working, deprecated.", (op,)
    )
    plain = Spec("t", "Rename `get_user` to `fetch_user` everywhere.", (op,))
    same = Spec("t", "Rename `get_user` to `fetch_user`; keep the old name as an alias.", (op,))
    assert with_stated_aliases(asked).operations[0].params["keep_alias"] == "deprecated"
    assert "keep_alias" not in with_stated_aliases(plain).operations[0].params
    assert with_stated_aliases(same).operations[0].params["keep_alias"] == "alias"


def test_package_reexports_keep_the_old_name(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        "from .core import get_user\n\n__all__ = ['get_user']\n"
    )
    (tmp_path / "pkg" / "__init__.pyi").write_text("from .core import get_user as get_user\n")
    (tmp_path / "pkg" / "core.py").write_text(MODULE)
    result = apply_operation(
        RepoFiles.load(tmp_path),
        Operation(
            "rename", "pkg.core.get_user", {"new_name": "fetch_user", "keep_alias": "deprecated"}
        ),
    )
    assert isinstance(result, Applied), result
    assert result.changes["pkg/__init__.py"] == (
        "from .core import fetch_user\nfrom .core import get_user\n\n__all__ = ['fetch_user']\n"
    )
    assert result.changes["pkg/__init__.pyi"] == (
        "from .core import fetch_user as fetch_user, get_user as get_user\n"
    )
