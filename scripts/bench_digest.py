#!/usr/bin/env python
"""Benchmark the RepositoryDigest build on real sdists.

django (latest sdist, fetched once into ~/.cache/autopatch/bench-sdists): cold
index without embeddings, peak RSS, warm re-index after one file changes (target
< 2 s, also through the CLI) and the number of chunks embeddings would need.
click 8.5.1 (~/.cache/patchbench/sdists): cold and warm timings, without and with
MiniLM embeddings. Each sdist is unpacked into a temporary folder; "warm" means
appending a comment to the largest module of the package and indexing again.

    python scripts/bench_digest.py [--no-embed] [--skip-django] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from planner.digest import RepositoryDigest  # noqa: E402

CLICK_DIR = Path("~/.cache/patchbench/sdists").expanduser()
CLICK_SDIST = "click-8.5.1.tar.gz"
DJANGO_DIR = Path("~/.cache/autopatch/bench-sdists").expanduser()


def _pip_download(requirement: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*cmd, "-q", requirement, "-d", str(dest)], check=True)


def click_sdist() -> Path:
    path = CLICK_DIR / CLICK_SDIST
    if not path.exists():
        _pip_download("click==8.5.1", CLICK_DIR)
    return path


def django_sdist() -> Path:
    found = sorted(DJANGO_DIR.glob("[dD]jango-*.tar.gz"))
    if not found:
        _pip_download("django", DJANGO_DIR)
        found = sorted(DJANGO_DIR.glob("[dD]jango-*.tar.gz"))
    return found[-1]


def unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    (root,) = [p for p in into.iterdir() if p.is_dir()]
    return root


def largest_module(root: Path, package: str) -> Path:
    files = [p for p in root.rglob("*.py") if package in p.relative_to(root).parts]
    return max(files, key=lambda p: p.stat().st_size)


def touch(path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n# touched by bench_digest at {time.time()}\n")


def peak_rss_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"process_mb": round(own, 1), "largest_worker_mb": round(workers, 1)}


def timed_build(repo: Path, cache: Path, **kwargs: Any) -> tuple[RepositoryDigest, float]:
    start = time.perf_counter()
    digest = RepositoryDigest.build(repo, cache, **kwargs)
    return digest, time.perf_counter() - start


def bench_django(work: Path) -> dict[str, Any]:
    sdist = django_sdist()
    repo = unpack(sdist, work / "django")
    cache = work / "django-data" / "index"
    cold, cold_s = timed_build(repo, cache)
    rss = peak_rss_mb()
    stats = cold.stats()
    changed = largest_module(repo, "django")
    touch(changed)
    warm, warm_s = timed_build(repo, cache)
    touch(changed)
    env = {**os.environ, "AUTOPATCH_DATA_DIR": str(cache.parent)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agent", "index", "--repo", str(repo), "--json"],
        check=True,
        env=env,
        capture_output=True,
    )
    cli_s = time.perf_counter() - start
    return {
        "sdist": sdist.name,
        "files": stats["files"],
        "skipped": stats["skipped"],
        "parse_errors": len(stats["parse_errors"]),
        "definitions": stats["definitions"],
        "references": stats["references"],
        "cold_s": round(cold_s, 2),
        "cold_timings": cold.build_stats.timings,
        "peak_rss": rss,
        "cache_mb": round((cache / "digest.json").stat().st_size / 1e6, 1),
        "warm_file": changed.relative_to(repo).as_posix(),
        "warm_s": round(warm_s, 3),
        "warm_parsed": list(warm.build_stats.parsed),
        "warm_timings": warm.build_stats.timings,
        "warm_cli_s": round(cli_s, 2),
        "chunks_for_embeddings": stats["definitions"],
    }


def bench_click(work: Path, embed: bool) -> dict[str, Any]:
    repo = unpack(click_sdist(), work / "click")
    changed = largest_module(repo, "click")
    out: dict[str, Any] = {"warm_file": changed.relative_to(repo).as_posix()}
    cold, cold_s = timed_build(repo, work / "click-plain")
    touch(changed)
    warm, warm_s = timed_build(repo, work / "click-plain")
    out["plain"] = {
        "files": len(cold.files),
        "definitions": cold.stats()["definitions"],
        "references": cold.stats()["references"],
        "cold_s": round(cold_s, 3),
        "warm_s": round(warm_s, 3),
        "warm_parsed": list(warm.build_stats.parsed),
    }
    if embed:
        from cores import embedded
        from cores.embedder import SentenceTransformerEmbedder

        start = time.perf_counter()
        embedder = SentenceTransformerEmbedder(embedded.locate("minilm"))
        load_s = time.perf_counter() - start
        cold, cold_s = timed_build(repo, work / "click-embed", embedder=embedder)
        touch(changed)
        warm, warm_s = timed_build(repo, work / "click-embed", embedder=embedder)
        out["embed"] = {
            "model_load_s": round(load_s, 2),
            "cold_s": round(cold_s, 2),
            "cold_chunks": cold.build_stats.embedded_chunks,
            "chunks_per_s": round(cold.build_stats.embedded_chunks / cold_s, 1),
            "warm_s": round(warm_s, 2),
            "warm_chunks": warm.build_stats.embedded_chunks,
            "warm_removed_chunks": warm.build_stats.removed_chunks,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-embed", action="store_true", help="skip the embedding runs")
    parser.add_argument("--skip-django", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        work = Path(tmp)
        if not args.skip_django:  # first, so that its peak RSS is not torch's
            results["django"] = bench_django(work)
            d = results["django"]
            print(
                f"django ({d['sdist']}): {d['files']} files, {d['definitions']} definitions, "
                f"{d['references']} references\n"
                f"  cold {d['cold_s']} s {d['cold_timings']}\n"
                f"  peak RSS {d['peak_rss']['process_mb']} MB "
                f"(largest parse worker {d['peak_rss']['largest_worker_mb']} MB); "
                f"cache {d['cache_mb']} MB\n"
                f"  warm after touching {d['warm_file']}: {d['warm_s']} s "
                f"{d['warm_timings']}; `autopatch index` end to end {d['warm_cli_s']} s\n"
                f"  chunks embeddings would need: {d['chunks_for_embeddings']}",
                flush=True,
            )
        results["click"] = bench_click(work, embed=not args.no_embed)
        c = results["click"]
        p = c["plain"]
        print(
            f"click 8.5.1: {p['files']} files, {p['definitions']} definitions, "
            f"{p['references']} references (warm = touching {c['warm_file']})\n"
            f"  no embeddings: cold {p['cold_s']} s, warm {p['warm_s']} s",
            flush=True,
        )
        if "embed" in c:
            e = c["embed"]
            print(
                f"  MiniLM embeddings: model load {e['model_load_s']} s; cold {e['cold_s']} s "
                f"({e['cold_chunks']} chunks, {e['chunks_per_s']}/s); warm {e['warm_s']} s "
                f"({e['warm_chunks']} re-embedded, {e['warm_removed_chunks']} dropped)"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
