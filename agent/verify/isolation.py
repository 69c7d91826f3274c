"""The sandbox's two isolation modes, one class each, picked by name (``ISOLATION``);
``sandbox_capability()`` says which one this machine has (``autopatch doctor`` shows it, and
the memory limit in force).

``bwrap``
    bubblewrap (``agent.verify.bwrap``): only what a Python run needs is mounted, read-only
    — the system's program and library folders, a few ``/etc`` files, the interpreter's
    prefix and libraries, autopatch's package, the drafted script — wherever they live
    (``/tmp`` included); ``/run``, ``/var``, home folders and so every host Unix socket
    are absent. The scratch dir is the only writable place (plus a private tmpfs on
    ``/tmp``), there is no network (``--unshare-net``: its own loopback, its own abstract
    socket namespace), PID, IPC and UTS namespaces are private and all capabilities are
    dropped. The kernel enforces this for any program, native or not. No seccomp filter:
    ``connect`` cannot be filtered by path; the files simply are not there.

``rlimit+audit`` (fallback, unsafe)
    No namespaces: only the limits of ``agent.verify.sandbox`` and the Python audit hook,
    which native code and non-Python programs bypass (``sh -c 'echo x > ~/f'``, ctypes,
    bash's ``/dev/tcp``). ``run`` refuses in this mode unless ``unsafe=True`` (``fix
    --unsafe-sandbox``, config ``sandbox.unsafe: true``). The command runs under
    ``agent.verify.reaper``, a child subreaper that kills every descendant — daemons
    included — when the command ends, at the wall limit, or when autopatch dies.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.verify import reaper
from agent.verify.bwrap import bwrap_argv, interpreter_paths

MODE_BWRAP = "bwrap"
MODE_FALLBACK = "rlimit+audit"
BWRAP_TMPDIR = Path("/tmp/autopatch-tmp")  # TMPDIR and HOME inside the private /tmp
REAPER = Path(reaper.__file__)
FALLBACK_DETAIL = "rlimits + Python audit hook only (no isolation from non-Python code)"


@functools.cache
def sandbox_capability() -> tuple[str, str]:
    """(mode, detail): ``bwrap`` if bubblewrap works here with our flags, else the fallback."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return MODE_FALLBACK, f"bubblewrap not installed; {FALLBACK_DETAIL}"
    with tempfile.TemporaryDirectory(prefix="autopatch-probe-") as tmp:
        root = Path(tmp).resolve()
        argv = bwrap_argv(bwrap, root, root, network=False)
        probe_cmd = ["/bin/sh", "-c", "echo ok > probe && ! touch /probe-outside 2>/dev/null"]
        try:
            probe = subprocess.run(
                argv + probe_cmd, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return MODE_FALLBACK, f"bwrap present but unusable ({exc}); {FALLBACK_DETAIL}"
        if probe.returncode != 0 or not (root / "probe").exists():
            reason = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
            return MODE_FALLBACK, f"bwrap present but unusable ({reason}); {FALLBACK_DETAIL}"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, check=False)
    return MODE_BWRAP, (
        f"{version.stdout.strip() or 'bubblewrap'}: no network, no host sockets (only the "
        "interpreter, its libraries and the scratch copy are mounted), writable scratch dir "
        "+ private /tmp; no seccomp filter (the audit hook refuses AF_UNIX connects outside "
        "the scratch dir)"
    )


@dataclass(frozen=True)
class Mounts:
    """What one run sees: the writable ``root``, the ``cwd`` in it, the read-only paths, the
    audit hook's folder and its violations log, and whether it has network."""

    root: Path
    cwd: Path
    readonly: Sequence[Path]
    hook: Path
    violations: Path
    network: bool


@dataclass(frozen=True)
class Bwrap:
    """Isolation by bubblewrap: only what a Python run needs is mounted, no network."""

    name: str = MODE_BWRAP
    graceful_stop: bool = False  # on timeout the tree is killed at once

    def tmp(self, private_tmp: Path) -> Path:
        """``TMPDIR`` and ``HOME`` as the command sees them."""
        return BWRAP_TMPDIR

    def readonly_for(self, program: Path) -> list[Path]:
        """What the program needs mounted besides its interpreter's folders."""
        if not program.name.startswith("python"):
            return []
        trusted = program == Path(sys.executable).absolute()
        return list(interpreter_paths(str(program), trusted=trusted))

    def argv(self, cmd: list[str], mounts: Mounts) -> list[str]:
        bwrap = shutil.which("bwrap") or "bwrap"
        argv = bwrap_argv(
            bwrap,
            mounts.root,
            mounts.cwd,
            network=mounts.network,
            readonly=[*mounts.readonly, mounts.hook],
            writable_files=[mounts.violations],
            dirs=[BWRAP_TMPDIR],
        )
        return argv + cmd


@dataclass(frozen=True)
class Fallback:
    """rlimits and the audit hook only, under the reaper (no isolation from non-Python code)."""

    name: str = MODE_FALLBACK
    graceful_stop: bool = True  # on timeout the tree gets SIGTERM first

    def tmp(self, private_tmp: Path) -> Path:
        return private_tmp

    def readonly_for(self, program: Path) -> list[Path]:
        return []

    def argv(self, cmd: list[str], mounts: Mounts) -> list[str]:
        return [sys.executable, "-I", "-S", str(REAPER), *cmd]


Isolation = Bwrap | Fallback
# The isolation modes by name (``Sandbox.mode``, ``sandbox_capability``).
ISOLATION: dict[str, Isolation] = {MODE_BWRAP: Bwrap(), MODE_FALLBACK: Fallback()}
