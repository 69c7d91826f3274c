"""``planner.ask``: cited answers from retrieved code (scripted control flow, real models, CLI)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cores.llm_scripted import ScriptedLLM
from planner.ask import Answer, answer, parse_sentences, select_sources
from planner.digest import RepositoryDigest
from planner.retrieval import Retriever

CITATION = re.compile(r"\(([^()\s]+:\d+-\d+)\)[.!?]")


def reply(*sentences: tuple[str, int]) -> str:
    return json.dumps({"sentences": [{"text": t, "source": n} for t, n in sentences]})


def cited_segments(text: str) -> list[tuple[str, str]]:
    """(sentence, ref) for each citation; fails if any text follows the last citation."""
    out, pos = [], 0
    for m in CITATION.finditer(text):
        out.append((text[pos : m.start()].strip(), m.group(1)))
        pos = m.end()
    assert text[pos:].strip() == "", f"uncited text at the end: {text[pos:]!r}"
    return out


def test_sentences_are_cited_and_out_of_range_sources_dropped(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    llm = ScriptedLLM(
        [reply(("get_user fetches a user through db.lookup.", 1), ("An invented claim.", 9))]
    )
    result = answer("where is a user fetched?", Retriever(sample_digest), llm, sample_repo)

    assert result.sources[0].ref == "pkg/users.py:7-9"
    assert result.text == "get_user fetches a user through db.lookup (pkg/users.py:7-9)."
    assert [(s.source, s.ref) for s in result.sentences] == [(1, "pkg/users.py:7-9")]
    assert [(d.text, d.source, d.ref) for d in result.dropped] == [("An invented claim.", 9, None)]
    assert result.model_id == "scripted"

    messages, params = llm.calls[0]
    assert params.json_schema is not None
    item = params.json_schema["properties"]["sentences"]["items"]
    assert set(item["required"]) == {"text", "source"}
    assert item["properties"]["source"]["enum"] == list(range(1, len(result.sources) + 1))
    assert "source:" in messages[0].content and "text:" in messages[0].content
    assert "[1] pkg/users.py:7-9" in messages[1].content
    assert "def get_user(user_id, db, verbose=False):" in messages[1].content
    assert messages[1].content.rstrip().endswith("Question: where is a user fetched?")


def test_empty_retrieval_never_calls_the_model(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    llm = ScriptedLLM([])
    result = answer("zebra quantum flux", Retriever(sample_digest), llm, sample_repo)
    assert llm.calls == []
    assert result.text == "Nothing in this repository matches 'zebra quantum flux'."
    assert result.sources == () and result.sentences == () and result.model_id is None


def test_every_claim_dropped_points_at_the_closest_code(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    llm = ScriptedLLM([reply(("Nothing to see.", 0), ("Also wrong.", -3))])
    result = answer("where is a user fetched?", Retriever(sample_digest), llm, sample_repo)
    assert result.sentences == () and len(result.dropped) == 2
    assert result.text.startswith("The model gave no answer tied to the sources")
    assert "pkg/users.py:7-9" in result.text


def test_a_multi_sentence_item_is_split_and_each_part_cited(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    llm = ScriptedLLM([reply(("get_user is the lookup. It calls db.lookup!", 1), ("Same.", 1))])
    result = answer("where is a user fetched?", Retriever(sample_digest), llm, sample_repo)
    assert [s.text for s in result.sentences] == [
        "get_user is the lookup.",
        "It calls db.lookup!",
        "Same.",
    ]
    assert cited_segments(result.text) == [
        ("get_user is the lookup", "pkg/users.py:7-9"),
        ("It calls db.lookup", "pkg/users.py:7-9"),
        ("Same", "pkg/users.py:7-9"),
    ]


def test_context_budget_and_nested_spans(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    retriever = Retriever(sample_digest)
    spans = retriever.search("store load save key", k=5)
    assert {"pkg.users.Store", "pkg.users.Store.load"} <= {s.qualname for s in spans}
    shown = [s.qualname for s, _ in select_sources(spans, sample_repo, 6000)]
    # The class is short, so its snippet already shows its methods: they are not repeated.
    assert "pkg.users.Store" in shown and "pkg.users.Store.load" not in shown
    tiny = select_sources(spans, sample_repo, 50)
    assert len(tiny) == 1 and tiny[0][1].endswith("# ... (cut)")


def test_answer_round_trips_through_dict(
    sample_digest: RepositoryDigest, sample_repo: Path
) -> None:
    llm = ScriptedLLM([reply(("get_user fetches users.", 1))])
    result = answer("where is a user fetched?", Retriever(sample_digest), llm, sample_repo)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["sentences"][0]["ref"] == "pkg/users.py:7-9"
    assert Answer.from_dict(data) == result


def test_parse_sentences_salvages_a_cut_off_reply() -> None:
    raw = '{"sentences": [{"text": "One \\"quoted\\" claim.", "source": 2}, {"text": "cut'
    assert parse_sentences(raw) == [('One "quoted" claim.', 2)]
    assert parse_sentences('{"sentences": [{"text": "x", "source": true}]}') == []


@pytest.mark.slow
def test_real_model_answer_cites_retrieved_spans(
    sample_digest: RepositoryDigest, sample_repo: Path, default_llm: object
) -> None:
    retriever = Retriever(sample_digest)
    result = answer(
        "where is a user fetched?",
        retriever,
        default_llm,  # type: ignore[arg-type]
        sample_repo,
        max_context_chars=1500,
    )
    retrieved = {s.ref for s in retriever.search("where is a user fetched?", k=5)}
    assert result.sentences, result.to_dict()
    assert result.dropped == ()  # the schema's enum keeps the real model in range
    segments = cited_segments(result.text)
    assert len(segments) == len(result.sentences)
    for (_, ref), sentence in zip(segments, result.sentences, strict=True):
        assert ref == sentence.ref and ref in retrieved
    assert result.model_id == "default" and result.completion_tokens > 0


# -- the CLI ---------------------------------------------------------------------------------


def run_ask(repo: Path, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOPATCH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args, "--repo", str(repo)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def git_repo_of(root: Path) -> Path:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True, env=env)
    return root


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_cli_ask_help_has_an_example() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agent", "ask", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and 'example: autopatch ask "' in out.stdout


def test_cli_ask_with_scripted_backend(sample_repo: Path, tmp_path: Path) -> None:
    repo = git_repo_of(sample_repo)
    before = tree_hash(repo)
    canned = json.dumps([reply(("get_user fetches a user.", 1))])
    out = run_ask(
        repo,
        tmp_path / "data",
        "ask",
        "where is a user fetched?",
        "--json",
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={canned}",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["text"] == "get_user fetches a user (pkg/users.py:7-9)."
    assert (tmp_path / "data" / "index" / "digest.json").is_file()
    assert tree_hash(repo) == before
    assert (
        subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
        ).stdout
        == ""
    )

    nothing = run_ask(repo, tmp_path / "data", "ask", "zebra quantum flux", "--set",
                      "llm.backend=scripted")  # fmt: skip
    assert nothing.returncode == 0, nothing.stderr
    assert "Nothing in this repository matches 'zebra quantum flux'." in nothing.stdout


@pytest.mark.slow
def test_cli_ask_with_the_fast_model(sample_repo: Path, tmp_path: Path) -> None:
    repo = git_repo_of(sample_repo)
    before = tree_hash(repo)
    out = run_ask(repo, tmp_path / "data", "ask", "where is a user fetched?", "--json",
                  "--model", "fast")  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    refs = {s["ref"] for s in data["sources"]}
    assert "pkg/users.py:7-9" in refs
    assert data["sentences"] and all(s["ref"] in refs for s in data["sentences"])
    assert data["model_id"].startswith("fast")
    assert len(cited_segments(data["text"])) == len(data["sentences"])
    assert tree_hash(repo) == before
    assert (
        subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
        ).stdout
        == ""
    )


@pytest.mark.slow
def test_cli_ask_uses_the_embedding_index_when_present(sample_repo: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    indexed = run_ask(sample_repo, data_dir, "index", "--embed")
    assert indexed.returncode == 0, indexed.stderr
    canned = json.dumps([reply(("chunks splits a sequence.", 1))])
    out = run_ask(sample_repo, data_dir, "ask", "break a list into equal pieces", "--json",
                  "--set", "llm.backend=scripted", "--set", f"llm.replies={canned}")  # fmt: skip
    assert out.returncode == 0, out.stderr
    sources = json.loads(out.stdout)["sources"]
    assert sources[0]["qualname"] == "pkg.util.chunks"
    assert sources[0]["source"] == "embedding"
