"""Scratch copies and the sandbox: real files, real git repos, real subprocesses.

Every safety test runs in both modes: ``bwrap`` (skipped only where bubblewrap cannot
create namespaces, with the probe's reason) and the ``rlimit+audit`` fallback, forced.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.doctor import check_sandbox
from agent.verify.sandbox import (
    MODE_BWRAP,
    MODE_FALLBACK,
    RunResult,
    Sandbox,
    Scratch,
    ScratchError,
    sandbox_capability,
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    return out.stdout


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (``.git`` included) -> its bytes; links -> their target."""
    found: dict[str, bytes] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            found[rel] = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return found


@pytest.fixture(params=[MODE_BWRAP, MODE_FALLBACK])
def make_sandbox(request: pytest.FixtureRequest) -> Callable[..., Sandbox]:
    mode = request.param
    if mode == MODE_BWRAP and sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")

    def make(**kwargs: object) -> Sandbox:
        fallback = mode == MODE_FALLBACK
        sandbox = Sandbox(force_fallback=fallback, unsafe=fallback, **kwargs)  # type: ignore[arg-type]
        assert sandbox.mode == mode
        return sandbox

    return make


@pytest.fixture()
def scratch(git_repo: Path) -> Iterator[Scratch]:
    with Scratch(git_repo) as s:
        yield s


def run_py(sandbox: Sandbox, scratch: Scratch, code: str) -> RunResult:
    return sandbox.run([sys.executable, "-c", code], scratch.root)


# -- Scratch --------------------------------------------------------------------------


def test_scratch_copies_the_work_tree_without_git_venvs_caches_or_ignored(git_repo: Path) -> None:
    (git_repo / ".gitignore").write_text("*.log\n")
    (git_repo / "notes.log").write_text("ignored\n")
    (git_repo / "untracked.py").write_text("x = 1\n")
    for rel in (".agent_data/index.json", ".autopatches/p/patch.diff", "pkg/__pycache__/a.pyc"):
        (git_repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (git_repo / rel).write_text("junk")
    (git_repo / "myenv" / "lib").mkdir(parents=True)
    (git_repo / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (git_repo / "myenv" / "lib" / "site.py").write_text("")
    with Scratch(git_repo) as s:
        copied = sorted(p.relative_to(s.root).as_posix() for p in s.root.rglob("*") if p.is_file())
        root = s.root
        assert s.changed_paths() == set()
    assert copied == [".gitignore", "pkg/__init__.py", "pkg/core.py", "untracked.py"]
    assert not root.exists(), "the scratch dir is removed on exit"


def test_scratch_copies_the_ignored_modules_a_package_imports(git_repo: Path) -> None:
    """A generated ``pkg/_version.py`` is ignored by git and imported by the package: the
    copy has it (and it is no change); a build folder and loose ignored scripts stay out."""
    (git_repo / ".gitignore").write_text("pkg/_version.py\nbuild/\ngen_*.py\n")
    (git_repo / "pkg" / "_version.py").write_text("__version__ = '1.0'\n")
    (git_repo / "build" / "lib" / "pkg").mkdir(parents=True)
    (git_repo / "build" / "lib" / "pkg" / "__init__.py").write_text("")
    (git_repo / "gen_docs.py").write_text("print('docs')\n")
    with Scratch(git_repo) as s:
        copied = sorted(p.relative_to(s.root).as_posix() for p in s.root.rglob("*") if p.is_file())
        assert s.changed_paths() == set()
    assert copied == [".gitignore", "pkg/__init__.py", "pkg/_version.py", "pkg/core.py"]


def test_scratch_without_git_walks_the_folder(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.py").write_text("a = 1\n")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text("")
    (repo / "pkg" / "__pycache__").mkdir()
    (repo / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    with Scratch(repo) as s:
        copied = sorted(p.relative_to(s.root).as_posix() for p in s.root.rglob("*") if p.is_file())
    assert copied == ["pkg/a.py"]


def test_scratch_symlinks_stay_links_and_never_lead_out(git_repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside\n")
    (git_repo / "inside_rel.py").symlink_to("pkg/core.py")
    (git_repo / "inside_abs.py").symlink_to(git_repo / "pkg" / "core.py")
    (git_repo / "outside.txt").symlink_to(secret)
    with Scratch(git_repo) as s:
        assert os.readlink(s.root / "inside_rel.py") == "pkg/core.py"
        assert os.readlink(s.root / "inside_abs.py") == "pkg/core.py", "rewritten relative"
        assert (s.root / "inside_abs.py").resolve().is_relative_to(s.root)
        assert not os.path.lexists(s.root / "outside.txt")
        assert s.skipped == ["outside.txt"]


def test_changed_files_and_diff_apply_with_git_apply(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / ".gitignore").write_text(".coverage\n")
    (git_repo / "pkg" / "gone.py").write_text("old = 1\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "more")
    with Scratch(git_repo) as s:
        (s.root / "pkg" / "core.py").write_text("def greet(name):\n    return 'hello ' + name")
        (s.root / "pkg" / "new.py").write_text("NEW = 1\n")
        (s.root / "pkg" / "gone.py").unlink()
        (s.root / ".coverage").write_text("tool output, gitignored\n")
        (s.root / "pkg" / "__pycache__").mkdir()
        (s.root / "pkg" / "__pycache__" / "core.pyc").write_bytes(b"\0")
        assert s.changed_paths() == {"pkg/core.py", "pkg/new.py", "pkg/gone.py"}
        assert s.changed_files() == {
            "pkg/core.py": "def greet(name):\n    return 'hello ' + name",
            "pkg/new.py": "NEW = 1\n",
        }
        assert s.deleted_files() == ["pkg/gone.py"]
        assert s.original_text("pkg/core.py") == "def greet(name):\n    return 'hi ' + name\n"
        patch = s.diff()
    assert "diff --git a/pkg/gone.py b/pkg/gone.py" in patch
    assert "diff --git a/pkg/new.py b/pkg/new.py" in patch
    assert "\\ No newline at end of file" in patch
    patch_file = tmp_path / "change.diff"
    patch_file.write_text(patch)
    git(git_repo, "apply", "--check", str(patch_file))
    git(git_repo, "apply", str(patch_file))
    assert (git_repo / "pkg" / "core.py").read_text().endswith("'hello ' + name")
    assert (git_repo / "pkg" / "new.py").read_text() == "NEW = 1\n"
    assert not (git_repo / "pkg" / "gone.py").exists()


def test_diff_refuses_when_the_target_changed_meanwhile(git_repo: Path) -> None:
    with Scratch(git_repo) as s:
        (s.root / "pkg" / "core.py").write_text("x = 1\n")
        (git_repo / "pkg" / "core.py").write_text("edited by the developer\n")
        with pytest.raises(ScratchError, match="pkg/core.py changed in the target"):
            s.diff()
        assert s.diff(paths=[]) == ""


# -- Sandbox: ordinary runs ---------------------------------------------------------------


def test_capability_is_reported_by_doctor() -> None:
    mode, detail = sandbox_capability()
    assert mode in {MODE_BWRAP, MODE_FALLBACK} and detail
    check = check_sandbox()
    assert mode in check.detail
    assert check.status == ("ok" if mode == MODE_BWRAP else "fail")


def test_a_normal_script_writes_in_scratch_and_temp(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOPATCH_TEST_SECRET", "s3cret")
    code = (
        "import os, tempfile, pathlib\n"
        "pathlib.Path('pkg/core.py').write_text('X = 1\\n')\n"
        "fd, name = tempfile.mkstemp(); os.write(fd, b'tmp ok'); os.close(fd)\n"
        "print('secret' if 'AUTOPATCH_TEST_SECRET' in os.environ else 'clean', name)\n"
    )
    result = run_py(make_sandbox(), scratch, code)
    assert result.ok, result.stderr_tail
    assert result.stdout_tail.startswith("clean "), "the caller's environment does not leak"
    assert scratch.changed_paths() == {"pkg/core.py"}
    assert RunResult.from_dict(result.to_dict()) == result


# -- Sandbox: the safety acceptance -----------------------------------------------------


@pytest.mark.parametrize("where", ["repo", "tmp"])
def test_writes_outside_the_scratch_dir_are_stopped(
    make_sandbox: Callable[..., Sandbox], git_repo: Path, tmp_path: Path, where: str
) -> None:
    target = git_repo / "pkg" / "core.py" if where == "repo" else tmp_path / "outside.txt"
    before = snapshot(git_repo)
    sandbox = make_sandbox()
    with Scratch(git_repo) as s:
        code = f"import os; os.makedirs({str(target.parent)!r}, exist_ok=True); "
        code += f"open({str(target)!r}, 'w').write('pwned')"
        result = run_py(sandbox, s, code)
        removal = run_py(sandbox, s, f"import shutil; shutil.rmtree({str(git_repo)!r})")
    assert not result.ok and not removal.ok
    assert result.violation and "outside the scratch dir" in result.violation
    assert removal.violation and "outside the scratch dir" in removal.violation
    assert snapshot(git_repo) == before, "the target repo is byte-identical"
    assert where == "repo" or not target.exists()


def test_a_caught_violation_is_still_reported(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, tmp_path: Path
) -> None:
    target = tmp_path / "sneaky.txt"
    code = f"try:\n    open({str(target)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
    result = run_py(make_sandbox(), scratch, code)
    assert result.rc == 0 and not result.ok
    assert result.violation and str(target) in result.violation
    assert not target.exists()


def test_writes_outside_tmp_are_refused_by_the_kernel_in_bwrap_mode(scratch: Scratch) -> None:
    if sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")
    target = Path(__file__).with_name(f".sandbox-probe-{uuid.uuid4().hex}")
    try:
        result = Sandbox().run(["/bin/sh", "-c", f"echo x > {target}"], scratch.root)
        assert result.rc != 0 and result.violation
        assert "read-only file system" in result.violation
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


@pytest.fixture()
def server() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    yield listener
    listener.close()


def _connections(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return count
        conn.close()
        count += 1


def test_sockets_are_refused_and_the_server_sees_nothing(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, server: socket.socket
) -> None:
    port = server.getsockname()[1]
    code = f"import socket; s = socket.create_connection(('127.0.0.1', {port}), timeout=2)"
    result = run_py(make_sandbox(), scratch, code)
    tool = run_py(make_sandbox(), scratch, f"import subprocess; subprocess.run(['curl', '{port}'])")
    assert not result.ok and result.violation and "network is off" in result.violation
    assert not tool.ok and tool.violation and "curl" in tool.violation
    assert _connections(server) == 0


def test_network_flag_allows_connections(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, server: socket.socket
) -> None:
    port = server.getsockname()[1]
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2).close()"
    result = run_py(make_sandbox(network=True), scratch, code)
    assert result.ok, result.stderr_tail
    assert _connections(server) == 1, "the test server can tell refused from allowed"


def test_native_connect_in_bwrap_mode_never_reaches_the_host(
    scratch: Scratch, server: socket.socket
) -> None:
    if sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")
    port = server.getsockname()[1]
    result = Sandbox().run(["bash", "-c", f"echo hi > /dev/tcp/127.0.0.1/{port}"], scratch.root)
    assert result.rc != 0
    assert _connections(server) == 0


def _alive(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_an_endless_loop_is_killed_at_the_wall_limit_with_its_children(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    marker = f"autopatch-loop-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'while True: pass', {marker!r}])\n"
        "while True: pass\n"
    )
    result = run_py(make_sandbox(wall_s=3), scratch, code)
    assert result.timed_out and not result.ok
    assert 3 <= result.seconds < 10
    assert _alive(marker) == [], "the whole process group is gone"


def test_allocating_10_gb_is_stopped_and_reported(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    result = run_py(make_sandbox(wall_s=30), scratch, "buf = bytearray(10 * 1024**3)")
    assert not result.ok and result.killed_for_memory and not result.timed_out
    assert "MemoryError" in result.stderr_tail
    assert result.seconds < 30
