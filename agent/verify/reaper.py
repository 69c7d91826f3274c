"""The supervisor of a fallback-mode run: ``python -I -S reaper.py CMD ARGS...``.

It makes itself a child subreaper (``PR_SET_CHILD_SUBREAPER``), so every process the
command starts — a ``setsid`` daemon, a double-forked one — is re-parented to it instead
of to init; it runs the command, and when the command exits (or when the supervisor gets
SIGTERM: the wall limit, or ``autopatch`` itself died, via ``PR_SET_PDEATHSIG``) it
SIGKILLs every descendant that is left, reaps them, and exits with the command's status.
A command that cannot be started is reported on stderr with ``MARKER`` and exit 127.
Only the standard library is used; it runs with ``-I -S`` (no site, no user paths).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

MARKER = "autopatch-sandbox: cannot start"
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
KILL_WAIT_S = 5.0


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (from ``/proc/*/stat`` parent links)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in (b"Z", b"X"):
            children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _reap() -> bool:
    """Reap finished children; False once there are none left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def kill_all() -> None:
    """SIGKILL every descendant (they re-parent to us as their parents die) and reap."""
    deadline = time.monotonic() + KILL_WAIT_S
    me = os.getpid()
    while time.monotonic() < deadline:
        left = _descendants(me)
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not _reap() and not left:
            return
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    def stop(signum: int, _frame: object) -> None:
        kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    if os.getppid() == 1:  # the parent died before PDEATHSIG was set
        return 128 + signal.SIGTERM
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        os.close(read_end)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(write_end, f"{MARKER} {argv[0]}: {exc.strerror}".encode())
        os._exit(127)
    os.close(write_end)
    failure = os.read(read_end, 4096).decode(errors="replace")
    os.close(read_end)
    if failure:
        sys.stderr.write(failure + "\n")
    status = 0
    while True:
        try:
            pid, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    kill_all()
    return os.waitstatus_to_exitcode(status) if not failure else 127


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.exit(code if code >= 0 else 128 - code)
