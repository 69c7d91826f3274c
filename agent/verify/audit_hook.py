"""The audit hook of the sandbox's fallback mode, installed as ``sitecustomize``.

``agent.verify.sandbox`` copies this file as ``sitecustomize.py`` into a private folder, writes
``sandbox.json`` next to it and puts the folder first on ``PYTHONPATH``, so every Python
process started in the sandbox (and every Python child that inherits the environment)
runs ``install()`` before any user code. The hook (``sys.addaudithook``, PEP 578) refuses:

- ``open`` for writing, ``os.remove`` / ``os.rename`` / ``os.mkdir`` / ``os.rmdir`` /
  ``os.link`` / ``os.symlink`` / ``os.truncate`` / ``os.chmod`` / ``os.utime`` /
  ``shutil.rmtree`` / ``shutil.move`` on a path outside the writable roots (the scratch
  copy, a private temp dir, a few ``/dev`` entries);
- ``socket.connect`` / ``bind`` / ``sendto`` / ``sendmsg`` to a Unix socket outside the
  writable roots (abstract ones included), network or not — the host's Docker socket,
  ssh-agent or D-Bus must stay out of reach;
- when the network is off: ``socket.connect`` / ``bind`` / ``sendto`` / ``sendmsg``, name lookups of non-local hosts, and
  starting network tools (curl, wget, ssh, ``git fetch``, ``pip install`` …) or a Python
  with ``-I`` / ``-E`` / ``-S`` (which would skip this hook).

A refusal raises ``PermissionError`` and appends one line to the violations file, so a
script that catches the error is still reported. This is a tripwire for honest mistakes,
not a wall: native code (ctypes, C extensions, non-Python programs) bypasses it. Only
the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from typing import Any

CONFIG_FILE = "sandbox.json"
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
DEV_WRITABLE = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/stdout", "/dev/stderr")
DEV_PREFIXES = ("/dev/shm/", "/dev/fd/", "/dev/pts/")
SHELLS = frozenset({"sh", "bash", "dash", "zsh"})
NETWORK_TOOLS = frozenset(
    {"curl", "wget", "nc", "ncat", "netcat", "ssh", "scp", "sftp", "rsync", "telnet", "ftp"}
    | {"socat", "nmap", "ping", "ping6", "aria2c"}
)
NETWORK_SUBCOMMANDS = {
    "git": frozenset({"clone", "fetch", "pull", "push", "ls-remote", "remote", "submodule"}),
    "pip": frozenset({"install", "download", "wheel"}),
    "pip3": frozenset({"install", "download", "wheel"}),
    "uv": frozenset({"pip", "add", "sync", "run", "tool"}),
}
SOCKET_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "", None})
PATH_EVENTS = {  # event -> indexes of path arguments that get written
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (1,),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
    "shutil.copyfile": (1,),
}


def _cache(path: str) -> bool:
    """Python's bytecode cache: refused without a report (importlib just skips writing it)."""
    return "__pycache__" in path.split(os.sep)


class SandboxViolation(PermissionError):
    """Raised by the hook; a ``PermissionError`` so ordinary error handling sees it."""


class Policy:
    """What the hook allows: writable roots, network on/off, where refusals are logged."""

    def __init__(self, roots: Sequence[str], network: bool, violations_fd: int | None) -> None:
        self.roots = tuple(os.path.realpath(r) for r in roots)
        self.network = network
        self.violations_fd = violations_fd
        self.hook_dir = os.path.dirname(os.path.abspath(__file__))
        self._local = threading.local()  # re-entrancy guard, per thread

    def writable(self, path: Any, dir_fd: Any = None) -> bool:
        """Is ``path`` (str, bytes, PathLike; ints are open fds) inside a writable root?"""
        if isinstance(path, int) or path is None:
            return True
        text = os.fsdecode(os.fspath(path))
        if not os.path.isabs(text):
            base = os.getcwd()
            if isinstance(dir_fd, int) and dir_fd >= 0:
                base = os.readlink(f"/proc/self/fd/{dir_fd}")
            text = os.path.join(base, text)
        if text in DEV_WRITABLE or text.startswith(DEV_PREFIXES):
            return True
        real = os.path.realpath(text)
        return any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots
        )

    def refuse(self, what: str, *, quiet: bool = False) -> None:
        """Log the violation (unless ``quiet``) and raise ``SandboxViolation``."""
        message = f"autopatch sandbox refused: {what}"
        if self.violations_fd is not None and not quiet:
            with contextlib.suppress(OSError):
                os.write(self.violations_fd, (message.replace("\n", " ") + "\n").encode())
        raise SandboxViolation(errno.EACCES, message)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            self._check(event, args)
        finally:
            self._local.busy = False

    def _check(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, _mode, flags = args
            if isinstance(flags, int) and flags & WRITE_FLAGS and not self.writable(path):
                target = os.fsdecode(os.fspath(path))
                self.refuse(f"write to {target} (outside the scratch dir)", quiet=_cache(target))
        elif event in PATH_EVENTS:
            dir_fd = args[-1] if event in {"os.remove", "os.rmdir", "os.mkdir"} else None
            for index in PATH_EVENTS[event]:
                if index < len(args) and not self.writable(args[index], dir_fd):
                    target = os.fsdecode(os.fspath(args[index]))
                    self.refuse(
                        f"{event} on {target} (outside the scratch dir)", quiet=_cache(target)
                    )
        elif event in {"subprocess.Popen", "os.exec", "os.posix_spawn"}:
            env = args[3] if event == "subprocess.Popen" else args[2]
            self._check_argv(args[1], env)
        elif event == "os.spawn":
            self._check_argv(args[2], args[3])
        elif event == "os.system":
            self._check_shell(os.fsdecode(args[0]))
        elif event in SOCKET_EVENTS:
            self._check_socket(event, args)
        elif not self.network:
            self._check_lookup(event, args)

    def _check_socket(self, event: str, args: tuple[Any, ...]) -> None:
        address = args[1] if len(args) > 1 else None
        if isinstance(address, str | bytes):  # AF_UNIX, network or not: host sockets stay out
            abstract = address[:1] in ("\0", b"\0")  # not a file: it could be the host's
            if address and not abstract and self.writable(address):
                return  # a unix socket inside the scratch dir or private tmp
            what = event.replace("socket.", "socket ")
            self.refuse(f"{what} to the Unix socket {address!r} (outside the scratch dir)")
        if not self.network:
            self.refuse(f"{event.replace('socket.', 'socket ')} to {address!r} (network is off)")

    def _check_lookup(self, event: str, args: tuple[Any, ...]) -> None:
        if event in {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}:
            host = args[0] if args else None
            if isinstance(host, bytes):
                host = host.decode(errors="replace")
            if host not in LOCAL_HOSTS:
                self.refuse(f"name lookup of {host!r} (network is off)")

    def _check_argv(self, argv: Any, env: Any) -> None:
        if isinstance(argv, str | bytes):
            self._check_shell(os.fsdecode(argv))
            return
        words = [os.fsdecode(a) for a in argv or ()]
        if len(words) >= 3 and os.path.basename(words[0]) in SHELLS and words[1] == "-c":
            self._check_shell(words[2])
        self._check_command(words)
        if words and os.path.basename(words[0]).startswith("python") and env is not None:
            path = env.get("PYTHONPATH") or env.get(b"PYTHONPATH") or ""
            if self.hook_dir not in os.fsdecode(path):
                self.refuse("running python with a PYTHONPATH that drops the sandbox hook")

    def _check_shell(self, command: str) -> None:
        for segment in re.split(r"[;&|\n()`]+|\$\(", command):
            self._check_command(segment.split())

    def _check_command(self, argv: list[str]) -> None:
        if not argv:
            return
        tool = os.path.basename(argv[0])
        if tool.startswith("python"):
            self._check_python(argv[1:])
        if self.network:
            return
        if tool in NETWORK_TOOLS:
            self.refuse(f"running {tool} (network is off)")
        subcommands = NETWORK_SUBCOMMANDS.get(tool)
        if subcommands and any(arg in subcommands for arg in argv[1:4]):
            self.refuse(f"running {' '.join(argv[:3])} (network is off)")

    def _check_python(self, args: list[str]) -> None:
        for i, arg in enumerate(args):
            if not arg.startswith("-") or arg.startswith("--"):
                return
            if set(arg[1:]) & {"I", "E", "S"}:
                self.refuse(f"running python {arg} (it would bypass the sandbox hook)")
            if arg == "-m" and args[i + 1 : i + 2] == ["pip"] and not self.network:
                self.refuse("running python -m pip (network is off)")
            if arg in {"-c", "-m"}:
                return


def install(config_path: str | None = None) -> Policy:
    """Read ``sandbox.json`` (next to this file unless given) and install the audit hook."""
    path = config_path or os.path.join(os.path.dirname(os.path.abspath(__file__)), CONFIG_FILE)
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    violations = config.get("violations")
    fd = os.open(violations, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if violations else None
    policy = Policy(config["roots"], bool(config.get("network")), fd)
    sys.addaudithook(policy)
    return policy


if __name__ == "sitecustomize":
    install()
