"""CommitBuilder on real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agent.land.builder import CommitBuilder, CommitError

NEW = "def greet(name):\n    return 'hello ' + name\n"


def _diff(repo: Path) -> str:
    """A patch made the way fix makes it: edit, diff, restore."""
    target = repo / "pkg" / "core.py"
    old = target.read_text()
    target.write_text(NEW)
    diff = subprocess.run(
        ["git", "-C", str(repo), "diff"], capture_output=True, text=True, check=True
    ).stdout
    target.write_text(old)
    return diff


def _build(repo: Path) -> tuple[CommitBuilder, object]:
    builder = CommitBuilder(repo)
    patch = builder.build(
        slug="Greet politely",
        diff=_diff(repo),
        files=["pkg/core.py"],
        scripts={"01_edit.py": "print('x')\n"},
        spec_yaml="issue_id: x\n",
        plan={"phases": []},
        validation={"ok": True},
        summary="# x\n",
    )
    return builder, patch


def test_patch_set_layout_and_git_status_stays_clean(git_repo: Path) -> None:
    _, patch = _build(git_repo)
    folder = patch.path  # type: ignore[attr-defined]
    assert folder.parent.name == ".autopatches" and folder.name.endswith("greet-politely")
    for name in (
        "patch.diff",
        "spec.yaml",
        "plan.json",
        "validation.json",
        "summary.md",
        "scripts/01_edit.py",
    ):
        assert (folder / name).is_file(), name
    assert json.loads((folder / "validation.json").read_text()) == {"ok": True}
    status = subprocess.run(
        ["git", "-C", str(git_repo), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""  # .autopatches is excluded via .git/info/exclude


def test_apply(git_repo: Path) -> None:
    builder, patch = _build(git_repo)
    builder.apply(patch)  # type: ignore[arg-type]
    assert (git_repo / "pkg" / "core.py").read_text() == NEW


def test_apply_refuses_dirty_touched_file(git_repo: Path) -> None:
    builder, patch = _build(git_repo)
    (git_repo / "pkg" / "core.py").write_text("# my local work\n")
    with pytest.raises(CommitError, match="uncommitted changes: pkg/core.py"):
        builder.apply(patch)  # type: ignore[arg-type]
    assert (git_repo / "pkg" / "core.py").read_text() == "# my local work\n"


def test_apply_refuses_a_patch_that_does_not_apply(git_repo: Path) -> None:
    builder, patch = _build(git_repo)
    (git_repo / "pkg" / "core.py").write_text("something else\n")
    subprocess.run(
        ["git", "-C", str(git_repo), "commit", "-qam", "moved on"],
        check=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@x",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x",
            "PATH": "/usr/bin:/bin",
        },
    )
    with pytest.raises(CommitError, match="patch does not apply"):
        builder.apply(patch)  # type: ignore[arg-type]
    assert (git_repo / "pkg" / "core.py").read_text() == "something else\n"


def test_commit_on_a_new_branch(git_repo: Path) -> None:
    builder, patch = _build(git_repo)
    sha = builder.commit(patch, message="autopatch: greet\n\nIssue: x\n", branch="autopatch/greet")  # type: ignore[arg-type]
    log = subprocess.run(
        ["git", "-C", str(git_repo), "log", "-1", "--format=%H %s", "autopatch/greet"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert log.startswith(sha) and "autopatch: greet" in log
    with pytest.raises(CommitError, match="already exists"):
        builder.commit(patch, message="again", branch="autopatch/greet")  # type: ignore[arg-type]


def _git_out(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_commit_leaves_the_users_staged_work_staged_and_out(git_repo: Path) -> None:
    (git_repo / "notes.txt").write_text("my unrelated work\n")
    subprocess.run(["git", "-C", str(git_repo), "add", "notes.txt"], check=True)
    builder, patch = _build(git_repo)
    sha = builder.commit(patch, message="autopatch: greet\n", branch="autopatch/greet")  # type: ignore[arg-type]
    assert _git_out(git_repo, "show", "--name-only", "--format=", sha).split() == ["pkg/core.py"]
    assert _git_out(git_repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert _git_out(git_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "autopatch/greet"
    assert (git_repo / "pkg" / "core.py").read_text() == NEW
    assert _git_out(git_repo, "status", "--porcelain").splitlines() == ["A  notes.txt"]


@pytest.mark.parametrize("branch", ["bad..name~^:", "-rf", "with space", "x.lock"])
def test_a_bad_branch_name_is_refused_before_anything_changes(git_repo: Path, branch: str) -> None:
    builder, patch = _build(git_repo)
    before = _git_out(git_repo, "for-each-ref")
    with pytest.raises(CommitError, match="not a valid git branch name"):
        builder.commit(patch, message="x", branch=branch)  # type: ignore[arg-type]
    assert _git_out(git_repo, "for-each-ref") == before
    assert _git_out(git_repo, "status", "--porcelain") == ""


def test_a_latin1_change_keeps_its_bytes_and_leaves_no_staging(git_repo: Path) -> None:
    target = git_repo / "pkg" / "legacy.py"
    target.write_bytes(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n")
    subprocess.run(["git", "-C", str(git_repo), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(git_repo), "-c", "user.name=t", "-c", "user.email=t@x.invalid"]
        + ["commit", "-qm", "legacy"],
        check=True,
    )
    target.write_bytes(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9s'\n")
    raw = subprocess.run(["git", "-C", str(git_repo), "diff"], capture_output=True, check=True)
    subprocess.run(["git", "-C", str(git_repo), "checkout", "--", "."], check=True)
    diff = raw.stdout.decode("utf-8", "surrogateescape")  # how Scratch.diff decodes it
    builder = CommitBuilder(git_repo)
    patch = builder.build(
        slug="plural",
        diff=diff,
        files=["pkg/legacy.py"],
        scripts={},
        spec_yaml="",
        plan={},
        validation={},
        summary="",
    )
    assert (patch.path / "patch.diff").read_bytes() == raw.stdout
    builder.apply(patch)
    assert target.read_bytes() == b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9s'\n"
    assert not list((git_repo / ".autopatches").glob(".staging-*"))


def test_a_failed_build_leaves_no_staging_folder(git_repo: Path) -> None:
    builder = CommitBuilder(git_repo)
    with pytest.raises(TypeError):
        builder.build(
            slug="x",
            diff="",
            files=[],
            scripts={"01_x.py": "x"},
            spec_yaml="",
            plan={"bad": object()},  # not JSON: fails half-way through
            validation={},
            summary="",
        )
    assert not list((git_repo / ".autopatches").glob(".staging-*"))


def test_patch_sets_are_private(git_repo: Path) -> None:
    _, patch = _build(git_repo)
    folder = patch.path  # type: ignore[attr-defined]
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / "scripts").stat().st_mode & 0o777) == 0o700
    for path in folder.rglob("*"):
        if path.is_file():
            assert (path.stat().st_mode & 0o777) == 0o600, path
