"""Hostile scripts against the sandbox, in both modes: host sockets, memory-hungry process
trees, fork bombs, daemons, a killed parent, interpreters under a temp dir, and failures of
the sandbox itself. Real listeners, real processes, real venvs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.doctor import check_tree_limit
from agent.verify.sandbox import (
    MODE_BWRAP,
    MODE_FALLBACK,
    RunResult,
    Sandbox,
    SandboxError,
    Scratch,
    sandbox_capability,
    tree_capability,
)
from agent.verify.validate import Validator


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


def _marker() -> str:
    """Digits that mark a test's sleepers: ``sleep 60.<marker>`` in their command line."""
    return str(uuid.uuid4().int)[:15]


def _sleeper(seconds: int, marker: str) -> list[str]:
    return ["sleep", f"{seconds}.{marker}"]


def _alive(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] != "Z" and marker.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except (OSError, IndexError):
                continue
    return found


def _wait_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(marker)


# -- 1. host Unix sockets ---------------------------------------------------------------


@pytest.fixture()
def host_socket() -> Iterator[tuple[socket.socket, str]]:
    """A real listener outside /tmp (a home folder), like ssh-agent or the Docker socket."""
    folder = Path(tempfile.mkdtemp(prefix=".autopatch-test-sock-", dir=Path.home()))
    path = str(folder / "agent.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(5)
    listener.settimeout(0.3)
    yield listener, path
    listener.close()
    with contextlib.suppress(OSError):
        os.unlink(path)
        folder.rmdir()


def _accepted(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except (TimeoutError, BlockingIOError):
            return count
        conn.close()
        count += 1


CONNECT = """
import os, socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({path!r})
    print("CONNECTED")
except OSError as exc:
    print("refused:", exc)
print("visible:", os.path.exists({path!r}))
"""


@pytest.mark.parametrize("network", [False, True])
def test_a_host_unix_socket_is_never_reached(
    make_sandbox: Callable[..., Sandbox],
    scratch: Scratch,
    host_socket: tuple[socket.socket, str],
    network: bool,
) -> None:
    listener, path = host_socket
    sandbox = make_sandbox(network=network)
    result = run_py(sandbox, scratch, CONNECT.format(path=path))
    assert "CONNECTED" not in result.stdout_tail
    assert _accepted(listener) == 0
    assert result.violation is not None and "Unix socket" in result.violation
    if sandbox.mode == MODE_BWRAP:  # the kernel layer: the file is not even there
        assert "visible: False" in result.stdout_tail


def test_bwrap_exposes_no_run_var_home_or_x11(scratch: Scratch) -> None:
    if sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")
    secret = Path(tempfile.mkstemp(prefix=".autopatch-test-", dir=Path.home())[1])
    code = (
        "import os\n"
        f"for p in ('/run', '/var/run', '/home', '/tmp/.X11-unix', '/var/lib', {str(secret)!r}):\n"
        "    print(p, os.path.exists(p))\n"
        "print('env', sorted(k for k in os.environ if 'SOCK' in k or 'RUNTIME' in k))\n"
    )
    result = Sandbox().run([sys.executable, "-c", code], scratch.root)
    secret.unlink()
    assert result.ok, result.stderr_tail
    for path in ("/run", "/var/run", "/home", "/tmp/.X11-unix", "/var/lib", str(secret)):
        assert f"{path} False" in result.stdout_tail
    assert "env []" in result.stdout_tail


def test_an_abstract_host_socket_is_never_reached(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    name = f"\0autopatch-test-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(name)
    listener.listen(5)
    listener.settimeout(0.3)
    try:
        result = run_py(make_sandbox(), scratch, CONNECT.format(path=name))
        assert "CONNECTED" not in result.stdout_tail
        assert _accepted(listener) == 0
    finally:
        listener.close()


def test_a_unix_socket_inside_the_scratch_dir_still_works(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    code = (
        "import socket, threading\n"
        "srv = socket.socket(socket.AF_UNIX); srv.bind('s.sock'); srv.listen(1)\n"
        "cli = socket.socket(socket.AF_UNIX); cli.connect('s.sock')\n"
        "conn, _ = srv.accept(); cli.sendall(b'ping'); print(conn.recv(4).decode())\n"
    )
    result = run_py(make_sandbox(), scratch, code)
    assert result.ok, result.stderr_tail
    assert "ping" in result.stdout_tail


# -- 2. the whole tree's memory and process count ------------------------------------------

HUNGRY = """
import subprocess, sys
child = "import time; b = b'x' * (300 * 1024 * 1024); time.sleep(2); print('done')"
procs = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(3)]
print('finished', sum(p.wait() == 0 for p in procs))
"""


def _needs_cgroup() -> None:
    kind, detail = tree_capability()
    if not kind.startswith("cgroup"):
        pytest.skip(f"no writable cgroup on this machine: {detail}")


def test_three_children_share_one_memory_budget(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    _needs_cgroup()
    result = run_py(make_sandbox(memory_mb=512, wall_s=60), scratch, HUNGRY)
    assert "finished 3" not in result.stdout_tail, "3 x 300 MB fit in 512 MB"
    assert result.killed_for_memory
    # and one child of 300 MB alone is fine: the limit is per tree, not too tight
    alone = run_py(
        make_sandbox(memory_mb=512, wall_s=60),
        scratch,
        "b = b'x' * (300 * 1024 * 1024); print('ok')",
    )
    assert alone.ok and "ok" in alone.stdout_tail


def test_a_fork_bomb_is_bounded_and_cleaned_up(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    _needs_cgroup()
    marker = _marker()
    code = (
        "import subprocess\n"
        "started = 0\n"
        "for _ in range(200):\n"
        "    try:\n"
        f"        subprocess.Popen({_sleeper(30, marker)!r}, stderr=subprocess.DEVNULL)\n"
        "        started += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "print('started', started)\n"
    )
    result = run_py(make_sandbox(max_processes=32, wall_s=30), scratch, code)
    started = int(result.stdout_tail.split("started")[-1].split()[0])
    assert started < 32
    assert _wait_gone(marker) == []


def test_doctor_names_the_memory_limit_in_force() -> None:
    kind, detail = tree_capability()
    check = check_tree_limit()
    assert check.detail.startswith(detail)
    assert check.status == ("ok" if kind.startswith("cgroup") else "warn")


# -- 3. interpreters under a temp dir --------------------------------------------------------


def test_a_venv_under_a_temp_dir_runs(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    result = make_sandbox().run(
        [str(python), "-c", "import sys, json; print(sys.prefix); print(json.dumps([1]))"],
        scratch.root,
    )
    assert result.ok, result.stderr_tail
    assert str(venv) in result.stdout_tail and "[1]" in result.stdout_tail


# -- 4. the sandbox's own failures are ours, never the model's ------------------------------


def test_a_missing_interpreter_is_a_sandbox_error(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, tmp_path: Path
) -> None:
    script = tmp_path / "phase.py"
    script.write_text("print('hi')\n")
    validator = Validator(scratch, make_sandbox(), python=str(tmp_path / "gone" / "python"))
    with pytest.raises(SandboxError, match="--python"):
        validator.run_script(script)


def test_an_interpreter_that_cannot_start_is_a_sandbox_error(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, tmp_path: Path
) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    with pytest.raises(SandboxError, match="could not start"):
        make_sandbox().run([str(broken), "-c", "print(1)"], scratch.root)


# -- 5. the fallback: refused unless asked for, and nothing survives it ---------------------


def test_the_fallback_refuses_generated_code_unless_unsafe(scratch: Scratch) -> None:
    with pytest.raises(SandboxError, match="--unsafe-sandbox") as info:
        Sandbox(force_fallback=True).run([sys.executable, "-c", "print(1)"], scratch.root)
    assert "apt-get install bubblewrap" in str(info.value)


def test_doctor_shows_a_missing_bubblewrap_in_red(tmp_path: Path) -> None:
    code = (
        "from agent.doctor import check_sandbox; c = check_sandbox(); "
        "print(c.status); print(c.detail); print(c.fix)"
    )
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    status, detail, fix = out.splitlines()[:3]
    assert status == "fail"
    assert "--unsafe-sandbox" in detail and "apt-get install bubblewrap" in fix


DAEMONS = """
import os, subprocess, sys
marker = {marker_head!r} + {marker_tail!r}
sleeper = ['sleep', '60.' + marker]
subprocess.Popen(['setsid', *sleeper])
subprocess.Popen(['sh', '-c', f"(sleep 60.{{marker}} &) &"])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', sleeper)
    os._exit(0)
print('started')
"""


def _daemons(marker: str) -> str:
    """The daemon script; its own command line does not hold ``marker`` (only the daemons')."""
    return DAEMONS.format(marker_head=marker[:7], marker_tail=marker[7:])


def test_daemons_do_not_survive_the_run(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    marker = _marker()
    result = run_py(
        make_sandbox(wall_s=20), scratch, _daemons(marker) + "import time\ntime.sleep(1)\n"
    )
    assert "started" in result.stdout_tail, result.stderr_tail
    assert _wait_gone(marker) == []


def test_daemons_do_not_survive_the_wall_limit(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch
) -> None:
    marker = _marker()
    code = _daemons(marker) + "import time\ntime.sleep(60)\n"
    result = run_py(make_sandbox(wall_s=3), scratch, code)
    assert result.timed_out
    assert _wait_gone(marker) == []


def test_killing_autopatch_kills_the_sandboxed_tree(
    make_sandbox: Callable[..., Sandbox], scratch: Scratch, tmp_path: Path
) -> None:
    sandbox = make_sandbox(wall_s=60)
    marker = _marker()
    inner = (
        f"import subprocess; marker = {marker[:7]!r} + {marker[7:]!r}; "
        "subprocess.run(['sleep', '60.' + marker])"
    )
    parent = (
        "import sys; from pathlib import Path; from agent.verify.sandbox import Sandbox\n"
        f"Sandbox(force_fallback={sandbox.force_fallback}, unsafe=True, wall_s=60, "
        f"work_dir={str(tmp_path)!r}).run("
        f"[sys.executable, '-c', {inner!r}], Path({str(scratch.root)!r}))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent])
    deadline = time.monotonic() + 20
    while not _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(marker), "the sandboxed command started"
    os.kill(proc.pid, signal.SIGKILL)  # like `kill -9` of `autopatch fix`
    proc.wait()
    assert _wait_gone(marker) == []


def test_an_agent_socket_inside_a_bound_folder_is_hidden(
    scratch: Scratch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sandbox_capability()[0] != MODE_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_capability()[1]}")
    # an ssh-agent socket that happens to sit in a folder the sandbox must bind (a venv)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    agent_dir = venv / "ssh-agent"
    agent_dir.mkdir()
    path = str(agent_dir / "agent.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(0.3)
    monkeypatch.setenv("SSH_AUTH_SOCK", path)
    try:
        result = Sandbox().run(
            [str(venv / "bin" / "python"), "-c", CONNECT.format(path=path)], scratch.root
        )
        assert "visible: False" in result.stdout_tail, result.stderr_tail
        assert _accepted(listener) == 0
    finally:
        listener.close()
