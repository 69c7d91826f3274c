"""Per-run working folders under the data dir, and the lock that serializes ``fix`` on a repo.

``RunDir(data_dir, run_id)`` is ``<data_dir>/runs/<run_id>/`` (mode 0700): the scratch
copies, drafted scripts and sandbox folders of one run live there, and an ``flock`` on its
``owner`` file is held while the run lives. The kernel drops that lock when the process
dies, even by ``kill -9``, so ``sweep()`` — run whenever a new ``RunDir`` opens — removes
every folder whose owner is gone: a killed run leaks nothing past the next one.

``RepoLock(repo)`` is an ``flock`` on ``<repo>/.autopatches/.fix.lock`` held for a whole
``fix --apply`` / ``--commit`` run (whatever data dir each run uses); a second landing run
on the same repository fails at once with ``LockHeld``, whose message says which process
holds it and since when.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

__all__ = ["LockHeld", "RepoLock", "RunDir", "sweep"]

RUNS = "runs"
OWNER = "owner"
LOCK_FILE = ".fix.lock"
PATCH_DIR = ".autopatches"
ORPHAN_AGE_S = 600  # a folder without an owner file older than this is a crash leftover


class LockHeld(RuntimeError):
    """Another autopatch run holds the lock; the message names it."""


def _try_lock(path: Path) -> int | None:
    """An open fd holding an exclusive flock on ``path``, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _describe(fd: int) -> None:
    info = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)


def sweep(data_dir: str | Path) -> list[Path]:
    """Remove the run folders whose owner process is gone; return what was removed."""
    runs = Path(data_dir) / RUNS
    removed: list[Path] = []
    if not runs.is_dir():
        return removed
    for folder in runs.iterdir():
        owner = folder / OWNER
        if not folder.is_dir() or folder.is_symlink():
            continue
        if not owner.exists():
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > ORPHAN_AGE_S:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            continue
        try:
            fd = _try_lock(owner)
        except OSError:
            continue
        if fd is None:
            continue  # its run is alive
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    if removed:
        log.info("removed %d working folder(s) of runs that were killed", len(removed))
    return removed


class RunDir:
    """``<data_dir>/runs/<run_id>/``, locked while open; use as a context manager."""

    def __init__(self, data_dir: str | Path, run_id: str) -> None:
        self.path = Path(data_dir).resolve() / RUNS / run_id
        self._fd: int | None = None

    def __enter__(self) -> RunDir:
        sweep(self.path.parent.parent)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.mkdir(mode=0o700)
        fd = _try_lock(self.path / OWNER)
        if fd is None:  # a run id is unique; only a clash of two processes gets here
            raise LockHeld(f"the run folder {self.path} is in use by another process")
        _describe(fd)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class RepoLock:
    """One landing ``fix`` at a time per repository."""

    def __init__(self, repo: str | Path) -> None:
        self.repo = Path(repo)
        self.path = self.repo / PATCH_DIR / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RepoLock:
        from agent.land.builder import ensure_excluded

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        ensure_excluded(self.repo)
        fd = _try_lock(self.path)
        if fd is None:
            raise LockHeld(self._holder())
        _describe(fd)
        self._fd = fd
        return self

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            info = {}
        who = f"process {info['pid']}" if "pid" in info else "another process"
        since = f" since {info['started']}" if "started" in info else ""
        return (
            f"another autopatch fix ({who}{since}) is working on {self.repo}; "
            "wait for it to finish and run again"
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
