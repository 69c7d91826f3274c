"""Solving bootstrap tasks with the real ``fix`` pipeline, and checking the answers.

A ``TaskRepo`` is one git repository holding the target's tracked files; ``start(task)``
resets it and commits the task's starting state. ``Solver.attempt`` runs
``agent.run.job.FixRun`` on it exactly as ``autopatch fix --apply`` does (its own data
dir, so the run's memory stays apart), then checks the landed change against the task's
known answer (``check_answer``). An attempt *passes* only when ``fix`` validated the change
and the check holds.

Rejection sampling (``Solver.sample``): a greedy try first (fewest model calls), then a try
that samples several drafts per model phase; at most ``keep`` passing attempts per task.
Their records are copied into the user's memory marked ``synthetic``.
"""

from __future__ import annotations

import ast
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from agent.config import AppConfig
from agent.learn.generate import test_command
from agent.learn.task_edits import annotations_of, functions
from agent.learn.tasks import Task
from agent.run.models import LazyLLM
from agent.run.options import FixConfig, FixOptions
from agent.verify.project import python_path
from agent.verify.sandbox import Sandbox
from cores.protocols import LLM
from memory.jsonl import JsonlLog
from memory.store import Memory

log = logging.getLogger(__name__)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "autopatch-bootstrap",
    "GIT_AUTHOR_EMAIL": "bootstrap@autopatch.invalid",
    "GIT_COMMITTER_NAME": "autopatch-bootstrap",
    "GIT_COMMITTER_EMAIL": "bootstrap@autopatch.invalid",
}


@dataclass(frozen=True)
class SolveOptions:
    """How tasks are run through ``fix``.

    Fields:
      candidates: drafts sampled per model phase in the sampling try (the greedy try: 1).
      max_repairs: repair rounds per phase (``fix --max-repairs``).
      keep: passing attempts kept per task at most (rejection sampling).
      spec_llm: ``fix --spec-llm`` (``never``: the rules read the issue, the model drafts).
      full_tests: ``fix --full-tests``.
    """

    candidates: int = 3
    max_repairs: int = 1
    keep: int = 2
    spec_llm: str = "never"
    full_tests: str = "auto"

    def fix_options(self, candidates: int) -> FixOptions:
        return FixOptions(
            apply=True,
            max_repairs=self.max_repairs,
            spec_llm=self.spec_llm,
            candidates=candidates,
            full_tests=self.full_tests,
        )


@dataclass(frozen=True)
class Attempt:
    """One ``fix`` run on one task with one model."""

    task_id: str
    kind: str
    model: str
    passed: bool
    validated: bool
    check: str
    model_calls: int
    seconds: float
    run_id: str
    candidates: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attempt:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


class TaskRepo:
    """A git repository with the target's tracked files, reset to one task at a time."""

    def __init__(self, source: Path, where: Path) -> None:
        self.root = where
        if (where / ".git").is_dir():
            return  # made by an earlier (interrupted) loop
        listed = subprocess.run(
            ["git", "-C", str(source), "ls-files", "-z"], capture_output=True, check=True
        )
        where.mkdir(parents=True, exist_ok=True)
        for rel in (n for n in listed.stdout.decode().split("\0") if n):
            src = source / rel
            if src.is_file() and not src.is_symlink():
                (where / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, where / rel)
        _git(where, "init", "-q")
        _git(where, "add", "-A", "-f")
        _git(where, "commit", "-q", "--no-verify", "-m", "base")
        _git(where, "tag", "-f", "bootstrap-base")

    def start(self, task: Task) -> None:
        """The task's starting state, committed (so ``fix --apply`` sees a clean tree)."""
        _git(self.root, "checkout", "-q", "-f", "-B", "task", "bootstrap-base")
        _git(self.root, "clean", "-fdxq")
        for rel, text in task.files.items():
            (self.root / rel).write_text(text, encoding="utf-8")
        _git(self.root, "commit", "-q", "--no-verify", "--allow-empty", "-am", task.task_id)


def _function(root: Path, task: Task) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse((root / task.path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    return next((n for q, n in functions(tree) if q == task.function), None)


def check_answer(task: Task, root: Path, python: str, sandbox: Sandbox) -> tuple[bool, str]:
    """Does the tree at ``root`` hold the task's answer? (ok, why)."""
    if task.kind == "rename":
        old, new = task.answer["old"], task.answer["new"]
        task = replace(task, function=new)
        node = _function(root, task)
        tree_text = (root / task.path).read_text(encoding="utf-8")
        if node is None:
            return False, f"`{new}` is not defined in {task.path}"
        if f"def {old}(" in tree_text:
            return False, f"`{old}` is still defined"
        return True, "renamed"
    node = _function(root, task)
    if node is None:
        return False, f"`{task.function}` is gone from {task.path}"
    if task.kind == "docstring":
        doc = ast.get_docstring(node)
        return (bool(doc and doc.strip()), "documented" if doc else "still no docstring")
    if task.kind == "annotate":
        want = dict(task.answer["annotations"])
        have = annotations_of(node)
        missing = sorted(set(want) - set(have))
        return (not missing, "annotated" if not missing else f"not annotated: {missing}")
    if task.kind == "keyword_only":
        kwonly = sorted(a.arg for a in node.args.kwonlyargs)
        wanted = sorted(task.answer["keyword_only"])
        return kwonly == wanted, f"keyword-only: {kwonly} (wanted {wanted})"
    if task.kind == "fix":
        cmd = test_command(root, python, extra=list(task.failing))
        result = sandbox.run(cmd, root, {"PYTHONPATH": python_path(root)})
        return result.ok, "the failing tests pass" if result.ok else "the failing tests still fail"
    return False, f"unknown task kind {task.kind}"


class Solver:
    """Runs ``fix`` on tasks in one task repository; one loaded model per name."""

    def __init__(
        self,
        config: AppConfig,
        work: Path,
        python: str,
        options: SolveOptions,
        make_llm: Callable[[str], LLM],
        progress: Callable[[str], None] = log.debug,
    ) -> None:
        self.config = config
        self.work = work
        self.python = python
        self.options = options
        self.make_llm = make_llm
        self.progress = progress
        self.repo = TaskRepo(config.repo, work / "repo")
        self.data_dir = work / "data"
        self._models: dict[str, LLM] = {}
        self._digest: Any = None
        self._style: Any = None

    def _llm(self, name: str) -> LazyLLM:
        def get() -> LLM:
            if name not in self._models:
                self._models[name] = self.make_llm(name)
            return self._models[name]

        return LazyLLM(get, get)

    def close(self) -> None:
        for llm in self._models.values():
            llm.close()
        self._models.clear()

    def attempt(self, task: Task, model: str, candidates: int = 1) -> Attempt:
        """One ``fix --apply`` run of ``task`` with ``model``, checked against the answer."""
        from agent.run.job import FixRun
        from planner.digest import RepositoryDigest
        from planner.style import StyleProfiler

        self.repo.start(task)
        digest = RepositoryDigest.build(self.repo.root, self.data_dir / "index")
        if self._style is None:
            self._style = StyleProfiler(self.config.repo).profile()
        sandbox = self.config.sandbox
        config = FixConfig(
            self.repo.root,
            self.data_dir,
            self.python,
            self.options.fix_options(candidates),
            sandbox,
        )
        run = FixRun(config, digest, self._llm(model), style=self._style, progress=self.progress)
        start = time.perf_counter()
        try:
            result = run.run(task.issue, None)
            validated, message = result.ok, result.message
        except Exception as exc:  # a failed run is a failed attempt, not a crashed loop
            validated, message = False, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        passed, why = False, message[:300]
        if validated:
            passed, why = check_answer(task, self.repo.root, self.python, sandbox)
        return Attempt(
            task.task_id, task.kind, model, passed, validated, why,
            self.model_calls(run.run_id), round(seconds, 2), run.run_id, candidates,
        )  # fmt: skip

    def model_calls(self, run_id: str) -> int:
        return sum(1 for r in self._attempt_records(run_id) if r.get("role") != "codemod")

    def _attempt_records(self, run_id: str) -> list[dict[str, Any]]:
        log_ = JsonlLog(self.data_dir / "memory" / "attempts.jsonl")
        return [dict(r) for r in log_ if r.get("run_id") == run_id]

    def sample(self, task: Task, model: str, deadline: float | None = None) -> list[Attempt]:
        """Rejection sampling: greedy, then sampled drafts; the passing attempts, fewest
        model calls first, at most ``keep``. The sampling try is skipped when less than three
        greedy tries' time is left before ``deadline`` (``time.monotonic()``)."""
        tries = [1] + ([self.options.candidates] if self.options.candidates > 1 else [])
        passing: list[Attempt] = []
        for candidates in tries:
            attempt = self.attempt(task, model, candidates)
            self.progress(
                f"{task.kind} {task.function}: {'pass' if attempt.passed else 'fail'} "
                f"({attempt.check[:80]})"
            )
            if attempt.passed:
                passing.append(attempt)
            if len(passing) >= self.options.keep:
                break
            if deadline is not None and time.monotonic() + 3 * attempt.seconds > deadline:
                break
        return sorted(passing, key=lambda a: (a.model_calls, a.seconds))[: self.options.keep]

    def remember(self, memory: Memory, task: Task, attempt: Attempt) -> None:
        """Copy a passing attempt's run (success + attempt records) into ``memory``,
        marked ``synthetic`` with the task it solved."""
        tag = {
            "synthetic": True,
            "bootstrap": {
                "task_id": task.task_id,
                "kind": task.kind,
                "path": task.path,
                "function": task.function,
                "template": task.template,
                "model_calls": attempt.model_calls,
            },
        }
        success = next(
            (
                dict(r)
                for r in JsonlLog(self.data_dir / "memory" / "success_memory.jsonl")
                if r.get("run_id") == attempt.run_id
            ),
            None,
        )
        if success is None:
            return
        for record in self._attempt_records(attempt.run_id):
            memory.record_attempt({**record, **tag})
        memory.record_success({**success, **tag})


def pass_rates(attempts: Sequence[Attempt]) -> dict[str, tuple[int, int]]:
    """Kind → (passed, tasks)."""
    out: dict[str, tuple[int, int]] = {}
    for a in attempts:
        k, n = out.get(a.kind, (0, 0))
        out[a.kind] = (k + int(a.passed), n + 1)
    return out
