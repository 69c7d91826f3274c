"""CommitBuilder: a validated change becomes a patch set, and optionally lands.

Patch set: ``<repo>/.autopatches/<timestamp>-<slug>/`` with ``patch.diff`` (applies
with ``git apply``), ``scripts/NN_<op>.py`` (standalone codemods), ``spec.yaml``,
``plan.json``, ``validation.json``, ``summary.md`` and ``acceptance_test.py`` (the checks
from the issue, runnable by the user). ``apply`` touches the working
tree only after ``git apply --check``; ``commit`` puts the change on a new branch.
Both refuse, changing nothing, when a touched file has uncommitted changes
(unless forced). ``.autopatches/`` and ``.agent_data/`` are added to the repo's
``.git/info/exclude`` so they never show up as changes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PATCH_DIR = ".autopatches"
EXCLUDES = (".autopatches/", ".agent_data/")


class CommitError(RuntimeError):
    """The patch could not land; nothing in the working tree was changed."""


@dataclass(frozen=True)
class PatchSet:
    path: Path
    diff: str
    files: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.path.name


def slugify(text: str, limit: int = 40) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:limit].strip("-") or "change"


def _git(
    repo: Path,
    *args: str,
    check: bool = True,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, input=stdin, env=env
    )
    if check and proc.returncode != 0:
        raise CommitError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()[:500]}")
    return proc


def is_git_repo(repo: Path) -> bool:
    return _git(repo, "rev-parse", "--is-inside-work-tree", check=False).returncode == 0


def ensure_excluded(repo: Path) -> None:
    """Keep autopatch's own folders out of ``git status`` (via .git/info/exclude)."""
    if not is_git_repo(repo):
        return
    git_dir = Path(_git(repo, "rev-parse", "--git-dir").stdout.strip())
    exclude = (git_dir if git_dir.is_absolute() else repo / git_dir) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    current = exclude.read_text() if exclude.exists() else ""
    missing = [e for e in EXCLUDES if e not in current.split()]
    if missing:
        with exclude.open("a") as fh:
            fh.write(
                ("" if current.endswith("\n") or not current else "\n") + "\n".join(missing) + "\n"
            )


def dirty_files(repo: Path, files: Sequence[str]) -> list[str]:
    """Touched files with uncommitted changes (staged, unstaged or untracked)."""
    if not is_git_repo(repo) or not files:
        return []
    out = _git(repo, "status", "--porcelain", "--", *files).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def _private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (patch sets hold source and issue text)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class CommitBuilder:
    """Writes patch sets and lands them with ``git apply`` or a branch commit."""

    def __init__(self, repo: str | Path) -> None:
        self.repo = Path(repo).resolve()

    def build(
        self,
        *,
        slug: str,
        diff: str,
        files: Sequence[str],
        scripts: Mapping[str, str],
        spec_yaml: str,
        plan: Mapping[str, Any],
        validation: Mapping[str, Any],
        summary: str,
        extra: Mapping[str, str] | None = None,
    ) -> PatchSet:
        """Write the patch set folder (staged in a temp dir, then renamed into place).

        ``extra``: more files of the patch set by name (``acceptance_test.py``).
        """
        root = self.repo / PATCH_DIR
        root.mkdir(exist_ok=True, mode=0o700)
        ensure_excluded(self.repo)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(slug)}"
        final = root / name
        n = 1
        while final.exists():
            n += 1
            final = root / f"{name}-{n}"
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))  # mode 0700
        try:
            (staging / "scripts").mkdir(mode=0o700)
            # the diff holds the sources' own bytes (latin-1 ones as surrogate escapes)
            _private(staging / "patch.diff", diff.encode("utf-8", "surrogateescape"))
            for fname, text in scripts.items():
                _private(staging / "scripts" / fname, text.encode("utf-8", "surrogateescape"))
            _private(staging / "spec.yaml", spec_yaml.encode("utf-8", "surrogateescape"))
            _private(staging / "plan.json", (json.dumps(plan, indent=2) + "\n").encode())
            _private(
                staging / "validation.json", (json.dumps(validation, indent=2) + "\n").encode()
            )
            _private(staging / "summary.md", summary.encode("utf-8", "surrogateescape"))
            for fname, text in (extra or {}).items():
                _private(staging / Path(fname).name, text.encode("utf-8", "surrogateescape"))
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return PatchSet(final, diff, tuple(files))

    def check_clean(self, files: Sequence[str], *, force: bool) -> None:
        dirty = dirty_files(self.repo, files)
        if dirty and not force:
            raise CommitError(
                f"refusing to touch files with uncommitted changes: {', '.join(dirty)}; "
                "commit or stash them, or pass --force"
            )

    def apply(self, patch: PatchSet, *, force: bool = False) -> None:
        """Apply to the working tree, only if ``git apply --check`` accepts the whole patch."""
        self.check_clean(patch.files, force=force)
        diff_file = str(patch.path / "patch.diff")
        if is_git_repo(self.repo):
            _git(self.repo, "apply", "--check", diff_file)
            _git(self.repo, "apply", diff_file)
            return
        check = subprocess.run(
            ["git", "apply", "--check", diff_file], cwd=self.repo, capture_output=True, text=True
        )
        if check.returncode != 0:
            raise CommitError(f"the patch does not apply: {check.stderr.strip()[:500]}")
        subprocess.run(["git", "apply", diff_file], cwd=self.repo, check=True, capture_output=True)

    def commit(self, patch: PatchSet, *, message: str, branch: str, force: bool = False) -> str:
        """Commit exactly the patch on a new ``branch`` from HEAD and switch to it.

        The commit is built in a temporary index (``git apply --cached``), so whatever the
        user has staged stays staged and out of autopatch's commit; then HEAD moves to the
        new branch, the patch's paths in the index follow it, and the working tree gets
        the patch. Returns the commit sha.
        """
        if not is_git_repo(self.repo):
            raise CommitError(
                f"{self.repo} is not a git repository; use --apply instead of --commit"
            )
        check_branch(self.repo, branch)
        self.check_clean(patch.files, force=force)
        if (
            _git(
                self.repo, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False
            ).returncode
            == 0
        ):
            raise CommitError(f"branch {branch!r} already exists; pick another name with --branch")
        diff_file = str(patch.path / "patch.diff")
        _git(self.repo, "apply", "--check", diff_file)
        head = _git(self.repo, "rev-parse", "--verify", "HEAD").stdout.strip()
        sha = self._commit_tree(diff_file, head, message)
        _git(self.repo, "branch", branch, sha)
        try:
            _git(self.repo, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
            _git(self.repo, "reset", "-q", "--", *patch.files)  # index entries follow HEAD
            _git(self.repo, "apply", diff_file)
        except CommitError as exc:
            _git(
                self.repo,
                "checkout",
                "-q",
                "--",
                *[f for f in patch.files if (self.repo / f).exists()],
                check=False,
            )
            raise CommitError(
                f"committed {sha[:10]} on {branch}, but updating the work tree failed: {exc}"
            ) from None
        return sha

    def _commit_tree(self, diff_file: str, head: str, message: str) -> str:
        """A commit of HEAD plus the patch, made in a temporary index (the real one untouched)."""
        git_dir = Path(_git(self.repo, "rev-parse", "--absolute-git-dir").stdout.strip())
        fd, index = tempfile.mkstemp(dir=git_dir, prefix="autopatch-index-")
        os.close(fd)
        env = {
            **os.environ,
            "GIT_INDEX_FILE": index,
            "GIT_AUTHOR_NAME": "autopatch",
            "GIT_AUTHOR_EMAIL": "autopatch@localhost",
            "GIT_COMMITTER_NAME": "autopatch",
            "GIT_COMMITTER_EMAIL": "autopatch@localhost",
        }
        try:
            _git(self.repo, "read-tree", head, env=env)
            _git(self.repo, "apply", "--cached", diff_file, env=env)
            tree = _git(self.repo, "write-tree", env=env).stdout.strip()
            return _git(
                self.repo, "commit-tree", tree, "-p", head, stdin=message, env=env
            ).stdout.strip()
        finally:
            os.unlink(index)


def check_branch(repo: Path, branch: str) -> None:
    """Raise ``CommitError`` unless git accepts ``branch`` as a branch name."""
    ok = _git(repo, "check-ref-format", "--branch", branch, check=False).returncode == 0
    if not ok or branch.startswith("-"):
        raise CommitError(
            f"--branch {branch!r} is not a valid git branch name (no spaces, '..', '~', '^', "
            "':', '?', '*', '[' or a leading '-'); pick another name"
        )
