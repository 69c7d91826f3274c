"""The target repository as a command sees it: the issue text, and the digest built (or
refreshed) under the data dir with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import AppConfig
from agent.ui import console
from cores import embedded

if TYPE_CHECKING:
    from planner.digest import RepositoryDigest


def read_issue(text: str | None, issue_file: str | None = None) -> str:
    """The issue text: from ``issue_file`` when given, else ``text`` (``-`` reads standard input)."""
    if issue_file:
        path = Path(issue_file)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read issue file {path}: {exc}") from None
    if text == "-":
        return sys.stdin.read()
    return str(text or "")


def build_digest(config: AppConfig, *, embed: bool = False) -> RepositoryDigest:
    """Build or refresh the digest in ``<data dir>/index``, with a progress bar on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from agent.land.builder import ensure_excluded
    from planner.digest import RepositoryDigest

    if config.data_dir.resolve().is_relative_to(config.repo.resolve()):
        ensure_excluded(config.repo)  # keep .agent_data/ out of `git status`
    embedder = None
    if embed:
        from cores.embedder import SentenceTransformerEmbedder

        with console(stderr=True).status(f"loading embedding model {config.embedder.model}"):
            embedder = SentenceTransformerEmbedder(embedded.locate(config.embedder.model))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeElapsedColumn(), console=console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("reading files", total=None)
        return RepositoryDigest.build(
            config.repo,
            config.data_dir / "index",
            embedder=embedder,
            progress=lambda done, total, what: bar.update(
                task, description=what, completed=done, total=total
            ),
            batch_size=config.embedder.batch_size,
        )
