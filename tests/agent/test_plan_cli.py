"""`autopatch plan` end to end through a subprocess on a real git repository."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FILES = {
    "pkg/__init__.py": "from pkg.users import get_user\n",
    "pkg/users.py": 'def get_user(user_id, db, verbose=False):\n    """Fetch."""\n    return db[user_id]\n',
    "tests/test_users.py": "from pkg.users import get_user\n\n\ndef test_it():\n    assert get_user(1, {1: 2}) == 2\n",
}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x.invalid",
    }
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env)
    return root


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


def plan(repo: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOPATCH_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "agent", "plan", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_plan_rename_leaves_repo_unchanged(repo: Path, tmp_path: Path) -> None:
    before = _snapshot(repo)
    out = plan(
        repo,
        tmp_path,
        "Rename `get_user` to `fetch_user` everywhere.",
        "--backends",
        "rules",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["spec"]["operations"] == [
        {"op": "rename", "target": "pkg.users.get_user", "params": {"new_name": "fetch_user"}}
    ]
    phase = result["plan"]["phases"][0]
    assert set(phase["files"]) == {"pkg/__init__.py", "pkg/users.py", "tests/test_users.py"}
    assert phase["related_tests"] == ["tests/test_users.py"]
    assert _snapshot(repo) == before
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--ignored"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""


def test_plan_from_spec_file(repo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "operations:\n  - {op: rename_parameter, target: get_user, params: {old: verbose, new: debug}}\n"
    )
    out = plan(repo, tmp_path, "--spec", str(spec), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["spec"]["operations"][0]["target"] == "pkg.users.get_user"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spec", "SPEC_BAD"], "not valid YAML"),
        (["--spec", "SPEC_UNKNOWN"], "is not a symbol or module of this repository"),
        (["", "--backends", "rules"], "the issue is empty"),
        (
            ["Improve the quantum flux capacitor", "--backends", "rules"],
            "names nothing that exists",
        ),
        (["--issue-file", "MISSING"], "cannot read issue file"),
        ([], "give the issue as text"),
        (["x", "--backends", "rules,magic"], "unknown spec backend"),
    ],
)
def test_bad_input_is_a_clear_error(
    repo: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bad.yaml").write_text("operations: [unclosed")
    (tmp_path / "unknown.yaml").write_text(
        "operations:\n  - {op: rename, target: nothing_here, params: {new_name: x}}\n"
    )
    subst = {
        "SPEC_BAD": str(tmp_path / "bad.yaml"),
        "SPEC_UNKNOWN": str(tmp_path / "unknown.yaml"),
        "MISSING": str(tmp_path / "missing.md"),
    }
    before = _snapshot(repo)
    out = plan(repo, tmp_path, *[subst.get(a, a) for a in args])
    assert out.returncode == 2, out.stdout
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert _snapshot(repo) == before


@pytest.mark.slow
def test_plan_with_the_real_default_model(repo: Path, tmp_path: Path) -> None:
    issue = "get_user: rename the `verbose` flag to `debug`."
    out = plan(repo, tmp_path, issue, "--json", "--backends", "rules,llm,judge")
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout)["spec"]
    assert spec["operations"][0]["op"] == "rename_parameter"
    assert {c["backend"] for c in spec["provenance"]["candidates"]} == {"rules", "llm"}
    assert spec["provenance"]["judge"]["grounding"]["symbols"]  # the judge ran on the grounding
    explained = plan(repo, tmp_path, issue, "--explain")  # default: rules + the judge
    assert explained.returncode == 0, explained.stderr
    assert "grounding (what the issue's code mentions stand for):" in explained.stdout
    assert "coverage: complete" in explained.stdout
