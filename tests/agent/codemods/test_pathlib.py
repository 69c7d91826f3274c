"""``modernize idiom=pathlib``: os.path -> pathlib inside one function, as a LibCST codemod.

Real source text through the real codemod; every converted function is run before and
after (exec) on the same inputs and must return the same values."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import agent.codemods.modernize  # noqa: F401  (registers modernize)
from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.draft import needed_slots
from planner.spec import Operation


def repo(source: str) -> RepoFiles:
    text = textwrap.dedent(source).lstrip("\n")
    return RepoFiles(Path("/nonexistent"), {"pkg/mod.py": text}, {"pkg/mod.py": "pkg.mod"})


def pathlib_op(files: RepoFiles, target: str, **slots: Any) -> Result:
    return apply_operation(files, Operation("modernize", target, {"idiom": "pathlib"}), slots)


def converted(result: Result) -> str:
    assert isinstance(result, Applied), result
    return result.changes["pkg/mod.py"]


def load(source: str, **globs: Any) -> dict[str, Any]:
    """Run a module's source; its globals (``globs`` set first, as a test's knobs)."""
    namespace: dict[str, Any] = {"__name__": "pkg.mod", **globs}
    exec(compile(source, "pkg/mod.py", "exec"), namespace)
    return namespace


def function_text(source: str, name: str) -> str:
    """The text of the top-level ``def name`` (up to the next top-level statement)."""
    lines = source.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    end = next(
        (j for j in range(start + 1, len(lines)) if lines[j][:1] not in ("", " ", "\n")),
        len(lines),
    )
    return "".join(lines[start:end]).rstrip() + "\n"


def same_results(
    before: Callable[..., Any], after: Callable[..., Any], calls: list[tuple[Any, ...]]
) -> None:
    for args in calls:
        old, new = before(*args), after(*args)
        assert new == old, args
        assert type(new) is type(old), args


# ---------------------------------------------------------------------------- click

CLICK = '''
    import os
    import sys

    WIN = sys.platform.startswith("win")


    def _posixify(name: str) -> str:
        return "-".join(name.split()).lower()


    def get_app_dir(app_name: str, roaming: bool = True, force_posix: bool = False) -> str:
        r"""Returns the config folder for the application.

        :param app_name: the application name.
        """
        if WIN:
            key = "APPDATA" if roaming else "LOCALAPPDATA"
            folder = os.environ.get(key)
            if folder is None:
                folder = os.path.expanduser("~")
            return os.path.join(folder, app_name)
        if force_posix:
            return os.path.join(os.path.expanduser(f"~/.{_posixify(app_name)}"))
        if sys.platform == "darwin":
            return os.path.join(
                os.path.expanduser("~/Library/Application Support"), app_name
            )
        return os.path.join(
            os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config")),
            _posixify(app_name),
        )


    def open_config(app_name: str) -> str:
        return os.path.join(get_app_dir(app_name), "config.ini")


    class Loader:
        def exists(self, name: str) -> bool:
            return os.path.exists(os.path.join(os.getcwd(), name))
    '''

CLICK_AFTER = '''
    def get_app_dir(app_name: str, roaming: bool = True, force_posix: bool = False) -> str:
        r"""Returns the config folder for the application.

        :param app_name: the application name.
        """
        if WIN:
            key = "APPDATA" if roaming else "LOCALAPPDATA"
            folder = os.environ.get(key)
            if folder is None:
                folder = str(Path("~").expanduser())
            return str(Path(folder, app_name))
        if force_posix:
            return str(Path(f"~/.{_posixify(app_name)}").expanduser())
        if sys.platform == "darwin":
            return str(Path(
                Path("~/Library/Application Support").expanduser(), app_name
            ))
        return str(Path(
            os.environ.get("XDG_CONFIG_HOME", str(Path("~/.config").expanduser())),
            _posixify(app_name),
        ))
    '''


def test_click_get_app_dir_converts_and_returns_the_same_str(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = repo(CLICK)
    before = files.sources["pkg/mod.py"]
    result = pathlib_op(files, "pkg.mod.get_app_dir")
    after = converted(result)
    assert function_text(after, "get_app_dir") == textwrap.dedent(CLICK_AFTER).lstrip("\n")
    assert after.startswith("import os\nimport sys\nfrom pathlib import Path\n")
    assert "os.path" not in function_text(after, "get_app_dir")
    assert isinstance(result, Applied)
    assert "pathlib: converted 8 os.path call(s) in pkg.mod.get_app_dir" in result.notes

    homes = [str(tmp_path / "home"), str(tmp_path / "home") + "/"]
    env: list[Mapping[str, str | None]] = [
        {"XDG_CONFIG_HOME": None, "APPDATA": None, "LOCALAPPDATA": None},
        {"XDG_CONFIG_HOME": "/xdg", "APPDATA": "/roam", "LOCALAPPDATA": "/local"},
        {"XDG_CONFIG_HOME": "/xdg/", "APPDATA": "/roam/", "LOCALAPPDATA": None},
        {"XDG_CONFIG_HOME": "", "APPDATA": None, "LOCALAPPDATA": "rel/local"},
    ]
    checked = 0
    for home, values, win, platform in itertools.product(
        homes, env, (False, True), ("linux", "darwin")
    ):
        monkeypatch.setenv("HOME", home)
        for key, value in values.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        monkeypatch.setattr(sys, "platform", platform)
        old = load(before, WIN=win)
        new = load(after, WIN=win)
        old["WIN"] = new["WIN"] = win  # the module computed it from sys.platform
        for name, roaming, force_posix in itertools.product(
            ("Foo Bar", "app"), (True, False), (False, True)
        ):
            want = old["get_app_dir"](name, roaming, force_posix)
            got = new["get_app_dir"](name, roaming, force_posix)
            assert got == want, (home, values, win, platform, name, roaming, force_posix)
            assert isinstance(got, str)
            checked += 1
    assert checked == 2 * 4 * 2 * 2 * 8


def test_other_functions_in_the_module_are_not_touched() -> None:
    files = repo(CLICK)
    before = files.sources["pkg/mod.py"]
    after = converted(pathlib_op(files, "pkg.mod.get_app_dir"))
    assert function_text(after, "open_config") == function_text(before, "open_config")
    assert function_text(after, "_posixify") == function_text(before, "_posixify")
    loader = before[before.index("class Loader:") :]
    assert after.endswith(loader)
    assert "import os\n" in after  # still used by the others


# ---------------------------------------------------------------------------- name resolution


def test_a_local_os_or_path_that_shadows_the_import_is_left_alone(tmp_path: Path) -> None:
    source = """
        import os
        from os import path


        class Fake:
            path = None

            @staticmethod
            def join(*parts):
                return "|".join(parts)


        def by_param(path, d):
            return path.join(d, "x")


        def by_local(d):
            os = Fake()
            os.path = Fake
            return os.path.join(d, "y")


        def mixed(d):
            path = Fake()
            return path.join(d, "a"), os.path.join(d, "b")
        """
    files = repo(source)
    for name in ("by_param", "by_local"):
        result = pathlib_op(files, f"pkg.mod.{name}")
        assert isinstance(result, Skipped), result
        assert "no pathlib conversion" in result.reason
    after = converted(pathlib_op(files, "pkg.mod.mixed"))
    assert function_text(after, "mixed") == textwrap.dedent(
        """\
        def mixed(d):
            path = Fake()
            return path.join(d, "a"), str(Path(d, "b"))
        """
    )
    # `path` is still used at module level; `os` is now only the local of by_local
    assert after.startswith("from os import path\nfrom pathlib import Path\n")
    assert function_text(after, "by_local") == function_text(
        files.sources["pkg/mod.py"], "by_local"
    )
    assert load(after)["by_local"]("/t") == "/t|y"
    same_results(load(files.sources["pkg/mod.py"])["mixed"], load(after)["mixed"], [("/t",)])


def test_unsupported_calls_are_kept_and_named_in_the_notes(tmp_path: Path) -> None:
    source = """
        import os


        def describe(p):
            stem, ext = os.path.splitext(os.path.basename(p))
            full = os.path.abspath(p)
            parent = os.path.dirname(p)
            return stem, ext, full, parent, os.path.isfile(p), os.path.join(parent, "sub/")
        """
    files = repo(source)
    result = pathlib_op(files, "pkg.mod.describe")
    after = converted(result)
    assert isinstance(result, Applied)
    body = function_text(after, "describe")
    assert "os.path.splitext(Path(p).name)" in body
    assert "os.path.abspath(p)" in body and "os.path.dirname(p)" in body
    assert "Path(p).is_file()" in body
    assert 'os.path.join(parent, "sub/")' in body  # Path would drop the trailing slash
    notes = "\n".join(result.notes)
    for fn in ("splitext", "abspath", "dirname"):
        assert f"kept os.path.{fn}: no exact pathlib equivalent" in notes
    assert "kept os.path.join: Path would normalize the literal 'sub/'" in notes
    (tmp_path / "f.txt").write_text("x")
    calls = [(str(tmp_path / "f.txt"),), ("rel/a.tar.gz",), (str(tmp_path),)]
    same_results(load(files.sources["pkg/mod.py"])["describe"], load(after)["describe"], calls)


def test_from_os_path_import_join_and_the_other_import_forms(tmp_path: Path) -> None:
    source = """
        from os.path import dirname, join
        import os.path as osp
        from os import path


        def locate(base, name):
            target = join(base, name)
            if osp.isdir(target):
                return target, 0, path.basename(target)
            return target, osp.getsize(target), dirname(target)
        """
    files = repo(source)
    after = converted(pathlib_op(files, "pkg.mod.locate"))
    assert after == textwrap.dedent(
        """\
        from os.path import dirname
        from pathlib import Path


        def locate(base, name):
            target = str(Path(base, name))
            if Path(target).is_dir():
                return target, 0, Path(target).name
            return target, Path(target).stat().st_size, dirname(target)
        """
    )
    (tmp_path / "d").mkdir()
    (tmp_path / "f.bin").write_bytes(b"12345")
    calls = [(str(tmp_path), "d"), (str(tmp_path), "f.bin"), (str(tmp_path) + "/", "f.bin")]
    same_results(load(files.sources["pkg/mod.py"])["locate"], load(after)["locate"], calls)


def test_a_bool_valued_call_in_an_if(tmp_path: Path) -> None:
    source = """
        import os


        def read(p, default=""):
            if os.path.exists(p):
                with open(p) as fh:
                    return fh.read()
            return default
        """
    files = repo(source)
    after = converted(pathlib_op(files, "pkg.mod.read"))
    assert after == textwrap.dedent(
        """\
        from pathlib import Path


        def read(p, default=""):
            if Path(p).exists():
                with open(p) as fh:
                    return fh.read()
            return default
        """
    )  # `import os` was left unused, so it went
    (tmp_path / "a.txt").write_text("hello")
    calls = [(str(tmp_path / "a.txt"),), (str(tmp_path / "missing"),)]
    same_results(load(files.sources["pkg/mod.py"])["read"], load(after)["read"], calls)


# ---------------------------------------------------------------------------- composition, imports


def test_composed_calls_wrap_only_the_outermost_path_value(tmp_path: Path) -> None:
    source = """
        import os
        import pathlib


        def cache(root, name):
            here = os.path.realpath(os.path.join(root, name))
            big = os.path.exists(os.path.join(root, name)) and os.path.getsize(here) > 2
            return here, big, os.path.basename(os.path.expanduser(root))
        """
    files = repo(source)
    after = converted(pathlib_op(files, "pkg.mod.cache"))
    assert function_text(after, "cache") == textwrap.dedent(
        """\
        def cache(root, name):
            here = str(pathlib.Path(root, name).resolve())
            big = pathlib.Path(root, name).exists() and pathlib.Path(here).stat().st_size > 2
            return here, big, pathlib.Path(root).expanduser().name
        """
    )
    assert after.startswith("import pathlib\n\n\n")  # reused, `import os` went unused
    (tmp_path / "f").write_text("abcd")
    calls = [(str(tmp_path), "f"), (str(tmp_path), "nope"), ("~", "x")]
    same_results(load(files.sources["pkg/mod.py"])["cache"], load(after)["cache"], calls)


def test_a_path_name_bound_to_something_else_uses_pathlib_path() -> None:
    source = """
        import os

        Path = "not pathlib"


        def f(d):
            return os.path.join(d, "x")
        """
    after = converted(pathlib_op(repo(source), "pkg.mod.f"))
    assert "import pathlib\n" in after and 'return str(pathlib.Path(d, "x"))' in after
    assert 'Path = "not pathlib"' in after
    assert load(after)["f"]("/a") == "/a/x"


def test_nothing_to_convert_is_skipped_and_a_class_is_refused() -> None:
    source = """
        import os


        class A:
            def m(self, p):
                return os.path.abspath(p)
        """
    files = repo(source)
    result = pathlib_op(files, "pkg.mod.A.m")
    assert isinstance(result, Skipped)
    assert "kept os.path.abspath: no exact pathlib equivalent" in result.reason
    refused = pathlib_op(files, "pkg.mod.A")
    assert isinstance(refused, Failed) and "one function or method" in refused.error


def test_no_llm_slot_is_needed_and_a_given_source_still_runs_as_edit() -> None:
    assert needed_slots(Operation("modernize", "a.f", {"idiom": "pathlib"})) == ()
    files = repo("import os\n\n\ndef p(d):\n    return os.path.join(d, 'x')\n")
    src = "def p(d):\n    return str(Path(d) / 'x')\n"
    out = converted(
        pathlib_op(files, "pkg.mod.p", source=src, imports=["from pathlib import Path"])
    )
    assert "str(Path(d) / 'x')" in out


def test_module_with_lazy_imports_gets_the_path_import_inside_the_function() -> None:
    """A module that imports inside functions cares about import time: keep it lazy."""
    files = repo(
        '''
        import os


        def config_dir(name):
            """Where the config lives."""
            return os.path.join(os.path.expanduser("~/.config"), name)


        def pager():
            import shutil

            return shutil.which("less")
        '''
    )
    after = converted(pathlib_op(files, "pkg.mod.config_dir"))
    assert "from pathlib import Path" not in after.split("def config_dir")[0]
    assert function_text(after, "config_dir") == textwrap.dedent(
        '''\
        def config_dir(name):
            """Where the config lives."""
            from pathlib import Path
            return str(Path(Path("~/.config").expanduser(), name))
        '''
    )
    before_ns, after_ns = load(files.sources["pkg/mod.py"]), load(after)
    same_results(before_ns["config_dir"], after_ns["config_dir"], [("tool",), ("a b",)])
