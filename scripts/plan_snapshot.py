#!/usr/bin/env python
"""Write the rules-backend plans of the public patchbench tasks to one JSON file, so that two
checkouts can be compared byte for byte (a refactoring must not change a plan).

    python scripts/plan_snapshot.py OUT.json [--repo CHECKOUT]
    cmp before.json after.json

Each task's plan is ``Spec.to_dict()`` as ``scripts/bench_plan.py --backends rules`` builds it
(the digest of the pinned sdist, the rules candidates, ``fuse``), keyed by task id. ``--repo``
names the checkout whose ``planner`` builds the plans (default: this one); the tasks and sdists
are the ones ``bench_plan.py`` uses.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("out", type=Path)
    p.add_argument("--repo", type=Path, default=HERE, help="the checkout that plans")
    args = p.parse_args(argv)
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    spec = importlib.util.spec_from_file_location("bench_plan", HERE / "scripts" / "bench_plan.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from planner.digest import RepositoryDigest
    from planner.fusion import fuse
    from planner.normalize import SpecNormalizer

    repos = {
        r["name"]: r for r in yaml.safe_load((bench.BENCH / "repos.yaml").read_text())["repos"]
    }
    expectations = yaml.safe_load((HERE / "tests" / "data" / "plan_expectations.yaml").read_text())
    work = Path(tempfile.mkdtemp(prefix="plan-snapshot-"))
    digests: dict[str, Any] = {}
    plans: dict[str, Any] = {}
    for task_id in sorted(expectations):
        task = yaml.safe_load((bench.BENCH / "tasks" / task_id / "task.yaml").read_text())
        source = repos[task["repo"]]
        if source["name"] not in digests:
            with tarfile.open(bench.SDISTS / source["sdist"]) as tf:
                tf.extractall(work, filter="data")
            digests[source["name"]] = RepositoryDigest.build(
                work / source["root"], work / "cache" / source["name"]
            )
        digest = digests[source["name"]]
        candidates = SpecNormalizer(digest, llm=None).candidates(task["issue"], ["rules"])
        plans[task_id] = fuse(task_id, task["issue"], candidates, digest).to_dict()
    args.out.write_text(json.dumps(plans, indent=1, sort_keys=True, default=str) + "\n")
    print(f"{len(plans)} plans from {repo} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
