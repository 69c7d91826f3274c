"""Retrieval over the sample package: symbol lookup, lexical search, and hybrid with MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.digest import RepositoryDigest
from planner.retrieval import Retriever, Span
from planner.retrieval_terms import query_identifiers, stem, terms


@pytest.fixture()
def retriever(sample_digest: RepositoryDigest) -> Retriever:
    return Retriever(sample_digest)


def test_lookup_finds_a_function_with_its_line_range(retriever: Retriever) -> None:
    found = retriever.lookup("get_user")
    assert [s.ref for s in found] == ["pkg/users.py:7-9"]
    span = found.spans[0]
    assert (span.qualname, span.kind, span.source) == ("pkg.users.get_user", "function", "symbol")
    assert found.suggestions == ()


def test_lookup_by_dotted_name_and_qualname(retriever: Retriever) -> None:
    assert [s.ref for s in retriever.lookup("Store.load")] == ["pkg/users.py:22-23"]
    assert [s.ref for s in retriever.lookup("pkg.users.Store")] == ["pkg/users.py:16-26"]
    assert [s.ref for s in retriever.lookup("`chunks()`")] == ["pkg/util.py:1-2"]


def test_lookup_of_an_unknown_name_suggests_close_ones(retriever: Retriever) -> None:
    found = retriever.lookup("get_usr")
    assert not found and len(found) == 0
    assert "get_user" in found.suggestions
    assert found.to_dict()["suggestions"] == list(found.suggestions)


def test_natural_language_query_ranks_the_right_definition_first(
    retriever: Retriever, sample_repo: Path
) -> None:
    spans = retriever.search("where is a user fetched")
    top = spans[0]
    assert top.qualname == "pkg.users.get_user"
    assert (top.path, top.start_line, top.end_line) == ("pkg/users.py", 7, 9)
    assert top.source == "lexical"
    assert top.snippet(sample_repo).splitlines() == [
        "def get_user(user_id, db, verbose=False):",
        '    """Fetch a user."""',
        "    return db.lookup(user_id)",
    ]
    assert all(a.score >= b.score for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("split a sequence into chunks of a given size", "pkg.util.chunks"),
        ("what does `Store.load` do?", "pkg.users.Store.load"),
        ("which classes store things", "pkg.users.Store"),
        ("how is the full name formatted from first and last", "pkg.users._format_name"),
    ],
)
def test_search_ranks_expected_definition_first(
    retriever: Retriever, query: str, expected: str
) -> None:
    assert retriever.search(query, k=3)[0].qualname == expected


def test_code_identifier_is_an_exact_symbol_hit_fused_with_lexical(retriever: Retriever) -> None:
    top = retriever.search("who calls get_user?", k=4)[0]
    assert top.qualname == "pkg.users.get_user"  # the library function, not the test
    assert top.source == "hybrid"


def test_search_of_unrelated_words_finds_nothing(retriever: Retriever) -> None:
    assert retriever.search("zebra quantum flux") == []


def test_search_respects_k(retriever: Retriever) -> None:
    assert len(retriever.search("user store path key", k=2)) == 2
    with pytest.raises(ValueError, match="k must be"):
        retriever.search("user", k=0)


def test_overload_stubs_fold_into_the_implementation(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "parse.py").write_text(
        "from typing import overload\n\n\n"
        "@overload\ndef parse(x: int) -> int: ...\n\n\n"
        "@overload\ndef parse(x: str) -> str: ...\n\n\n"
        'def parse(x):\n    """Parse a value."""\n    return x\n'
    )
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    spans = Retriever(digest).search("how is a value parsed")
    assert [s.ref for s in spans] == ["parse.py:12-14"]


def test_snippet_is_capped_and_stays_inside_the_repo(
    retriever: Retriever, sample_repo: Path
) -> None:
    store = retriever.lookup("Store").spans[0]
    lines = store.snippet(sample_repo, max_lines=3).splitlines()
    assert lines == ["class Store:", '    """A store."""', "", "# ... (8 more lines)"]
    outside = Span("../escape.py", 1, 2, None, "chunk", 0.0, "lexical")
    with pytest.raises(ValueError, match="outside the repository"):
        outside.snippet(sample_repo)
    missing = Span("pkg/gone.py", 1, 2, None, "chunk", 0.0, "lexical")
    assert missing.snippet(sample_repo) == ""


def test_span_round_trips_through_dict(retriever: Retriever) -> None:
    span = retriever.search("where is a user fetched")[0]
    data = span.to_dict()
    assert data["ref"] == "pkg/users.py:7-9" and data["schema_version"] == 1
    assert Span.from_dict(data) == span


def test_terms_split_identifiers_and_stem_words() -> None:
    assert stem("fetched") == stem("fetches") == stem("fetching") == "fetch"
    assert stem("classes") == stem("class") == "class"
    assert terms("getUserName") == ["get", "user", "nam", "getusername"]
    assert terms("where is the cache defined", query=True) == ["cach"]
    assert dict(query_identifiers("does `echo` call get_user() or run?")) == {
        "echo": True,
        "call": False,
        "get_user": True,
        "run": False,
    }


@pytest.mark.slow
def test_hybrid_search_with_minilm(sample_repo: Path, tmp_path: Path, minilm_dir: Path) -> None:
    from cores.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(minilm_dir)
    cache = tmp_path / "embedded-cache"
    digest = RepositoryDigest.build(sample_repo, cache, embedder=embedder)
    index = RepositoryDigest.load_index(cache)
    assert len(index) == sum(1 for _ in digest.definitions())
    retriever = Retriever(digest, index=index, embedder=embedder)
    assert retriever.uses_embeddings

    # No word of this query occurs in the code: only the embeddings can find it.
    only_meaning = retriever.search("break a list into equal pieces", k=3)
    assert only_meaning and {s.source for s in only_meaning} == {"embedding"}
    assert only_meaning[0].qualname == "pkg.util.chunks"

    # Both lists agree on the user lookup: the top hit is fused.
    top = retriever.search("where is a user fetched", k=3)[0]
    assert (top.qualname, top.source) == ("pkg.users.get_user", "hybrid")

    # A vector record whose file changed since embedding is skipped, not misreported.
    (sample_repo / "pkg" / "util.py").write_text("\n\n" + (sample_repo / "pkg/util.py").read_text())
    fresh = RepositoryDigest.build(sample_repo, tmp_path / "lexical-cache")
    stale = Retriever(fresh, index=index, embedder=embedder)
    assert all(
        s.qualname != "pkg.util.chunks" for s in stale.search("break a list into equal pieces")
    )
