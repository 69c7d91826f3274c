"""Bad input, odd installs and hostile moments through the real `autopatch` command: one clear
sentence and a non-zero exit, never a traceback; run folders under the data dir, swept after a
kill -9; a lock between landing runs; latin-1 sources; the unisolated fallback refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x.invalid",
}
RENAME = "Rename `calc_total` to `compute_total` everywhere."


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    shutil.copytree(EXAMPLE, repo)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo


def autopatch(
    *args: str, cwd: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def one_clear_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    for word in words:
        assert word in out.stderr, out.stderr


def status(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
    ).stdout


# -- 11. config values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sandbox.wall_s=abc", "sandbox.wall_s must be a number, not 'abc'"),
        ("sandbox.wall_s=-5", "sandbox.wall_s must be between"),
        ("sandbox.memory_mb=12.5", "sandbox.memory_mb must be a whole number"),
        ("sandbox.network=maybe", "sandbox.network must be true or false"),
    ],
)
def test_a_bad_setting_is_refused_before_planning(shop: Path, override: str, message: str) -> None:
    out = autopatch("fix", RENAME, "--repo", str(shop), "--set", override, cwd=shop)
    one_clear_error(out, message)
    assert out.returncode == 2 and "normalizing" not in out.stderr
    assert status(shop) == ""


# -- 10. read-only data dir, bad branch, concurrent landing runs -------------------------------


def _read_only(folder: Path) -> list[str]:
    """A command prefix under which ``folder`` is read-only (root ignores mode bits)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return []
    if shutil.which("unshare") is None:
        pytest.fail("root needs unshare(1) to make a read-only folder: apt-get install util-linux")
    script = (
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]


@pytest.mark.parametrize(
    "args",
    [["fix", RENAME, "--apply"], ["export"], ["feedback", "x", "--rating", "4"]],
)
def test_a_read_only_data_dir_is_one_sentence(shop: Path, tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "ro-data"
    prefix = _read_only(data)
    out = autopatch(*args, "--repo", str(shop), "--data-dir", str(data), cwd=shop, prefix=prefix)
    one_clear_error(out, f"the data dir {data} is not writable", "--data-dir")
    assert status(shop) == ""


def test_a_bad_branch_name_is_one_sentence(shop: Path) -> None:
    out = autopatch("fix", RENAME, "--commit", "--branch", "bad..name~^:", cwd=shop)
    one_clear_error(out, "not a valid git branch name")
    assert "normalizing" not in out.stderr  # refused before any work
    assert status(shop) == ""


def test_a_second_landing_run_says_who_holds_the_lock(shop: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom agent.run.rundir import RepoLock\n"
            f"with RepoLock({str(shop)!r}):\n    print('held', flush=True)\n    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out = autopatch("fix", RENAME, "--apply", cwd=shop)
        one_clear_error(out, "another autopatch fix", f"process {holder.pid}")
        assert out.returncode == 1
        assert status(shop) == ""
    finally:
        holder.kill()
        holder.wait()
    out = autopatch("fix", RENAME, "--apply", cwd=shop)  # the lock went with its holder
    assert out.returncode == 0, out.stderr


def test_two_concurrent_landing_runs_never_crash(shop: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "agent", "fix", RENAME, "--apply"],
            cwd=shop,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    for rc, err in results:
        assert "Traceback" not in err, err
        assert rc in (0, 1), err
    assert sorted(rc for rc, _ in results)[0] == 0, results
    losers = [err for rc, err in results if rc != 0]
    assert all("another autopatch fix" in e or "changed nothing" in e for e in losers), losers
    text = (shop / "shop" / "cart.py").read_text()
    assert "compute_total" in text and "calc_total" not in text


# -- 6. run folders under the data dir, swept after kill -9 -----------------------------------


def test_a_killed_run_leaves_nothing_in_tmp_and_is_swept(shop: Path, tmp_path: Path) -> None:
    data, tmp = tmp_path / "data", tmp_path / "tmpdir"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp), "AUTOPATCH_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "fix", RENAME, "--apply"],
        cwd=shop,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs = data / "runs"
    deadline = time.monotonic() + 120
    while not list(runs.glob("*/autopatch-scratch-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = list(runs.iterdir())
    assert left, "the killed run's folder is still there (under the data dir)"
    assert not list(tmp.glob("autopatch-*")), "nothing of it under the temp dir"
    shutil.rmtree(tmp)
    tmp.mkdir()
    out = autopatch("fix", RENAME, "--apply", "--json", cwd=shop, env=env)
    assert out.returncode == 0, out.stderr
    assert list(runs.iterdir()) == [], "the next run swept the dead one and cleaned up its own"
    assert not list(tmp.glob("autopatch-*"))


# -- 5. the fallback refuses generated code unless asked --------------------------------------


def test_fix_refuses_the_fallback_without_unsafe_sandbox(shop: Path) -> None:
    out = autopatch("fix", RENAME, "--apply", "--set", "sandbox.force_fallback=true", cwd=shop)
    one_clear_error(out, "--unsafe-sandbox", "apt-get install bubblewrap")
    assert status(shop) == ""
    out = autopatch(
        "fix", RENAME, "--apply", "--json", "--set", "sandbox.force_fallback=true",
        "--unsafe-sandbox", cwd=shop,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"]
    assert "compute_total" in (shop / "shop" / "cart.py").read_text()


# -- 8. latin-1 sources ------------------------------------------------------------------------


def test_a_latin1_source_is_changed_in_latin1(shop: Path) -> None:
    cart = shop / "shop" / "cart.py"
    text = cart.read_text()
    cart.write_bytes(("# -*- coding: latin-1 -*-\n# café prices\n" + text).encode("latin-1"))
    subprocess.run(
        ["git", "-C", str(shop), "commit", "-qam", "latin-1"],
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    out = autopatch("fix", RENAME, "--apply", "--json", cwd=shop)
    assert out.returncode == 0, out.stderr
    data = cart.read_bytes()
    assert b"caf\xe9 prices" in data and b"compute_total" in data
    assert data.decode("latin-1").count("calc_total") == 0
    assert not list((shop / ".autopatches").glob(".staging-*"))
    patch = Path(json.loads(out.stdout)["patch_set"]) / "patch.diff"
    check = subprocess.run(
        ["git", "-C", str(shop), "apply", "--check", "-R", str(patch)], capture_output=True
    )
    assert check.returncode == 0, check.stderr  # the patch set is byte-exact


def test_a_missing_project_interpreter_is_one_sentence(shop: Path, tmp_path: Path) -> None:
    out = autopatch("fix", RENAME, "--python", str(tmp_path / "no" / "python"), cwd=shop)
    one_clear_error(out, "no such interpreter")
    assert "normalizing" not in out.stderr
