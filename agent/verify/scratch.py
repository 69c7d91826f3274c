"""A scratch copy of a target repository, where drafted scripts run and tests are validated.

``Scratch(repo)`` is a context manager: on entry it copies the working tree into a fresh
temp dir (``git ls-files -co --exclude-standard`` in a git work tree, plus the ignored modules a
package imports, such as a generated ``_version.py``; else a walk),
leaving out ``.git``, ``.agent_data``, ``.autopatches``, virtualenvs and caches, and
records each file's SHA256. Symlinks are copied as links; a link that leads out of the
repository is left out (and listed in ``skipped``), an absolute link into the repository
is rewritten as a relative one, so nothing in the copy points back at the original. On
exit the temp dir is removed. The target repository is only ever read.

``changed_paths`` / ``changed_files`` / ``deleted_files`` compare the copy with the
recorded hashes (new files that the repository's ``.gitignore`` ignores do not count),
and ``diff`` renders the changes as a ``git diff``-style patch with ``a/`` ``b/``
prefixes that ``git apply`` accepts at the repository root.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".agent_data", ".autopatches", ".venv", "venv", ".tox", ".nox"}
    | {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".eggs"}
    | {"node_modules"}
)
GIT_TIMEOUT_S = 60
# ignored files that a package imports: generated modules and compiled extensions
IMPORTABLE = (".py", ".pyi", ".so", ".pyd")


class ScratchError(RuntimeError):
    """The scratch copy cannot do what was asked; the message says why."""


def _sha256(path: Path) -> str:
    """Hash of a file's bytes, or of a symlink's target text (links are never followed)."""
    if path.is_symlink():
        return "link:" + os.readlink(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        timeout=GIT_TIMEOUT_S,
        check=False,
    )


def is_git_worktree(repo: Path) -> bool:
    """Is ``repo`` inside a git work tree (and git installed)?"""
    try:
        return _git(repo, "rev-parse", "--is-inside-work-tree").stdout.strip() == b"true"
    except (OSError, subprocess.SubprocessError):
        return False


class Scratch:
    """A throw-away copy of ``repo``'s working tree; use as ``with Scratch(repo) as s: ...``."""

    def __init__(self, repo: str | Path, *, base_dir: str | Path | None = None) -> None:
        self.repo = Path(repo).resolve()
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.skipped: list[str] = []  # relpaths left out (links out of the repo, unreadable)
        self._hashes: dict[str, str] = {}
        self._tmp: Path | None = None
        self._git = False

    # -- lifecycle ------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The copy's root folder (exists between ``__enter__`` and ``__exit__``)."""
        if self._tmp is None:
            raise ScratchError("the scratch copy is not open; use `with Scratch(repo) as s:`")
        return self._tmp / "repo"

    def __enter__(self) -> Scratch:
        tmp = Path(tempfile.mkdtemp(prefix="autopatch-scratch-", dir=self.base_dir)).resolve()
        self._tmp = tmp
        try:
            self._copy(tmp / "repo")
        except BaseException:
            self.close()
            raise
        log.debug("scratch copy of %s at %s: %d files", self.repo, tmp, len(self._hashes))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the copy (idempotent)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- copying ----------------------------------------------------------------------

    def _copy(self, dest: Path) -> None:
        dest.mkdir(parents=True)
        self._git = is_git_worktree(self.repo)
        for rel in self._list_files():
            src = self.repo / rel
            if not os.path.lexists(src) or (src.is_dir() and not src.is_symlink()):
                continue  # deleted in the work tree, or a submodule
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if src.is_symlink():
                    if not self._copy_link(src, target):
                        self.skipped.append(rel)
                        continue
                else:
                    shutil.copy2(src, target, follow_symlinks=False)
                self._hashes[rel] = _sha256(target)
            except OSError as exc:
                log.warning("scratch: cannot copy %s: %s", rel, exc)
                self.skipped.append(rel)

    def _copy_link(self, src: Path, target: Path) -> bool:
        """Recreate a symlink that stays inside the repo; False for one that leads out."""
        link = os.readlink(src)
        resolved = Path(os.path.realpath(src))
        if not resolved.is_relative_to(self.repo):
            log.info("scratch: leaving out %s (symlink out of the repository)", src)
            return False
        if os.path.isabs(link):
            link = os.path.relpath(resolved, os.path.realpath(src.parent))
        os.symlink(link, target)
        return True

    def _list_files(self) -> list[str]:
        if self._git:
            out = _git(self.repo, "ls-files", "-z", "-co", "--exclude-standard")
            if out.returncode == 0:
                names = {os.fsdecode(n) for n in out.stdout.split(b"\0") if n}
                names |= self._generated(names)
                return [n for n in sorted(names) if not self._excluded(n)]
            log.warning("git ls-files failed in %s; walking the folder", self.repo)
        return sorted(self._walk(self.repo))

    def _generated(self, listed: set[str]) -> set[str]:
        """Ignored modules inside the repository's own packages: a build writes them there
        (``_version.py`` from the VCS, an in-place compiled extension) and the package does
        not import without them. Ignored folders (``build/``, ``dist/``) are not entered."""
        out = _git(self.repo, "ls-files", "-z", "-o", "-i", "--exclude-standard", "--directory")
        if out.returncode != 0:
            return set()
        found = set()
        for raw in out.stdout.split(b"\0"):
            rel = os.fsdecode(raw)
            package = rel.rpartition("/")[0]
            if rel.endswith(IMPORTABLE) and f"{package}/__init__.py" in listed:
                found.add(rel)
        return found

    def _walk(self, top: Path) -> Iterable[str]:
        for folder, dirs, files in os.walk(top):
            here = Path(folder)
            dirs[:] = [
                d for d in dirs if d not in EXCLUDED_DIRS and not (here / d / "pyvenv.cfg").exists()
            ]
            links = [d for d in dirs if (here / d).is_symlink()]  # walk never follows them
            for name in [*files, *links]:
                yield (here / name).relative_to(top).as_posix()

    def _excluded(self, rel: str) -> bool:
        parts = rel.split("/")[:-1]
        if any(p in EXCLUDED_DIRS for p in parts):
            return True
        return any(
            (self.repo.joinpath(*parts[: i + 1]) / "pyvenv.cfg").exists() for i in range(len(parts))
        )

    # -- changes ----------------------------------------------------------------------

    def changed_paths(self) -> set[str]:
        """Relpaths that were modified, added or deleted in the copy."""
        now = {rel: _sha256(self.root / rel) for rel in self._walk(self.root)}
        changed = {rel for rel, sha in now.items() if self._hashes.get(rel) != sha}
        added = sorted(changed - self._hashes.keys())
        if added and self._git:
            changed -= self._ignored(added)
        return changed | (self._hashes.keys() - now.keys())

    def _ignored(self, paths: list[str]) -> set[str]:
        """Those of ``paths`` that the target repository's ignore rules ignore."""
        out = _git(self.repo, "check-ignore", "-z", "--stdin", stdin="\0".join(paths).encode())
        return {os.fsdecode(n) for n in out.stdout.split(b"\0") if n}

    def changed_files(self) -> dict[str, str]:
        """Modified or added files: relpath -> new text (undecodable bytes as U+FFFD)."""
        return {
            rel: (self.root / rel).read_bytes().decode("utf-8", "replace")
            for rel in sorted(self.changed_paths())
            if os.path.lexists(self.root / rel) and not (self.root / rel).is_symlink()
        }

    def deleted_files(self) -> list[str]:
        """Files of the original that the copy no longer has."""
        return sorted(p for p in self.changed_paths() if not os.path.lexists(self.root / p))

    def original_bytes(self, rel: str) -> bytes | None:
        """The target repository's bytes of ``rel`` as it was copied (None: it was not there)."""
        if rel not in self._hashes:
            return None
        path = self.repo / rel
        if path.is_symlink() or _sha256(path) != self._hashes[rel]:
            raise ScratchError(
                f"{rel} changed in the target repository since the scratch copy was made"
            )
        return path.read_bytes()

    def original_text(self, rel: str) -> str | None:
        """The target repository's text of ``rel`` as it was copied (None: it was not there)."""
        data = self.original_bytes(rel)
        return None if data is None else data.decode("utf-8", "replace")

    def diff(self, paths: Iterable[str] | None = None) -> str:
        """A ``git apply``-able patch (``a/`` ``b/`` prefixes) of ``paths`` (default: all changes)."""
        rels = sorted(self.changed_paths() if paths is None else set(paths))
        if not rels:
            return ""
        with tempfile.TemporaryDirectory(prefix="autopatch-diff-") as tmp:
            old, new = Path(tmp, "a"), Path(tmp, "b")
            old.mkdir()
            new.mkdir()
            for rel in rels:
                if rel in self._hashes:
                    self._stage(rel, self.repo, old, expect=self._hashes[rel])
                if os.path.lexists(self.root / rel):
                    self._stage(rel, self.root, new, expect=None)
            out = subprocess.run(
                ["git", "-c", "core.quotepath=off", "diff", "--no-index", "--no-prefix"]
                + ["--binary", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv"]
                + ["a", "b"],
                cwd=tmp,
                capture_output=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        if out.returncode not in (0, 1):
            raise ScratchError(f"git diff failed: {out.stderr.decode(errors='replace').strip()}")
        text = out.stdout.decode("utf-8", "surrogateescape")
        # git names a deleted file "a/x a/x" and a new one "b/x b/x"; use the usual "a/x b/x".
        return re.sub(r"^diff --git [ab]/(.+) [ab]/\1$", r"diff --git a/\1 b/\1", text, flags=re.M)

    @staticmethod
    def _stage(rel: str, src_root: Path, dst_root: Path, *, expect: str | None) -> None:
        src, dst = src_root / rel, dst_root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        if expect is not None and _sha256(dst) != expect:
            raise ScratchError(
                f"{rel} changed in the target repository since the scratch copy was made; "
                "start again from the current state"
            )
