"""Before/after tests of rename, rename_parameter, change_import and replace_calls,
on small multi-file repositories and on two real sdists (click, toolz)."""

from __future__ import annotations

import ast
import io
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tokenize
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

import agent.codemods.rename  # noqa: F401  (registers the handlers)
from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.rename.focus import focus
from planner.digest_types import module_name
from planner.spec import Operation

SDISTS = Path("~/.cache/patchbench/sdists").expanduser()


def repo(tmp_path: Path, sources: dict[str, str]) -> RepoFiles:
    texts = {p: textwrap.dedent(t).lstrip("\n") for p, t in sources.items()}
    return RepoFiles(root=tmp_path, sources=texts, modules={p: module_name(p) for p in texts})


def run(files: RepoFiles, op: str, target: str, **params: Any) -> Result:
    return apply_operation(files, Operation(op, target, params))


def changes(result: Result) -> dict[str, str]:
    assert isinstance(result, Applied), result
    return dict(result.changes)


def after(files: RepoFiles, result: Result) -> dict[str, str]:
    """Every file's text once the result is applied."""
    return {**files.sources, **changes(result)}


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --------------------------------------------------------------------------- rename


LIB = {
    "pkg/__init__.py": """
        from .mod import old, Klass
        from .mod import old as old2
        __all__ = ["old", "Klass", "old2"]
    """,
    "pkg/mod.py": '''
        """The mod module; old is mentioned here in prose."""
        __all__ = ['old', "Klass"]


        def old(x: int) -> int:
            """Return x; old is a word here."""
            return x  # old stays in this comment


        def shadow_param(old):
            return old + 1


        def shadow_local():
            old = 3
            return old


        def caller(other):
            label = "old"
            return old(1) + other.old + len(label)


        def nested():
            def inner():
                return old(2)
            return inner


        class Klass:
            attr = old

            def meth(self, a):
                return old(a)
    ''',
    "pkg/use.py": """
        import pkg.mod
        import pkg.mod as m
        from pkg import mod
        from pkg import old, old2
        from . import mod as mm
        from .mod import old as aliased
        from pkg.mod import (
            Klass,
            old as old,
        )


        def f():
            old = "local"
            return old, pkg.mod.old(1), m.old(2), mod.old(3), mm.old, aliased(1), old2(2)


        print(old(4), pkg.old, Klass)
    """,
    "other.py": """
        def old():
            return 1


        old()
    """,
    "tests/test_mod.py": """
        from pkg.mod import old


        def test_old():
            assert old(1) == 1
    """,
}


def test_rename_function_every_import_form(tmp_path: Path) -> None:
    files = repo(tmp_path, LIB)
    result = run(files, "rename", "pkg.mod.old", new_name="fresh")
    out = changes(result)
    assert set(out) == {"pkg/__init__.py", "pkg/mod.py", "pkg/use.py", "tests/test_mod.py"}
    assert out["pkg/__init__.py"] == dedent(
        """
        from .mod import fresh, Klass
        from .mod import fresh as old2
        __all__ = ["fresh", "Klass", "old2"]
        """
    )
    assert out["pkg/mod.py"] == dedent(
        '''
        """The mod module; old is mentioned here in prose."""
        __all__ = ['fresh', "Klass"]


        def fresh(x: int) -> int:
            """Return x; old is a word here."""
            return x  # old stays in this comment


        def shadow_param(old):
            return old + 1


        def shadow_local():
            old = 3
            return old


        def caller(other):
            label = "old"
            return fresh(1) + other.old + len(label)


        def nested():
            def inner():
                return fresh(2)
            return inner


        class Klass:
            attr = fresh

            def meth(self, a):
                return fresh(a)
        '''
    )
    assert out["pkg/use.py"] == dedent(
        """
        import pkg.mod
        import pkg.mod as m
        from pkg import mod
        from pkg import fresh, old2
        from . import mod as mm
        from .mod import fresh as aliased
        from pkg.mod import (
            Klass,
            fresh as fresh,
        )


        def f():
            old = "local"
            return old, pkg.mod.fresh(1), m.fresh(2), mod.fresh(3), mm.fresh, aliased(1), old2(2)


        print(fresh(4), pkg.fresh, Klass)
        """
    )
    assert out["tests/test_mod.py"].startswith("from pkg.mod import fresh\n")
    assert "assert fresh(1) == 1" in out["tests/test_mod.py"]


def test_rename_leaves_same_named_function_elsewhere(tmp_path: Path) -> None:
    files = repo(tmp_path, LIB)
    out = after(files, run(files, "rename", "pkg.mod.old", new_name="fresh"))
    assert out["other.py"] == files.sources["other.py"]


def test_rename_constant_global_and_star_reexport(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "lib/__init__.py": "from .consts import *\n",
            "lib/consts.py": """
                LIMIT = 10
                _HIDDEN = 1


                def bump():
                    global LIMIT
                    LIMIT = LIMIT + 1
            """,
            "app.py": """
                import lib
                from lib import LIMIT
                from lib.consts import *


                def check(n: int, limit: int = LIMIT) -> bool:
                    return n < LIMIT and lib.LIMIT > 0
            """,
        },
    )
    out = changes(run(files, "rename", "lib.consts.LIMIT", new_name="MAX_ITEMS"))
    assert out["lib/consts.py"] == dedent(
        """
        MAX_ITEMS = 10
        _HIDDEN = 1


        def bump():
            global MAX_ITEMS
            MAX_ITEMS = MAX_ITEMS + 1
        """
    )
    assert out["app.py"] == dedent(
        """
        import lib
        from lib import MAX_ITEMS
        from lib.consts import *


        def check(n: int, limit: int = MAX_ITEMS) -> bool:
            return n < MAX_ITEMS and lib.MAX_ITEMS > 0
        """
    )
    assert "lib/__init__.py" not in out


def test_rename_class_and_string_annotation(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "shapes.py": """
                class Shape:
                    def copy(self) -> "Shape":
                        return Shape()


                def make() -> Shape:
                    return Shape()
            """,
            "draw.py": """
                from shapes import Shape


                class Circle(Shape):
                    kind = "Shape"
            """,
        },
    )
    out = changes(run(files, "rename", "shapes.Shape", new_name="Figure"))
    assert out["shapes.py"] == dedent(
        """
        class Figure:
            def copy(self) -> "Figure":
                return Figure()


        def make() -> Figure:
            return Figure()
        """
    )
    assert out["draw.py"] == dedent(
        """
        from shapes import Figure


        class Circle(Figure):
            kind = "Shape"
        """
    )


METHODS = {
    "zoo/animals.py": """
        class Animal:
            def speak(self, loud=False):
                return self.noise()

            def noise(self):
                return "..."

            @classmethod
            def make(cls):
                return cls.noise


        class Dog(Animal):
            def noise(self):
                return "woof " + super().noise()

            def bark(self):
                return type(self).noise(self) + Animal.noise(self)
    """,
    "zoo/keeper.py": """
        from zoo.animals import Dog


        def feed(pet, noise):
            return pet.noise(), Dog.noise(pet), noise
    """,
}


def test_rename_method_unambiguous_instance_calls(tmp_path: Path) -> None:
    files = repo(tmp_path, METHODS)
    out = changes(run(files, "rename", "zoo.animals.Animal.noise", new_name="sound"))
    assert out["zoo/animals.py"] == dedent(
        """
        class Animal:
            def speak(self, loud=False):
                return self.sound()

            def sound(self):
                return "..."

            @classmethod
            def make(cls):
                return cls.sound


        class Dog(Animal):
            def sound(self):
                return "woof " + super().sound()

            def bark(self):
                return type(self).sound(self) + Animal.sound(self)
        """
    )
    assert out["zoo/keeper.py"] == dedent(
        """
        from zoo.animals import Dog


        def feed(pet, noise):
            return pet.sound(), Dog.sound(pet), noise
        """
    )


def test_rename_method_ambiguous_keeps_instance_calls(tmp_path: Path) -> None:
    sources = dict(METHODS)
    sources["zoo/radio.py"] = """
        class Radio:
            def noise(self):
                return "static"
    """
    files = repo(tmp_path, sources)
    result = run(files, "rename", "zoo.animals.Animal.noise", new_name="sound")
    out = changes(result)
    assert "pet.noise(), Dog.sound(pet), noise" in out["zoo/keeper.py"]
    assert "zoo/radio.py" not in out
    assert "return self.sound()" in out["zoo/animals.py"]
    assert isinstance(result, Applied)
    assert any("zoo.radio.Radio" in note for note in result.notes)


@pytest.mark.parametrize(
    ("target", "new_name", "needles"),
    [
        pytest.param(
            "pkg.mod.olld",
            "x",
            ("no top-level name olld in pkg/mod.py", "closest: old", "shadow_param"),
            id="missing",
        ),
        pytest.param("nowhere.thing", "x", ("no module nowhere",), id="no_module"),
        pytest.param(
            "pkg.mod.Klass.nope", "x", ("its methods and attributes: attr, meth",), id="member"
        ),
        pytest.param("pkg.mod.old", "not valid", ("identifier",), id="bad"),
        pytest.param("pkg.mod.old", "caller", ("already defined in module pkg.mod",), id="clash"),
    ],
)
def test_rename_failures_are_written_for_the_llm(
    tmp_path: Path, target: str, new_name: str, needles: tuple[str, ...]
) -> None:
    files = repo(tmp_path, LIB)
    result = run(files, "rename", target, new_name=new_name)
    assert isinstance(result, Failed)
    assert all(needle in result.error for needle in needles), result.error


def test_rename_to_the_same_name_is_skipped(tmp_path: Path) -> None:
    files = repo(tmp_path, LIB)
    same = run(files, "rename", "pkg.mod.old", new_name="old")
    assert isinstance(same, Skipped)


def test_rename_through_reexport_target(tmp_path: Path) -> None:
    files = repo(tmp_path, LIB)
    result = run(files, "rename", "pkg.old", new_name="fresh")
    assert isinstance(result, Applied)
    assert "def fresh(x: int) -> int:" in result.changes["pkg/mod.py"]
    assert any("re-exported" in note for note in result.notes)


# ----------------------------------------------------------------- rename_parameter

PARAMS = {
    "svc/api.py": '''
        def fetch(url, timeout=10, *, retries=0):
            """Fetch url.

            :param timeout: seconds before giving up; timeout=None waits forever.

            >>> fetch("x", timeout=1)
            """
            def helper(timeout):
                return timeout
            limit = timeout or 0
            return helper(limit), self.timeout


        def other(timeout=1):
            return timeout


        class Client:
            def request(self, path, timeout=5):
                return fetch(path, timeout=timeout)

            def run(self):
                return self.request("/", timeout=3)
    ''',
    "svc/cli.py": """
        from svc.api import Client, fetch, other
        from svc import api


        def main(client: Client):
            fetch("a", 3)
            fetch("b", timeout=4, retries=1)
            api.fetch("c", timeout=5)
            other(timeout=6)
            return client.request("/x", timeout=7), client.get("k", timeout=8)
    """,
}


def test_a_parameter_named_like_a_word_is_renamed_only_where_it_is_the_parameter(
    tmp_path: Path,
) -> None:
    files = repo(
        tmp_path,
        {
            "num.py": '''
                def intword(value, format="%.1f"):
                    """Say a big number in words.

                    Args:
                        value (int): the number.
                        format (str): changes the general format of the number part;
                            see `format` below.

                    >>> intword(1_200_000, format="%.2f")
                    '1.20 million'
                    """
                    return format % value
            '''
        },
    )
    out = after(files, run(files, "rename_parameter", "num.intword", old="format", new="fmt"))
    text = out["num.py"]
    assert 'def intword(value, fmt="%.1f"):' in text
    assert "fmt (str): changes the general format of the number part;" in text
    assert "see `fmt` below" in text and 'intword(1_200_000, fmt="%.2f")' in text
    assert "return fmt % value" in text


def test_rename_parameter_function(tmp_path: Path) -> None:
    files = repo(tmp_path, PARAMS)
    out = after(
        files, run(files, "rename_parameter", "svc.api.fetch", old="timeout", new="deadline")
    )
    assert out["svc/api.py"].startswith(
        dedent(
            '''
            def fetch(url, deadline=10, *, retries=0):
                """Fetch url.

                :param deadline: seconds before giving up; deadline=None waits forever.

                >>> fetch("x", deadline=1)
                """
                def helper(timeout):
                    return timeout
                limit = deadline or 0
                return helper(limit), self.timeout


            def other(timeout=1):
                return timeout
            '''
        )
    )
    assert "return fetch(path, deadline=timeout)" in out["svc/api.py"]
    assert 'return self.request("/", timeout=3)' in out["svc/api.py"]
    assert out["svc/cli.py"] == dedent(
        """
        from svc.api import Client, fetch, other
        from svc import api


        def main(client: Client):
            fetch("a", 3)
            fetch("b", deadline=4, retries=1)
            api.fetch("c", deadline=5)
            other(timeout=6)
            return client.request("/x", timeout=7), client.get("k", timeout=8)
        """
    )


def test_rename_parameter_method(tmp_path: Path) -> None:
    files = repo(tmp_path, PARAMS)
    target = "svc.api.Client.request"
    out = after(files, run(files, "rename_parameter", target, old="timeout", new="wait"))
    assert (
        "def request(self, path, wait=5):\n        return fetch(path, timeout=wait)"
        in (out["svc/api.py"])
    )
    assert 'return self.request("/", wait=3)' in out["svc/api.py"]
    assert 'client.request("/x", wait=7), client.get("k", timeout=8)' in out["svc/cli.py"]
    assert 'fetch("b", timeout=4, retries=1)' in out["svc/cli.py"]


def test_rename_parameter_unknown(tmp_path: Path) -> None:
    files = repo(tmp_path, PARAMS)
    result = run(files, "rename_parameter", "svc.api.fetch", old="time", new="deadline")
    assert isinstance(result, Failed)
    assert "its parameters: url, timeout, retries" in result.error


# -------------------------------------------------------------------- change_import

IMPORTS = {
    "pkg/__init__.py": "",
    "pkg/a.py": "def sym():\n    return 1\n\n\ndef keep():\n    return 2\n",
    "pkg/b.py": "def sym():\n    return 1\n",
    "pkg/user.py": """
        import pkg.a
        from .a import sym
        from pkg.a import (
            keep,
            sym as s2,
        )
        from pkg.a import sym, keep as k


        def f():
            return sym(), s2(), k(), keep(), pkg.a.sym()
    """,
}


def test_change_import_repoints_and_splits(tmp_path: Path) -> None:
    files = repo(tmp_path, IMPORTS)
    out = changes(run(files, "change_import", "pkg.a.sym", new_module="pkg.b"))
    assert out == {
        "pkg/user.py": dedent(
            """
            import pkg.a
            from pkg.b import sym
            from pkg.a import (
                keep,
            )
            from pkg.b import sym as s2
            from pkg.a import keep as k
            from pkg.b import sym


            def f():
                return sym(), s2(), k(), keep(), pkg.a.sym()
            """
        )
    }
    compile(out["pkg/user.py"], "user.py", "exec")


def test_change_import_needs_the_symbol_in_new_module(tmp_path: Path) -> None:
    files = repo(tmp_path, IMPORTS)
    result = run(files, "change_import", "pkg.a.keep", new_module="pkg.b")
    assert isinstance(result, Failed) and "does not define or import keep" in result.error
    missing = run(files, "change_import", "pkg.a.nothing", new_module="pkg.b")
    assert isinstance(missing, Failed)


# --------------------------------------------------------------------- replace_calls

CALLS = {
    "util/__init__.py": "",
    "util/old.py": "def fetch(url, timeout=1, verbose=False):\n    return url\n",
    "util/new.py": "def get(url, deadline=1):\n    return url\n",
    "app.py": """
        from util.old import fetch
        from util import old as legacy
        from util.old import fetch as grab


        def main(fetch_url):
            a = fetch("x", timeout=2, verbose=True)
            b = legacy.fetch("y")
            c = grab(fetch("z"), timeout=3)
            return a, b, c, fetch_url
    """,
    "keep_ref.py": """
        from util.old import fetch

        HANDLERS = [fetch]
        fetch("a")
    """,
}


def test_replace_calls_every_form_with_arg_map(tmp_path: Path) -> None:
    files = repo(tmp_path, CALLS)
    result = run(
        files,
        "replace_calls",
        "util.old.fetch",
        new="util.new.get",
        arg_map={"timeout": "deadline", "verbose": None},
    )
    out = changes(result)
    assert out["app.py"] == dedent(
        """
        from util import old as legacy
        from util.new import get


        def main(fetch_url):
            a = get("x", deadline=2)
            b = get("y")
            c = get(get("z"), deadline=3)
            return a, b, c, fetch_url
        """
    )
    assert out["keep_ref.py"] == dedent(
        """
        from util.old import fetch
        from util.new import get

        HANDLERS = [fetch]
        get("a")
        """
    )
    assert isinstance(result, Applied) and any("non-call" in n for n in result.notes)


def test_replace_calls_unknown_target(tmp_path: Path) -> None:
    files = repo(tmp_path, CALLS)
    result = run(files, "replace_calls", "util.old.fetchh", new="util.new.get")
    assert isinstance(result, Failed) and "closest: fetch" in result.error


# ------------------------------------------------------------------------ focus view


def _names(tree: cst.CSTNode, word: str) -> set[int]:
    found: set[int] = set()

    class _V(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == word:
                found.add(id(node))

    tree.visit(_V())
    return found


def test_focus_view_keeps_every_occurrence(tmp_path: Path) -> None:
    """The pruned view shares every node that names the word with the real tree."""
    root = unpack("click-8.5.1", tmp_path)
    files = RepoFiles.load(root)
    checked = 0
    for path, text in files.sources.items():
        words = [w for w in ("term_len", "width", "self") if w in text]
        if "term_len" not in text:
            continue
        tree, syntax = cst.parse_module(text), ast.parse(text)
        for word in words:
            view = focus(tree, text, syntax, {word})
            assert _names(view.module, word) == _names(tree, word), (path, word)
            checked += 1
    assert checked >= 10


# ----------------------------------------------------------------------- real repos


def unpack(name: str, tmp_path: Path) -> Path:
    """A fresh copy of an sdist (from /tmp/pb, else unpacked from the sdist cache)."""
    dest = tmp_path / name
    src = Path("/tmp/pb") / name
    if src.is_dir():
        shutil.copytree(src, dest)
        return dest
    archive = SDISTS / f"{name}.tar.gz"
    if not archive.exists():
        pytest.fail(f"{archive} is missing: run scripts/setup.sh to fetch the patchbench sdists")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    return dest


def identifiers(root: Path, folders: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in (root / folder).rglob("*.py"):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline)
            names.update(t.string for t in tokens if t.type == tokenize.NAME)
    return names


def apply(root: Path, target: str, new_name: str) -> Applied:
    result = run(RepoFiles.load(root), "rename", target, new_name=new_name)
    assert isinstance(result, Applied), result
    for path, text in result.changes.items():
        (root / path).write_text(text, encoding="utf-8")
    return result


def pytest_in(root: Path, *args: str, pythonpath: str = "") -> None:
    env = {"PYTHONPATH": pythonpath, "PATH": "/usr/bin:/bin", "HOME": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_click_rename_term_len(tmp_path: Path) -> None:
    root = unpack("click-8.5.1", tmp_path)
    result = apply(root, "click._compat.term_len", "visible_length")
    assert "src/click/formatting.py" in result.changes
    assert "tests/test_compat.py" in result.changes
    names = identifiers(root, ("src", "tests"))
    assert "term_len" not in names and "visible_length" in names
    pytest_in(root, "tests", "--ignore=tests/test_deprecations.py", pythonpath="src")


@pytest.mark.slow
def test_toolz_rename_getter_and_no_default(tmp_path: Path) -> None:
    root = unpack("toolz-1.2.0", tmp_path)
    apply(root, "toolz.itertoolz.getter", "make_getter")
    apply(root, "toolz.utils.no_default", "NO_DEFAULT")
    names = identifiers(root, ("toolz",))
    assert "getter" not in names and "make_getter" in names
    assert "NO_DEFAULT" in names
    dicttoolz = (root / "toolz/dicttoolz.py").read_text()
    assert "def get_in(keys, coll, default=None, no_default=False):" in dicttoolz
    assert "if no_default:" in dicttoolz
    assert "no_default=True" in (root / "toolz/tests/test_dicttoolz.py").read_text()
    pytest_in(root, "--doctest-modules", "toolz")


def test_rename_refuses_a_name_a_local_would_shadow(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "m.py": "def old():\n    return 1\n",
            "n.py": "from m import old\n\n\ndef f():\n    new = 2\n    return old() + new\n",
        },
    )
    result = run(files, "rename", "m.old", new_name="new")
    assert isinstance(result, Failed)
    assert "n.py: a local name new would shadow the renamed old" in result.error


def test_rename_parameter_of_a_constructor(tmp_path: Path) -> None:
    files = repo(
        tmp_path,
        {
            "net.py": """
                class Conn:
                    def __init__(self, host, timeout=1):
                        self.timeout = timeout


                class Tls(Conn):
                    def __init__(self, host, timeout=2):
                        super().__init__(host, timeout=timeout)
            """,
            "main.py": """
                from net import Conn, Tls

                a = Conn("h", timeout=3)
                b = Tls("h", timeout=4)
                c = dict(timeout=5)
            """,
        },
    )
    out = after(files, run(files, "rename_parameter", "net.Conn", old="timeout", new="wait"))
    assert out["net.py"] == dedent(
        """
        class Conn:
            def __init__(self, host, wait=1):
                self.timeout = wait


        class Tls(Conn):
            def __init__(self, host, wait=2):
                super().__init__(host, wait=wait)
        """
    )
    assert 'Conn("h", wait=3)' in out["main.py"] and 'Tls("h", wait=4)' in out["main.py"]
    assert "dict(timeout=5)" in out["main.py"]


def test_replace_calls_uses_dotted_name_when_the_short_one_is_taken(tmp_path: Path) -> None:
    sources = dict(CALLS)
    sources["taken.py"] = """
        from util.old import fetch


        def get():
            return 0


        value = fetch("u", timeout=1)
    """
    files = repo(tmp_path, sources)
    out = changes(run(files, "replace_calls", "util.old.fetch", new="util.new.get"))
    assert out["taken.py"] == dedent(
        """
        import util.new


        def get():
            return 0


        value = util.new.get("u", timeout=1)
        """
    )
