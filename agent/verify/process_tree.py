"""Limit a sandboxed command's whole process tree, and end all of it.

``TreeLimit.create(memory_mb, max_processes, tag)`` makes a cgroup leaf for one run where
a cgroup is writable — cgroup v2 (``memory.max``, ``pids.max``, ``cgroup.kill``) or the
v1 ``memory`` and ``pids`` hierarchies — and returns ``None`` where none is. The command
joins the leaf before it starts (``join()`` in the child), so every descendant, a
``setsid`` daemon included, counts against one memory and process budget and is killed
by ``kill()``. Without a cgroup the sandbox falls back to per-process ``RLIMIT_AS`` plus
``RLIMIT_NPROC`` (``nproc_limit``), which the kernel does not enforce for root.

``tree_capability()`` says which one is in force here, for ``autopatch doctor``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TreeLimit", "kill_group", "nproc_limit", "stop_tree", "tree_capability"]

KILL_WAIT_S = 5.0
TERM_GRACE_S = 2.0  # the fallback's reaper: time to kill the daemons before SIGKILL
PREFIX = "autopatch-"


def _mounts() -> dict[str, Path]:
    """cgroup mount points: ``v2`` and v1 controller names (``memory``, ``pids``)."""
    found: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        parts, rparts = left.split(), right.split()
        if len(parts) < 5 or len(rparts) < 3:
            continue
        if rparts[0] == "cgroup2":
            found.setdefault("v2", Path(parts[4]))
        elif rparts[0] == "cgroup":
            for option in rparts[2].split(","):
                if option in ("memory", "pids"):
                    found.setdefault(option, Path(parts[4]))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per hierarchy (``v2``, ``memory``, ``pids``)."""
    found: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            found["v2"] = path
        for name in controllers.split(","):
            if name in ("memory", "pids"):
                found[name] = path
    return found


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _pids(leaf: Path) -> list[int]:
    try:
        return [int(p) for p in (leaf / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


@dataclass(frozen=True)
class TreeLimit:
    """One run's cgroup leaves; ``kind`` is ``cgroup v2`` or ``cgroup v1``."""

    kind: str
    leaves: tuple[Path, ...]  # every leaf the command joins (v1: memory, then pids)

    @classmethod
    def create(cls, memory_mb: int, max_processes: int, tag: str = "") -> TreeLimit | None:
        """A fresh leaf with the limits set, or None where no cgroup is writable here."""
        name = f"{PREFIX}{tag or 'run'}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        mounts, own = _mounts(), _own_cgroups()
        memory = str(memory_mb * 1024 * 1024)
        if "v2" in mounts and "v2" in own:
            # A child of our own cgroup works where it is a namespace root (containers); a
            # cgroup holding processes cannot enable controllers for children, so a sibling
            # in the delegated parent is tried next (a systemd user session's app.slice).
            here = mounts["v2"] / own["v2"].lstrip("/")
            for parent in dict.fromkeys([here, here.parent if own["v2"] != "/" else here]):
                leaf = _v2_leaf(parent, name)
                if leaf is None:
                    continue
                try:
                    _write(leaf / "memory.max", memory)
                    if (leaf / "memory.swap.max").exists():
                        _write(leaf / "memory.swap.max", "0")
                    _write(leaf / "pids.max", str(max_processes))
                    return cls("cgroup v2", (leaf,))
                except OSError:
                    _remove(leaf)
        if "memory" in mounts and "memory" in own:
            leaves: list[Path] = []
            try:
                leaf = mounts["memory"] / own["memory"].lstrip("/") / name
                _sweep(leaf.parent)
                leaf.mkdir()
                leaves.append(leaf)
                _write(leaf / "memory.limit_in_bytes", memory)
                with contextlib.suppress(OSError):
                    _write(leaf / "memory.memsw.limit_in_bytes", memory)
                if "pids" in mounts and "pids" in own:
                    pids = mounts["pids"] / own["pids"].lstrip("/") / name
                    _sweep(pids.parent)
                    pids.mkdir()
                    leaves.append(pids)
                    _write(pids / "pids.max", str(max_processes))
                return cls("cgroup v1", tuple(leaves))
            except OSError:
                for leaf in leaves:
                    _remove(leaf)
        return None

    @property
    def limits_processes(self) -> bool:
        return self.kind == "cgroup v2" or len(self.leaves) > 1

    def join(self) -> None:
        """Move the calling process into the leaves (runs in the child before exec)."""
        for leaf in self.leaves:
            _write(leaf / "cgroup.procs", str(os.getpid()))

    def out_of_memory(self) -> bool:
        """Did the kernel kill a process of the tree for memory?"""
        leaf = self.leaves[0]
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = (leaf / name).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip() not in ("", "0"):
                    return True
        try:
            return int((leaf / "memory.failcnt").read_text()) > 0 and self.kind == "cgroup v1"
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        """SIGKILL every process of the tree, wherever it moved its session or group."""
        leaf = self.leaves[0]
        if (leaf / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(leaf / "cgroup.kill", "1")
        deadline = time.monotonic() + KILL_WAIT_S
        while time.monotonic() < deadline:
            pids = {p for leaf in self.leaves for p in _pids(leaf)}
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill what is left and remove the leaves."""
        self.kill()
        for leaf in self.leaves:
            _remove(leaf)


def _v2_leaf(parent: Path, name: str) -> Path | None:
    """A child of ``parent`` with the memory and pids controllers, or None."""
    try:
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"memory", "pids"} <= set(enabled):
            available = (parent / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(available):
                return None
            _write(parent / "cgroup.subtree_control", "+memory +pids")
        _sweep(parent)
        leaf = parent / name
        leaf.mkdir()
        return leaf
    except OSError:
        return None


def _sweep(parent: Path) -> None:
    """Remove the leaves of runs whose autopatch process is gone (killed with -9)."""
    with contextlib.suppress(OSError):
        for leaf in parent.glob(f"{PREFIX}*-*-*"):
            pid = leaf.name.rsplit("-", 2)[-2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                with contextlib.suppress(OSError):
                    leaf.rmdir()


def _remove(leaf: Path) -> None:
    deadline = time.monotonic() + KILL_WAIT_S
    while True:
        try:
            leaf.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def nproc_limit(max_processes: int) -> int:
    """RLIMIT_NPROC counts all processes of the user: what runs now plus the budget."""
    uid, count = os.getuid(), 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    count += int(line.split()[1]) == uid
                    break
    return count + max_processes


@functools.cache
def tree_capability() -> tuple[str, str]:
    """(kind, detail): how a run's whole process tree is limited on this machine."""
    probe = TreeLimit.create(64, 64, "probe")
    if probe is not None:
        processes = "and process count " if probe.limits_processes else ""
        probe.remove()
        return probe.kind, f"{probe.kind} leaf per run: memory {processes}of the whole tree"
    root = " (RLIMIT_NPROC is not enforced for root)" if os.getuid() == 0 else ""
    return "rlimit", ("no writable cgroup: RLIMIT_AS per process and RLIMIT_NPROC only" + root)


def _group_alive(pgid: int) -> bool:
    """Does a live (not zombie) process of group ``pgid`` remain? (Linux ``/proc``.)"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in {"Z", "X"}:
            return True
    return False


def kill_group(pgid: int) -> None:
    """SIGKILL the process group and wait (briefly) until none of it is left running."""
    deadline = time.monotonic() + KILL_WAIT_S
    while True:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        if not _group_alive(pgid) or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def stop_tree(proc: subprocess.Popen[bytes], tree: TreeLimit | None, *, graceful: bool) -> None:
    """End a run at its wall limit: the reaper first (it kills the daemons), then the rest."""
    if graceful:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()  # the reaper kills every descendant, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=TERM_GRACE_S)
    if tree is not None:
        tree.kill()
    kill_group(proc.pid)
