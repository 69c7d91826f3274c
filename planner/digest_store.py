"""The digest cache on disk and the lazily decoded table of file digests.

``digest.json`` holds, per file path, a small summary (sha256, module, counts,
parse error) and the file's ``FileDigest`` as two JSON strings (definitions, rest). Keeping each file's
digest as an opaque string makes a warm build cheap: loading the cache parses
only the summaries, and saving it copies the strings of unchanged files as they
are. ``FileTable`` decodes a file's digest the first time it is looked at.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeGuard

from planner.digest_types import Definition, FileDigest, definitions_from_rows

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # 2: annotated parameters bind to their class
Entry = dict[str, Any]


def make_entry(digest: FileDigest) -> Entry:
    """The cache entry of one file: its summary, its definitions and the rest, encoded.

    Definitions are encoded apart so that name lookups need not decode references.
    """
    data = digest.to_dict()
    definitions = data.pop("definitions")
    return {
        "sha256": digest.sha256,
        "module": digest.module,
        "definitions": len(digest.definitions),
        "references": len(digest.references),
        "kinds": dict(Counter(d.kind for d in digest.definitions)),
        "parse_error": digest.parse_error,
        "defs": json.dumps(definitions, separators=(",", ":")),
        "digest": json.dumps(data, separators=(",", ":")),
    }


def entry_is_valid(entry: Any) -> TypeGuard[Entry]:
    """Whether a cache entry has the fields a warm build relies on."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("module"), str)
        and isinstance(entry.get("digest"), str)
        and isinstance(entry.get("defs"), str)
        and isinstance(entry.get("definitions"), int)
        and isinstance(entry.get("references"), int)
        and isinstance(entry.get("kinds"), dict)
    )


class FileTable(Mapping[str, FileDigest]):
    """``path → FileDigest`` in path order, decoding cached digests on first access."""

    def __init__(
        self, entries: Mapping[str, Entry], decoded: Mapping[str, FileDigest] | None = None
    ) -> None:
        self._entries = {p: entries[p] for p in sorted(entries)}
        self._decoded: dict[str, FileDigest] = dict(decoded or {})
        self._definitions: dict[str, tuple[Definition, ...]] = {}

    @classmethod
    def of(cls, digests: Iterable[FileDigest]) -> FileTable:
        items = list(digests)
        return cls({d.path: make_entry(d) for d in items}, {d.path: d for d in items})

    def __getitem__(self, path: str) -> FileDigest:
        found = self._decoded.get(path)
        if found is None:
            entry = self._entries[path]
            try:
                data = json.loads(entry["digest"])
                data["definitions"] = []
                definitions = self.definitions(path)
                if path in self._decoded:  # its definitions were damaged
                    return self._decoded[path]
                found = replace(FileDigest.from_dict(data), definitions=definitions)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                found = self._damaged(path, exc)
            self._decoded[path] = found
        return found

    def definitions(self, path: str) -> tuple[Definition, ...]:
        """One file's definitions, decoding only those if the file is not decoded yet."""
        found = self._decoded.get(path)
        if found is not None:
            return found.definitions
        if path not in self._definitions:
            entry = self._entries[path]
            try:
                rows = json.loads(entry["defs"])
                defs = definitions_from_rows(rows, entry["module"], path)
            except (ValueError, KeyError, TypeError) as exc:
                self._decoded[path] = self._damaged(path, exc)
                return ()
            self._definitions[path] = defs
        return self._definitions[path]

    def _damaged(self, path: str, exc: Exception) -> FileDigest:
        log.warning("cached digest of %s is damaged (%s); delete the index", path, exc)
        entry = self._entries[path]
        return FileDigest(
            path=path,
            module=entry["module"],
            sha256=entry["sha256"],
            parse_error=f"cached digest damaged ({exc}); rebuild the index",
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def entry(self, path: str) -> Entry:
        """The cache entry (summary + encoded digest) of one file."""
        return self._entries[path]

    def entries(self) -> dict[str, Entry]:
        return dict(self._entries)

    def sha256_of(self, path: str) -> str:
        """A file's content hash, without decoding its digest."""
        return str(self._entries[path]["sha256"])

    def module_of(self, path: str) -> str:
        """A file's module name, without decoding its digest."""
        return str(self._entries[path]["module"])

    def summary(self) -> dict[str, Any]:
        """Counts over all files, from the summaries only (no decoding)."""
        kinds: Counter[str] = Counter()
        for entry in self._entries.values():
            kinds.update(entry["kinds"])
        return {
            "definitions": sum(e["definitions"] for e in self._entries.values()),
            "references": sum(e["references"] for e in self._entries.values()),
            "definitions_by_kind": dict(sorted(kinds.items())),
            "parse_errors": sorted(p for p, e in self._entries.items() if e.get("parse_error")),
        }


def read_cache(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(cache contents or None, status); a bad or old cache yields None and an INFO line."""
    if not path.exists():
        return None, "fresh"
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        version = data.get("cache_version")
        if version != CACHE_VERSION:
            log.info(
                "digest cache %s has version %r, this autopatch writes %d; rebuilding from scratch",
                path,
                version,
                CACHE_VERSION,
            )
            return None, f"rebuilt (cache version {version!r})"
        if not isinstance(data.get("files"), dict):
            raise ValueError("'files' is not an object")
        if data.get("embeddings") is not None and not isinstance(data["embeddings"], dict):
            raise ValueError("'embeddings' is not an object")
    except (OSError, ValueError) as exc:
        log.info("digest cache %s is unreadable (%s); rebuilding from scratch", path, exc)
        return None, "rebuilt (corrupt cache)"
    return data, "loaded"


def write_cache(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON, atomically (fsynced temp file + rename)."""
    atomic_write(path, json.dumps(payload, separators=(",", ":")).encode())


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a fsynced temp file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
