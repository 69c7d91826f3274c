"""The bubblewrap command line: bind only what a Python run needs, never the host's ``/``.

``bwrap_argv(bwrap, root, cwd, network=..., readonly=[...], extra=[...])`` mounts, all
read-only: the system folders programs and libraries live in (``/usr``, ``/bin``,
``/lib*``, ``/sbin``, ``/opt``, ``/nix``, ``/sys``), the few ``/etc`` files a run reads
(``ETC_ENTRIES``), autopatch's interpreter (its prefix, base prefix and ``sys.path``),
autopatch's own package, and ``readonly`` (the project's ``--python`` interpreter, the
drafted script) — wherever they live, ``/tmp`` and home folders included. ``root`` (the
scratch copy) is the only writable folder, plus a private tmpfs on ``/tmp``.

Everything else is absent: ``/run``, ``/var`` (so ``/var/run``), ``/home``, ``/root``,
``$XDG_RUNTIME_DIR``, ``$SSH_AUTH_SOCK``, ``/tmp/.X11-unix`` and every other Unix socket
of the host cannot be reached, because their files do not exist in the sandbox; abstract
Unix sockets belong to the network namespace, which is private (``--unshare-net``).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "ETC_ENTRIES",
    "SYSTEM_DIRS",
    "bwrap_argv",
    "interpreter_dirs",
    "interpreter_paths",
    "python_roots",
]

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/nix")
SYSTEM_DIRS_RO = ("/sys",)
ETC_ENTRIES = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "host.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "os-release",
    "alternatives",
    "ssl",
    "ca-certificates",
    "pki",
    "mime.types",
    "python3",
    "gitconfig",
    "locale.alias",
    "locale.gen",
)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding agent/, cores/, ...


def interpreter_dirs(python: str | Path) -> list[Path]:
    """The folders an interpreter needs: its venv (``bin/..``) and the real binary's prefix."""
    exe = Path(python)
    dirs = [exe.absolute().parent.parent]
    real = exe.resolve()
    dirs.append(real.parent.parent)
    return dirs


PROBE = """
import json, sys, sysconfig
paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
paths += [sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
packages = []
if "site" in sys.modules:
    import importlib.util
    for name in ("agent", "cores", "planner", "memory"):
        spec = importlib.util.find_spec(name)
        packages += list(spec.submodule_search_locations or []) if spec else []
print(json.dumps({"paths": [p for p in paths if p], "packages": packages}))
"""


@functools.cache
def interpreter_paths(python: str, *, trusted: bool) -> tuple[Path, ...]:
    """What a Python interpreter reads: its prefixes, library folders and (``trusted``: our
    own interpreter, whose ``.pth`` files may run) where it finds autopatch's packages.

    An untrusted one (the project's ``--python``) is asked with ``-S``, so none of its
    ``.pth`` files run outside the sandbox. Nothing (not a Python) gives ``()``.
    """
    flags = ["-I"] if trusted else ["-I", "-S"]
    try:
        out = subprocess.run(
            [python, *flags, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False
        )
        data = json.loads(out.stdout) if out.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError):
        return ()
    prefixes = [Path(p) for p in data.get("paths", [])[:4]]
    found = [*prefixes, *(Path(p) for p in data.get("packages", []))]
    for entry in data.get("paths", [])[4:]:
        path = Path(entry)
        library = path.name.endswith(("-packages", ".zip")) or path.name == "lib-dynload"
        if path.is_absolute() and (library or any(path.is_relative_to(x) for x in prefixes)):
            found.append(path)
    return tuple(found)


def python_roots() -> list[Path]:
    """autopatch's own interpreter: prefixes, library folders and the package itself.

    A ``sys.path`` entry counts only when it is a library folder (``site-packages``,
    ``dist-packages``, a zip) or lies in a prefix: ``python -m agent`` run from a home
    folder puts that folder on ``sys.path``, and it must not be exposed.
    """
    prefixes = [
        Path(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    ]
    found = [*prefixes, *interpreter_dirs(sys.executable), PACKAGE_ROOT]
    found += interpreter_paths(sys.executable, trusted=True)
    for entry in sys.path:
        path = Path(entry)
        if not entry or not path.is_absolute():
            continue
        library = path.name.endswith(("-packages", ".zip")) or path.name == "lib-dynload"
        if library or any(path.is_relative_to(p) for p in prefixes):
            found.append(path)
    return found


def _minimal(paths: Iterable[Path]) -> list[Path]:
    """Existing, resolved paths, without those already inside another one; never ``/``."""
    real = sorted({Path(os.path.realpath(p)) for p in paths if os.path.exists(p)}, key=str)
    kept: list[Path] = []
    for path in real:
        if path == Path("/") or any(path.is_relative_to(k) for k in kept):
            continue
        kept.append(path)
    return kept


def _system_binds() -> list[str]:
    argv: list[str] = []
    for name in SYSTEM_DIRS:
        if os.path.islink(name):
            argv += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            argv += ["--ro-bind", name, name]
    for name in SYSTEM_DIRS_RO:
        if os.path.isdir(name):
            argv += ["--ro-bind", name, name]
    for entry in ETC_ENTRIES:
        path = f"/etc/{entry}"
        if os.path.lexists(path):
            argv += ["--ro-bind", path, path]
    return argv


def _socket_dirs() -> list[Path]:
    """Where a desktop's sockets live: the runtime dir, ssh-agent's, X11's, ``/run``."""
    found = [os.environ.get("XDG_RUNTIME_DIR"), "/run", "/var/run", "/tmp/.X11-unix"]
    agent = os.environ.get("SSH_AUTH_SOCK")
    if agent:
        found.append(os.path.dirname(agent))
    return [Path(os.path.realpath(p)) for p in found if p and os.path.isdir(p)]


def bwrap_argv(
    bwrap: str,
    root: Path,
    cwd: Path,
    *,
    network: bool,
    readonly: Sequence[Path] = (),
    writable_files: Sequence[Path] = (),
    dirs: Sequence[Path] = (),
) -> list[str]:
    """The prefix that runs a command with ``root`` the only writable folder."""
    argv = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    if not network:
        argv.append("--unshare-net")
    argv += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/var/tmp"]
    argv += _system_binds()
    system = [Path(p) for p in (*SYSTEM_DIRS, *SYSTEM_DIRS_RO) if os.path.isdir(p)]
    covered = [Path(os.path.realpath(p)) for p in system]
    for path in _minimal([*python_roots(), *readonly]):
        if not any(path.is_relative_to(c) for c in covered):
            argv += ["--ro-bind", str(path), str(path)]
    bound = [Path(a) for a in argv[argv.index("--tmpfs") :] if a.startswith("/")]
    for folder in _socket_dirs():  # inside a bound folder by chance: hide it
        if any(folder.is_relative_to(b) and folder != b for b in bound):
            argv += ["--tmpfs", str(folder)]
    for folder in dirs:
        argv += ["--dir", str(folder)]
    for path in writable_files:
        argv += ["--bind", str(path), str(path)]
    argv += ["--bind", str(root), str(root), "--remount-ro", "/", "--chdir", str(cwd), "--"]
    return argv
