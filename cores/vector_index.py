"""A faiss vector index over unit vectors, mapping integer ids back to caller records.

Similarity is the inner product of L2-normalised vectors (cosine). Small indexes
are exact (``IndexFlatIP``); from ``hnsw_threshold`` vectors on, the index is an
``IndexHNSWFlat`` (M=32, efSearch 64). The index keeps a copy of its vectors so it
can switch kind and drop entries by rebuilding. On disk it is two files in one
folder: ``index.faiss`` and ``records.json`` (ids, records and the index file's
checksum), each written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from cores.errors import CoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
INDEX_FILE = "index.faiss"
RECORDS_FILE = "records.json"
HNSW_M = 32
HNSW_EF_SEARCH = 64

Record = dict[str, Any]


class IndexCorruptError(CoreError):
    """A saved vector index is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Hit:
    """One search result: the record's id, its cosine similarity and the record."""

    id: int
    score: float
    record: Record


def _as_matrix(vectors: Any, dim: int) -> np.ndarray:
    """A C-contiguous float32 (n, dim) copy with unit-length rows (zero rows stay zero)."""
    matrix = np.array(vectors, dtype=np.float32, copy=True)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return np.ascontiguousarray(matrix)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a fsynced temp file in the same folder + rename."""
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


class VectorIndex:
    """Nearest-neighbour search over unit vectors, each tied to a JSON-serialisable record."""

    def __init__(self, dim: int, *, hnsw_threshold: int = 20_000) -> None:
        if dim < 1 or hnsw_threshold < 1:
            raise ValueError("dim and hnsw_threshold must be >= 1")
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._ids: list[int] = []  # row i of the faiss index <-> self._ids[i]
        self._records: dict[int, Record] = {}
        self._next_id = 0
        self._index: Any = self._new_index(0)

    @property
    def kind(self) -> str:
        """``"flat"`` or ``"hnsw"``: the faiss index type currently in use."""
        return "hnsw" if isinstance(self._index, faiss.IndexHNSWFlat) else "flat"

    @property
    def ids(self) -> list[int]:
        """The ids currently in the index, in insertion order."""
        return list(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._records

    def record(self, item_id: int) -> Record:
        """The record stored under ``item_id`` (KeyError if absent)."""
        return self._records[item_id]

    def add(self, vectors: Any, records: Sequence[Mapping[str, Any]]) -> list[int]:
        """Add one record per vector row; return the new ids (never reused)."""
        matrix = _as_matrix(vectors, self.dim)
        if len(matrix) != len(records):
            raise ValueError(f"{len(matrix)} vectors but {len(records)} records")
        copies = [json.loads(json.dumps(dict(r))) for r in records]  # fails early if not JSON
        new_ids = list(range(self._next_id, self._next_id + len(copies)))
        self._next_id += len(copies)
        self._ids.extend(new_ids)
        self._records.update(zip(new_ids, copies, strict=True))
        self._vectors = np.concatenate([self._vectors, matrix])
        if self._wants_hnsw(len(self._ids)) and self.kind == "flat":
            self._rebuild()
        else:
            self._index.add(matrix)
        return new_ids

    def remove(self, ids: Iterable[int]) -> int:
        """Drop the given ids (unknown ids are ignored); return how many were removed."""
        drop = set(ids) & self._records.keys()
        if not drop:
            return 0
        keep = np.array([i not in drop for i in self._ids], dtype=bool)
        self._vectors = self._vectors[keep]
        self._ids = [i for i in self._ids if i not in drop]
        for item_id in drop:
            del self._records[item_id]
        self._rebuild()
        return len(drop)

    def remove_where(self, predicate: Callable[[Record], bool]) -> int:
        """Drop every entry whose record satisfies ``predicate``; return how many."""
        return self.remove([i for i in self._ids if predicate(self._records[i])])

    def search(self, query_vectors: Any, k: int) -> list[list[Hit]]:
        """The ``k`` most similar entries for each query row, best first."""
        if k < 1:
            raise ValueError("k must be >= 1")
        queries = _as_matrix(query_vectors, self.dim)
        if not self._ids:
            return [[] for _ in range(len(queries))]
        scores, rows = self._index.search(queries, min(k, len(self._ids)))
        results: list[list[Hit]] = []
        for score_row, index_row in zip(scores, rows, strict=True):
            hits = []
            for score, row in zip(score_row, index_row, strict=True):
                if row < 0:  # HNSW may return fewer than k
                    continue
                item_id = self._ids[int(row)]
                hits.append(Hit(item_id, float(score), self._records[item_id]))
            results.append(hits)
        return results

    def save(self, folder: str | Path) -> None:
        """Write ``index.faiss`` then ``records.json`` into ``folder``, each atomically."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        blob = faiss.serialize_index(self._index).tobytes()
        meta = {
            "schema_version": SCHEMA_VERSION,
            "dim": self.dim,
            "hnsw_threshold": self.hnsw_threshold,
            "next_id": self._next_id,
            "index_sha256": hashlib.sha256(blob).hexdigest(),
            "ids": self._ids,
            "records": [self._records[i] for i in self._ids],
        }
        _atomic_write(out / INDEX_FILE, blob)
        _atomic_write(out / RECORDS_FILE, json.dumps(meta).encode())
        log.debug("saved %d vectors (%s) to %s", len(self), self.kind, out)

    @classmethod
    def load(cls, folder: str | Path) -> VectorIndex:
        """Read an index written by ``save``; ``IndexCorruptError`` if it is missing or bad."""
        src = Path(folder)
        hint = "delete it and build the index again"
        for name in (INDEX_FILE, RECORDS_FILE):
            if not (src / name).is_file():
                raise IndexCorruptError(
                    f"vector index {src} is incomplete ({name} missing); {hint}"
                )
        try:
            blob = (src / INDEX_FILE).read_bytes()
            meta = json.loads((src / RECORDS_FILE).read_text(encoding="utf-8"))
            if meta.get("schema_version") != SCHEMA_VERSION:
                raise ValueError(f"schema_version {meta.get('schema_version')!r}")
            if hashlib.sha256(blob).hexdigest() != meta["index_sha256"]:
                raise ValueError(f"{INDEX_FILE} does not match {RECORDS_FILE}")
            index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
            ids = [int(i) for i in meta["ids"]]
            if index.ntotal != len(ids) or index.d != int(meta["dim"]):
                raise ValueError("index size or dimension disagrees with the records")
            loaded = cls(int(meta["dim"]), hnsw_threshold=int(meta["hnsw_threshold"]))
            loaded._vectors = index.reconstruct_n(0, index.ntotal).reshape(-1, loaded.dim)
            loaded._ids = ids
            loaded._records = dict(zip(ids, meta["records"], strict=True))
            loaded._next_id = int(meta["next_id"])
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise IndexCorruptError(f"vector index {src} is corrupt ({exc}); {hint}") from None
        loaded._index = index
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        log.debug("loaded %d vectors (%s) from %s", len(loaded), loaded.kind, src)
        return loaded

    def _wants_hnsw(self, size: int) -> bool:
        return size >= self.hnsw_threshold

    def _new_index(self, size: int) -> Any:
        if self._wants_hnsw(size):
            index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return index
        return faiss.IndexFlatIP(self.dim)

    def _rebuild(self) -> None:
        """Re-create the faiss index from the kept vectors, choosing its kind by size."""
        self._index = self._new_index(len(self._ids))
        if len(self._vectors):
            self._index.add(self._vectors)
        log.debug("rebuilt vector index: %d vectors, %s", len(self), self.kind)
