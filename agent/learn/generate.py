"""Which candidate changes become tasks: each one is run against the repository's tests.

The repository's test command runs in the sandbox on a ``Scratch`` copy, first untouched
(it must pass, else no task is verifiable), then once per candidate with the candidate's
files written in and put back afterwards. A ``fix`` candidate is kept only when the tests
fail (its bug report is written from the failure); every other kind only when they still
pass (its starting state is a healthy repository). Generation stops at ``max_tasks`` or
when ``seconds`` run out; every kind gets its turn (round robin).
"""

from __future__ import annotations

import logging
import random
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.learn.mutants import mutants
from agent.learn.tasks import (
    KINDS,
    Candidate,
    Task,
    file_candidates,
    is_source_path,
    issue_text,
    leaks,
    rename_candidates,
)
from agent.verify.project import detect_test_command, python_path
from agent.verify.sandbox import RunResult, Sandbox
from agent.verify.scratch import Scratch

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # done, total, what
Paraphrase = Callable[[str], str]
_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.M)


@dataclass(frozen=True)
class GenerateOptions:
    """Bounds of one generation.

    Fields:
      kinds: task kinds to make (``agent.learn.tasks.KINDS``).
      max_tasks: verified tasks at most (all kinds together).
      seconds: wall-clock budget of the generation (the test runs dominate).
      per_function: mutants tried per function.
      seed: order of candidates and choice of issue templates.
    """

    kinds: tuple[str, ...] = KINDS
    max_tasks: int = 40
    seconds: float = 600.0
    per_function: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown task kind(s) {sorted(unknown)}; valid: {', '.join(KINDS)}")
        if self.max_tasks < 1 or self.seconds <= 0:
            raise ValueError("max_tasks must be >= 1 and seconds > 0")


def tracked_sources(repo: Path) -> dict[str, str]:
    """Repo-relative path → text of every tracked Python file."""
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--", "*.py"],
        capture_output=True,
        check=True,
    )
    found: dict[str, str] = {}
    for rel in sorted(n for n in out.stdout.decode().split("\0") if n):
        try:
            found[rel] = (repo / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return found


def candidates(repo: Path, options: GenerateOptions) -> dict[str, list[Candidate]]:
    """Kind → its candidates in a seeded order (not yet verified)."""
    sources = tracked_sources(repo)
    by_kind: dict[str, list[Candidate]] = {k: [] for k in options.kinds}
    for rel, text in sources.items():
        if not is_source_path(rel):
            continue
        for c in file_candidates(rel, text, options.kinds):
            by_kind[c.kind].append(c)
        if "fix" in options.kinds:
            by_kind["fix"] += mutants(
                rel, text, per_function=options.per_function, seed=options.seed
            )
    if "rename" in options.kinds:
        by_kind["rename"] = rename_candidates(sources, options.max_tasks, options.seed)
    for kind, found in by_kind.items():
        random.Random(f"{options.seed}:{kind}").shuffle(found)
    return by_kind


def test_command(repo: Path, python: str, extra: Sequence[str] = ()) -> list[str]:
    """The repository's test command with ``python`` as its interpreter; pytest stops at
    the first failure, quietly, with short tracebacks."""
    cmd = detect_test_command(repo) or ["python", "-m", "pytest"]
    cmd = [python if w == "python" else w for w in cmd]
    if "pytest" in cmd:
        cmd += ["-x", "-q", "--tb=short", "-p", "no:cacheprovider", *extra]
    return cmd


def bug_report(output: str, hidden: Sequence[str], limit: int = 12) -> tuple[str, list[str]]:
    """A short report from pytest's output (the ``E`` lines and the failing test ids), with
    any line holding a hidden snippet (the original code) left out."""
    failing = [m.group(2) for m in _FAILED.finditer(output)]
    lines = [ln[1:].strip() for ln in output.splitlines() if ln.startswith("E ")]
    lines += [f"FAILED {m.group(2)}" + (f" - {m.group(3)}" if m.group(3) else "")
              for m in _FAILED.finditer(output)]  # fmt: skip
    kept = [ln for ln in lines if ln and leaks(ln, hidden) is None]
    return "\n".join(kept[:limit]), failing


class Verifier:
    """Runs the repository's tests on a scratch copy with a candidate's files in place."""

    def __init__(self, repo: Path, python: str, sandbox: Sandbox, work: Path) -> None:
        self.repo = repo
        self.python = python
        self.sandbox = sandbox
        self.work = work
        self.command = test_command(repo, python)

    def run(self, scratch: Scratch, files: Mapping[str, str]) -> RunResult:
        saved = {rel: (scratch.root / rel).read_bytes() for rel in files}
        try:
            for rel, text in files.items():
                (scratch.root / rel).write_text(text, encoding="utf-8")
            env = {"PYTHONPATH": python_path(scratch.root)}
            return self.sandbox.run(self.command, scratch.root, env)
        finally:
            for rel, data in saved.items():
                (scratch.root / rel).write_bytes(data)

    def task(
        self, scratch: Scratch, c: Candidate, seed: int, paraphrase: Paraphrase | None
    ) -> tuple[Task | None, str]:
        """The candidate as a verified task, or ``None`` and why not."""
        result = self.run(scratch, c.files)
        if result.timed_out or result.violation:
            return None, "the tests timed out or broke the sandbox"
        values: dict[str, str] = {}
        failing: list[str] = []
        if c.kind == "fix":
            if result.ok:
                return None, "the mutant passes the tests (not caught)"
            output = result.stdout_tail + "\n" + result.stderr_tail
            report, failing = bug_report(output, c.hidden)
            if not failing or not report:
                return None, "no failing test id in the output"
            values = {"test": failing[0], "report": report}
        elif not result.ok:
            return None, "the tests fail on the task's starting state"
        issue, template = issue_text(c, seed, **values)
        if paraphrase is not None:
            said = paraphrase(issue)
            if said.strip() and leaks(said, c.hidden) is None and c.function.split(".")[-1] in said:
                issue, template = said.strip(), -1
        if (leak := leaks(issue, c.hidden)) is not None:
            return None, f"the issue would contain the answer ({leak[:40]})"
        task = Task(
            c.task_id, c.kind, c.path, c.function, issue, dict(c.files), dict(c.answer),
            c.detail, tuple(failing), template,
        )  # fmt: skip
        return task, ""


def generate(
    repo: Path,
    python: str,
    sandbox: Sandbox,
    work: Path,
    options: GenerateOptions,
    *,
    progress: Progress | None = None,
    paraphrase: Paraphrase | None = None,
) -> tuple[list[Task], dict[str, int]]:
    """Verified tasks (round robin over kinds) and the count of each rejection reason.

    Raises ``ValueError`` when the untouched repository's tests do not pass.
    """
    deadline = time.monotonic() + options.seconds
    queues = candidates(repo, options)
    total = min(options.max_tasks, sum(len(q) for q in queues.values()))
    tasks: list[Task] = []
    rejected: dict[str, int] = {}
    work.mkdir(parents=True, exist_ok=True)
    verifier = Verifier(repo, python, sandbox, work)
    with Scratch(repo, base_dir=work) as scratch:
        baseline = verifier.run(scratch, {})
        if not baseline.ok:
            tail = (baseline.stdout_tail + baseline.stderr_tail)[-600:]
            raise ValueError(
                f"the repository's tests do not pass as they are ({' '.join(verifier.command)}):"
                f"\n{tail}\nbootstrap tasks are verified against them; fix them first"
            )
        order = [k for k in options.kinds if queues.get(k)]
        while order and len(tasks) < options.max_tasks and time.monotonic() < deadline:
            for kind in list(order):
                if not queues[kind]:
                    order.remove(kind)
                    continue
                if len(tasks) >= options.max_tasks or time.monotonic() >= deadline:
                    break
                c = queues[kind].pop(0)
                task, why = verifier.task(scratch, c, options.seed, paraphrase)
                if task is None:
                    rejected[f"{kind}: {why}"] = rejected.get(f"{kind}: {why}", 0) + 1
                    continue
                tasks.append(task)
                if progress is not None:
                    progress(len(tasks), total, f"{task.kind} {task.function}")
    if time.monotonic() >= deadline:
        rejected["stopped: time budget spent"] = 1
    return tasks, rejected
