"""Embeddings of the digest with the real MiniLM: built, searched, updated incrementally."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cores.embedder import SentenceTransformerEmbedder
from planner.digest import RepositoryDigest
from planner.digest_embed import chunk_text

pytestmark = pytest.mark.slow

FILES = {
    "shop/cart.py": '''"""Shopping cart."""


def total_price(items, tax_rate=0.2):
    """Sum the prices of the items and add tax."""
    return sum(i.price for i in items) * (1 + tax_rate)


class Cart:
    """Items a customer wants to buy."""

    def add(self, item):
        self.items.append(item)
''',
    "shop/mail.py": '''def send_receipt(address, body):
    """Email the receipt to the customer."""
    return (address, body)
''',
}


@pytest.fixture(scope="module")
def embedder(minilm_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm_dir)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / "repo" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "repo" / rel).write_text(text)
    return tmp_path / "repo"


def search(cache: Path, embedder: SentenceTransformerEmbedder, query: str) -> str:
    index = RepositoryDigest.load_index(cache)
    return str(index.search(embedder.embed([query]), 1)[0][0].record["qualname"])


def test_every_definition_is_embedded_and_searchable(
    repo: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    cache = tmp_path / "index"
    seen: list[tuple[int, int, str]] = []
    digest = RepositoryDigest.build(
        repo, cache, embedder=embedder, progress=lambda *a: seen.append(a)
    )
    n = digest.stats()["definitions"]
    assert digest.build_stats.embedded_chunks == n == 4
    assert (n, n, "embedding") in seen
    index = RepositoryDigest.load_index(cache)
    assert len(index) == n
    assert {index.record(i)["qualname"] for i in index.ids} == {
        d.qualname for d in digest.definitions()
    }
    record = next(index.record(i) for i in index.ids if index.record(i)["qualname"].endswith("add"))
    assert record == {
        "path": "shop/cart.py",
        "qualname": "shop.cart.Cart.add",
        "line": 12,
        "end_line": 13,
    }
    assert search(cache, embedder, "email a receipt to a customer") == "shop.mail.send_receipt"
    assert search(cache, embedder, "compute the price including tax") == "shop.cart.total_price"


def test_embeddings_are_updated_incrementally(
    repo: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    cache = tmp_path / "index"
    RepositoryDigest.build(repo, cache, embedder=embedder)
    unchanged = RepositoryDigest.build(repo, cache, embedder=embedder)
    assert (unchanged.build_stats.embedded_chunks, unchanged.build_stats.removed_chunks) == (0, 0)

    (repo / "shop" / "mail.py").write_text(
        FILES["shop/mail.py"] + '\n\ndef send_invoice(address):\n    """Mail an invoice."""\n'
    )
    changed = RepositoryDigest.build(repo, cache, embedder=embedder)
    assert (changed.build_stats.embedded_chunks, changed.build_stats.removed_chunks) == (2, 1)
    assert len(RepositoryDigest.load_index(cache)) == 5

    (repo / "shop" / "cart.py").unlink()
    dropped = RepositoryDigest.build(repo, cache, embedder=embedder)
    assert (dropped.build_stats.embedded_chunks, dropped.build_stats.removed_chunks) == (0, 3)
    index = RepositoryDigest.load_index(cache)
    assert sorted(index.record(i)["qualname"] for i in index.ids) == [
        "shop.mail.send_invoice",
        "shop.mail.send_receipt",
    ]


def test_changes_made_without_the_embedder_are_caught_up_later(
    repo: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    cache = tmp_path / "index"
    RepositoryDigest.build(repo, cache, embedder=embedder)
    (repo / "shop" / "mail.py").write_text("def send_receipt(address):\n    return address\n")
    plain = RepositoryDigest.build(repo, cache)  # no embedder: vectors left stale
    assert plain.build_stats.parsed == ("shop/mail.py",)
    caught_up = RepositoryDigest.build(repo, cache, embedder=embedder)
    assert caught_up.build_stats.parsed == ()
    assert (caught_up.build_stats.embedded_chunks, caught_up.build_stats.removed_chunks) == (1, 1)


def test_a_damaged_vector_index_is_rebuilt(
    repo: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    cache = tmp_path / "index"
    RepositoryDigest.build(repo, cache, embedder=embedder)
    (cache / "vectors" / "index.faiss").write_bytes(b"garbage")
    again = RepositoryDigest.build(repo, cache, embedder=embedder)
    assert again.build_stats.embedded_chunks == 4
    assert len(RepositoryDigest.load_index(cache)) == 4


def test_chunk_text_has_name_signature_doc_and_at_most_15_lines(repo: Path, tmp_path: Path) -> None:
    digest = RepositoryDigest.build(repo, tmp_path / "index")
    total = digest.find("total_price")[0]
    lines = FILES["shop/cart.py"].splitlines()
    text = chunk_text(total, lines)
    assert text.splitlines()[:3] == [
        "shop.cart.total_price",
        "def total_price(items, tax_rate=0.2)",
        "Sum the prices of the items and add tax.",
    ]
    long_def = replace(digest.find("Cart")[0], line=2, end_line=60)
    body = [f"line {i}" for i in range(1, 61)]
    chunk = chunk_text(long_def, body).splitlines()
    assert chunk[3:] == [f"line {i}" for i in range(2, 17)]  # 15 source lines from its start
