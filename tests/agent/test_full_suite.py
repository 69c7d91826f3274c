"""`fix` runs the whole pytest suite after the related tests, against a baseline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent.verify.full_suite import failing_ids
from tests.agent.test_fix_cli import GIT_ENV, fix, shop, snapshot  # noqa: F401  (fixture)

RENAME = "Rename `calc_total` to `compute_total` everywhere."


def commit(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).write_text(text)
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "tests"], check=True, env=env)


def test_failing_ids_come_from_the_short_summary() -> None:
    out = "x\nFAILED tests/a.py::test_one - assert 1\nERROR tests/b.py - ImportError\n1 failed"
    assert failing_ids(out) == {"tests/a.py::test_one", "tests/b.py"}


def test_a_test_the_import_graph_cannot_see_still_blocks_the_change(shop: Path) -> None:  # noqa: F811
    commit(
        shop,
        {
            # reaches the code through a subprocess: not an import-graph neighbour
            "tests/test_via_subprocess.py": "import subprocess, sys\n\n\ndef test_cli():\n"
            "    subprocess.run([sys.executable, '-c', 'from shop.cart import calc_total'], check=True)\n",
            # already broken before the change: must not block it
            "tests/test_env.py": "def test_env():\n    assert False, 'needs a service'\n",
        },
    )
    before = snapshot(shop)
    out = fix(shop, RENAME, "--apply")
    assert out.returncode == 1, out.stderr
    assert "tests/test_via_subprocess.py::test_cli" in out.stderr
    assert "test_env" not in out.stderr.split("fail because of the change")[-1].split("\n")[0]
    assert snapshot(shop) == before
    out = fix(shop, RENAME, "--apply", "--full-tests", "never")
    assert out.returncode == 0, out.stderr


def test_pre_existing_failures_are_ignored(shop: Path) -> None:  # noqa: F811
    commit(shop, {"tests/test_env.py": "def test_env():\n    assert False, 'needs a service'\n"})
    out = fix(shop, RENAME, "--apply")
    assert out.returncode == 0, out.stderr
    assert "1 test(s) that fail without the change too" in out.stderr


def test_a_suite_pytest_cannot_start_says_why(tmp_path: Path) -> None:
    """pytest stopping on its own configuration (here an option it does not know; in the
    wild a filter naming a plugin the interpreter lacks) prints to stderr: the message
    carries that output and says what to do, instead of an empty 'failed'."""
    import sys

    from agent.verify.full_suite import full_suite_check
    from agent.verify.sandbox import Sandbox

    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "--no-such"\n')
    (tmp_path / "test_a.py").write_text("def test_a():\n    assert True\n")
    check = full_suite_check(
        Sandbox(), tmp_path, sys.executable, ["python", "-m", "pytest"], "auto", lambda ids: set()
    )
    assert check is not None and not check.ok
    assert "pytest stopped before running the tests (exit code 4)" in check.message
    assert "--no-such" in check.message and "--python" in check.message
