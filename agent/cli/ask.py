"""``autopatch ask``: answer a question about the repository's code, citing file:line ranges."""

from __future__ import annotations

import argparse

from agent.cli.common import SubParsers, dump_json, with_model
from agent.config import AppConfig
from agent.ui import console, info
from cores import embedded
from cores.registry import ModelRegistry


def add_parser(sub: SubParsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a question about the repository's code, citing file:line ranges",
        epilog='example: autopatch ask "where are the cache classes defined?"',
        parents=[common],
    )
    p.add_argument("question", help="a question about the code, in plain words")
    p.add_argument("--k", type=int, default=5, help="how many code spans to retrieve (default 5)")
    p.add_argument("--model", help="registry model name (default: the active llm)")
    p.set_defaults(handler=cmd_ask, configure=with_model)


def cmd_ask(args: argparse.Namespace, config: AppConfig) -> int:
    """Answer a question from the repository's code, each sentence cited (the repo is only read)."""
    from cores.errors import CoreError
    from cores.llm import create_llm
    from planner.ask import answer
    from planner.digest import VECTORS_DIR, RepositoryDigest
    from planner.retrieval import Retriever

    if args.k < 1:
        raise ValueError("--k must be at least 1")
    status = console(stderr=True).status
    cache_dir = config.data_dir / "index"
    embedder = index = None
    if (cache_dir / VECTORS_DIR).is_dir():  # made by `autopatch index --embed`: keep it in use
        from cores.embedder import SentenceTransformerEmbedder

        try:
            with status(f"loading embedding model {config.embedder.model}"):
                embedder = SentenceTransformerEmbedder(embedded.locate(config.embedder.model))
        except CoreError as exc:
            info(f"searching without embeddings: {exc}")
    with status(f"refreshing the index of {config.repo}"):
        digest = RepositoryDigest.build(
            config.repo, cache_dir, embedder=embedder, batch_size=config.embedder.batch_size
        )
    if embedder is not None:
        try:
            index = RepositoryDigest.load_index(cache_dir)
        except CoreError as exc:
            info(f"searching without embeddings: {exc}")
            embedder = None
    retriever = Retriever(digest, index=index, embedder=embedder)
    with status(f"loading {config.llm.model} ({config.llm.backend})"):
        llm = create_llm(config.llm, ModelRegistry(config.data_dir))
    try:
        with status(f"reading the code and answering with {llm.model_id}"):
            result = answer(args.question, retriever, llm, config.repo, k=args.k)
    finally:
        llm.close()
    if args.json:
        dump_json(result.to_dict())
        return 0
    out = console()
    out.print(result.text, markup=False)
    if result.sources:
        out.print("sources:", markup=False)
        for n, span in enumerate(result.sources, 1):
            out.print(f"  [{n}] {span.ref}  {span.qualname or ''}", markup=False)
    if result.dropped:
        info(f"dropped {len(result.dropped)} sentence(s) citing a source that was not shown")
    info(
        f"[{result.model_id or 'model not called'}] {result.prompt_tokens} prompt + "
        f"{result.completion_tokens} completion tokens; {result.latency_s:.1f}s"
    )
    return 0
