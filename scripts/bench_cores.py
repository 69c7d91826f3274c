#!/usr/bin/env python
"""Benchmark the model cores on this machine.

For each GGUF model (default 0.5B, quality 1.5B; ``--models`` to choose): load
time, prompt-processing tokens/s, generation tokens/s and the latency of a
schema-constrained JSON call. Then MiniLM embeddings/s over 20-line code chunks.
``--rewrite``: decoding speed of a code rewrite (a real function sent back with a small
change, as ``fix`` asks for a bug fix) with and without prompt-lookup speculative
decoding, alternating the two so that machine load hits both alike.

    python scripts/bench_cores.py [--models default quality] [--threads N] [--json out.json]
    python scripts/bench_cores.py --rewrite --models default --no-embedder
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from cores import embedded  # noqa: E402
from cores.types import GenerationParams  # noqa: E402

SPEC_SCHEMA = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["rename", "add_parameter", "make_keyword_only", "edit"]},
        "target": {"type": "string"},
        "new_name": {"type": "string"},
    },
    "required": ["op", "target", "new_name"],
    "additionalProperties": False,
}


def _prompt_of(tokens: int) -> str:
    # Real code as filler, so the tokenizer sees a realistic mix.
    source = Path(embedded.__file__).read_text()
    return ("Summarise this module in one sentence.\n\n" + source * 4)[: tokens * 4]


def bench_llm(name: str, threads: int | None) -> dict[str, float | str]:
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    path = embedded.locate(name)
    t0 = time.perf_counter()
    llm = LlamaCppLLM(
        path,
        model_id=name,
        settings=LlamaCppSettings(n_ctx=4096, n_threads=threads, prompt_cache_mb=0),
    )
    load_s = time.perf_counter() - t0

    # Prompt processing: a ~1k-token prompt, 1 output token.
    prompt = _prompt_of(1000)
    out = llm.chat(prompt, GenerationParams(max_tokens=1))
    prompt_tps = out.prompt_tokens / out.latency_s

    # Generation: short prompt, 128 tokens, generation time = total - prompt share.
    short = "Write a Python function that parses an ISO date string, with a docstring."
    gen = llm.chat(short, GenerationParams(max_tokens=128))
    gen_s = max(1e-6, gen.latency_s - gen.prompt_tokens / prompt_tps)
    gen_tps = gen.completion_tokens / gen_s

    issue = "Please rename the helper get_user to fetch_user everywhere in the package."
    t1 = time.perf_counter()
    js = llm.chat(
        "Turn the issue into JSON. op: rename | add_parameter | make_keyword_only | edit.\n"
        + issue,
        GenerationParams(max_tokens=64, json_schema=SPEC_SCHEMA),
    )
    json_s = time.perf_counter() - t1
    parsed = json.loads(js.text)
    llm.close()
    return {
        "model": name,
        "threads": llm.n_threads,
        "load_s": round(load_s, 2),
        "prompt_tokens": out.prompt_tokens,
        "prompt_tok_per_s": round(prompt_tps, 1),
        "gen_tokens": gen.completion_tokens,
        "gen_tok_per_s": round(gen_tps, 1),
        "json_latency_s": round(json_s, 2),
        "json_value": json.dumps(parsed),
    }


REWRITE = (
    "Here is a Python function:\n```python\n{code}\n```\n"
    "Send back the complete function with one change: the docstring's first sentence ends "
    "with an exclamation mark instead of a full stop. Copy everything else exactly. Reply "
    "with one ```python code block."
)


def bench_rewrite(name: str, threads: int | None, rounds: int = 3) -> dict[str, object]:
    """Tokens/s of a copy-heavy rewrite, prompt lookup on vs off (same prompts, greedy)."""
    import inspect

    from agent.draft import docstring_text as docstrings
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    path = embedded.locate(name)
    llm = LlamaCppLLM(
        path,
        model_id=name,
        settings=LlamaCppSettings(n_ctx=4096, n_threads=threads, prompt_cache_mb=0),
    )
    functions = [docstrings.tidy_docstring, docstrings.docstring_problem, docstrings.copies_issue]
    speeds: dict[str, list[float]] = {"off": [], "on": []}
    same = 0
    for i in range(rounds):
        code = inspect.getsource(functions[i % len(functions)])
        texts = {}
        for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
            params = GenerationParams(max_tokens=700, copies_input=mode == "on", stop=("\n```\n",))
            out = llm.chat(REWRITE.format(code=code), params)
            gen_s = max(1e-6, out.latency_s)
            speeds[mode].append(out.completion_tokens / gen_s)
            texts[mode] = out.text
        same += texts["on"] == texts["off"]
    llm.close()
    return {
        "model": name,
        "rounds": rounds,
        "tok_per_s_off": round(sum(speeds["off"]) / rounds, 1),
        "tok_per_s_on": round(sum(speeds["on"]) / rounds, 1),
        "speedup": round(sum(speeds["on"]) / max(1e-6, sum(speeds["off"])), 2),
        "identical_outputs": f"{same}/{rounds}",
    }


def bench_embedder(n_chunks: int = 200) -> dict[str, float | str]:
    from cores.embedder import SentenceTransformerEmbedder

    lines = Path(embedded.__file__).read_text().splitlines()
    chunks = ["\n".join(lines[i : i + 20]) for i in range(0, len(lines), 5)]
    chunks = (chunks * (n_chunks // max(1, len(chunks)) + 1))[:n_chunks]
    t0 = time.perf_counter()
    emb = SentenceTransformerEmbedder(embedded.locate("minilm"))
    load_s = time.perf_counter() - t0
    emb.embed(chunks[:8])  # warm-up
    t1 = time.perf_counter()
    vectors = emb.embed(chunks, batch_size=32)
    secs = time.perf_counter() - t1
    return {
        "model": "minilm",
        "load_s": round(load_s, 2),
        "chunks": len(chunks),
        "dimension": int(vectors.shape[1]),
        "embeddings_per_s": round(len(chunks) / secs, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="*", default=["default", "quality"])
    parser.add_argument(
        "--threads", type=int, default=None, help="llama.cpp threads (default: autopatch's default)"
    )
    parser.add_argument("--no-embedder", action="store_true")
    parser.add_argument(
        "--rewrite", action="store_true", help="only the prompt-lookup rewrite benchmark"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results: dict[str, object] = {"cpu_count": os.cpu_count(), "llm": [], "embedder": None}
    if args.rewrite:
        rows = [bench_rewrite(name, args.threads) for name in args.models]
        for row in rows:
            print(json.dumps(row), flush=True)
        if args.json:
            args.json.write_text(json.dumps({"rewrite": rows}, indent=2) + "\n")
        return 0
    for name in args.models:
        row = bench_llm(name, args.threads)
        results["llm"].append(row)  # type: ignore[attr-defined]
        print(
            f"{name:8s} threads={row['threads']} load={row['load_s']}s "
            f"prompt={row['prompt_tok_per_s']} tok/s gen={row['gen_tok_per_s']} tok/s "
            f"json={row['json_latency_s']}s -> {row['json_value']}",
            flush=True,
        )
    if not args.no_embedder:
        row = bench_embedder()
        results["embedder"] = row
        print(
            f"minilm   load={row['load_s']}s {row['embeddings_per_s']} embeddings/s "
            f"({row['chunks']} chunks of 20 lines, dim {row['dimension']})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
