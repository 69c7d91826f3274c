#!/usr/bin/env python
"""Benchmark the ``rename`` codemod against LibCST's own rename command on django.

The latest django sdist (fetched once into ~/.cache/autopatch/bench-sdists) is
unpacked into a temporary folder and copied twice. On the first copy our handler
loads the repository (``RepoFiles.load``), renames the target and writes the
changed files; on the second, ``python -m libcst.tool codemod rename.RenameCommand``
renames the same dotted name (``--jobs``, default 2, ``--no-format``). Both are
timed (wall clock and CPU seconds, the tool's worker processes included), then the
two trees are compared with the pristine one: which files each changed, and
whether the files both changed are identical. Where they differ, the first
differing line of a few files is shown.

    python scripts/bench_codemod.py [--target django.utils.safestring.mark_safe]
        [--new-name mark_html_safe] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import agent.codemods.rename  # noqa: F401  (registers the handlers)
from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, RepoFiles
from planner.spec import Operation

DJANGO_DIR = Path("~/.cache/autopatch/bench-sdists").expanduser()


def django_sdist() -> Path:
    found = sorted(DJANGO_DIR.glob("[dD]jango-*.tar.gz"))
    if not found:
        DJANGO_DIR.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*cmd, "-q", "django", "-d", str(DJANGO_DIR)], check=True)
        found = sorted(DJANGO_DIR.glob("[dD]jango-*.tar.gz"))
    return found[-1]


def unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    (root,) = [p for p in into.iterdir() if p.is_dir()]
    return root


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ours(root: Path, target: str, new_name: str) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    files = RepoFiles.load(root)
    loaded = time.perf_counter()
    result = apply_operation(files, Operation("rename", target, {"new_name": new_name}))
    if not isinstance(result, Applied):
        raise SystemExit(f"our rename did not apply: {result}")
    for path, text in result.changes.items():
        (root / path).write_text(text, encoding="utf-8")
    return {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "load_s": round(loaded - wall, 2),
        "files_scanned": len(files.sources),
        "notes": list(result.notes),
    }


def run_libcst(root: Path, target: str, new_name: str, jobs: int) -> dict[str, Any]:
    new_dotted = f"{target.rpartition('.')[0]}.{new_name}"
    cmd = [
        sys.executable,
        "-m",
        "libcst.tool",
        "codemod",
        "rename.RenameCommand",  # the command must come first: the tool pre-parses it
        f"--jobs={jobs}",
        "--no-format",
        "--hide-progress",
        f"--old_name={target}",
        f"--new_name={new_dotted}",
        ".",
    ]
    wall, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    summary = [line for line in proc.stderr.splitlines() if line.strip()][-6:]
    return {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(children_cpu() - cpu, 2),
        "returncode": proc.returncode,
        "summary": summary,
        "command": " ".join(cmd[1:]),
    }


def py_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in root.rglob("*.py")
    }


def first_difference(a: str, b: str) -> str:
    for number, (left, right) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if left != right:
            return f"line {number}: ours {left.strip()!r} | libcst {right.strip()!r}"
    return "same lines, different length"


def compare(
    pristine: dict[str, str], ours: dict[str, str], theirs: dict[str, str]
) -> dict[str, Any]:
    changed_ours = {p for p, t in ours.items() if pristine.get(p) != t}
    changed_theirs = {p for p, t in theirs.items() if pristine.get(p) != t}
    both = changed_ours & changed_theirs
    differing = sorted(p for p in both if ours[p] != theirs[p])
    return {
        "changed_by_ours": len(changed_ours),
        "changed_by_libcst": len(changed_theirs),
        "changed_by_both": len(both),
        "identical_in_both": len(both) - len(differing),
        "only_ours": sorted(changed_ours - changed_theirs),
        "only_libcst": sorted(changed_theirs - changed_ours),
        "differing": {p: first_difference(ours[p], theirs[p]) for p in differing},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="django.utils.safestring.mark_safe")
    parser.add_argument("--new-name", default="mark_html_safe")
    parser.add_argument("--jobs", type=int, default=2, help="LibCST tool worker processes")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    sdist = django_sdist()
    with tempfile.TemporaryDirectory(prefix="bench-codemod-") as tmp:
        pristine_root = unpack(sdist, Path(tmp) / "pristine")
        ours_root = Path(tmp) / "ours"
        theirs_root = Path(tmp) / "libcst"
        shutil.copytree(pristine_root, ours_root)
        shutil.copytree(pristine_root, theirs_root)
        print(f"{sdist.name}: renaming {args.target} → {args.new_name}", flush=True)
        ours = run_ours(ours_root, args.target, args.new_name)
        print(f"ours:   {ours['wall_s']:.2f} s wall, {ours['cpu_s']:.2f} s CPU", flush=True)
        theirs = run_libcst(theirs_root, args.target, args.new_name, args.jobs)
        print(f"libcst: {theirs['wall_s']:.2f} s wall, {theirs['cpu_s']:.2f} s CPU", flush=True)
        diff = compare(py_files(pristine_root), py_files(ours_root), py_files(theirs_root))

    report = {
        "sdist": sdist.name,
        "target": args.target,
        "new_name": args.new_name,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "ours": ours,
        "libcst": theirs,
        "speedup_wall": round(theirs["wall_s"] / max(ours["wall_s"], 1e-9), 1),
        "speedup_cpu": round(theirs["cpu_s"] / max(ours["cpu_s"], 1e-9), 1),
        "comparison": diff,
    }
    print(f"speed-up: {report['speedup_wall']}× wall, {report['speedup_cpu']}× CPU")
    print(
        f"files changed: ours {diff['changed_by_ours']}, libcst {diff['changed_by_libcst']}, "
        f"both {diff['changed_by_both']} ({diff['identical_in_both']} identical)"
    )
    for key in ("only_ours", "only_libcst"):
        print(f"{key} ({len(diff[key])}): {', '.join(diff[key][:12])}")
    for path, where in list(diff["differing"].items())[:12]:
        print(f"differs {path}: {where}")
    print(f"libcst tool said: {' / '.join(theirs['summary'])}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
