"""RepositoryDigest on small real packages: symbols, references, graphs, the cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from planner.digest import CACHE_FILE, CACHE_VERSION, DigestCacheError, RepositoryDigest
from planner.digest_types import Definition, FileDigest, Reference

PKG = {
    "pkg/__init__.py": 'from pkg.a import f\nfrom .b import Helper as H\n\n__all__ = ["f", "H"]\n',
    "pkg/a.py": '''"""Module a."""
import os

__all__ = ["f", "Cache"]
TIMEOUT = 30
default_name = "x"


def f(a, b=1, *, c) -> int:
    """Add things.

    More text."""
    return a + b + c


@register
def g(*args, **kwargs):
    return f(1, c=2)


class Cache(Base):
    """A cache."""

    LIMIT = 10

    def get(self, key, default=None):
        return self._load(key)

    def _load(self, key):
        return os.path.join(key)


class Lru(Cache):
    def peek(self, key):
        return self.get(key)
''',
    "pkg/b.py": """import pkg.a as m
from pkg.a import f


class Helper:
    def run(self):
        m.f(1, c=2)
        return f(2, c=3)
""",
    "pkg/util.py": "def chunks(seq, size):\n    return [seq[i : i + size] for i in range(0, len(seq), size)]\n",
    "tests/test_a.py": "from pkg import f\n\n\ndef test_f():\n    assert f(1, c=1) == 3\n",
    "tests/test_b.py": "import pkg.b\n",
    "tests/test_other.py": "import os\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", PKG)


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    return tmp_path / "data" / "index"


@pytest.fixture()
def digest(repo: Path, cache: Path) -> RepositoryDigest:
    return RepositoryDigest.build(repo, cache)


def one(digest: RepositoryDigest, name: str) -> Definition:
    found = digest.find(name)
    assert len(found) == 1, (name, found)
    return found[0]


def test_definitions_have_qualnames_kinds_signatures_and_docstrings(
    digest: RepositoryDigest,
) -> None:
    f = one(digest, "f")
    assert (f.qualname, f.kind, f.module, f.path) == ("pkg.a.f", "function", "pkg.a", "pkg/a.py")
    assert f.signature == "def f(a, b=1, *, c) -> int"
    assert f.params == ("a", "b", "c")
    assert f.docstring == "Add things.\n\nMore text."
    assert (f.line, f.end_line, f.parent, f.in_all) == (9, 13, None, True)
    g = one(digest, "g")
    assert g.params == ("*args", "**kwargs") and g.decorators == ("register",)
    assert g.in_all is False and g.docstring is None
    get = one(digest, "Cache.get")
    assert (get.qualname, get.kind, get.parent) == ("pkg.a.Cache.get", "method", "pkg.a.Cache")
    assert get.signature == "def get(self, key, default=None)"
    cache_cls = one(digest, "pkg.a.Cache")
    assert (cache_cls.kind, cache_cls.signature, cache_cls.docstring) == (
        "class",
        "class Cache(Base)",
        "A cache.",
    )
    assert one(digest, "TIMEOUT").kind == "constant"
    assert one(digest, "TIMEOUT").signature == "TIMEOUT = 30"
    assert one(digest, "default_name").kind == "variable"
    limit = one(digest, "Cache.LIMIT")
    assert (limit.kind, limit.parent) == ("constant", "pkg.a.Cache")


def test_find_by_bare_name_qualname_suffix_and_reexport(digest: RepositoryDigest) -> None:
    assert [d.qualname for d in digest.find("get")] == ["pkg.a.Cache.get"]
    assert [d.qualname for d in digest.find("a.Cache.get")] == ["pkg.a.Cache.get"]
    assert [d.qualname for d in digest.find("pkg.f")] == ["pkg.a.f"]  # re-exported
    assert [d.qualname for d in digest.find("pkg.H")] == ["pkg.b.Helper"]  # relative, aliased
    assert digest.find("nope") == [] and digest.find("pkg.a.nope") == []
    assert "Cache" in digest.fuzzy("Cahce")
    assert "Cache.get" in digest.fuzzy("Cache.gte")
    assert digest.module_path("pkg") == "pkg/__init__.py"
    assert digest.module_path("pkg.util") == "pkg/util.py"
    assert digest.module_path("os") is None
    assert sum(1 for _ in digest.definitions()) == digest.stats()["definitions"]


def test_references_resolve_through_imports_aliases_and_self(digest: RepositoryDigest) -> None:
    refs = digest.references_to("pkg.a.f")
    spots = {(r.path, r.line, r.kind) for r in refs}
    assert {
        ("pkg/__init__.py", 1, "import"),  # from pkg.a import f
        ("pkg/a.py", 4, "all"),  # __all__ entry
        ("pkg/a.py", 18, "call"),  # same-module call in g
        ("pkg/b.py", 2, "import"),
        ("pkg/b.py", 7, "call"),  # m.f(...) after import pkg.a as m
        ("pkg/b.py", 8, "call"),  # f(...) after from pkg.a import f
        ("tests/test_a.py", 5, "call"),  # via the package's re-export
    } <= spots
    aliased = next(r for r in refs if r.path == "pkg/b.py" and r.line == 7)
    assert (aliased.name, aliased.target, aliased.scope) == ("f", "pkg.a.f", "pkg.b.Helper.run")
    # a bare name also matches references spelled that way but not resolvable
    assert {(r.path, r.line) for r in digest.references_to("f")} >= {(p, ln) for p, ln, _ in spots}
    module_refs = digest.references_to("pkg.a")
    assert {(r.path, r.kind) for r in module_refs} >= {("pkg/b.py", "import"), ("pkg/b.py", "name")}
    self_call = [r for r in digest.references_to("pkg.a.Cache._load") if r.kind == "call"]
    assert [(r.path, r.scope) for r in self_call] == [("pkg/a.py", "pkg.a.Cache.get")]
    external = next(r for r in digest.files["pkg/a.py"].references if r.name == "join")
    assert (external.kind, external.target) == ("call", "os.path.join")


def test_all_names_and_in_all(digest: RepositoryDigest) -> None:
    assert digest.files["pkg/__init__.py"].all_names == ("f", "H")
    assert digest.files["pkg/a.py"].all_names == ("f", "Cache")
    assert digest.files["pkg/b.py"].all_names is None
    assert one(digest, "pkg.a.Cache").in_all and not one(digest, "Lru").in_all
    all_refs = [r for r in digest.files["pkg/__init__.py"].references if r.kind == "all"]
    assert [(r.name, r.target) for r in all_refs] == [("f", "pkg.f"), ("H", "pkg.H")]
    assert digest.resolve("pkg.H") == "pkg.b.Helper"


def test_import_graph_call_graph_and_tests_importing(digest: RepositoryDigest) -> None:
    imports = digest.import_graph()
    assert {("pkg", "pkg.a"), ("pkg", "pkg.b"), ("pkg.b", "pkg.a")} <= set(imports.edges)
    assert ("tests.test_a", "pkg") in imports.edges and ("tests.test_b", "pkg.b") in imports.edges
    assert "os" not in imports and imports.nodes["pkg.util"]["path"] == "pkg/util.py"
    assert digest.tests_importing("pkg.a") == ["tests/test_a.py", "tests/test_b.py"]
    assert digest.tests_importing("pkg/b.py") == ["tests/test_a.py", "tests/test_b.py"]
    assert digest.tests_importing("pkg.util") == []
    assert digest.tests_importing("no.such.module") == []
    calls = digest.call_graph()
    assert ("pkg.a.g", "pkg.a.f") in calls.edges
    assert ("pkg.b.Helper.run", "pkg.a.f") in calls.edges
    assert ("pkg.a.Cache.get", "pkg.a.Cache._load") in calls.edges
    assert ("pkg.a.Lru.peek", "pkg.a.Cache.get") in calls.edges  # inherited, via the base
    assert ("tests.test_a.test_f", "pkg.a.f") in calls.edges


def test_src_layout_strips_src_and_finds_its_tests(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "proj",
        {
            "src/lib/__init__.py": "",
            "src/lib/core.py": "def func(x):\n    return x\n",
            "tests/test_core.py": "from lib.core import func\n\nfunc(1)\n",
            "setup.py": "import setuptools\n",
        },
    )
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    assert one(digest, "func").qualname == "lib.core.func"
    assert digest.module_path("lib") == "src/lib/__init__.py"
    assert digest.module_path("setup") == "setup.py"
    assert digest.tests_importing("lib.core") == ["tests/test_core.py"]
    assert [r.path for r in digest.references_to("lib.core.func") if r.kind == "call"] == [
        "tests/test_core.py"
    ]


def test_touching_one_file_reparses_only_that_file(repo: Path, cache: Path) -> None:
    first = RepositoryDigest.build(repo, cache)
    assert sorted(first.build_stats.parsed) == sorted(PKG)
    assert first.build_stats.cache == "fresh"
    second = RepositoryDigest.build(repo, cache)
    assert second.build_stats.parsed == () and second.build_stats.reused == len(PKG)
    assert second.build_stats.cache == "loaded (unchanged)"
    (repo / "pkg" / "b.py").write_text(PKG["pkg/b.py"] + "\n\ndef extra():\n    return f(0, c=0)\n")
    third = RepositoryDigest.build(repo, cache)
    assert third.build_stats.parsed == ("pkg/b.py",)
    assert third.build_stats.reused == len(PKG) - 1
    assert third.stats()["parsed"] == 1 and third.stats()["reused"] == len(PKG) - 1
    assert one(third, "extra").qualname == "pkg.b.extra"
    assert ("pkg.b.extra", "pkg.a.f") in third.call_graph().edges
    assert one(third, "Cache.get") == one(first, "Cache.get")  # reused from the cache


def test_deleted_file_is_dropped(repo: Path, cache: Path) -> None:
    RepositoryDigest.build(repo, cache)
    (repo / "pkg" / "util.py").unlink()
    digest = RepositoryDigest.build(repo, cache)
    assert digest.build_stats.removed == ("pkg/util.py",) and digest.build_stats.parsed == ()
    assert digest.find("chunks") == [] and digest.module_path("pkg.util") is None
    assert "pkg/util.py" not in json.loads((cache / CACHE_FILE).read_text())["files"]


@pytest.mark.parametrize(
    ("damage", "status"),
    [
        (lambda text: "{not json", "rebuilt (corrupt cache)"),
        (
            lambda text: text.replace(f'"cache_version":{CACHE_VERSION}', '"cache_version":0'),
            "rebuilt (cache",
        ),
        (lambda text: "[1, 2]", "rebuilt (corrupt cache)"),
        (
            lambda text: json.dumps({"cache_version": CACHE_VERSION, "files": 3}),
            "rebuilt (corrupt cache)",
        ),
    ],
)
def test_corrupt_or_old_cache_is_rebuilt(
    repo: Path, cache: Path, caplog: pytest.LogCaptureFixture, damage: object, status: str
) -> None:
    RepositoryDigest.build(repo, cache)
    path = cache / CACHE_FILE
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    with caplog.at_level(logging.INFO, logger="planner.digest_store"):
        digest = RepositoryDigest.build(repo, cache)
    assert digest.build_stats.cache.startswith(status)
    assert sorted(digest.build_stats.parsed) == sorted(PKG)
    assert "rebuilding from scratch" in caplog.text
    assert json.loads(path.read_text())["cache_version"] == CACHE_VERSION  # rewritten whole
    assert RepositoryDigest.build(repo, cache).build_stats.parsed == ()


def test_a_damaged_cache_entry_is_reparsed(repo: Path, cache: Path) -> None:
    RepositoryDigest.build(repo, cache)
    path = cache / CACHE_FILE
    data = json.loads(path.read_text())
    del data["files"]["pkg/a.py"]["digest"]
    path.write_text(json.dumps(data))
    digest = RepositoryDigest.build(repo, cache)
    assert digest.build_stats.parsed == ("pkg/a.py",)
    assert one(digest, "f").qualname == "pkg.a.f"


def test_load_returns_the_saved_digest_and_refuses_a_missing_one(
    digest: RepositoryDigest, cache: Path, tmp_path: Path
) -> None:
    loaded = RepositoryDigest.load(cache)
    assert list(loaded.files) == list(digest.files)
    assert list(loaded.definitions()) == list(digest.definitions())
    assert list(loaded.references()) == list(digest.references())
    with pytest.raises(DigestCacheError, match="autopatch index"):
        RepositoryDigest.load(tmp_path / "empty")


def test_round_trips_through_dicts(digest: RepositoryDigest) -> None:
    again = RepositoryDigest.from_dict(json.loads(json.dumps(digest.to_dict())))
    assert list(again.files.values()) == list(digest.files.values())
    assert again.stats()["definitions"] == digest.stats()["definitions"]
    fd = digest.files["pkg/a.py"]
    assert FileDigest.from_dict(fd.to_dict()) == fd
    for d in fd.definitions:
        assert Definition.from_dict(d.to_dict()) == d
    for r in fd.references:
        assert Reference.from_dict(r.to_dict()) == r


def test_progress_is_reported_and_parallel_parsing_matches_serial(
    repo: Path, tmp_path: Path
) -> None:
    for i in range(210):  # above the parallel threshold
        (repo / "pkg" / f"gen_{i}.py").write_text(
            f"from pkg.a import f\n\n\ndef h{i}():\n    f()\n"
        )
    seen: list[tuple[int, int, str]] = []
    parallel = RepositoryDigest.build(
        repo, tmp_path / "par", workers=2, progress=lambda *a: seen.append(a)
    )
    serial = RepositoryDigest.build(repo, tmp_path / "ser", workers=1)
    assert seen[-1] == (len(parallel.files), len(parallel.files), "parsing")
    assert list(parallel.files.values()) == list(serial.files.values())
    assert len(parallel.references_to("pkg.a.f")) == len(serial.references_to("pkg.a.f"))


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_core.py", True),
        ("tests/helpers.py", True),
        ("src/pkg/tests/util.py", True),
        ("tests/test_utils/test_style.py", True),
        ("pkg/test_core.py", True),
        ("pkg/core_test.py", True),
        ("conftest.py", True),
        ("src/click/testing.py", False),  # a library module users import
        ("numpy/testing/utils.py", False),
        ("pkg/testdata.py", False),
        ("pkg/core.py", False),
    ],
)
def test_test_code_is_told_from_library_modules_about_testing(path: str, test: bool) -> None:
    from planner.digest_query import is_test_path

    assert is_test_path(path) is test


def test_a_parameter_annotated_with_a_class_reaches_its_methods(tmp_path: Path) -> None:
    """`formatter: HelpFormatter` makes `formatter.write_dl()` a reference to the method,
    so a signature change's scope includes that caller (as its codemod rewrites it)."""
    from planner.digest import RepositoryDigest

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "fmt.py").write_text(
        "class HelpFormatter:\n    def write_dl(self, rows):\n        return rows\n"
    )
    (root / "pkg" / "core.py").write_text(
        "from __future__ import annotations\n"
        "import typing as t\n"
        "from .fmt import HelpFormatter\n\n\n"
        "def show(formatter: HelpFormatter, rows):\n    formatter.write_dl(rows)\n\n\n"
        "def maybe(formatter: t.Optional['HelpFormatter'] = None):\n    formatter.write_dl([])\n\n\n"
        "def either(formatter: HelpFormatter | None, other: str):\n"
        "    formatter.write_dl([])\n    other.write_dl([])\n"
    )
    digest = RepositoryDigest.build(root, tmp_path / "cache")
    refs = digest.references_to("pkg.fmt.HelpFormatter.write_dl")
    assert [(r.path, r.scope) for r in refs] == [
        ("pkg/core.py", "pkg.core.show"),
        ("pkg/core.py", "pkg.core.maybe"),
        ("pkg/core.py", "pkg.core.either"),
    ]
