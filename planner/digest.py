"""RepositoryDigest: every definition, reference and import of a repository, cached.

``RepositoryDigest.build(repo, cache_dir)`` discovers the Python files
(``planner.files``), parses new or changed ones (``planner.digest_parse``) and
reuses the cached digest of every file whose path and SHA256 are unchanged; the
digests of deleted files are dropped. The cache is ``<cache_dir>/digest.json``
(``planner.digest_store``), written atomically; a corrupt cache or one from
another ``CACHE_VERSION`` is rebuilt from scratch. With an ``Embedder`` the
definitions are also embedded into a vector index under ``<cache_dir>/vectors``
(``planner.digest_embed``). The target repository is only ever read.

The queries (``find``, ``references_to``, graphs, ``tests_importing``, ``stats``)
live in ``planner.digest_query``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.digest_embed import EmbedState, update_embeddings
from planner.digest_parse import parse_source
from planner.digest_query import DigestQueries
from planner.digest_store import (
    CACHE_VERSION,
    FileTable,
    entry_is_valid,
    make_entry,
    read_cache,
    write_cache,
)
from planner.digest_types import Definition, FileDigest, Import, Reference, module_name
from planner.files import Discovery, Skipped, discover

if TYPE_CHECKING:
    from cores.protocols import Embedder
    from cores.vector_index import VectorIndex

log = logging.getLogger(__name__)

CACHE_FILE = "digest.json"
VECTORS_DIR = "vectors"
PARALLEL_MIN_FILES = 200
MAX_WORKERS = 8
Progress = Callable[[int, int, str], None]

__all__ = [
    "CACHE_FILE",
    "CACHE_VERSION",
    "VECTORS_DIR",
    "BuildStats",
    "Definition",
    "DigestCacheError",
    "FileDigest",
    "Import",
    "Progress",
    "Reference",
    "RepositoryDigest",
]


class DigestCacheError(ValueError):
    """No usable digest cache where one was expected; the message says what to run."""


@dataclass(frozen=True)
class BuildStats:
    """What one ``build`` did: which files it parsed, reused, dropped, embedded, and how long."""

    parsed: tuple[str, ...] = ()
    reused: int = 0
    removed: tuple[str, ...] = ()
    cache: str = "fresh"  # fresh | loaded | loaded (unchanged) | rebuilt (<why>)
    embedded_chunks: int = 0  # chunks embedded by this build
    removed_chunks: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "parsed": list(self.parsed),
            "reused": self.reused,
            "removed": list(self.removed),
            "cache": self.cache,
            "embedded_chunks": self.embedded_chunks,
            "removed_chunks": self.removed_chunks,
            "seconds": self.seconds,
            "timings": dict(self.timings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BuildStats:
        return cls(
            parsed=tuple(data.get("parsed", ())),
            reused=int(data.get("reused", 0)),
            removed=tuple(data.get("removed", ())),
            cache=str(data.get("cache", "fresh")),
            embedded_chunks=int(data.get("embedded_chunks", 0)),
            removed_chunks=int(data.get("removed_chunks", 0)),
            seconds=float(data.get("seconds", 0.0)),
            timings=dict(data.get("timings", {})),
        )


@dataclass(frozen=True)
class RepositoryDigest(DigestQueries):
    """The symbols of one repository; ``files`` maps each posix relpath to its ``FileDigest``.

    ``files`` is a read-only mapping (a ``FileTable``) that decodes cached file
    digests on first access; a plain dict passed in is wrapped.
    """

    root: str
    files: FileTable
    skipped: tuple[Skipped, ...] = ()
    build_stats: BuildStats = field(default_factory=BuildStats)
    embeddings: EmbedState | None = None
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.files, FileTable):
            object.__setattr__(self, "files", FileTable.of(dict(self.files).values()))

    @classmethod
    def build(
        cls,
        repo: str | Path,
        cache_dir: str | Path,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        batch_size: int = 64,
        max_bytes: int = 1_000_000,
        workers: int | None = None,
    ) -> RepositoryDigest:
        """Digest ``repo``, reusing ``cache_dir``'s cache for unchanged files; save the cache.

        ``progress(done, total, what)`` is called while files are parsed and chunks
        are embedded. More than ``PARALLEL_MIN_FILES`` files to parse are parsed in
        ``workers`` processes (default: one per CPU, at most ``MAX_WORKERS``).
        Only ``cache_dir`` is written.
        """
        started = time.perf_counter()
        root = Path(repo).expanduser().resolve()
        if not root.is_dir():
            raise ValueError(f"repository folder {root} does not exist")
        cache_path = Path(cache_dir) / CACHE_FILE
        timings: dict[str, float] = {}

        tick = time.perf_counter()
        found = discover(root, max_bytes=max_bytes)
        timings["discover"] = time.perf_counter() - tick

        tick = time.perf_counter()
        data, cache_status = read_cache(cache_path)
        cached: dict[str, Any] = data["files"] if data else {}
        embed_state = _embed_state(data)
        timings["load_cache"] = time.perf_counter() - tick

        tick = time.perf_counter()
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if workers is None else workers
        files, parsed = _digest_files(found, cached, progress, workers)
        removed = tuple(sorted(set(cached) - set(files)))
        timings["parse"] = time.perf_counter() - tick
        unchanged = cache_status == "loaded" and not parsed and not removed
        if unchanged:
            cache_status = "loaded (unchanged)"

        added_chunks = removed_chunks = 0
        if embedder is not None:
            tick = time.perf_counter()
            embed_state, added_chunks, removed_chunks = update_embeddings(
                files,
                {f.relpath: f.text for f in found.files},
                embed_state,
                embedder,
                Path(cache_dir) / VECTORS_DIR,
                batch_size=batch_size,
                progress=progress,
            )
            timings["embed"] = time.perf_counter() - tick

        tick = time.perf_counter()
        _save_cache(cache_path, root, files, found, embed_state, data if unchanged else None)
        timings["save"] = time.perf_counter() - tick

        stats = BuildStats(
            parsed=tuple(parsed),
            reused=len(files) - len(parsed),
            removed=removed,
            cache=cache_status,
            embedded_chunks=added_chunks,
            removed_chunks=removed_chunks,
            seconds=time.perf_counter() - started,
            timings={k: round(v, 4) for k, v in timings.items()},
        )
        _log_build(root, len(files), len(found.skipped), stats)
        return cls(str(root), files, tuple(found.skipped), stats, embed_state)

    @classmethod
    def load(cls, cache_dir: str | Path) -> RepositoryDigest:
        """The digest saved by the last ``build``, without re-parsing anything.

        Raises ``DigestCacheError`` when there is no usable cache.
        """
        path = Path(cache_dir) / CACHE_FILE
        data, status = read_cache(path)
        if data is None:
            raise DigestCacheError(
                f"no usable repository digest at {path} ({status}); run `autopatch index`"
            )
        entries = data["files"]
        bad = [p for p, e in entries.items() if not entry_is_valid(e)]
        try:
            skipped = tuple(Skipped.from_dict(s) for s in data.get("skipped", []))
            if bad:
                raise ValueError(f"damaged entries for {', '.join(bad[:3])}")
        except (KeyError, ValueError, TypeError) as exc:
            raise DigestCacheError(
                f"repository digest {path} is damaged ({exc}); run `autopatch index`"
            ) from None
        return cls(
            root=str(data.get("root", "")),
            files=FileTable(entries),
            skipped=skipped,
            build_stats=BuildStats(reused=len(entries), cache="loaded"),
            embeddings=_embed_state(data),
        )

    @staticmethod
    def load_index(cache_dir: str | Path) -> VectorIndex:
        """The definitions' vector index saved by ``build(..., embedder=...)``.

        Records are ``{path, qualname, line, end_line}``. Raises
        ``cores.vector_index.IndexCorruptError`` when it is missing or damaged.
        """
        from cores.vector_index import VectorIndex

        return VectorIndex.load(Path(cache_dir) / VECTORS_DIR)

    def to_dict(self) -> dict[str, Any]:
        """Everything, each file digest in its compact ``FileDigest.to_dict`` form."""
        return {
            "cache_version": CACHE_VERSION,
            "root": self.root,
            "files": {p: fd.to_dict() for p, fd in self.files.items()},
            "skipped": [s.to_dict() for s in self.skipped],
            "build_stats": self.build_stats.to_dict(),
            "embeddings": self.embeddings.to_dict() if self.embeddings else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RepositoryDigest:
        embeddings = data.get("embeddings")
        return cls(
            root=str(data["root"]),
            files=FileTable.of(FileDigest.from_dict(row) for row in data["files"].values()),
            skipped=tuple(Skipped.from_dict(s) for s in data.get("skipped", [])),
            build_stats=BuildStats.from_dict(data.get("build_stats", {})),
            embeddings=EmbedState.from_dict(embeddings) if embeddings else None,
        )


def strip_src(found: Discovery) -> bool:
    """A ``src/`` layout: ``src/`` holds at least one package."""
    return any(
        f.relpath.startswith("src/")
        and f.relpath.endswith("/__init__.py")
        and f.relpath.count("/") == 2
        for f in found.files
    )


def _digest_files(
    found: Discovery, cached: Mapping[str, Any], progress: Progress | None, workers: int
) -> tuple[FileTable, list[str]]:
    """Reuse the cache entry of each unchanged file, parse the rest; (table, parsed paths)."""
    src_layout = strip_src(found)
    entries: dict[str, Any] = {}
    todo: list[tuple[str, str, str, str]] = []
    for source in found.files:
        module = module_name(source.relpath, strip_src=src_layout)
        entry = cached.get(source.relpath)
        if entry_is_valid(entry) and entry["sha256"] == source.sha256 and entry["module"] == module:
            entries[source.relpath] = entry
        else:
            todo.append((source.relpath, module, source.text, source.sha256))
    fresh: dict[str, FileDigest] = {}
    parsed = _parse_in_pool(todo, workers, progress) if len(todo) >= PARALLEL_MIN_FILES else None
    if parsed is not None:
        entries.update(parsed)
    else:
        for done, job in enumerate(todo, 1):
            digest = parse_source(*job)
            fresh[digest.path] = digest
            entries[digest.path] = make_entry(digest)
            if progress is not None:
                progress(done, len(todo), "parsing")
    return FileTable(entries, fresh), [job[0] for job in todo]


def _parse_entry(job: tuple[str, str, str, str]) -> tuple[str, dict[str, Any]]:
    """Worker: parse one file and return its cache entry."""
    return job[0], make_entry(parse_source(*job))


def _parse_in_pool(
    todo: list[tuple[str, str, str, str]], workers: int, progress: Progress | None
) -> dict[str, Any] | None:
    """Parse in worker processes; None when only one worker is wanted or the pool fails.

    Workers are forked (spawn would re-run the caller's ``__main__``); they only
    run ``ast`` and ``json``, so a parent holding native thread pools is no risk.
    """
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    results: dict[str, Any] = {}
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            chunk = max(1, min(32, len(todo) // (workers * 8)))
            for done, (path, entry) in enumerate(pool.map(_parse_entry, todo, chunksize=chunk), 1):
                results[path] = entry
                if progress is not None:
                    progress(done, len(todo), "parsing")
    except (OSError, BrokenProcessPool) as exc:
        log.info("parallel parsing unavailable (%s); parsing in this process", exc)
        return None
    return results


def _embed_state(data: Mapping[str, Any] | None) -> EmbedState | None:
    raw = data.get("embeddings") if data else None
    if not raw:
        return None
    try:
        return EmbedState.from_dict(raw)
    except (KeyError, ValueError, TypeError) as exc:
        log.info("embedding state in the digest cache is damaged (%s); re-embedding", exc)
        return None


def _save_cache(
    cache_path: Path,
    root: Path,
    files: FileTable,
    found: Discovery,
    embed_state: EmbedState | None,
    unchanged_from: Mapping[str, Any] | None,
) -> None:
    """Write the cache, unless it holds this very digest already (``unchanged_from``: the
    cache read, when no file changed)."""
    skipped_rows = [s.to_dict() for s in found.skipped]
    embed_row = embed_state.to_dict() if embed_state else None
    if (
        unchanged_from is not None
        and unchanged_from.get("skipped") == skipped_rows
        and unchanged_from.get("embeddings") == embed_row
    ):
        return
    payload = {
        "cache_version": CACHE_VERSION,
        "root": str(root),
        "files": files.entries(),
        "skipped": skipped_rows,
        "embeddings": embed_row,
    }
    write_cache(cache_path, payload)


def _log_build(root: Path, files: int, skipped: int, stats: BuildStats) -> None:
    log.info(
        "digest of %s: %d files (%d parsed, %d reused, %d removed, %d skipped) in %.2fs",
        root,
        files,
        len(stats.parsed),
        stats.reused,
        len(stats.removed),
        skipped,
        stats.seconds,
    )
