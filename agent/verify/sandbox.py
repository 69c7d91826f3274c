"""Run drafted scripts and tests on a scratch copy, with limits and without network.

``Sandbox(wall_s, memory_mb, max_processes, network).run(cmd, cwd, env, root=scratch.root)``
runs one command in a subprocess and returns a ``RunResult``. Every run gets, in both modes:

- a wall-time limit (the whole process tree is killed when it is reached);
- a cgroup leaf of its own where one is writable (``agent.verify.process_tree``): ``memory_mb`` and
  ``max_processes`` bound the *whole tree*, and every descendant — ``setsid`` daemons too —
  is killed at the end; without a cgroup, ``RLIMIT_NPROC`` stands in (not for root). Each
  process also gets ``RLIMIT_AS`` (``memory_mb``), ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` and no
  core dumps;
- a clean environment (no credentials of the caller, no ``SSH_AUTH_SOCK`` or
  ``XDG_RUNTIME_DIR``), ``HOME`` and ``TMPDIR`` in a private temp dir, ``HF_HUB_OFFLINE=1``,
  ``PYTHONDONTWRITEBYTECODE=1``, and ``GIT_CEILING_DIRECTORIES`` so git in the scratch copy
  never finds the target repository around it;
- the audit hook of ``agent.verify.audit_hook`` injected as ``sitecustomize`` through
  ``PYTHONPATH``, so a Python script's attempt to write outside the scratch dir and
  ``$TMPDIR``, to use the network or to reach a Unix socket outside the scratch dir is
  refused *and reported* (``RunResult.violation``), even when the script catches the error.

A failure of the sandbox itself — a program that does not exist or cannot start, bubblewrap
failing to set up, the fallback without ``unsafe`` — raises ``SandboxError``: it is never the
run's fault and never goes to the model as something to repair.

The two isolation modes, ``bwrap`` and the ``rlimit+audit`` fallback, are classes of
``agent.verify.isolation`` picked by name (``ISOLATION``).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.verify import reaper
from agent.verify.bwrap import interpreter_dirs
from agent.verify.isolation import (
    ISOLATION,
    MODE_BWRAP,
    MODE_FALLBACK,
    Isolation,
    Mounts,
    sandbox_capability,
)
from agent.verify.process_tree import TreeLimit, kill_group, nproc_limit, stop_tree, tree_capability
from agent.verify.scratch import Scratch, ScratchError

log = logging.getLogger(__name__)

__all__ = [
    "MODE_BWRAP",
    "MODE_FALLBACK",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "Scratch",
    "ScratchError",
    "sandbox_capability",
    "tree_capability",
]

TAIL_CHARS = 8000
FSIZE_MB = 1024
KILL_GRACE_S = 5.0
ENV_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "VIRTUAL_ENV")
MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
HOOK_SOURCE = Path(__file__).with_name("audit_hook.py")
SCHEMA_VERSION = 1
INSTALL_LINE = "apt-get install bubblewrap (Fedora: dnf install bubblewrap)"
UNSAFE_MESSAGE = (
    "bubblewrap is not available here, and without it generated code would run with your "
    "user's full rights; install it ({install}) or, for code you would run anyway, pass "
    "--unsafe-sandbox (config: sandbox.unsafe: true)"
)


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the code it ran); the message names cause and fix."""


@dataclass(frozen=True)
class RunResult:
    """What one sandboxed command did. ``violation`` names the first refused action."""

    rc: int
    stdout_tail: str
    stderr_tail: str
    seconds: float
    timed_out: bool
    killed_for_memory: bool
    violation: str | None
    mode: str
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        """Exited 0, within its limits, and tried nothing it may not do."""
        return self.rc == 0 and not self.timed_out and self.violation is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


def _limit(kind: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def _preexec(memory_mb: int, cpu_s: int, tree: TreeLimit | None, nproc: int) -> Callable[[], None]:
    def apply() -> None:
        memory = memory_mb * 1024 * 1024
        _limit(resource.RLIMIT_AS, memory, memory)
        _limit(resource.RLIMIT_CPU, cpu_s, cpu_s + 5)
        _limit(resource.RLIMIT_FSIZE, FSIZE_MB << 20, FSIZE_MB << 20)
        _limit(resource.RLIMIT_CORE, 0, 0)
        if tree is not None:
            tree.join()
        else:
            _limit(resource.RLIMIT_NPROC, nproc, nproc)

    return apply


def _tail(path: Path) -> str:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_CHARS * 4))
        text = fh.read().decode("utf-8", "replace")
    return text[-TAIL_CHARS:]


@dataclass(frozen=True)
class Sandbox:
    """Limits for sandboxed runs; ``force_fallback`` uses the weaker mode even if bwrap works."""

    wall_s: float = 120.0  # wall-clock seconds before the whole process tree is killed
    memory_mb: int = 2048  # memory of the whole process tree (cgroup), and RLIMIT_AS of each
    max_processes: int = 256  # processes of the tree (cgroup pids.max, else RLIMIT_NPROC)
    network: bool = False  # allow network access (off: no network namespace / refused)
    force_fallback: bool = False  # use rlimit+audit even where bubblewrap works
    unsafe: bool = False  # allow the rlimit+audit fallback (no isolation) to run code at all
    work_dir: str | None = None  # where per-run private folders go (default: the temp dir)

    @property
    def mode(self) -> str:
        """``bwrap`` or ``rlimit+audit``: what ``run`` will use."""
        return MODE_FALLBACK if self.force_fallback else sandbox_capability()[0]

    def check_usable(self) -> None:
        """Raise ``SandboxError`` when this sandbox would refuse to run anything."""
        if self.mode == MODE_FALLBACK and not self.unsafe:
            raise SandboxError(UNSAFE_MESSAGE.format(install=INSTALL_LINE))

    def run(
        self,
        cmd: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        *,
        root: Path | None = None,
        readonly: Sequence[Path] = (),
    ) -> RunResult:
        """Run ``cmd`` in ``cwd`` with ``root`` (default ``cwd``) the only writable dir.

        ``env`` adds to a clean environment (``PYTHONPATH`` is kept, after the hook's dir);
        ``readonly`` are extra files or folders the command must read (e.g. the drafted
        script), bound read-only in ``bwrap`` mode. Raises ``SandboxError`` when the
        sandbox cannot run the command at all (fallback mode without ``unsafe``, a
        program that does not exist, bubblewrap failing to set up): that is never the
        fault of the code being run.
        """
        self.check_usable()
        cwd = Path(cwd).resolve()
        root = Path(root).resolve() if root is not None else cwd
        if not cwd.is_relative_to(root):
            raise ValueError(f"cwd {cwd} is not inside the writable root {root}")
        readonly = [Path(p).resolve() for p in readonly]
        if any(p in (Path("/"), Path("/tmp")) for p in readonly):
            raise ValueError("bind the files the command reads, not / or /tmp as a whole")
        program = _program(cmd[0], (env or {}).get("PATH") or os.environ.get("PATH"))
        readonly += interpreter_dirs(program)
        isolation = ISOLATION[self.mode]
        readonly += isolation.readonly_for(program)
        base = self.work_dir if self.work_dir and os.path.isdir(self.work_dir) else None
        private = Path(tempfile.mkdtemp(prefix="autopatch-run-", dir=base)).resolve()
        tree = TreeLimit.create(self.memory_mb, self.max_processes, "run")
        try:
            return self._run(list(cmd), cwd, root, env or {}, readonly, private, isolation, tree)
        finally:
            if tree is not None:
                tree.remove()
            shutil.rmtree(private, ignore_errors=True)

    def _run(
        self,
        cmd: list[str],
        cwd: Path,
        root: Path,
        env: Mapping[str, str],
        readonly: Sequence[Path],
        private: Path,
        isolation: Isolation,
        tree: TreeLimit | None,
    ) -> RunResult:
        hook, tmp = private / "hook", private / "tmp"
        hook.mkdir()
        tmp.mkdir()
        violations = private / "violations.log"
        violations.touch()
        inner_tmp = isolation.tmp(tmp)
        shutil.copyfile(HOOK_SOURCE, hook / "sitecustomize.py")
        config = {"roots": [str(root), str(inner_tmp)], "network": self.network}
        (hook / "sandbox.json").write_text(json.dumps({**config, "violations": str(violations)}))
        full_env = self._environment(env, hook, inner_tmp)
        # the scratch copy may sit inside the target's work tree (the data dir): git run in
        # it must not find the real repository above it
        full_env.setdefault("GIT_CEILING_DIRECTORIES", str(root.parent))
        argv = isolation.argv(cmd, Mounts(root, cwd, readonly, hook, violations, self.network))
        out, err = private / "stdout", private / "stderr"
        start = time.monotonic()
        rc, timed_out = self._wait(argv, cwd, full_env, out, err, tree, isolation, cmd[0])
        seconds = time.monotonic() - start
        mode = isolation.name
        stdout_tail, stderr_tail = _tail(out), _tail(err)
        _infrastructure_failure(mode, rc, stderr_tail, cmd[0])
        timed_out = timed_out or rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU)
        killed = rc in (-signal.SIGKILL, 128 + signal.SIGKILL) and not timed_out
        oom = tree is not None and tree.out_of_memory()
        result = RunResult(
            rc=rc,
            stdout_tail=stdout_tail,
            stderr_tail=stderr_tail,
            seconds=round(seconds, 3),
            timed_out=timed_out,
            killed_for_memory=killed or oom or any(m in stderr_tail for m in MEMORY_MARKERS),
            violation=_violation(violations, rc, stderr_tail),
            mode=mode,
        )
        log.debug("sandbox %s: %s -> rc=%s in %.2fs", mode, cmd[:3], rc, seconds)
        return result

    def _wait(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        out: Path,
        err: Path,
        tree: TreeLimit | None,
        isolation: Isolation,
        program: str,
    ) -> tuple[int, bool]:
        """Start ``argv`` with the limits, wait up to ``wall_s``: (exit code, timed out)."""
        timed_out = False
        nproc = nproc_limit(self.max_processes) if tree is None else 0
        with out.open("wb") as stdout, err.open("wb") as stderr:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,
                    preexec_fn=_preexec(self.memory_mb, int(self.wall_s) + 5, tree, nproc),
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise SandboxError(
                    f"the sandbox could not start {program} ({exc}); run `autopatch doctor` "
                    "to see what is missing"
                ) from None
            try:
                rc = proc.wait(timeout=self.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                stop_tree(proc, tree, graceful=isolation.graceful_stop)
                rc = proc.wait(timeout=KILL_GRACE_S)
            kill_group(proc.pid)  # leftovers the command started in the background
            if tree is not None:
                tree.kill()
        return rc, timed_out

    def _environment(self, env: Mapping[str, str], hook: Path, tmp: Path) -> dict[str, str]:
        base = {k: os.environ[k] for k in ENV_PASSTHROUGH if k in os.environ}
        base.setdefault("PATH", os.defpath)
        base.setdefault("LANG", "C.UTF-8")
        base.update({"HOME": str(tmp), "TMPDIR": str(tmp), "HF_HUB_OFFLINE": "1"})
        base["PYTHONDONTWRITEBYTECODE"] = "1"  # a same-second edit never meets a stale .pyc
        base.update(env)
        base["PYTHONPATH"] = os.pathsep.join(p for p in (str(hook), env.get("PYTHONPATH")) if p)
        return base


def _violation(log_path: Path, rc: int, stderr: str) -> str | None:
    """The first refusal the hook logged, else what the kernel refused (bwrap mode)."""
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    if lines:
        return lines[0].removeprefix("autopatch sandbox refused: ")
    if rc != 0 and "Read-only file system" in stderr:
        return "write outside the scratch dir (read-only file system)"
    return None


def _program(name: str, path: str | None) -> Path:
    """The program ``name`` resolves to, or ``SandboxError`` naming it and the fix."""
    found = shutil.which(name, path=path) if os.sep not in name else name
    if found is None or not os.access(found, os.X_OK) or os.path.isdir(found):
        raise SandboxError(
            f"cannot run {name}: no such executable (PATH={path or ''}); if it is the "
            "project's interpreter, pass an existing one with --python"
        )
    return Path(found).absolute()


def _infrastructure_failure(mode: str, rc: int, stderr: str, program: str) -> None:
    """Raise ``SandboxError`` when the sandbox, not the command, failed to start it."""
    first = stderr.lstrip().splitlines()[0] if stderr.strip() else ""
    if mode == MODE_BWRAP and rc == 1 and first.startswith("bwrap: "):
        raise SandboxError(
            f"bubblewrap could not start {program}: {first.removeprefix('bwrap: ')}; this is "
            "a problem of the sandbox setup, not of the change (run `autopatch doctor`)"
        )
    if rc == 127 and first.startswith(reaper.MARKER):
        raise SandboxError(
            f"the sandbox could not start {program}: "
            f"{first.removeprefix(reaper.MARKER).strip()}; pass an existing "
            "interpreter with --python"
        )
