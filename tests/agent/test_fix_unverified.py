"""The honest outcome, end to end: real git repositories, real subprocesses, the real sandbox.

``validated`` (exit 0) needs the repo's tests, the acceptance checks from the issue and
the plan's coverage; anything less is ``unverified`` (exit 3): the candidate patch set is
written, nothing lands unless ``--accept-unverified``, memory records no success.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.agent.test_fix_cli import GIT_ENV, memory, snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    files = {
        "pkg/__init__.py": "from pkg.core import get_user\n\n__all__ = ['get_user']\n",
        "pkg/core.py": '''\
            def get_user(uid, verbose=False):
                """Return a user.

                >>> get_user(3)
                'user-3'
                """
                return f"user-{uid}"


            def helper():
                return 1
            ''',
        "pkg/core.pyi": "def get_user(uid: int, verbose: bool = ...) -> str: ...\n"
        "def helper() -> int: ...\n",
        "tests/test_core.py": "from pkg import get_user\n\n\ndef test_user():\n"
        "    assert get_user(1) == 'user-1'\n",
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--doctest-modules'\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    env = {**os.environ, **GIT_ENV}
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env)
    return root


def fix(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "agent", "fix", "--repo", str(repo), "--python", sys.executable]
        + [*args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
    )


UNMET = "Rename `get_user` to `fetch_user`.\n\nAfter the change:\n\n>>> from pkg import fetch_user\n>>> fetch_user(3)\n'USER-3'\n"


def test_unverified_writes_the_patch_set_and_leaves_the_tree_alone(repo: Path) -> None:
    before = snapshot(repo)
    out = fix(repo, UNMET, "--apply", "--json")
    assert out.returncode == 3, out.stderr
    assert snapshot(repo) == before  # nothing applied
    result = json.loads(out.stdout)
    assert result["status"] == "unverified" and not result["ok"] and result["landed"] == ""
    folder = Path(result["patch_set"])
    assert (folder / "acceptance_test.py").is_file() and (folder / "patch.diff").read_text()
    summary = (folder / "summary.md").read_text()
    assert "**Outcome: unverified**" in summary
    assert "✘ FAIL `test_example_issue_example_1`" in summary
    assert "✔ pass `test_postcondition_rename_get_user_new_name`" in summary
    assert "✔ coverage" not in summary and "## Coverage" in summary
    assert "--accept-unverified" in out.stderr
    # memory: a failure marked unverified, never a success
    assert not memory(repo, "success_memory.jsonl")
    assert memory(repo, "failures.jsonl")[-1]["outcome"] == "unverified"
    listed = subprocess.run(
        [sys.executable, "-m", "agent", "list", "--repo", str(repo), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(listed.stdout)[0]["validation"].startswith("unverified: 1 acceptance")
    # the user can run the checks: on the untouched repository they fail
    run = subprocess.run(
        [sys.executable, str(folder / "acceptance_test.py")],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "AUTOPATCH-ACCEPTANCE" in run.stdout
    results = json.loads(run.stdout.split("AUTOPATCH-ACCEPTANCE ", 1)[1])
    assert results["test_postcondition_rename_pkg_core_get_user_fetch_user_others_intact"]["ok"]
    assert "does not resolve" in results["test_postcondition_rename_get_user_new_name"]["message"]


def test_accept_unverified_lands_it_and_still_says_so(repo: Path) -> None:
    out = fix(repo, UNMET, "--apply", "--accept-unverified", "--yes")
    assert out.returncode == 3, out.stderr
    assert "def fetch_user" in (repo / "pkg" / "core.py").read_text()
    assert "applied to the working tree" in out.stderr


def test_validated_rename_keeps_stub_and_doctests_in_step(repo: Path) -> None:
    out = fix(repo, "Rename `get_user` to `fetch_user` everywhere.", "--apply", "--yes")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "autopatch understood the issue as:" in out.stderr
    assert "1. rename `pkg.core.get_user` to `fetch_user` everywhere" in out.stderr
    core = (repo / "pkg" / "core.py").read_text()
    assert ">>> fetch_user(3)" in core and "get_user" not in core
    assert "def fetch_user(uid: int" in (repo / "pkg" / "core.pyi").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout  # doctests included (addopts)
    patch_set = next(p for p in (repo / ".autopatches").iterdir() if not p.name.startswith("."))
    assert "**Outcome: validated**" in (patch_set / "summary.md").read_text()
    assert memory(repo, "success_memory.jsonl")


def test_broken_doctests_block_the_change(repo: Path) -> None:
    """A keyword call through another name in a docstring example is not a call the
    parameter rename can see; the changed module's doctests catch it (full suite off)."""
    core = repo / "pkg" / "core.py"
    core.write_text(
        core.read_text().replace(
            "def helper():\n",
            'def helper():\n    """Help.\n\n    >>> f = get_user\n    >>> f(uid=1)\n    \'user-1\'\n    """\n',
        )
    )
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "kw"], check=True, env=env)
    out = fix(
        repo,
        "Rename the parameter `uid` of `get_user` to `user_id`.",
        "--yes",
        "--full-tests",
        "never",
    )
    assert out.returncode == 1, out.stderr
    assert "docstring example(s) fail because of the change" in out.stderr


def test_deprecated_alias_the_issue_asks_for_is_kept_and_checked(repo: Path) -> None:
    issue = (
        "Rename `get_user` to `fetch_user`. Code that calls `get_user` must keep working for "
        "one release, with a DeprecationWarning."
    )
    out = fix(repo, issue, "--apply", "--yes", "--json")
    assert out.returncode == 0, out.stderr
    assert "keeping the old name as a deprecated alias that warns" in out.stderr
    names = {r["name"]: r["ok"] for r in json.loads(out.stdout)["verdict"]["acceptance"]["results"]}
    assert names["test_statement_rename_get_user_deprecation_warning"]
    run = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-c",
            "from pkg.core import get_user; get_user(1)",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert "DeprecationWarning" in run.stderr


def test_incomplete_coverage_is_unverified(repo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "issue_id: two-renames\n"
        "description: Rename `get_user` to `fetch_user` and `helper` to `assist`.\n"
        "operations:\n"
        "- {op: rename, target: pkg.core.get_user, params: {new_name: fetch_user}}\n"
        "provenance:\n"
        "  coverage: {complete: false, uncovered: [pkg.core.helper]}\n"
    )
    before = snapshot(repo)
    out = fix(repo, "--spec", str(spec), "--apply", "--yes")
    assert out.returncode == 3, out.stderr
    assert "the plan does not cover: pkg.core.helper" in out.stderr
    assert snapshot(repo) == before
    summary = (
        next(p for p in (repo / ".autopatches").iterdir() if not p.name.startswith("."))
        / "summary.md"
    )
    assert "- ✘ the plan does not cover: pkg.core.helper" in summary.read_text()


def test_full_suite_runs_the_configured_doctests(repo: Path) -> None:
    """``addopts = --doctest-modules``: an untouched module's docstring example that the
    rename breaks (``core.get_user`` through a module alias) blocks the change."""
    (repo / "pkg" / "extra.py").write_text(
        '"""Extra.\n\n>>> from pkg import core\n>>> core.get_user(2)\n\'user-2\'\n"""\n'
    )
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "extra"], check=True, env=env)
    before = snapshot(repo)
    out = fix(repo, "Rename `get_user` to `fetch_user` everywhere.", "--apply", "--yes")
    assert out.returncode == 1, out.stderr
    assert "pkg/extra.py::pkg.extra" in out.stderr
    assert snapshot(repo) == before


def test_a_failed_acceptance_check_goes_back_to_the_model(repo: Path, tmp_path: Path) -> None:
    """An ``edit`` that changes behaviour but not as the issue's example expects is repaired
    with the failing check as feedback (scripted model: a wrong fix, then the right one):
    the acceptance checks are the oracle of the phase's drafts."""
    (repo / "pkg" / "seq.py").write_text("def tail(n, seq):\n    return list(seq[-n:])\n")
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "seq"], check=True, env=env)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "issue_id: tail-zero\n"
        "description: |\n"
        "  `tail(0, seq)` returns the whole sequence. It should give:\n\n"
        "  >>> from pkg.seq import tail\n"
        "  >>> tail(0, [1, 2])\n"
        "  []\n"
        "operations:\n"
        "- {op: edit, target: pkg.seq.tail}\n"
    )
    wrong = "```python\ndef tail(n, seq):\n    return list(seq[-n:]) if n else [0]\n```"
    right = "```python\ndef tail(n, seq):\n    return list(seq[-n:]) if n else []\n```"
    out = fix(
        repo,
        "--spec",
        str(spec),
        "--yes",
        "--apply",
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={json.dumps([wrong, right])}",
    )
    assert out.returncode == 0, out.stderr
    assert "01_edit: draft 2 passed" in out.stderr
    assert "else []" in (repo / "pkg" / "seq.py").read_text()
    drafts = [a for a in memory(repo, "attempts.jsonl") if a.get("phase") == "01_edit"]
    assert [a["outcome"] for a in drafts] == ["failed", "validated"]
    assert drafts[1]["role"] == "repair"
    feedback = drafts[1]["messages"][-1]["content"]
    assert "acceptance check(s) from the issue failed" in feedback and "[0]" in feedback


def test_on_a_terminal_fix_asks_and_stop_changes_nothing(repo: Path) -> None:
    import pty

    before = snapshot(repo)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "fix", "--repo", str(repo), "--apply"]
        + ["Rename `get_user` to `fetch_user` everywhere."],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.write(master, b"s\n")
    _, err = proc.communicate(timeout=300)
    os.close(master)
    os.close(slave)
    assert proc.returncode == 1, err
    assert "go on [g], edit the spec in $EDITOR [e], or stop [s]?" in err
    assert "stopped before drafting; nothing was changed" in err
    assert snapshot(repo) == before
    assert memory(repo, "failures.jsonl")[-1]["outcome"] == "stopped"
