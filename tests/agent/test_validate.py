"""Validation end to end: real drafted scripts, a real git repo, the real sandbox and pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.verify.sandbox import MODE_BWRAP, MODE_FALLBACK, Sandbox, Scratch, sandbox_capability
from agent.verify.validate import (
    Check,
    Validation,
    Validator,
    detect_test_command,
    in_scope,
    select_related_tests,
)
from planner.digest import RepositoryDigest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}
CORE = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n"
GOOD = 'import os\n\n\ndef greet(name):\n    """Say hi."""\n    return "hi " + name\n'


def commit_all(repo: Path) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "x"], check=True, env=env)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture()
def project(git_repo: Path) -> Path:
    """pkg/core.py (with a pre-existing unused import), pkg/util.py, two test files."""
    (git_repo / "pkg" / "core.py").write_text(CORE)
    (git_repo / "pkg" / "util.py").write_text("def shout(s):\n    return s.upper()\n")
    (git_repo / "tests").mkdir()
    (git_repo / "tests" / "test_core.py").write_text(
        "from pkg.core import greet\n\n\ndef test_greet():\n    assert greet('x') == 'hi x'\n"
    )
    (git_repo / "tests" / "test_util.py").write_text(
        "from pkg.util import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n"
    )
    commit_all(git_repo)
    return git_repo


@pytest.fixture(params=[MODE_BWRAP, MODE_FALLBACK])
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    if request.param == MODE_BWRAP and sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")
    fallback = request.param == MODE_FALLBACK
    return Sandbox(wall_s=60, force_fallback=fallback, unsafe=fallback)


def write_script(tmp_path: Path, body: str) -> Path:
    """A drafted script: it runs with the scratch copy as its working directory."""
    path = tmp_path / "scripts" / "01_edit.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text("from pathlib import Path\n" + textwrap.dedent(body))
    return path


def edit(rel: str, text: str) -> str:
    return f"Path({rel!r}).write_text({text!r})\n"


Validate = Callable[..., tuple[Validation, str]]


@pytest.fixture()
def validate(project: Path, sandbox: Sandbox, tmp_path: Path) -> Validate:
    """Run one drafted script through the whole validation; (result, diff)."""
    digest = RepositoryDigest.build(project, tmp_path / "cache")

    def run(body: str, *, scope: set[str] | None = None, full_tests: bool = False) -> Any:
        before = snapshot(project)
        with Scratch(project) as scratch:
            changed = {"pkg/core.py"}  # what the plan says it will touch
            validator = Validator(
                scratch,
                sandbox,
                scope={"pkg/core.py"} if scope is None else scope,
                related_tests=select_related_tests(digest, changed),
                test_command=detect_test_command(project),
                python=sys.executable,
            )
            result = validator.run(write_script(tmp_path, body), full_tests=full_tests)
            diff = scratch.diff()
        assert snapshot(project) == before, "validation never touches the target repo"
        assert Validation.from_dict(result.to_dict()) == result
        return result, diff

    return run


def failure(result: Validation) -> Check:
    assert not result.ok
    check = result.failure
    assert check is not None and check is result.checks[-1], "stops at the first failure"
    return check


def test_a_good_change_passes_every_check(validate: Validate, project: Path) -> None:
    result, diff = validate(edit("pkg/core.py", GOOD), full_tests=True)
    names = [c.name for c in result.checks]
    assert names == ["script", "syntax", "scope", "lint", "import", "related_tests", "full_tests"]
    assert result.ok and result.passed_count == 7, [c.message for c in result.checks]
    assert "1 passed" in result.checks[5].message, "only tests/test_core.py imports pkg.core"
    assert "2 passed" in result.checks[6].message
    patch = project.parent / "good.diff"
    patch.write_text(diff)
    subprocess.run(["git", "-C", str(project), "apply", "--check", str(patch)], check=True)


def test_a_script_that_crashes_fails_first(validate: Validate) -> None:
    result, _ = validate("raise KeyError('no such node')\n")
    check = failure(result)
    assert check.name == "script" and result.passed_count == 0
    assert "exited with code 1" in check.message and "KeyError: 'no such node'" in check.message
    assert 'File "01_edit.py", line 2' in check.message


def test_a_script_that_writes_outside_is_stopped(validate: Validate, project: Path) -> None:
    result, _ = validate(f"Path({str(project / 'pkg' / 'core.py')!r}).write_text('pwned')\n")
    check = failure(result)
    assert check.name == "script"
    assert "outside the scratch dir" in check.message and "was stopped" in check.message


def test_a_syntax_error_names_file_and_line(validate: Validate) -> None:
    result, _ = validate(edit("pkg/core.py", "def greet(name:\n    return name\n"))
    check = failure(result)
    assert check.name == "syntax"
    assert "pkg/core.py line 1" in check.message and "SyntaxError" in check.message


def test_a_change_outside_the_scope(validate: Validate) -> None:
    body = edit("pkg/core.py", GOOD) + edit("pkg/util.py", "def shout(s):\n    return s\n")
    result, _ = validate(body)
    check = failure(result)
    assert check.name == "scope"
    assert "pkg/util.py" in check.message and "pkg/core.py" not in check.details["outside"]


def test_a_new_undefined_name_is_reported_but_old_findings_are_not(validate: Validate) -> None:
    broken = CORE.replace("'hi ' + name", "'hi ' + nme")
    result, _ = validate(edit("pkg/core.py", broken))
    check = failure(result)
    assert check.name == "lint"
    assert "pkg/core.py:5:" in check.message and "Undefined name `nme`" in check.message
    assert "`os` imported but unused" not in check.message, "the unused import was there before"


def test_a_module_that_fails_to_import(validate: Validate) -> None:
    result, _ = validate(edit("pkg/core.py", CORE + "raise RuntimeError('boom at import')\n"))
    check = failure(result)
    assert check.name == "import"
    assert "importing pkg.core failed" in check.message
    assert "RuntimeError: boom at import" in check.message
    assert 'File "pkg/core.py", line 6' in check.message, "paths relative to the repo"
    assert "importlib" not in check.message, "frames outside the repo are dropped"


def test_a_change_that_breaks_a_related_test(validate: Validate) -> None:
    result, _ = validate(edit("pkg/core.py", CORE.replace("'hi '", "'bye '")))
    check = failure(result)
    assert check.name == "related_tests" and result.passed_count == 5
    assert "tests/test_core.py::test_greet" in check.message
    assert "AssertionError" in check.message
    assert "The change is at pkg/core.py line 5." in check.message
    assert len(check.message) < 2500


def test_a_traceback_through_the_change_points_at_it(validate: Validate) -> None:
    result, _ = validate(edit("pkg/core.py", CORE.replace("name\n", "name.shout()\n")))
    check = failure(result)
    assert check.name == "related_tests"
    assert "AttributeError" in check.message
    assert "The traceback passes through the change in pkg/core.py line 5." in check.message


def test_full_tests_catch_what_related_tests_miss(validate: Validate, project: Path) -> None:
    (project / "tests" / "test_other.py").write_text("def test_broken():\n    assert 1 == 2\n")
    commit_all(project)
    result, _ = validate(edit("pkg/core.py", GOOD), full_tests=True)
    check = failure(result)
    assert check.name == "full_tests" and result.checks[-2].ok
    assert "tests/test_other.py::test_broken" in check.message


def test_a_src_layout_is_imported_from_src(tmp_path: Path) -> None:
    repo = tmp_path / "srcproj"
    (repo / "src" / "lib").mkdir(parents=True)
    (repo / "src" / "lib" / "__init__.py").write_text("")
    (repo / "src" / "lib" / "a.py").write_text("from lib.b import B\n")
    (repo / "src" / "lib" / "b.py").write_text("B = 1\n")
    with Scratch(repo) as scratch:
        validator = Validator(scratch, Sandbox(wall_s=60), scope=None)
        (scratch.root / "src" / "lib" / "a.py").write_text("from lib.b import B\nA = B\n")
        assert validator.validate({"src/lib/a.py"}).ok
        (scratch.root / "src" / "lib" / "b.py").write_text("C = 1\n")
        result = validator.validate({"src/lib/a.py", "src/lib/b.py"})
    check = failure(result)
    assert check.name == "import" and "cannot import name 'B' from 'lib.b'" in check.message


def test_full_tests_without_a_test_command_says_what_to_configure(git_repo: Path) -> None:
    with Scratch(git_repo) as scratch:
        validator = Validator(scratch, Sandbox(wall_s=30), test_command=None)
        result = validator.validate(set(), full_tests=True)
    check = failure(result)
    assert check.name == "full_tests" and ".autopatch.yaml" in check.message


def test_scope_entries_are_files_folders_or_globs() -> None:
    scope = {"pkg/core.py", "docs/", "tests/test_*.py"}
    assert in_scope("pkg/core.py", scope)
    assert in_scope("docs/a/b.md", scope)
    assert in_scope("tests/test_core.py", scope)
    assert not in_scope("pkg/util.py", scope)
    assert not in_scope("tests/helpers.py", scope)


PYTEST = ["python", "-m", "pytest"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".autopatch.yaml": "test_command: make check -j2\n"}, ["make", "check", "-j2"]),
        ({".autopatch.yaml": "test_command: [python, -m, pytest, -x]\n"}, [*PYTEST, "-x"]),
        ({".autopatch.yaml": "test_command: ./t\n", "tox.ini": "[tox]\n"}, ["./t"]),
        ({"pytest.ini": "[pytest]\n"}, PYTEST),
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, PYTEST),
        ({"setup.cfg": "[tool:pytest]\ntestpaths = t\n"}, PYTEST),
        ({"tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\nxfail_strict = true\n"}, PYTEST),
        ({"tests/test_a.py": "", "tox.ini": "[tox]\n"}, PYTEST),
        ({"tox.ini": "[tox]\nenvlist = py311\n"}, ["tox"]),
        ({"pyproject.toml": "[tool.tox]\nlegacy_tox_ini = ''\n"}, ["tox"]),
        ({"noxfile.py": "import nox\n", "Makefile": "test:\n\tx\n"}, ["nox"]),
        ({"Makefile": ".PHONY: test\nlint:\n\truff .\ntest: lint\n\t./run\n"}, ["make", "test"]),
        ({"Makefile": "all:\n\techo test: no\n"}, None),
        ({"pyproject.toml": "[project]\nname = 'x'\n", ".autopatch.yaml": "[broken"}, None),
    ],
)
def test_detect_test_command(
    tmp_path: Path, files: dict[str, str], expected: list[str] | None
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert detect_test_command(tmp_path) == expected


def test_related_tests_come_from_the_import_graph(project: Path, tmp_path: Path) -> None:
    digest = RepositoryDigest.build(project, tmp_path / "cache")
    assert select_related_tests(digest, {"pkg/core.py"}) == ["tests/test_core.py"]
    assert select_related_tests(digest, {"pkg/util.py", "tests/test_core.py"}) == [
        "tests/test_core.py",
        "tests/test_util.py",
    ]
    assert select_related_tests(digest, {"README.md"}) == []


GREETER = (
    "\n\nclass Greeter:\n    def __init__(self, name):\n        self.name = name\n\n"
    "    def __repr__(self):\n        return f'Greeter({self.{attr}!r})'\n"
)


def test_a_method_reading_an_attribute_nothing_sets_fails_lint(validate: Validate) -> None:
    result, _ = validate(edit("pkg/core.py", CORE + GREETER.replace("{attr}", "nam")))
    check = failure(result)
    assert check.name == "lint"
    assert "`Greeter` reads `self.nam`" in check.message
    assert check.details["findings"][0]["path"] == "pkg/core.py"
    result, _ = validate(edit("pkg/core.py", CORE + GREETER.replace("{attr}", "name")))
    assert result.ok, [c.message for c in result.checks]
