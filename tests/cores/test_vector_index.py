"""VectorIndex: flat and HNSW search, id → record mapping, removal, persistence."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from cores.errors import CoreError
from cores.vector_index import Hit, IndexCorruptError, VectorIndex

DIM = 32


def unit_rows(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def records_for(n: int, start: int = 0) -> list[dict]:
    return [{"path": f"pkg/mod{(start + i) % 7}.py", "chunk": start + i} for i in range(n)]


def filled(n: int, *, threshold: int = 20_000, seed: int = 0) -> VectorIndex:
    index = VectorIndex(DIM, hnsw_threshold=threshold)
    index.add(unit_rows(n, seed), records_for(n))
    return index


def test_flat_search_returns_exact_neighbours_with_records() -> None:
    vectors = unit_rows(50)
    index = VectorIndex(DIM)
    ids = index.add(vectors, records_for(50))
    assert index.kind == "flat"
    assert len(index) == 50 and ids == list(range(50))

    results = index.search(vectors[[3, 17]], k=5)
    assert len(results) == 2
    top = results[0][0]
    assert isinstance(top, Hit)
    assert top.id == 3 and top.record == {"path": "pkg/mod3.py", "chunk": 3}
    assert top.score == pytest.approx(1.0, abs=1e-5)
    assert results[1][0].id == 17
    brute = np.argsort(-(vectors @ vectors[3]))[:5]
    assert [h.id for h in results[0]] == brute.tolist()
    assert [h.score for h in results[0]] == sorted((h.score for h in results[0]), reverse=True)


def test_vectors_are_normalised_and_k_is_clipped() -> None:
    index = VectorIndex(3)
    index.add(np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.5]]), [{"a": 1}, {"b": 2}])
    hits = index.search(np.array([10.0, 0.0, 0.0]), k=10)[0]
    assert [h.id for h in hits] == [0, 1]
    assert hits[0].score == pytest.approx(1.0) and hits[1].score == pytest.approx(0.0)


def test_empty_index_and_bad_shapes() -> None:
    index = VectorIndex(DIM)
    assert index.search(unit_rows(2), k=3) == [[], []]
    with pytest.raises(ValueError):
        index.add(unit_rows(2, dim=DIM + 1), records_for(2))
    with pytest.raises(ValueError):
        index.add(unit_rows(2), records_for(3))
    with pytest.raises(TypeError):
        index.add(unit_rows(1), [{"not json": object()}])
    assert len(index) == 0


def test_hnsw_above_threshold_has_high_recall_against_flat() -> None:
    flat = filled(500)
    hnsw = filled(500, threshold=100)
    assert flat.kind == "flat" and hnsw.kind == "hnsw"
    queries = unit_rows(40, seed=1)
    exact = flat.search(queries, k=10)
    approx = hnsw.search(queries, k=10)
    found = sum(
        len({h.id for h in a} & {h.id for h in e}) for a, e in zip(approx, exact, strict=True)
    )
    assert found / (40 * 10) >= 0.9
    assert approx[0][0].record == flat.record(approx[0][0].id)


def test_crossing_the_threshold_switches_kind_both_ways() -> None:
    index = VectorIndex(DIM, hnsw_threshold=100)
    index.add(unit_rows(60), records_for(60))
    assert index.kind == "flat"
    index.add(unit_rows(60, seed=2), records_for(60, start=60))
    assert index.kind == "hnsw" and len(index) == 120
    index.remove(range(50))
    assert index.kind == "flat" and len(index) == 70


def test_remove_and_remove_where() -> None:
    vectors = unit_rows(30)
    index = VectorIndex(DIM)
    index.add(vectors, records_for(30))
    assert index.remove([4, 5, 999]) == 2
    assert 4 not in index and 6 in index and len(index) == 28
    assert index.search(vectors[4], k=1)[0][0].id != 4
    assert index.search(vectors[6], k=1)[0][0].id == 6

    removed = index.remove_where(lambda r: r["path"] == "pkg/mod0.py")
    assert removed == 5  # chunks 0, 7, 14, 21, 28
    assert all(index.record(i)["path"] != "pkg/mod0.py" for i in index.ids)
    assert index.remove_where(lambda r: False) == 0

    new_ids = index.add(unit_rows(2, seed=5), records_for(2))
    assert new_ids == [30, 31]  # ids are never reused


@pytest.mark.parametrize("threshold", [20_000, 100])
def test_save_load_round_trip(tmp_path, threshold: int) -> None:
    index = filled(300, threshold=threshold)
    index.remove([0, 1, 2])
    queries = unit_rows(5, seed=3)
    before = index.search(queries, k=5)
    index.save(tmp_path / "idx")
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == ["index.faiss", "records.json"]

    loaded = VectorIndex.load(tmp_path / "idx")
    assert loaded.kind == index.kind and len(loaded) == 297
    assert loaded.ids == index.ids and loaded.hnsw_threshold == threshold
    after = loaded.search(queries, k=5)
    assert [[h.id for h in r] for r in after] == [[h.id for h in r] for r in before]
    assert after[0][0].record == before[0][0].record
    assert loaded.add(unit_rows(1, seed=9), [{"x": 1}]) == [300]
    assert loaded.remove([3]) == 1


def test_missing_index_is_reported(tmp_path) -> None:
    with pytest.raises(IndexCorruptError, match="missing"):
        VectorIndex.load(tmp_path / "nowhere")
    assert issubclass(IndexCorruptError, CoreError)


def test_corrupt_files_are_reported(tmp_path) -> None:
    folder = tmp_path / "idx"
    filled(20).save(folder)
    data = bytearray((folder / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="corrupt"):
        VectorIndex.load(folder)

    filled(20).save(folder)
    (folder / "index.faiss").write_bytes(b"not a faiss index")
    meta = json.loads((folder / "records.json").read_text())
    meta["index_sha256"] = hashlib.sha256(b"not a faiss index").hexdigest()
    (folder / "records.json").write_text(json.dumps(meta))
    with pytest.raises(IndexCorruptError, match="corrupt"):
        VectorIndex.load(folder)

    filled(20).save(folder)
    (folder / "records.json").write_text("{truncated")
    with pytest.raises(IndexCorruptError, match="corrupt"):
        VectorIndex.load(folder)
