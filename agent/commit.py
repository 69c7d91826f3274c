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
    repo: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, input=stdin
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
        root.mkdir(exist_ok=True)
        ensure_excluded(self.repo)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(slug)}"
        final = root / name
        n = 1
        while final.exists():
            n += 1
            final = root / f"{name}-{n}"
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
        (staging / "scripts").mkdir()
        (staging / "patch.diff").write_text(diff, encoding="utf-8")
        for fname, text in scripts.items():
            (staging / "scripts" / fname).write_text(text, encoding="utf-8")
        (staging / "spec.yaml").write_text(spec_yaml, encoding="utf-8")
        (staging / "plan.json").write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
        (staging / "validation.json").write_text(
            json.dumps(validation, indent=2) + "\n", encoding="utf-8"
        )
        (staging / "summary.md").write_text(summary, encoding="utf-8")
        for fname, text in (extra or {}).items():
            (staging / Path(fname).name).write_text(text, encoding="utf-8")
        os.replace(staging, final)
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
        """Create ``branch`` from HEAD, apply and commit there; return the commit sha."""
        import git  # gitpython

        if not is_git_repo(self.repo):
            raise CommitError(
                f"{self.repo} is not a git repository; use --apply instead of --commit"
            )
        self.check_clean(patch.files, force=force)
        repo = git.Repo(self.repo)
        if branch in repo.heads:
            raise CommitError(f"branch {branch!r} already exists; pick another name with --branch")
        _git(self.repo, "apply", "--check", str(patch.path / "patch.diff"))
        previous = repo.active_branch.name if not repo.head.is_detached else repo.head.commit.hexsha
        repo.git.checkout("-b", branch)
        try:
            repo.git.apply(str(patch.path / "patch.diff"))
            repo.index.add([f for f in patch.files if (self.repo / f).exists()])
            removed = [f for f in patch.files if not (self.repo / f).exists()]
            if removed:
                repo.index.remove(removed)
            author = git.Actor("autopatch", "autopatch@localhost")
            sha = repo.index.commit(message, author=author, committer=author).hexsha
        except Exception as exc:
            repo.git.checkout("--", *[f for f in patch.files if (self.repo / f).exists()])
            repo.git.checkout(previous)
            repo.git.branch("-D", branch)
            raise CommitError(f"commit failed, nothing changed: {exc}") from None
        return str(sha)
