"""Signature codemods: make_keyword_only, add_parameter, remove_parameter.

Before/after source strings on small multi-file ``RepoFiles``, the cases that must
be left alone, and (marked slow) the operations on real projects whose own test
suites must still pass afterwards.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.codemod import CodemodTest

from agent.codemods.apply import apply_operation
from agent.codemods.base import (
    REGISTRY,
    Applied,
    Failed,
    RepoFiles,
    Result,
    Skipped,
)
from agent.codemods.index import RepoIndex
from agent.codemods.signature.codemod import Report, SignatureCommand
from agent.codemods.signature.keyword_only import KeywordOnlyEdit
from agent.codemods.signature.targets import function_target
from planner.spec import Operation


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def module_of(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def make_repo(root: Path, sources: Mapping[str, str]) -> RepoFiles:
    texts = {p: dedent(t) for p, t in sources.items()}
    return RepoFiles(root=root, sources=texts, modules={p: module_of(p) for p in texts})


def apply(
    files: RepoFiles,
    op: str,
    target: str,
    slots: Mapping[str, Any] | None = None,
    **params: Any,
) -> Result:
    return apply_operation(files, Operation(op, target, params), slots)


def changed(result: Result, path: str) -> str:
    assert isinstance(result, Applied), result
    return result.changes[path]


def test_ops_are_registered() -> None:
    for op in ("make_keyword_only", "add_parameter", "remove_parameter"):
        assert op in REGISTRY.handlers
    assert REGISTRY.slots["add_parameter"] == ("body",)


# -- make_keyword_only ---------------------------------------------------------------

CORE = """
class Base:
    def __init__(self, maxsize, getsizeof=None):
        self.maxsize = maxsize

    def m(self, a, b=1, c=2):
        return a


class Sub(Base):
    def __init__(self, maxsize, getsizeof=None):
        Base.__init__(self, maxsize, getsizeof)
        self.m(1, 2, 3)


class Sub2(Base):
    def __init__(self, maxsize, getsizeof=None):
        super().__init__(maxsize, getsizeof)


class Plain(Base):
    pass


class Other:
    def m(self, a, b=1, c=2):
        return self.m(1, 2, 3)


def f(x, y, z=3):
    return x


def g(*args, **kwargs):
    return f(*args, **kwargs)
"""


@pytest.fixture
def pkg(tmp_path: Path) -> RepoFiles:
    return make_repo(
        tmp_path,
        {
            "pkg/__init__.py": "from .core import f as f\nfrom .core import Base, Plain\n",
            "pkg/core.py": CORE,
            "pkg/use.py": """
                import pkg.core as pc
                from pkg import Base, Plain, f
                from pkg.core import Sub


                def h(b: Base, o):
                    f(1, 2, 3)
                    pc.f(1, 2)
                    b.m(1, 2, 3)
                    o.m(1, 2, 3)
                    Base(10, len)
                    Sub(10, len)
                    Plain[int](10, len)
                    x = Base(1)
                    x.m(1, 2)
                    return "f(1, 2, 3)"  # f(1, 2, 3)
            """,
            "other.py": """
                def f(x, y, z=3):
                    return f(1, 2, 3)
            """,
        },
    )


def test_keyword_only_after_function_updates_imports_and_aliases(pkg: RepoFiles) -> None:
    result = apply(pkg, "make_keyword_only", "pkg.core.f", after="x")
    assert "def f(x, *, y, z=3):" in changed(result, "pkg/core.py")
    use = changed(result, "pkg/use.py")
    assert "    f(1, y=2, z=3)\n" in use
    assert "    pc.f(1, y=2)\n" in use
    assert 'return "f(1, 2, 3)"  # f(1, 2, 3)' in use  # strings and comments untouched
    assert isinstance(result, Applied)
    assert "other.py" not in result.changes  # a same-named function elsewhere
    # *args forwarding is left alone, with a note for the LLM
    assert "return f(*args, **kwargs)" in changed(result, "pkg/core.py")
    line = dedent(CORE).splitlines().index("    return f(*args, **kwargs)") + 1
    assert any("forwards *args" in n and f"pkg/core.py:{line}" in n for n in result.notes)


def test_keyword_only_names_on_class_updates_constructors_and_super(pkg: RepoFiles) -> None:
    result = apply(pkg, "make_keyword_only", "pkg.core.Base", names=["getsizeof"])
    core = changed(result, "pkg/core.py")
    assert "class Base:\n    def __init__(self, maxsize, *, getsizeof=None):" in core
    assert "Base.__init__(self, maxsize, getsizeof=getsizeof)" in core  # unbound: self stays
    assert "super().__init__(maxsize, getsizeof=getsizeof)" in core
    # subclasses' own __init__ are other functions
    assert core.count("def __init__(self, maxsize, getsizeof=None):") == 2
    use = changed(result, "pkg/use.py")
    assert "Base(10, getsizeof=len)" in use
    assert "Sub(10, len)" in use  # Sub defines its own __init__
    assert "Plain[int](10, getsizeof=len)" in use  # inherits Base.__init__


def test_keyword_only_method_resolves_receivers(pkg: RepoFiles) -> None:
    result = apply(pkg, "make_keyword_only", "pkg.core.Base.m", names="b")
    core = changed(result, "pkg/core.py")
    assert "def m(self, a, c=2, *, b=1):" in core
    assert "self.m(1, 3, b=2)" in core  # Sub inherits m
    assert "return self.m(1, 2, 3)" in core  # Other.m: an unrelated method
    use = changed(result, "pkg/use.py")
    assert "b.m(1, 3, b=2)" in use  # parameter annotated with the class
    assert "x.m(1, b=2)" in use  # bound to Base(...)
    assert "o.m(1, 2, 3)" in use  # unknown receiver: left alone, reported
    assert isinstance(result, Applied)
    assert any("pkg/use.py:10" in n and "could not tell" in n for n in result.notes)


@pytest.mark.parametrize(
    ("sources", "target", "params", "path", "after"),
    [
        pytest.param(
            {
                "fmt.py": '''
                    def wrap_text(
                        text: str,
                        width: int = 78,
                        initial_indent: str = "",
                        subsequent_indent: str = "",
                    ) -> str:
                        """Wrap text."""
                        return text


                    def use(args, width):
                        return wrap_text(
                            args,
                            width,
                            ">",
                            subsequent_indent=" ",
                        )
                ''',
            },
            "fmt.wrap_text",
            {"after": "width"},
            "fmt.py",
            dedent(
                '''
                def wrap_text(
                    text: str,
                    width: int = 78,
                    *,
                    initial_indent: str = "",
                    subsequent_indent: str = "",
                ) -> str:
                    """Wrap text."""
                    return text


                def use(args, width):
                    return wrap_text(
                        args,
                        width,
                        initial_indent=">",
                        subsequent_indent=" ",
                    )
                '''
            ),
            id="multiline_call_keeps_layout",
        ),
        pytest.param(
            {
                "m.py": """
                    def f(
                        a,  # first
                        b=1,  # second
                        c=2,
                    ):
                        return a


                    f(
                        1,  # one
                        2,  # two
                        3,
                    )
                """
            },
            "m.f",
            {"names": ["b"]},
            "m.py",
            dedent(
                """
                def f(
                    a,  # first
                    c=2,
                    *,
                    b=1,  # second
                ):
                    return a


                f(
                    1,  # one
                    3,
                    b=2,  # two
                )
                """
            ),
            id="keeps_comments_with_their_parameters",
        ),
        pytest.param(
            {
                "m.py": """
                    def f(a, b, *rest, c=0):
                        return a


                    f(1, 2, 3, 4)
                """
            },
            "m.f",
            {"names": ["b"]},
            "m.py",
            dedent(
                """
                def f(a, *rest, b, c=0):
                    return a


                f(1, 3, 4, b=2)
                """
            ),
            id="moves_names_past_existing_star_args",
        ),
        pytest.param(
            {"m.py": "def f(a, b, /, c):\n    return a\n\n\nf(1, 2, 3)\n"},
            "m.f",
            {"names": ["b"]},
            "m.py",
            "def f(a, /, c, *, b):\n    return a\n\n\nf(1, 3, b=2)\n",
            id="positional_only_params",
        ),
    ],
)
def test_keyword_only_rewrites_the_definition_and_its_calls(
    tmp_path: Path,
    sources: dict[str, str],
    target: str,
    params: dict[str, Any],
    path: str,
    after: str,
) -> None:
    files = make_repo(tmp_path, sources)
    result = apply(files, "make_keyword_only", target, **params)
    assert changed(result, path) == after


def test_keyword_only_splat_call_fails_with_site(tmp_path: Path) -> None:
    files = make_repo(
        tmp_path,
        {
            "m.py": "def f(a, b=1, c=2):\n    return a\n",
            "n.py": "from m import f\n\nvalues = [1, 2]\nf(0, *values)\n",
        },
    )
    result = apply(files, "make_keyword_only", "m.f", after="a")
    assert isinstance(result, Failed)
    assert "n.py:4" in result.error and "f(0, *values)" in result.error
    assert "nothing was changed" in result.error


def test_keyword_only_skips_and_reports_missing(pkg: RepoFiles, tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"m.py": "def f(a, *args, b=1):\n    return a\n"})
    assert isinstance(apply(files, "make_keyword_only", "m.f", after="a"), Skipped)
    assert isinstance(apply(files, "make_keyword_only", "m.f", names=["b"]), Skipped)
    missing = apply(pkg, "make_keyword_only", "pkg.core.f", names=["nope"])
    assert isinstance(missing, Failed)
    assert "no parameter 'nope'" in missing.error and "x, y, z" in missing.error
    absent = apply(pkg, "make_keyword_only", "pkg.core.nothing", after="x")
    assert isinstance(absent, Failed)
    assert "defines no 'nothing'" in absent.error and "Base" in absent.error
    self_param = apply(pkg, "make_keyword_only", "pkg.core.Base.m", names=["self"])
    assert isinstance(self_param, Failed) and "cannot become keyword-only" in self_param.error


def test_keyword_only_aliases_static_class_methods_and_explicit_super(tmp_path: Path) -> None:
    files = make_repo(
        tmp_path,
        {
            "lib/shapes.py": """
                class Shape:
                    def __init__(self, w, h=1):
                        self.w = w

                    @staticmethod
                    def make(w, h=1):
                        return Shape(w, h)

                    @classmethod
                    def build(cls, w, h=1):
                        return cls.make(w, h)


                class Square(Shape):
                    def __init__(self, w, h=1):
                        super(Square, self).__init__(w, h)
            """,
            "app.py": """
                from lib.shapes import Shape as S


                async def main():
                    S.make(1, 2)
                    S.build(1, 2)
                    S.__init__(S.__new__(S), 1, 2)
            """,
        },
    )
    make = apply(files, "make_keyword_only", "lib.shapes.Shape.make", after="w")
    assert "def make(w, *, h=1):" in changed(make, "lib/shapes.py")
    assert "return cls.make(w, h=h)" in changed(make, "lib/shapes.py")
    assert "    S.make(1, h=2)\n" in changed(make, "app.py")
    build = apply(files, "make_keyword_only", "lib.shapes.Shape.build", after="w")
    assert "    S.build(1, h=2)\n" in changed(build, "app.py")
    init = apply(files, "make_keyword_only", "lib.shapes.Shape", after="w")
    shapes = changed(init, "lib/shapes.py")
    assert "return Shape(w, h=h)" in shapes
    assert "super(Square, self).__init__(w, h=h)" in shapes
    assert "S.__init__(S.__new__(S), 1, h=2)" in changed(init, "app.py")


def test_unknown_module_target_fails(pkg: RepoFiles) -> None:
    result = apply(pkg, "remove_parameter", "nowhere.thing", name="x")
    assert isinstance(result, Failed) and "not found" in result.error


def test_target_forms(pkg: RepoFiles) -> None:
    index = RepoIndex(pkg)
    by_reexport = function_target(index, "pkg.f")
    by_path = function_target(index, "pkg/core.py::Base.m")
    bare = function_target(index, "Base.m")
    assert not isinstance(by_reexport, str) and by_reexport.qualname == "pkg.core.f"
    assert not isinstance(by_path, str) and by_path.qualname == "pkg.core.Base.m"
    assert not isinstance(bare, str) and bare.qualname == "pkg.core.Base.m"
    plain = function_target(index, "pkg.core.Plain")
    assert isinstance(plain, str) and "inherits __init__ from pkg.core.Base" in plain
    ambiguous = function_target(index, "f")
    assert isinstance(ambiguous, str) and "ambiguous" in ambiguous


class TestSignatureCommand(CodemodTest):
    """The command itself, on one file, through ``CodemodTest.assertCodemod``."""

    TRANSFORM = SignatureCommand

    def test_class_method_call_and_shadowed_name(self) -> None:
        before = """
            class C:
                def m(self, a, b=1):
                    return a

            def use(c: C, m):
                C.m(c, 1, 2)
                c.m(1, 2)
                m(1, 2)
        """
        after = """
            class C:
                def m(self, a, *, b=1):
                    return a

            def use(c: C, m):
                C.m(c, 1, b=2)
                c.m(1, b=2)
                m(1, 2)
        """
        files = RepoFiles(Path("."), {"mod.py": dedent(before)}, {"mod.py": "mod"})
        index = RepoIndex(files)
        target = function_target(index, "mod.C.m")
        assert not isinstance(target, str)
        edit = KeywordOnlyEdit(target, Report(), ["b"], index.call_pattern(target))
        self.assertCodemod(before, after, index, "mod.py", [edit])


# -- remove_parameter ----------------------------------------------------------------

CACHE = """
class Cache:
    def __getitem__(self, key):
        return key

    def __setitem__(self, key, value):
        pass


class LRU(Cache):
    def __getitem__(self, key, cache_getitem=Cache.__getitem__):
        value = cache_getitem(self, key)
        return value

    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):
        cache_setitem(self, key, value)

    def expire(self):
        cache_getitem = Cache.__getitem__
        return cache_getitem(self, 1)
"""


def test_remove_glob_in_module_substitutes_defaults(tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"cachetools/__init__.py": CACHE})
    result = apply(files, "remove_parameter", "cachetools", name="cache_*")
    text = changed(result, "cachetools/__init__.py")
    assert "def __getitem__(self, key):\n        value = Cache.__getitem__(self, key)" in text
    assert "def __setitem__(self, key, value):\n        Cache.__setitem__(self, key, value)" in text
    assert "cache_getitem = Cache.__getitem__\n        return cache_getitem(self, 1)" in text
    assert "cache_getitem=" not in text and "cache_setitem" not in text


def test_remove_updates_calls_by_keyword_and_position(tmp_path: Path) -> None:
    files = make_repo(
        tmp_path,
        {
            "m.py": "def f(a, debug=False, c=0):\n    return a + c\n",
            "n.py": """
                from m import f
                import m as mm

                f(1, True, 3)
                mm.f(1, debug=True)
                f(1, c=2, debug=False)
                print(debug=True)
            """,
        },
    )
    result = apply(files, "remove_parameter", "m.f", name="debug")
    assert changed(result, "m.py") == "def f(a, c=0):\n    return a + c\n"
    assert changed(result, "n.py").splitlines()[3:7] == [
        "f(1, 3)",
        "mm.f(1)",
        "f(1, c=2)",
        "print(debug=True)",
    ]


def test_remove_used_without_default_fails(tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"m.py": "def f(a, b):\n    return a + b\n"})
    result = apply(files, "remove_parameter", "m.f", name="b")
    assert isinstance(result, Failed)
    assert "has no default" in result.error and "m.py:2" in result.error


def test_remove_refuses_unsafe_defaults(tmp_path: Path) -> None:
    files = make_repo(
        tmp_path,
        {
            "m.py": """
                class C:
                    X = 1

                    def m(self, a=X):
                        return a

                def g(seen=[]):
                    return seen
            """
        },
    )
    class_attr = apply(files, "remove_parameter", "m.C.m", name="a")
    assert isinstance(class_attr, Failed) and "means something else" in class_attr.error
    mutable = apply(files, "remove_parameter", "m.g", name="seen")
    assert isinstance(mutable, Failed) and "evaluated once" in mutable.error


def test_remove_parenthesizes_substituted_default(tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"m.py": "N = 2\n\ndef f(x, k=N + 1):\n    return x * k\n"})
    result = apply(files, "remove_parameter", "m.f", name="k")
    assert changed(result, "m.py") == "N = 2\n\ndef f(x):\n    return x * (N + 1)\n"


def test_remove_missing_and_drops_bare_star(tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"m.py": "def f(a, *, b=1):\n    return a\n\n\nf(1, b=2)\n"})
    missing = apply(files, "remove_parameter", "m.f", name="zz*")
    assert isinstance(missing, Failed) and "its parameters are a, b" in missing.error
    result = apply(files, "remove_parameter", "m.f", name="b")
    assert changed(result, "m.py") == "def f(a):\n    return a\n\n\nf(1)\n"


# -- add_parameter ------------------------------------------------------------------


def test_add_parameter_positions(tmp_path: Path) -> None:
    files = make_repo(tmp_path, {"m.py": "def f(a, b=1, *args, c=2, **kw):\n    return a\n"})
    default = apply(files, "add_parameter", "m.f", name="key")
    assert "def f(a, b=1, key=None, *args, c=2, **kw):" in changed(default, "m.py")
    kwonly = apply(
        files, "add_parameter", "m.f", name="key", keyword_only=True, annotation="int", default="0"
    )
    assert "def f(a, b=1, *args, c=2, key: int = 0, **kw):" in changed(kwonly, "m.py")
    no_star = make_repo(tmp_path, {"m.py": "def g(a):\n    return a\n"})
    assert "def g(a, *, key=None):" in changed(
        apply(no_star, "add_parameter", "m.g", name="key", keyword_only=True), "m.py"
    )
    bad = apply(files, "add_parameter", "m.f", name="key", after="nope")
    assert isinstance(bad, Failed) and "a, b, args, c, kw" in bad.error
    assert isinstance(apply(files, "add_parameter", "m.f", name="b"), Skipped)


def test_add_parameter_mid_list_rewrites_shifted_calls(tmp_path: Path) -> None:
    files = make_repo(
        tmp_path,
        {"m.py": "def f(a, b=1):\n    return a\n", "n.py": "from m import f\n\nf(1, 2)\n"},
    )
    result = apply(files, "add_parameter", "m.f", name="x", after="a", default="'s'")
    assert "def f(a, x='s', b=1):" in changed(result, "m.py")
    assert changed(result, "n.py") == "from m import f\n\nf(1, b=2)\n"
    required = make_repo(tmp_path, {"m.py": "def f(a, b):\n    return a\n"})
    failed = apply(required, "add_parameter", "m.f", name="x", after="a")
    assert isinstance(failed, Failed) and "keyword_only" in failed.error


BODY = '''
def frequencies(seq, key=None):
    """Count items."""
    d = {}
    for item in seq:
        k = item if key is None else key(item)
        d[k] = d.get(k, 0) + 1
    return d
'''


def test_add_parameter_with_body(tmp_path: Path) -> None:
    source = '''
        import functools


        @functools.lru_cache
        def frequencies(seq):
            """Count items."""
            return {}
    '''
    files = make_repo(tmp_path, {"t.py": source})
    result = apply(files, "add_parameter", "t.frequencies", {"body": BODY}, name="key")
    text = changed(result, "t.py")
    assert "@functools.lru_cache\ndef frequencies(seq, key=None):" in text  # decorator kept
    assert "k = item if key is None else key(item)" in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "t.py", "exec"), namespace)
    assert namespace["frequencies"](("ab", "c", "de"), key=len) == {2: 2, 1: 1}


def test_add_parameter_body_imports_go_to_the_module(tmp_path: Path) -> None:
    """A body sent with the imports it needs: they join the module's imports."""
    body = "from collections import Counter\nimport operator\n\n" + BODY.replace(
        "    d = {}\n    for item in seq:\n        k = item if key is None else key(item)\n"
        "        d[k] = d.get(k, 0) + 1\n    return d\n",
        "    return dict(Counter(map(key or operator.pos, seq)))\n",
    )
    files = make_repo(tmp_path, {"t.py": "import os\n\n\ndef frequencies(seq):\n    return {}\n"})
    result = apply(files, "add_parameter", "t.frequencies", {"body": body}, name="key")
    text = changed(result, "t.py")
    assert text.startswith("import os\nfrom collections import Counter\nimport operator\n")
    assert text.count("import operator") == 1
    namespace: dict[str, Any] = {}
    exec(compile(text, "t.py", "exec"), namespace)
    assert namespace["frequencies"](("ab", "c", "de"), key=len) == {2: 2, 1: 1}


def test_add_parameter_body_keeps_the_signature_the_code_has(tmp_path: Path) -> None:
    """The model rewrote `list[Any]` as `List[Any]` (with its import) while writing the
    body: the signature stays as it was plus the new parameter, annotated as drafted, and
    the import that only the rewrite needed is dropped."""
    source = (
        "from typing import Any\n\n\n"
        "def natural_list(items: list[Any]) -> str:\n"
        "    return ' and '.join(map(str, items))\n"
    )
    body = (
        "from typing import List\n\n"
        "def natural_list(items: List[Any], conjunction: str = 'or') -> 'str':\n"
        "    return f' {conjunction} '.join(map(str, items))\n"
    )
    files = make_repo(tmp_path, {"t.py": source})
    result = apply(
        files,
        "add_parameter",
        "t.natural_list",
        {"body": body},
        name="conjunction",
        default="'and'",
    )
    text = changed(result, "t.py")
    assert "def natural_list(items: list[Any], conjunction: str = 'and') -> str:" in text
    assert "List" not in text
    assert "return f' {conjunction} '.join(map(str, items))" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def frequencies(seq, key=None:\n    pass\n", "does not parse"),
        ("def frequencies(seq, key=None):\n    pass\nprint(frequencies([]))\n", "exactly one"),
        ("def counts(seq, key=None):\n    pass\n", "must define 'frequencies'"),
        ("def frequencies(seq):\n    pass\n", "no parameter 'key'"),
        ("def frequencies(key=None):\n    pass\n", "drops parameter(s) seq"),
    ],
)
def test_add_parameter_rejects_bad_bodies(tmp_path: Path, body: str, message: str) -> None:
    files = make_repo(tmp_path, {"t.py": "def frequencies(seq):\n    return {}\n"})
    result = apply(files, "add_parameter", "t.frequencies", {"body": body}, name="key")
    assert isinstance(result, Failed) and message in result.error


# -- real projects (slow) -------------------------------------------------------------

SDISTS = Path.home() / ".cache/patchbench/sdists"
UNPACKED = Path("/tmp/pb")


def project_copy(name: str, tmp_path: Path) -> Path:
    """A fresh copy of an unpacked sdist (unpacked from the patchbench cache if needed)."""
    source = UNPACKED / name
    if not source.is_dir():
        archive = SDISTS / f"{name}.tar.gz"
        if not archive.is_file():
            pytest.skip(f"{source} and {archive} are both missing (patchbench sdists not cached)")
        UNPACKED.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(UNPACKED, filter="data")
    dest = tmp_path / name
    shutil.copytree(source, dest)
    return dest


def apply_on_disk(root: Path, op: Operation, slots: Mapping[str, Any] | None = None) -> Applied:
    result = apply_operation(RepoFiles.load(root), op, slots)
    assert isinstance(result, Applied), result
    for path, text in result.changes.items():
        (root / path).write_text(text)
    return result


def run_tests(root: Path, *args: str, pythonpath: str = "src") -> None:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def init_classes_with(root: Path, path: str, param: str) -> list[str]:
    module = cst.parse_module((root / path).read_text())
    found = []
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            for item in stmt.body.body:
                if (
                    isinstance(item, cst.FunctionDef)
                    and item.name.value == "__init__"
                    and any(p.name.value == param for p in item.params.params)
                ):
                    found.append(stmt.name.value)
    return found


@pytest.mark.slow
def test_cachetools_getsizeof_keyword_only(tmp_path: Path) -> None:
    root = project_copy("cachetools-8.0.1", tmp_path)
    classes = init_classes_with(root, "src/cachetools/__init__.py", "getsizeof")
    assert {"Cache", "LRUCache", "TTLCache"} <= set(classes)
    for name in classes:
        apply_on_disk(
            root, Operation("make_keyword_only", f"cachetools.{name}", {"names": ["getsizeof"]})
        )
    run_tests(root, "tests")
    probe = "import cachetools, inspect; print(inspect.signature(cachetools.LRUCache).parameters['getsizeof'].kind)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env={**os.environ, "PYTHONPATH": "src"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(inspect.Parameter.KEYWORD_ONLY)


@pytest.mark.slow
def test_cachetools_remove_cache_star(tmp_path: Path) -> None:
    root = project_copy("cachetools-8.0.1", tmp_path)
    result = apply_on_disk(root, Operation("remove_parameter", "cachetools", {"name": "cache_*"}))
    assert "use(s) replaced by the default" in result.notes[0]
    module = cst.parse_module((root / "src/cachetools/__init__.py").read_text())

    class Params(cst.CSTVisitor):
        names: list[str] = []

        def visit_Param(self, node: cst.Param) -> None:
            self.names.append(node.name.value)

    module.visit(Params())
    assert Params.names and not [n for n in Params.names if n.startswith("cache_")]
    run_tests(root, "tests")


@pytest.mark.slow
def test_click_keyword_only(tmp_path: Path) -> None:
    root = project_copy("click-8.5.1", tmp_path)
    apply_on_disk(
        root, Operation("make_keyword_only", "click.formatting.wrap_text", {"after": "width"})
    )
    apply_on_disk(
        root,
        Operation(
            "make_keyword_only", "click.formatting.HelpFormatter.write_dl", {"after": "rows"}
        ),
    )
    text = (root / "src/click/formatting.py").read_text()
    assert "    width: int = 78,\n    *,\n    initial_indent" in text
    assert "rows: cabc.Iterable[tuple[str, str]],\n        *,\n        col_max" in text
    run_tests(root, "tests", "--ignore=tests/test_deprecations.py")


TOOLZ_BODY = '''
def frequencies(seq, key=None):
    """ Find number of occurrences of each value in seq

    >>> frequencies(['cat', 'cat', 'ox', 'pig', 'pig', 'cat'])  #doctest: +SKIP
    {'cat': 3, 'ox': 1, 'pig': 2}

    With ``key``, count ``key(item)`` instead of each item:

    >>> frequencies(['cat', 'ox', 'pig'], key=len) == {3: 2, 2: 1}
    True

    See Also:
        countby
        groupby
    """
    d = collections.defaultdict(int)
    for item in seq:
        d[item if key is None else key(item)] += 1
    return dict(d)
'''


@pytest.mark.slow
def test_toolz_frequencies_key(tmp_path: Path) -> None:
    root = project_copy("toolz-1.2.0", tmp_path)
    op = Operation(
        "add_parameter", "toolz.itertoolz.frequencies", {"name": "key", "default": "None"}
    )
    apply_on_disk(root, op, {"body": TOOLZ_BODY})
    text = (root / "toolz/itertoolz.py").read_text()
    assert "def frequencies(seq, key=None):" in text and "key(item)" in text
    # the module doctests (the new example included) and toolz's own doctest runner
    run_tests(
        root,
        "--doctest-modules",
        "toolz",
        "--ignore=toolz/tests",
        "toolz/tests/test_curried_doctests.py",
        "toolz/tests/test_itertoolz.py",
        pythonpath=".",
    )
