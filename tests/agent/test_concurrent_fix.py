"""Several `autopatch fix` processes at once, one shared memory folder: nothing is lost,
nothing interleaves, every run's records are complete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from memory import Memory

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x.invalid",
}
SOURCE = (
    "def greet(name):\n    return 'hi ' + name\n\n\ndef farewell(name):\n    return 'bye ' + name\n"
)


def make_repo(repo: Path) -> Path:
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "core.py").write_text(SOURCE)
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=GIT_ENV)
    return repo


@pytest.mark.slow
def test_concurrent_fixes_share_one_memory_folder(tmp_path: Path) -> None:
    first, second = make_repo(tmp_path / "a"), make_repo(tmp_path / "b")
    data = tmp_path / "shared_data"
    jobs = [
        (first, "Rename `greet` to `hello` everywhere."),
        (first, "Rename `farewell` to `goodbye` everywhere."),  # same repo, same moment
        (second, "Rename `greet` to `welcome` everywhere."),
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "agent", "fix", issue, "--repo", str(repo)]
            + ["--data-dir", str(data), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=repo,
        )
        for repo, issue in jobs
    ]
    assert all(p.poll() is None for p in procs)  # all three are running at once
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    run_ids = [r["run_id"] for r in results]
    assert len(set(run_ids)) == 3

    # every line of every memory file is whole JSON (no torn or interleaved lines)
    files = sorted((data / "memory").glob("*.jsonl"))
    assert {f.name for f in files} >= {"success_memory.jsonl", "attempts.jsonl"}
    for path in files:
        for line in path.read_text().splitlines():
            assert isinstance(json.loads(line), dict), f"{path.name}: {line[:200]}"
    memory = Memory(data)
    assert set(memory.torn_lines().values()) == {0}
    assert memory.failures() == []

    # each run's records are complete and point at its own repository's patch set
    successes = {s["run_id"]: s for s in memory.successes()}
    assert set(successes) == set(run_ids)
    attempts = memory.attempts()
    assert {a["run_id"] for a in attempts} == set(run_ids)
    for (repo, _), result in zip(jobs, results, strict=True):
        record = successes[result["run_id"]]
        patch_set = Path(record["patch_set"])
        assert patch_set == Path(result["patch_set"])
        assert patch_set.parent == repo / ".autopatches"
        assert record["diff"] == (patch_set / "patch.diff").read_text() == result["diff"]
        mine = [a for a in attempts if a["run_id"] == result["run_id"] and a.get("phase") != "spec"]
        assert [a["outcome"] for a in mine] == ["validated"]
        assert mine[0]["attempt_id"] == f"{result['run_id']}:01_rename:1"
        assert mine[0]["script_hash"] == record["successful_script_hash"]
    new_names = sorted(s["spec"]["operations"][0]["params"]["new_name"] for s in successes.values())
    assert new_names == ["goodbye", "hello", "welcome"]

    # and the CLI reads the shared memory back
    stats = subprocess.run(
        [sys.executable, "-m", "agent", "memory", "stats", "--json"]
        + ["--repo", str(first), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(stats.stdout)["runs"] == {"success": 3, "failure": 0, "incomplete": 0}
