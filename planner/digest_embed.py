"""Embeddings of a digest's definitions, kept in a ``cores.vector_index.VectorIndex``.

One chunk per definition: its qualname, signature, first docstring line and up
to ``CHUNK_LINES`` lines of its source. Updates are incremental: an ``EmbedState``
remembers which file content (SHA256) each path's chunks came from, so only new
or changed files are embedded and the chunks of changed or deleted files are
dropped. A different embedding model, or a missing / damaged index, starts the
index over. faiss is imported only when embeddings are asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.digest_types import Definition

if TYPE_CHECKING:
    from cores.protocols import Embedder
    from planner.digest_store import FileTable

log = logging.getLogger(__name__)

CHUNK_LINES = 15
CALLS_PER_STEP = 4  # model batches per embed() call / progress step
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class EmbedState:
    """Which model made the vectors, and the content hash each file was embedded from."""

    model_id: str
    dim: int
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256

    def to_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "dim": self.dim, "files": dict(self.files)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbedState:
        return cls(str(data["model_id"]), int(data["dim"]), dict(data.get("files", {})))


def chunk_text(definition: Definition, lines: list[str]) -> str:
    """The text embedded for one definition."""
    doc = (definition.docstring or "").strip().split("\n", 1)[0]
    start = definition.line - 1
    stop = min(definition.end_line, start + CHUNK_LINES)
    return "\n".join([definition.qualname, definition.signature, doc, *lines[start:stop]])


def chunks_for(
    definitions: Sequence[Definition], text: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """(texts, records) for the definitions of one file, given its source text."""
    lines = text.splitlines()
    texts = [chunk_text(d, lines) for d in definitions]
    records = [
        {"path": d.path, "qualname": d.qualname, "line": d.line, "end_line": d.end_line}
        for d in definitions
    ]
    return texts, records


def update_embeddings(
    files: FileTable,
    texts: Mapping[str, str],
    state: EmbedState | None,
    embedder: Embedder,
    folder: Path,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> tuple[EmbedState, int, int]:
    """Bring the index in ``folder`` up to date; return (state, chunks added, chunks removed)."""
    from cores.vector_index import IndexCorruptError, VectorIndex

    index: VectorIndex | None = None
    if state is not None and (state.model_id, state.dim) == (embedder.model_id, embedder.dimension):
        try:
            index = VectorIndex.load(folder)
        except IndexCorruptError as exc:
            log.info("rebuilding the vector index: %s", exc)
    elif state is not None:
        log.info(
            "embedding model changed (%s → %s); re-embedding", state.model_id, embedder.model_id
        )
    if index is None or index.dim != embedder.dimension:
        index = VectorIndex(embedder.dimension)
        state = None
    done = dict(state.files) if state else {}

    current = {p: files.sha256_of(p) for p in files}  # no decoding of file digests
    stale = {p for p, sha in done.items() if current.get(p) != sha}
    todo = sorted(p for p, sha in current.items() if done.get(p) != sha and p in texts)
    dropping = stale | set(todo)
    removed = index.remove_where(lambda r: r.get("path") in dropping) if dropping else 0
    for path in stale:
        done.pop(path, None)

    chunk_texts: list[str] = []
    records: list[dict[str, Any]] = []
    for path in todo:
        more_texts, more_records = chunks_for(files.definitions(path), texts[path])
        chunk_texts.extend(more_texts)
        records.extend(more_records)
    step = batch_size * CALLS_PER_STEP  # the model sorts each call's texts by length
    for start in range(0, len(chunk_texts), step):
        batch = chunk_texts[start : start + step]
        vectors = embedder.embed(batch, batch_size=batch_size)
        index.add(vectors, records[start : start + step])
        if progress is not None:
            progress(start + len(batch), len(chunk_texts), "embedding")
    for path in todo:
        done[path] = current[path]
    if todo or removed or state is None:
        index.save(folder)
    log.info(
        "embeddings: %d chunks added, %d removed, %d in the index",
        len(records),
        removed,
        len(index),
    )
    return EmbedState(embedder.model_id, embedder.dimension, done), len(records), removed
