"""`autopatch list | show | feedback | memory` end to end: real `fix` runs (a rename needs
no model), real memory files, real git repositories, the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x.invalid",
}
BAD_SPEC = """issue_id: bad-one
description: rename a name that does not exist
target_files: [pkg/core.py]
operations:
  - op: rename
    target: pkg.core.nothere
    params: {new_name: x}
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True)


def make_repo(repo: Path) -> Path:
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "core.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def autopatch(repo: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args, "--repo", str(repo), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=repo,
        env={**os.environ, "COLUMNS": "200"},
    )


def as_json(out: subprocess.CompletedProcess[str]) -> Any:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One successful fix and one failed fix, sharing a memory folder."""
    root = tmp_path_factory.mktemp("memcli")
    repo, data = make_repo(root / "repo"), root / "data"
    result = as_json(
        autopatch(repo, data, "fix", "Rename `greet` to `hello` everywhere.", "--json")
    )
    (root / "bad.yaml").write_text(BAD_SPEC)
    failed = autopatch(repo, data, "fix", "--spec", str(root / "bad.yaml"))
    assert failed.returncode == 2 and "nothere" in failed.stderr
    return {"repo": repo, "data": data, "run_id": result["run_id"], "patch": result["patch_set"]}


@pytest.fixture()
def data(ran: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the memory folder, for tests that write feedback."""
    copy = tmp_path / "data"
    shutil.copytree(ran["data"], copy)
    return copy


def test_list_shows_the_patch_set_with_files_state_and_validation(ran: dict[str, Any]) -> None:
    sets = as_json(autopatch(ran["repo"], ran["data"], "list", "--json"))
    assert [s["name"] for s in sets] == [Path(ran["patch"]).name]
    assert sets[0]["files"] == ["pkg/core.py"]
    assert sets[0]["validation"] == "passed" and sets[0]["state"] == "not applied"
    text = autopatch(ran["repo"], ran["data"], "list")
    assert text.returncode == 0 and Path(ran["patch"]).name in text.stdout


def test_show_prints_summary_and_diff_by_name_prefix_or_run_id(ran: dict[str, Any]) -> None:
    name = Path(ran["patch"]).name
    shown = as_json(autopatch(ran["repo"], ran["data"], "show", name, "--json"))
    assert shown["diff"] == (Path(ran["patch"]) / "patch.diff").read_text()
    assert shown["run_id"] == ran["run_id"] and shown["scripts"] == ["01_rename.py"]
    assert "rename-greet-to-hello" in shown["summary"]
    for key in (name[:20], ran["run_id"]):
        assert as_json(autopatch(ran["repo"], ran["data"], "show", key, "--json"))["name"] == name
    text = autopatch(ran["repo"], ran["data"], "show", name)
    assert text.returncode == 0
    assert "## Validation" in text.stdout and "+def hello(name):" in text.stdout


def test_show_of_an_unknown_patch_set_is_a_clear_error(ran: dict[str, Any]) -> None:
    out = autopatch(ran["repo"], ran["data"], "show", "20990101-nope")
    assert out.returncode == 2 and "error:" in out.stderr and "autopatch list" in out.stderr


def test_state_follows_git_applied_then_committed(ran: dict[str, Any], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ran["repo"], repo)
    diff = (
        next(p for p in (repo / ".autopatches").iterdir() if not p.name.startswith("."))
        / "patch.diff"
    )
    git(repo, "apply", str(diff))
    assert as_json(autopatch(repo, ran["data"], "list", "--json"))[0]["state"] == "applied"
    git(repo, "commit", "-q", "-am", "apply")
    assert as_json(autopatch(repo, ran["data"], "list", "--json"))[0]["state"] == "committed"


def test_memory_stats_counts_both_runs(ran: dict[str, Any]) -> None:
    stats = as_json(autopatch(ran["repo"], ran["data"], "memory", "stats", "--json"))
    assert stats["runs"] == {"success": 1, "failure": 1, "incomplete": 0}
    assert stats["by_op"]["rename"] == {"success": 1}
    # the codemod's run, and the judge's verdict on the plan (the model judges every issue)
    assert stats["calls_by_role"] == {"codemod": {"validated": 1}, "judge": {"chosen": 1}}
    assert stats["per_day"][0]["success"] == 1 and stats["per_day"][0]["failure"] == 1
    assert set(stats["torn_lines"].values()) == {0}
    text = autopatch(ran["repo"], ran["data"], "memory", "stats")
    assert text.returncode == 0
    assert "runs by operation" in text.stdout and "success rate 50%" in text.stdout


def test_memory_list_filters_and_limits(ran: dict[str, Any]) -> None:
    runs = as_json(autopatch(ran["repo"], ran["data"], "memory", "list", "--json"))
    assert sorted(r["outcome"] for r in runs) == ["failure", "success"]
    ok = next(r for r in runs if r["outcome"] == "success")
    assert ok["run_id"] == ran["run_id"] and ok["ops"] == ["rename"] and ok["model"] is None
    args = ("memory", "list", "--json", "--outcome", "failure")
    assert [r["outcome"] for r in as_json(autopatch(ran["repo"], ran["data"], *args))] == [
        "failure"
    ]
    assert (
        len(
            as_json(autopatch(ran["repo"], ran["data"], "memory", "list", "--json", "--limit", "1"))
        )
        == 1
    )
    text = autopatch(ran["repo"], ran["data"], "memory", "list")
    assert ran["run_id"] in text.stdout
    bad = autopatch(ran["repo"], ran["data"], "memory", "list", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr


def test_memory_show_gives_the_run_with_its_attempts(ran: dict[str, Any]) -> None:
    detail = as_json(autopatch(ran["repo"], ran["data"], "memory", "show", ran["run_id"], "--json"))
    assert detail["run"]["outcome"] == "success" and detail["failure"] is None
    assert detail["success"]["patch_set"] == ran["patch"]
    chain = [(a["attempt_id"], a["parent_attempt"]) for a in detail["attempts"]]
    # the judge's verdict on the plan, then the phase's codemod run
    assert chain == [(f"{ran['run_id']}:spec:judge", None), (f"{ran['run_id']}:01_rename:1", None)]
    text = autopatch(ran["repo"], ran["data"], "memory", "show", ran["run_id"])
    assert text.returncode == 0 and "01_rename:1" in text.stdout and "+def hello" in text.stdout
    out = autopatch(ran["repo"], ran["data"], "memory", "show", "nope")
    assert out.returncode == 2 and "autopatch memory list" in out.stderr


def test_feedback_is_recorded_and_shows_up_everywhere(
    ran: dict[str, Any], data: Path, tmp_path: Path
) -> None:
    name = Path(ran["patch"]).name
    better = tmp_path / "better.diff"
    better.write_text("diff --git a/pkg/core.py b/pkg/core.py\n")
    args = ("feedback", name, "--rating", "4", "--note", "ok [b]x[/b]", "--corrected-diff")
    record = as_json(autopatch(ran["repo"], data, *args, str(better), "--json"))
    assert record["run_id"] == ran["run_id"] and record["patch_set"] == name
    assert record["corrected_diff"] == better.read_text()
    lines = (data / "memory" / "feedback.jsonl").read_text().splitlines()
    assert [json.loads(line)["rating"] for line in lines] == [4]
    text = autopatch(ran["repo"], data, "feedback", ran["run_id"], "--rating", "2")
    assert text.returncode == 0 and "2/5" in text.stderr
    runs = as_json(autopatch(ran["repo"], data, "memory", "list", "--json"))
    assert next(r for r in runs if r["run_id"] == ran["run_id"])["rating"] == 2
    detail = as_json(autopatch(ran["repo"], data, "memory", "show", name, "--json"))
    assert [f["note"] for f in detail["feedback"]] == ["ok [b]x[/b]", ""]
    shown = as_json(autopatch(ran["repo"], data, "show", name, "--json"))
    assert shown["feedback"]["rating"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rating", "9"), "1 to 5"),
        (("--rating", "0"), "1 to 5"),
        (("--rating", "4", "--corrected-diff", "{tmp}/missing.diff"), "no such file"),
        (("--rating", "4", "--corrected-diff", "{tmp}/empty.diff"), "is empty"),
        (("--rating", "four"), "invalid int value"),
    ],
)
def test_feedback_rejects_bad_input(
    ran: dict[str, Any], data: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "empty.diff").write_text("")
    args = tuple(a.format(tmp=tmp_path) for a in args)
    out = autopatch(ran["repo"], data, "feedback", Path(ran["patch"]).name, *args)
    assert out.returncode == 2 and message in out.stderr
    assert not (data / "memory" / "feedback.jsonl").exists()


def test_feedback_on_an_unknown_id_says_how_to_list_ids(ran: dict[str, Any], data: Path) -> None:
    out = autopatch(ran["repo"], data, "feedback", "20990101-000000-nope", "--rating", "3")
    assert out.returncode == 2 and "autopatch list" in out.stderr
    assert not (data / "memory" / "feedback.jsonl").exists()


def test_empty_repo_lists_nothing_politely(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    out = autopatch(repo, tmp_path / "data", "list")
    assert out.returncode == 0 and "no patch sets" in out.stderr
    assert as_json(autopatch(repo, tmp_path / "data", "memory", "list", "--json")) == []
    stats = as_json(autopatch(repo, tmp_path / "data", "memory", "stats", "--json"))
    assert stats["runs"] == {"success": 0, "failure": 0, "incomplete": 0}


def test_every_new_command_help_has_an_example() -> None:
    for cmd in (["feedback"], ["list"], ["show"], ["memory"], ["memory", "stats"]):
        out = subprocess.run(
            [sys.executable, "-m", "agent", *cmd, "--help"], capture_output=True, text=True
        )
        assert out.returncode == 0 and "example:" in out.stdout, cmd
