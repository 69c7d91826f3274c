"""Per-category table of patchbench results (the harness's JSONL), latest run per task.

    python scripts/bench_table.py docs/bench/patchbench-default.jsonl [more.jsonl ...]

Later files override earlier ones task by task (e.g. a full run, then a re-run of some
tasks); the table says how many tasks each file contributed.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--markdown", action="store_true", help="a markdown table")
    args = p.parse_args()
    latest: dict[str, dict] = {}
    source: dict[str, str] = {}
    for path in args.files:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                latest[row["id"]] = row
                source[row["id"]] = path.name
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for row in latest.values():
        by_cat[row["category"]].append(row)
    rows = [
        (cat, len(rs), sum(r["passed"] for r in rs), statistics.median(r["seconds"] for r in rs))
        for cat, rs in sorted(by_cat.items())
    ]
    total = list(latest.values())
    passed = sum(r["passed"] for r in total)
    median = statistics.median(r["seconds"] for r in total)
    if args.markdown:
        print("| category | tasks | passed | rate | median s |\n| --- | --- | --- | --- | --- |")
        for cat, n, ok, med in rows:
            print(f"| {cat} | {n} | {ok} | {100 * ok / n:.0f} % | {med:.0f} |")
        print(
            f"| **all** | {len(total)} | {passed} | {100 * passed / len(total):.1f} % | {median:.0f} |"
        )
    else:
        for cat, n, ok, med in rows:
            print(f"{cat:<18} {ok:>2}/{n:<2} {100 * ok / n:5.1f} %  median {med:6.1f} s")
        print(
            f"{'all':<18} {passed:>2}/{len(total):<2} {100 * passed / len(total):5.1f} %  median {median:6.1f} s"
        )
    counts: dict[str, int] = defaultdict(int)
    for name in source.values():
        counts[name] += 1
    print("tasks per file: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
