"""move_symbol, extract_constant and extract_helper: before/after sources on small repos,
what must be left alone, and (slow) real sdists whose own test suites must still pass."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

import agent.codemods.structure  # noqa: F401  (registers the handlers)
from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.structure.operations import default_helper_name
from planner.spec import Operation


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def repo(tmp_path: Path, sources: dict[str, str]) -> RepoFiles:
    """A RepoFiles of dedented sources; module names from the paths (no src layout)."""
    texts = {p: _d(t) for p, t in sources.items()}
    modules = {}
    for path in texts:
        parts = path.removesuffix(".py").split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[path] = ".".join(parts)
    return RepoFiles(root=tmp_path, sources=texts, modules=modules)


def run(
    files: RepoFiles, op: str, target: str, slots: dict[str, Any] | None = None, **params: Any
) -> Result:
    return apply_operation(files, Operation(op, target, params), slots)


def applied(result: Result) -> dict[str, str]:
    assert isinstance(result, Applied), result
    return dict(result.changes)


def write(tmp_path: Path, files: RepoFiles, changes: dict[str, str]) -> Path:
    for path, text in {**files.sources, **changes}.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def python(cwd: Path, code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _d(code)], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ------------------------------------------------------------------ move_symbol


BASIC = {
    "pkg/__init__.py": "",
    "pkg/c.py": """
        def helper(x):
            return x * 2
    """,
    "pkg/a.py": '''
        """Module a."""

        import os
        import sys
        from .c import helper

        __all__ = ["sym", "other"]


        def other(sym=None):
            # a local `sym` that shadows nothing of ours
            return sys.argv, sym


        # Compute things.
        @staticmethod
        def sym(value):
            """Doubled path separator."""
            return helper(os.sep) + value


        def user():
            return sym("x")
    ''',
    "pkg/b.py": """
        import json


        def existing():
            return json.dumps({})


        if __name__ == "__main__":
            existing()
    """,
    "pkg/d.py": """
        from .a import sym
        from .a import user as u, other


        def g():
            return sym("y"), u(), other()
    """,
    "tests/test_a.py": """
        from pkg.a import sym

        def test_sym():
            assert "sym" and sym
    """,
}


def test_move_symbol_moves_definition_imports_and_reexports(tmp_path: Path) -> None:
    files = repo(tmp_path, BASIC)
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b"))
    assert changes["pkg/a.py"] == _d('''
        """Module a."""

        import sys

        from .b import sym

        __all__ = ["sym", "other"]


        def other(sym=None):
            # a local `sym` that shadows nothing of ours
            return sys.argv, sym


        def user():
            return sym("x")
    ''')
    assert changes["pkg/b.py"] == _d('''
        import json
        import os

        from .c import helper


        def existing():
            return json.dumps({})


        # Compute things.
        @staticmethod
        def sym(value):
            """Doubled path separator."""
            return helper(os.sep) + value


        if __name__ == "__main__":
            existing()
    ''')
    # package modules now import it from its new home; tests (outside the package) are left alone
    assert changes["pkg/d.py"].startswith("from .a import user as u, other\nfrom .b import sym\n")
    assert "tests/test_a.py" not in changes


def test_move_symbol_result_runs_and_gives_the_same_object(tmp_path: Path) -> None:
    sources = dict(BASIC)
    sources["pkg/a.py"] = _d(sources["pkg/a.py"]).replace("@staticmethod\n", "")
    files = repo(tmp_path, sources)
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b"))
    root = write(tmp_path / "out", files, changes)
    out = python(
        root,
        """
        import os
        from pkg.a import sym, user
        import pkg.b, pkg.d
        assert sym is pkg.b.sym
        assert user() == os.sep * 2 + "x"
        print(pkg.d.g()[0])
        """,
    )
    assert out.strip() == os.sep * 2 + "y"


def test_move_symbol_absolute_style_constant_with_docstring(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": '''
                from pkg.c import BASE

                LIMIT = BASE + 1
                """How many at most."""


                def f():
                    return LIMIT
            ''',
            "pkg/b.py": "X = 1\n",
            "pkg/c.py": "BASE = 41\n",
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.a.LIMIT", to_module="pkg.b"))
    assert changes["pkg/a.py"] == _d("""
        from pkg.b import LIMIT


        def f():
            return LIMIT
    """)
    assert changes["pkg/b.py"] == _d('''
        from pkg.c import BASE

        X = 1


        LIMIT = BASE + 1
        """How many at most."""
    ''')


def test_move_symbol_refuses_a_circular_import(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                def _private():
                    return 1


                def sym():
                    return _private()
            """,
            "pkg/b.py": "",
        },
    )
    result = run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b")
    assert isinstance(result, Failed)
    assert "`_private`" in result.error and "circular import" in result.error
    assert "move_symbol pkg.a._private" in result.error


def test_move_symbol_without_reexport_may_import_back(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                def _private():
                    return 1


                def sym():
                    return _private()
            """,
            "pkg/b.py": "",
            "pkg/user.py": "from pkg.a import sym\n",
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b", reexport=False))
    assert changes["pkg/a.py"] == "def _private():\n    return 1\n"
    assert changes["pkg/b.py"].startswith("from pkg.a import _private\n")
    assert changes["pkg/user.py"] == "from pkg.b import sym\n"


def test_move_symbol_annotation_only_names_go_under_type_checking(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                from __future__ import annotations

                import typing as t

                V = t.TypeVar("V")


                class Context:
                    pass


                def sym(ctx: Context, items: list[V]) -> V:
                    return items[0]
            """,
            "pkg/b.py": """
                from __future__ import annotations

                import typing as t
            """,
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b"))
    assert changes["pkg/b.py"] == _d("""
        from __future__ import annotations

        import typing as t

        if t.TYPE_CHECKING:
            from pkg.a import Context

        V = t.TypeVar("V")


        def sym(ctx: Context, items: list[V]) -> V:
            return items[0]
    """)
    assert "from pkg.b import sym" in changes["pkg/a.py"]
    assert 'V = t.TypeVar("V")' in changes["pkg/a.py"]  # still used by nobody, but left alone
    root = write(tmp_path / "out", files, changes)
    python(root, "from pkg.a import sym\nassert sym(None, [3]) == 3\n")


def test_move_symbol_drops_the_destinations_redundant_import(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "def sym():\n    return 1\n",
            "pkg/b.py": """
                import os
                from pkg.a import sym


                def twice():
                    return sym() + sym()
            """,
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b"))
    assert changes["pkg/a.py"] == "from pkg.b import sym\n"
    assert "from pkg.a import" not in changes["pkg/b.py"]
    root = write(tmp_path / "out", files, changes)
    python(root, "import pkg.a, pkg.b\nassert pkg.a.sym is pkg.b.sym and pkg.b.twice() == 2\n")


@pytest.mark.parametrize(
    ("target", "params", "needle"),
    [
        ("pkg.a.sim", {"to_module": "pkg.b"}, "close: sym"),
        ("pkg.a.sym", {"to_module": "pkg.bb"}, "no module 'pkg.bb'"),
        ("pkg.a.C.m", {"to_module": "pkg.b"}, "`C.m` inside pkg.a"),
        ("pkg.a.sym", {}, "needs params.to_module"),
        ("pkg.a.name", {"to_module": "pkg.b"}, "not by a plain top-level"),
    ],
)
def test_move_symbol_failures_say_what_is_wrong(
    tmp_path: Path, target: str, params: dict[str, str], needle: str
) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from os import name\n\n\ndef sym():\n    pass\n\n\nclass C:\n    def m(self): ...\n",
            "pkg/b.py": "",
        },
    )
    result = run(files, "move_symbol", target, **params)
    assert isinstance(result, Failed)
    assert needle in result.error


def test_move_symbol_into_its_own_module_is_skipped(tmp_path: Path) -> None:
    files = repo(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "def sym():\n    pass\n"})
    result = run(files, "move_symbol", "pkg.a.sym", to_module="pkg.a")
    assert isinstance(result, Skipped) and "already in pkg.a" in result.reason


def test_move_symbol_rebases_relative_imports_across_packages(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/a.py": """
                import logging

                from ..c import helper
                from . import sibling

                logger = logging.getLogger(__name__)


                def sym():
                    from .sibling import lazy

                    logger.debug("sym")
                    return helper(), sibling.X, lazy()
            """,
            "pkg/sub/sibling.py": "X = 1\n\n\ndef lazy():\n    return 2\n",
            "pkg/c.py": "def helper():\n    return 0\n",
            "pkg/b.py": "from .c import helper\n",
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.sub.a.sym", to_module="pkg.b"))
    assert changes["pkg/b.py"] == _d("""
        import logging

        from .c import helper
        from .sub import sibling

        logger = logging.getLogger(__name__)


        def sym():
            from .sub.sibling import lazy

            logger.debug("sym")
            return helper(), sibling.X, lazy()
    """)
    assert "from ..b import sym" in changes["pkg/sub/a.py"]
    root = write(tmp_path / "out", files, changes)
    assert python(root, "from pkg.sub.a import sym\nprint(sym())").strip() == "(0, 1, 2)"


@pytest.mark.parametrize(
    ("sources", "needle"),
    [
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from os import sep\n\n\ndef sym():\n    return sep\n",
                "pkg/b.py": "sep = '/'\n",
            },
            "already binds `sep`",
            id="a_name_clash_in_the_destination",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "def sym():\n    return 1\n\n\nX = 2\n",
                "pkg/b.py": "from pkg.c import Y\n",
                "pkg/c.py": "from pkg.a import X\n\nY = X\n",
            },
            "pkg.a → pkg.b → pkg.c → pkg.a",
            id="a_cycle_through_a_third_module",
        ),
    ],
)
def test_move_symbol_refuses(tmp_path: Path, sources: dict[str, str], needle: str) -> None:
    files = repo(tmp_path, sources)
    result = run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b")
    assert isinstance(result, Failed)
    assert needle in result.error


def test_move_symbol_without_reexport_keeps_a_name_listed_in_all(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": '__all__ = ["sym"]\n\n\ndef sym():\n    pass\n',
            "pkg/b.py": "",
        },
    )
    changes = applied(run(files, "move_symbol", "pkg.a.sym", to_module="pkg.b", reexport="false"))
    assert changes["pkg/a.py"] == 'from pkg.b import sym\n\n__all__ = ["sym"]\n'


# ------------------------------------------------------------------ extract_constant


SIGNER = '''
    """Signing."""

    import typing as t

    from .encoding import want_bytes


    @t.overload
    def sign(value: bytes, salt: bytes = b"pkg.Signer") -> bytes: ...
    @t.overload
    def sign(value: str, salt: bytes = b"pkg.Signer") -> str: ...
    def sign(value, salt=b"pkg.Signer"):
        """Sign with the default salt b"pkg.Signer"."""
        if salt == b"pkg.Signer":
            mode: t.Literal["pkg.Signer"] = "pkg.Signer"
        return want_bytes(value) + salt


    def other(salt="pkg.Signer"):
        return salt
'''


def test_extract_constant_replaces_defaults_overloads_comparisons(tmp_path: Path) -> None:
    files = repo(tmp_path, {"pkg/__init__.py": "", "pkg/signer.py": SIGNER})
    result = run(
        files, "extract_constant", "pkg.signer", name="DEFAULT_SALT", value='b"pkg.Signer"'
    )
    assert applied(result)["pkg/signer.py"] == _d('''
        """Signing."""

        import typing as t

        from .encoding import want_bytes

        DEFAULT_SALT = b"pkg.Signer"


        @t.overload
        def sign(value: bytes, salt: bytes = DEFAULT_SALT) -> bytes: ...
        @t.overload
        def sign(value: str, salt: bytes = DEFAULT_SALT) -> str: ...
        def sign(value, salt=DEFAULT_SALT):
            """Sign with the default salt b"pkg.Signer"."""
            if salt == DEFAULT_SALT:
                mode: t.Literal["pkg.Signer"] = "pkg.Signer"
            return want_bytes(value) + salt


        def other(salt="pkg.Signer"):
            return salt
    ''')


def test_extract_constant_without_value_picks_the_most_repeated_literal(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "m.py": """
                import os

                __all__ = ["f", "g"]


                def f(x=0, unit="seconds"):
                    if x > 3600:
                        return x // 3600, unit
                    return 1, "seconds"


                def g():
                    return 3600 * 2, "s" + "econds"
            """
        },
    )
    result = run(files, "extract_constant", "m", name="HOUR")
    new = applied(result)["m.py"]
    assert new.count("3600") == 1 and "HOUR = 3600\n" in new
    assert "x > HOUR" in new and "x // HOUR" in new and "HOUR * 2" in new
    assert '"seconds"' in new  # twice, but 3600 occurs three times
    assert new.index("import os") < new.index("HOUR = 3600") < new.index("def f")


def test_extract_constant_never_picks_zero_one_or_single_characters(tmp_path: Path) -> None:
    source = "def f(a=0, b=1):\n    return a or 0, b + 1, '-', '-', '-', 'v1.2', 'v1.2'\n"
    files = repo(tmp_path, {"m.py": source})
    new = applied(run(files, "extract_constant", "m", name="VERSION"))["m.py"]
    assert new.startswith("VERSION = 'v1.2'\n") and new.count("'v1.2'") == 1
    assert new.count("'-'") == 3 and "a=0, b=1" in new


def test_extract_constant_keeps_occurrences_where_the_name_is_local(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {"m.py": "def f(KEY=None):\n    return 'k', KEY\n\n\ndef g():\n    return 'k'\n"},
    )
    result = run(files, "extract_constant", "m", name="KEY", value="'k'")
    new = applied(result)["m.py"]
    assert (
        new
        == "KEY = 'k'\n\n\ndef f(KEY=None):\n    return 'k', KEY\n\n\ndef g():\n    return KEY\n"
    )
    assert isinstance(result, Applied) and any("local name" in n for n in result.notes)


def test_extract_constant_reuses_an_equal_constant_and_refuses_a_different_one(
    tmp_path: Path,
) -> None:
    files = repo(tmp_path, {"m.py": "SALT = b'x'\n\n\ndef f(s=b'x'):\n    return s\n"})
    new = applied(run(files, "extract_constant", "m", name="SALT", value="b'x'"))["m.py"]
    assert new == "SALT = b'x'\n\n\ndef f(s=SALT):\n    return s\n"
    result = run(files, "extract_constant", "m", name="SALT", value="b'y'")
    assert isinstance(result, Skipped)  # b'y' does not occur at all
    files = repo(tmp_path, {"m.py": "SALT = b'y'\n\n\ndef f(s=b'x', t=b'x'):\n    return s\n"})
    result = run(files, "extract_constant", "m", name="SALT", value="b'x'")
    assert isinstance(result, Failed) and "SALT = b'y'" in result.error


def test_extract_constant_skips_a_missing_literal_and_hints_at_similar_ones(
    tmp_path: Path,
) -> None:
    files = repo(tmp_path, {"m.py": "A = b'salt'\nB = b'salt'\n"})
    result = run(files, "extract_constant", "m", name="SALT", value="'salt'")
    assert isinstance(result, Skipped)
    assert "b'salt'" in result.reason
    result = run(files, "extract_constant", "m", name="not valid")
    assert isinstance(result, Failed) and "identifier" in result.error
    single = repo(tmp_path, {"m.py": "A = 'x'\n"})
    assert isinstance(run(single, "extract_constant", "m", name="X"), Skipped)


def test_extract_constant_leaves_docstrings_annotations_all_and_concatenations(
    tmp_path: Path,
) -> None:
    source = _d('''
        """Uses 'tok' a lot."""

        __all__ = ["tok"]


        def tok(x: "tok" = "tok") -> "tok":
            """Returns 'tok'."""
            match x:
                case "tok":
                    return "tok" "en"
            return f"{x}tok" + "tok"
    ''')
    files = repo(tmp_path, {"m.py": source})
    new = applied(run(files, "extract_constant", "m", name="TOK", value='"tok"'))["m.py"]
    expected = (
        source.replace('a lot."""\n', 'a lot."""\n\nTOK = "tok"\n')
        .replace('x: "tok" = "tok"', 'x: "tok" = TOK')
        .replace('+ "tok"', "+ TOK")
    )
    assert new == expected


# ------------------------------------------------------------------ extract_helper


DUPES = '''
    import json


    def keep():
        return 0


    @cache
    def load_user(path, *, strict=True):
        """Load a user."""
        with open(path) as fh:
            data = json.load(fh)
        return data["user"]


    def load_group(path, *, strict=True):
        with open(path) as fh:
            data = json.load(fh)
        return data["group"]
'''

SNIPPET = '''
    import os


    def _load(path, key):
        with open(os.fspath(path)) as fh:
            return json.load(fh)[key]


    def load_user(path, *, strict=True):
        return _load(path, "user")


    def load_group(path, *, strict=True):
        """Load a group."""
        return _load(path, "group")
'''


def test_extract_helper_inserts_helper_and_swaps_bodies(tmp_path: Path) -> None:
    files = repo(tmp_path, {"m.py": DUPES})
    result = run(
        files,
        "extract_helper",
        "m",
        {"source": _d(SNIPPET)},
        functions=["load_user", "load_group"],
        name="_load",
    )
    assert applied(result)["m.py"] == _d('''
        import json
        import os


        def keep():
            return 0


        def _load(path, key):
            with open(os.fspath(path)) as fh:
                return json.load(fh)[key]


        @cache
        def load_user(path, *, strict=True):
            """Load a user."""
            return _load(path, "user")


        def load_group(path, *, strict=True):
            """Load a group."""
            return _load(path, "group")
    ''')


def test_extract_helper_rejects_a_changed_signature(tmp_path: Path) -> None:
    files = repo(tmp_path, {"m.py": DUPES})
    snippet = _d(SNIPPET).replace(
        "def load_group(path, *, strict=True)", "def load_group(p, strict=True)"
    )
    result = run(
        files, "extract_helper", "m", {"source": snippet}, functions="load_user, load_group"
    )
    assert isinstance(result, Failed)
    assert "`load_group` changed its signature" in result.error
    assert "path, *, strict=True" in result.error


@pytest.mark.parametrize(
    ("snippet", "params", "needle"),
    [
        (
            "def _load(p):\n    pass\n\ndef load_user(path, *, strict=True):\n    return _load(path)\n",
            {"functions": ["load_user", "load_group"]},
            "lacks `def load_group`",
        ),
        (None, {"functions": ["load_user", "load_group"], "name": "_read"}, "no `def _read`"),
        (None, {"functions": ["load_user", "load_gruop"]}, "close: load_group"),
        ("def broken(:\n", {"functions": ["load_user"]}, "does not parse"),
        (
            "def _h():\n    pass\n\ndef load_user(path, *, strict=True):\n    return 1\n",
            {"functions": ["load_user"]},
            "calls the helper",
        ),
        (
            "def keep():\n    pass\n\ndef load_user(path, *, strict=True):\n    return keep()\n",
            {"functions": ["load_user"], "name": "keep"},
            "already exists",
        ),
        ("x = 1\n", {"functions": ["load_user"]}, "only imports and defs"),
        (None, {}, "needs params.functions"),
    ],
)
def test_extract_helper_failures_say_what_to_send(
    tmp_path: Path, snippet: str | None, params: dict[str, Any], needle: str
) -> None:
    files = repo(tmp_path, {"m.py": DUPES})
    result = run(files, "extract_helper", "m", {"source": snippet or _d(SNIPPET)}, **params)
    assert isinstance(result, Failed), result
    assert needle in result.error


def test_extract_helper_needs_the_source_slot(tmp_path: Path) -> None:
    files = repo(tmp_path, {"m.py": DUPES})
    result = run(files, "extract_helper", "m", {}, functions=["load_user"])
    assert isinstance(result, Failed) and "slot `source`" in result.error


def test_extract_helper_in_a_class(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "m.py": """
                class Store:
                    def get_a(self):
                        return self.data["a"].strip()

                    def get_b(self):
                        return self.data["b"].strip()
            """
        },
    )
    snippet = """
        class Store:
            def _get(self, key):
                return self.data[key].strip()

            def get_a(self):
                return self._get("a")

            def get_b(self):
                return self._get("b")
    """
    result = run(
        files, "extract_helper", "m.Store", {"source": _d(snippet)}, functions=["get_a", "get_b"]
    )
    assert applied(result)["m.py"] == _d(snippet)


def test_default_helper_name() -> None:
    assert default_helper_name(["load_user", "load_group"]) == "_load"
    assert default_helper_name(["get_user_by_id", "get_group_by_id"]) == "_get_by_id"
    assert default_helper_name(["dumps", "dump"]) == "_dump"
    assert default_helper_name(["alpha", "beta"]) == "_alpha_common"


# ------------------------------------------------------------------ real sdists (slow)


SDISTS = Path.home() / ".cache" / "patchbench" / "sdists"
UNPACKED = Path("/tmp/pb")


def sdist_copy(name: str, tmp_path: Path) -> Path:
    """A scratch copy of an unpacked sdist (unpacked into /tmp/pb when missing)."""
    source = UNPACKED / name
    if not source.exists():
        archive = SDISTS / f"{name}.tar.gz"
        if not archive.exists():
            pytest.fail(f"{archive} is missing: the patchbench sdists are needed for this test")
        UNPACKED.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(UNPACKED, filter="data")
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def interpreter_for(*modules: str) -> str:
    """An interpreter that has pytest and ``modules`` (ours, else the patchbench venv)."""
    if all(importlib.util.find_spec(m) for m in ("pytest", *modules)):
        return sys.executable
    other = Path.home() / ".cache" / "patchbench" / "venv" / "bin" / "python"
    if other.exists():
        return str(other)
    pytest.fail(f"no interpreter with {modules}: `pip install {' '.join(modules)}` into .venv")


def apply_to(root: Path, op: str, target: str, **params: Any) -> Applied:
    files = RepoFiles.load(root)
    result = apply_operation(files, Operation(op, target, params))
    assert isinstance(result, Applied), result
    for path, text in result.changes.items():
        (root / path).write_text(text)
    return result


def in_project(root: Path, python_bin: str, *args: str) -> None:
    proc = subprocess.run(
        [python_bin, *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def project_tests(root: Path, python_bin: str, *extra: str) -> None:
    in_project(
        root, python_bin, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests", *extra
    )


@pytest.mark.slow
def test_click_move_batch_to_utils(tmp_path: Path) -> None:
    root = sdist_copy("click-8.5.1", tmp_path)
    apply_to(root, "move_symbol", "click.core.batch", to_module="click._utils")
    defs = [p.name for p in (root / "src").rglob("*.py") if "def batch(" in p.read_text()]
    assert defs == ["_utils.py"]
    assert (root / "src/click/_utils.py").read_text().count("def batch(") == 1
    python_bin = interpreter_for()
    in_project(
        root,
        python_bin,
        "-c",
        "from click.core import batch; import click._utils as u; assert batch is u.batch; "
        "assert batch([1, 2, 3, 4], 2) == [(1, 2), (3, 4)]",
    )
    project_tests(root, python_bin, "--ignore=tests/test_deprecations.py")


@pytest.mark.slow
def test_itsdangerous_move_and_extract_constants(tmp_path: Path) -> None:
    root = sdist_copy("itsdangerous-2.2.0", tmp_path)
    pkg = root / "src" / "itsdangerous"
    apply_to(
        root,
        "move_symbol",
        "itsdangerous.signer._make_keys_list",
        to_module="itsdangerous.encoding",
    )
    assert "def _make_keys_list" in (pkg / "encoding.py").read_text()
    assert "def _make_keys_list" not in (pkg / "signer.py").read_text()
    assert "from .encoding import _make_keys_list" in (pkg / "serializer.py").read_text()
    apply_to(
        root,
        "extract_constant",
        "itsdangerous.signer",
        name="_DEFAULT_SIGNER_SALT",
        value='b"itsdangerous.Signer"',
    )
    apply_to(
        root,
        "extract_constant",
        "itsdangerous.serializer",
        name="_DEFAULT_SERIALIZER_SALT",
        value='b"itsdangerous"',
    )
    assert (pkg / "signer.py").read_text().count('b"itsdangerous.Signer"') == 1
    assert (pkg / "serializer.py").read_text().count('b"itsdangerous"') == 1
    python_bin = interpreter_for("freezegun")
    in_project(
        root,
        python_bin,
        "-c",
        "from itsdangerous.signer import _make_keys_list as a; "
        "from itsdangerous.encoding import _make_keys_list as b; assert a is b",
    )
    project_tests(root, python_bin)


def test_extract_helper_ignores_code_repeated_unchanged_from_the_module(tmp_path: Path) -> None:
    klass = 'class Keep(dict):\n    """Kept."""\n\n    x = 1\n'
    files = repo(tmp_path, {"m.py": _d(DUPES) + "\n\n" + klass})
    args = {"functions": ["load_user", "load_group"], "name": "_load"}
    result = run(files, "extract_helper", "m", {"source": klass + "\n\n" + _d(SNIPPET)}, **args)
    assert "def _load(path, key):" in applied(result)["m.py"]
    changed = klass.replace("x = 1", "x = 2")
    result = run(files, "extract_helper", "m", {"source": changed + "\n\n" + _d(SNIPPET)}, **args)
    assert isinstance(result, Failed) and "class Keep(dict):" in result.error  # new code is refused
