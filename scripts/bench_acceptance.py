#!/usr/bin/env python
"""Run the acceptance checks of patchbench tasks on the pristine repo and on the reference fix.

No model: each task's spec comes from the rules planner. For every task the pinned sdist
is prepared as the harness does, the acceptance module is built from the issue and the
spec, and run twice in the sandbox with the patchbench interpreter: on the untouched
repo (a check that fails there is *real*) and after ``git apply reference.diff`` (a check
that fails there is a false alarm — or a plan that picked the wrong target). One line
per task, failures listed, totals at the end.

    python scripts/bench_acceptance.py [--tasks 'toolz-*'] [--bench ../shared/bench]
        [--python ~/.cache/patchbench/venv/bin/python] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from agent.acceptance.issue import with_stated_aliases
from agent.acceptance.module import acceptance_module, run_acceptance
from agent.verify.sandbox import Sandbox
from planner.digest import RepositoryDigest
from planner.normalize import SpecNormalizer


def _harness(bench: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("patchbench_run", bench / "run.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no harness at {bench / 'run.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", help="glob of task ids (default: all)")
    p.add_argument("--bench", default=str(Path(__file__).resolve().parents[2] / "shared/bench"))
    p.add_argument("--python", default=str(Path.home() / ".cache/patchbench/venv/bin/python"))
    p.add_argument("--json", help="write one JSON line per task here")
    args = p.parse_args(argv)
    bench = Path(args.bench)
    pb = _harness(bench)
    repos = pb.load_repos()
    work = Path(tempfile.mkdtemp(prefix="bench-acceptance-"))
    sandbox = Sandbox(wall_s=120)
    rows = []
    try:
        for task in pb.load_tasks(args.tasks):
            dest = work / task["id"]
            pb.prepare_repo(repos[task["repo"]], dest)
            digest = RepositoryDigest.build(dest, work / f"{task['id']}-cache")
            spec = SpecNormalizer(digest).normalize(task["issue"], backends=["rules"])
            spec = with_stated_aliases(spec)
            module = acceptance_module(task["issue"], spec, list(digest.definitions()))
            before = run_acceptance(module, dest, args.python, sandbox)
            diff = bench / "tasks" / task["id"] / "reference.diff"
            subprocess.run(["git", "apply", str(diff)], cwd=dest, check=True)
            after = run_acceptance(module, dest, args.python, sandbox).with_before(before)
            real = sum(1 for r in after.results if r.before is False and r.ok)
            row = {
                "id": task["id"],
                "ops": [o.summary() for o in spec.operations],
                "checks": len(module.checks),
                "real": real,
                "false_alarms": [f"{r.name}: {r.message[-200:]}" for r in after.failed],
                "error": after.error,
            }
            rows.append(row)
            print(
                f"{task['id']:40} {row['checks']:3} checks {real:3} real "
                f"{len(row['false_alarms']):2} failing on the reference {after.error[:80]}"
            )
            for line in row["false_alarms"]:
                print(f"    ✘ {line.splitlines()[0][:160]}")
            shutil.rmtree(dest, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = {
        k: sum(len(r[k]) if k == "false_alarms" else r[k] for r in rows)
        for k in ("checks", "real", "false_alarms")
    }
    print(
        f"{len(rows)} tasks: {total['checks']} checks, {total['real']} real (fail before, pass on the reference), {total['false_alarms']} failing on the reference"
    )
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
