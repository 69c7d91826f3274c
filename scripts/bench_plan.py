#!/usr/bin/env python
"""Score `autopatch plan` on the public patchbench tasks: right op + target per task.

For every task: unpack the pinned sdist (from ~/.cache/patchbench/sdists; run
`python ../shared/bench/run.py setup` first), build the digest, normalize the issue
with each backend alone (rules; llm with the 0.5B; llm with the 1.5B) and fused
(rules + llm 0.5B), and compare with tests/data/plan_expectations.yaml.

    python scripts/bench_plan.py [--tasks GLOB] [--backends rules llm-default llm-quality fused]
                                 [--out docs/bench/plan_accuracy.json] [--details]

`--paraphrases` scores plain rewordings of other change requests on the same projects
instead (tests/data/plan_paraphrases.yaml): how the planner does on wordings it was not
written from. `--plan-dev` scores the 40 issues of ../shared/bench/plan-dev/issues.yaml,
written independently of the planner (its sentences must never be written rules for).

Backends: `rules`, `llm-<model>` (the free-form LLM backend alone), `fused` (rules + llm
0.5B), `judge-<model>` (grounded planning judged by that model, rules as a proposer) and
`default`, what `autopatch fix` uses by default: the judge with the 1.5B when it is
installed, else with the 0.5B.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("PATCHBENCH_DIR", ROOT.parent / "shared" / "bench"))
SDISTS = Path.home() / ".cache" / "patchbench" / "sdists"


def right(spec_ops: list[dict[str, Any]], expected: Mapping[str, Any]) -> bool:
    """Every op acceptable and every target pattern covered (``only``: and nothing else)."""
    if not spec_ops or any(o["op"] not in expected["ops"] for o in spec_ops):
        return False
    targets = [o["target"] for o in spec_ops]
    patterns = [alt for pattern in expected["targets"] for alt in pattern.split("|")]
    if expected.get("only") and not all(
        any(fnmatch.fnmatchcase(t, alt) for alt in patterns) for t in targets
    ):
        return False
    for pattern in expected["targets"]:
        alternatives = pattern.split("|")
        if not any(fnmatch.fnmatchcase(t, alt) for t in targets for alt in alternatives):
            return False
    return True


def judge_model_name(registry: Any) -> str:
    """The model ``fix`` judges plans with: the 1.5B when installed, else the default."""
    from planner.judge import judge_model_name as pick

    return pick(registry)


def main(argv: list[str] | None = None) -> int:
    from cores import LLMConfig, ModelRegistry, create_llm
    from planner.digest import RepositoryDigest
    from planner.fusion import fuse
    from planner.normalize import JudgeContext, SpecNormalizer

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--tasks", default="*", help="glob(s) of task ids, comma-separated")
    p.add_argument(
        "--backends", nargs="*", default=["rules", "llm-default", "llm-quality", "fused"]
    )
    p.add_argument("--out", type=Path)
    p.add_argument("--details", action="store_true")
    p.add_argument("--paraphrases", action="store_true", help="score the reworded requests")
    p.add_argument("--plan-dev", action="store_true", help="score the plan-dev issues")
    args = p.parse_args(argv)

    repos = {r["name"]: r for r in yaml.safe_load((BENCH / "repos.yaml").read_text())["repos"]}
    if args.plan_dev:
        rows = yaml.safe_load((BENCH / "plan-dev" / "issues.yaml").read_text())
        items = {r["id"]: {**r["expected"], "repo": r["repo"], "issue": r["issue"]} for r in rows}
    elif args.paraphrases:
        rows = yaml.safe_load((ROOT / "tests" / "data" / "plan_paraphrases.yaml").read_text())
        items = {f"paraphrase-{i + 1:02d}-{r['repo']}": r for i, r in enumerate(rows)}
    else:
        expectations = yaml.safe_load(
            (ROOT / "tests" / "data" / "plan_expectations.yaml").read_text()
        )
        items = {}
        for task_id in expectations:
            task = yaml.safe_load((BENCH / "tasks" / task_id / "task.yaml").read_text())
            items[task_id] = {**expectations[task_id], "repo": task["repo"], "issue": task["issue"]}
    globs = args.tasks.split(",")
    tasks = sorted(t for t in items if any(fnmatch.fnmatchcase(t, g) for g in globs))
    work = Path(tempfile.mkdtemp(prefix="bench-plan-"))
    registry = ModelRegistry(work / "data")
    llms = {}
    judge_model = judge_model_name(registry)
    for b in args.backends:
        if b.startswith(("llm-", "judge-")) or b in ("fused", "default"):
            name = {"fused": "default", "default": judge_model}.get(
                b, b.removeprefix("llm-").removeprefix("judge-")
            )
            if name not in llms:
                llms[name] = create_llm(LLMConfig(model=name, n_ctx=4096), registry)
    digests = {}
    score = {b: {"correct": 0, "total": 0} for b in args.backends}
    seconds: dict[str, float] = {}
    for task_id in tasks:
        task = items[task_id]
        repo = repos[task["repo"]]
        if repo["name"] not in digests:
            with tarfile.open(SDISTS / repo["sdist"]) as tf:
                tf.extractall(work, filter="data")
            digests[repo["name"]] = RepositoryDigest.build(
                work / repo["root"], work / "cache" / repo["name"]
            )
        digest = digests[repo["name"]]
        row = []
        # Each backend runs once per task; "fused" fuses the rules and 0.5B candidates.
        cands: dict[str, list] = {}
        for name in (
            set()
            | {"rules"}
            | {b.removeprefix("llm-") for b in args.backends if b.startswith("llm-")}
            | ({"default"} if "fused" in args.backends else set())
        ):
            llm = llms.get(name)
            norm = SpecNormalizer(digest, llm=llm)
            start = time.perf_counter()
            cands[name] = norm.candidates(task["issue"], ["rules"] if name == "rules" else ["llm"])
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        for b in args.backends:
            if b.startswith("judge-") or b == "default":
                name = judge_model if b == "default" else b.removeprefix("judge-")
                norm = SpecNormalizer(
                    digest, judge_llm=llms[name], judge=JudgeContext(repo=work / repo["root"])
                )
                start = time.perf_counter()
                spec = norm.normalize(task["issue"], issue_id=task_id, backends=["rules", "judge"])
                seconds[b] = seconds.get(b, 0.0) + time.perf_counter() - start
            else:
                chosen_cands = (
                    cands["rules"] + cands["default"]
                    if b == "fused"
                    else cands[b.removeprefix("llm-")]
                )
                spec = fuse(task_id, task["issue"], chosen_cands, digest)
            got = [o.to_dict() for o in spec.operations]
            ok = right(got, task)
            score[b]["total"] += 1
            score[b]["correct"] += int(ok)
            row.append(f"{b}={'OK' if ok else 'no'}")
            if args.details and not ok:
                chosen = spec.provenance.get("chosen")
                print(
                    f"    {b} [{chosen}]: {[(o['op'], o['target']) for o in got][:6]}", flush=True
                )
        print(f"{task_id:42s} " + " ".join(row), flush=True)
    print()
    for b in args.backends:
        c, t = score[b]["correct"], score[b]["total"]
        print(f"{b:12s} {c}/{t} = {100 * c / max(1, t):.1f}%")
    for name, secs in seconds.items():
        print(f"backend {name}: {secs / max(1, len(tasks)):.1f} s/task")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = {
            b: {**v, "seconds_per_task": round(seconds.get(b, 0.0) / max(1, v["total"]), 1)}
            if b in seconds
            else v
            for b, v in score.items()
        }
        if "default" in out:
            out["default"]["model"] = judge_model
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
