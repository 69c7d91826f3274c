"""Operations keep a ``.pyi`` stub and the docstring examples in step (real files on disk)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agent.codemods import Applied, RepoFiles, apply_operation
from planner.spec import Operation

SOURCES = {
    "pkg/__init__.py": '''\
        """Pkg.

        >>> from pkg.core import get_user
        >>> get_user(1)
        'user-1'
        """
        from pkg.core import get_user

        __all__ = ["get_user"]
        ''',
    "pkg/__init__.pyi": 'from .core import get_user as get_user\n\n__all__ = ["get_user"]\n',
    "pkg/core.py": '''\
        def get_user(uid, verbose=False, cache=None):
            """Return a user; get_user is cheap.

            >>> get_user(3)
            'user-3'
            >>> [get_user(i) for i in (1,
            ...     2)]
            ['user-1', 'user-2']
            """
            return f"user-{uid}"


        def other():
            """Other.

            >>> other_get_user = 1
            >>> get_user(uid=2, verbose=True) == get_user(2)
            True
            >>> sorted(dict(get_user=1))
            ['get_user']
            """


        class Store:
            def load(self, key, fresh=False):
                """Load.

                >>> Store().load(1)
                1
                """
                return key
        ''',
    "pkg/core.pyi": "def get_user(uid: int, verbose: bool = ..., cache: dict | None = ...) -> str: ...\n"
    "def other() -> None: ...\n\nclass Store:\n"
    "    def load(self, key: int, fresh: bool = ...) -> int: ...\n",
}


@pytest.fixture()
def files(tmp_path: Path) -> RepoFiles:
    for rel, text in SOURCES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return RepoFiles.load(tmp_path)


def changes(files: RepoFiles, op: str, target: str, **params: object) -> dict[str, str]:
    result = apply_operation(files, Operation(op, target, params))
    assert isinstance(result, Applied), result
    return dict(result.changes)


def test_rename_follows_doctests_and_stubs(files: RepoFiles) -> None:
    out = changes(files, "rename", "pkg.core.get_user", new_name="fetch_user")
    core = out["pkg/core.py"]
    assert ">>> fetch_user(3)" in core and ">>> [fetch_user(i) for i in (1," in core
    assert "get_user is cheap" in core  # prose is not a doctest line: left alone
    assert "other_get_user" in core  # another name that contains the word
    assert ">>> sorted(dict(get_user=1))" in core  # a keyword argument of that spelling
    init = out["pkg/__init__.py"]
    assert ">>> from pkg.core import fetch_user\n>>> fetch_user(1)" in init
    assert "from pkg.core import fetch_user\n" in init and '__all__ = ["fetch_user"]' in init
    assert out["pkg/core.pyi"].startswith("def fetch_user(uid: int")
    assert out["pkg/__init__.pyi"] == (
        'from .core import fetch_user as fetch_user\n\n__all__ = ["fetch_user"]\n'
    )


def test_method_rename_follows_its_class_doctests_and_stub(files: RepoFiles) -> None:
    out = changes(files, "rename", "pkg.core.Store.load", new_name="fetch")
    assert ">>> Store().fetch(1)" in out["pkg/core.py"]
    assert "    def fetch(self, key: int" in out["pkg/core.pyi"]
    assert "def get_user(uid" in out["pkg/core.pyi"]


@pytest.mark.parametrize(
    ("op", "params", "stub"),
    [
        (
            "rename_parameter",
            {"old": "uid", "new": "user_id"},
            "def get_user(user_id: int, verbose: bool = ..., cache: dict | None = ...) -> str: ...",
        ),
        (
            "make_keyword_only",
            {"after": "uid"},
            "def get_user(uid: int, *, verbose: bool = ..., cache: dict | None = ...) -> str: ...",
        ),
        (
            "remove_parameter",
            {"name": "cache"},
            "def get_user(uid: int, verbose: bool = ...) -> str: ...",
        ),
        (
            "add_parameter",
            {
                "name": "timeout",
                "default": "None",
                "annotation": "float | None",
                "keyword_only": True,
            },
            "def get_user(uid: int, verbose: bool = ..., cache: dict | None = ..., *, "
            "timeout: float | None = ...) -> str: ...",
        ),
    ],
)
def test_signature_operations_update_the_stub(
    files: RepoFiles, op: str, params: dict[str, object], stub: str
) -> None:
    out = changes(files, op, "pkg.core.get_user", **params)
    assert out["pkg/core.pyi"].splitlines()[0] == stub
    assert (
        "class Store:\n    def load(self, key: int, fresh: bool = ...) -> int: ..."
        in out["pkg/core.pyi"]
    )


def test_parameter_rename_follows_keyword_calls_in_doctests(files: RepoFiles) -> None:
    out = changes(files, "rename_parameter", "pkg.core.get_user", old="uid", new="user_id")
    assert ">>> get_user(user_id=2, verbose=True) == get_user(2)" in out["pkg/core.py"]
    assert ">>> other_get_user = 1" in out["pkg/core.py"]


DOCS = {
    "README.md": (
        "Call `get_user(1)` or `pkg.get_user`; see `other`.\n\n"
        ">>> get_user(2)\n'user-2'\n\nThe get_user helper is cheap.\n"
    ),
    "docs/api.rst": (
        ".. autofunction:: pkg.core.get_user\n\n"
        "Use :func:`get_user` (or :func:`~pkg.core.get_user`); "
        ":meth:`Store.load` loads. ``mypkg.get_user`` is another project's.\n"
    ),
    "CHANGES.rst": "1.0: added ``get_user``.\n",
}


def test_rename_follows_the_documentation_files(files: RepoFiles) -> None:
    for rel, text in DOCS.items():
        (files.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (files.root / rel).write_text(text)
    out = changes(files, "rename", "pkg.core.get_user", new_name="fetch_user")
    assert out["README.md"] == (
        "Call `fetch_user(1)` or `pkg.fetch_user`; see `other`.\n\n"
        ">>> fetch_user(2)\n'user-2'\n\nThe get_user helper is cheap.\n"  # prose stays
    )
    assert out["docs/api.rst"] == (
        ".. autofunction:: pkg.core.fetch_user\n\n"
        "Use :func:`fetch_user` (or :func:`~pkg.core.fetch_user`); "
        ":meth:`Store.load` loads. ``mypkg.get_user`` is another project's.\n"
    )
    assert "CHANGES.rst" not in out  # history records the old name


def test_a_method_rename_follows_its_qualified_name_in_the_docs(files: RepoFiles) -> None:
    (files.root / "docs").mkdir()
    (files.root / "docs" / "api.rst").write_text(
        ":meth:`Store.load` and :meth:`pkg.core.Store.load`; `load` alone is ambiguous.\n"
    )
    out = changes(files, "rename", "pkg.core.Store.load", new_name="fetch")
    assert out["docs/api.rst"] == (
        ":meth:`Store.fetch` and :meth:`pkg.core.Store.fetch`; `load` alone is ambiguous.\n"
    )
