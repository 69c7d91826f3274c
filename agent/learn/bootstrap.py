"""``autopatch learn --bootstrap``: learn from tasks made from the repository itself.

One loop, fitted to a budget in minutes (``agent.learn.budget``):

1. generate tasks with known answers and verify each by running the repository's tests
   (``agent.learn.generate``);
2. split them by function: held-out tasks never share a function with training tasks
   (``memory.significance.split_by_group``);
3. run the current model through ``fix`` on the held-out tasks (the *before* pass rate);
4. rejection sampling on the training tasks (``agent.learn.solve``): passing runs go to
   memory marked ``synthetic``;
5. export memory (real and synthetic apart) and fine-tune, as ``autopatch learn`` does;
6. run the tuned model on the same held-out tasks (*after*), and replay the user's real
   held-out runs with both models;
7. promote only when the held-out gain is significant and nothing on real runs fell
   (``memory.significance.bootstrap_gate``); record the loop in ``training_runs.jsonl``.

Every step's output is kept under ``<data dir>/bootstrap/<loop id>/`` as it is made, so an
interrupted loop resumes where it stopped (the next ``learn --bootstrap`` picks it up).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.config import AppConfig
from agent.learn.bootstrap_options import Bar, BootstrapOptions, training_device
from agent.learn.budget import fit_budget, measured_speed
from agent.learn.generate import GenerateOptions, generate
from agent.learn.loop import Loop, validation_run_ids
from agent.learn.options import LearnOptions, LLMFactory, StepFailed, step
from agent.learn.solve import Attempt, Solver
from agent.learn.tasks import Task
from memory.evaluate import gate
from memory.held_out import success_records
from memory.jsonl import JsonlLog
from memory.significance import bootstrap_gate, compare, split_by_group
from memory.store import Memory
from memory.training_runs import TrainingRun, TrainingRunLog

log = logging.getLogger(__name__)


class BootstrapLoop:
    """The steps above; each keeps its output in ``self.work`` and skips what is there."""

    def __init__(
        self,
        config: AppConfig,
        options: BootstrapOptions,
        progress: Callable[[str], None] = log.info,
        bar: Bar | None = None,
        factory: LLMFactory | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.progress = progress
        self.bar = bar or (lambda stage, done, total: None)
        history = TrainingRunLog(config.data_dir).runs()
        device = training_device(options.device)
        plan = fit_budget(
            options.budget_minutes,
            kinds=len(options.kinds),
            device=device,
            tokens_per_s=measured_speed(history),
        )
        self.plan = replace(
            plan,
            max_tasks=options.max_tasks or plan.max_tasks,
            test_per_kind=options.test_per_kind or plan.test_per_kind,
        )
        root = config.data_dir / "bootstrap"
        self.work = self._resume(root) or root / time.strftime("%Y%m%d-%H%M%S")
        self.work.mkdir(parents=True, exist_ok=True)
        self.state = self.work / "state.json"
        if not self.state.exists():
            self._save_state(status="running", plan=self.plan.to_dict())
        self.learn = Loop(
            config,
            LearnOptions(
                eval_limit=options.eval_limit,
                promote=False,
                seed=options.seed,
                finetune=self.plan.finetune(),
                validate_edits=0,
            ),
            progress,
            factory,
        )
        self.learn.run_id = f"bootstrap-{self.work.name}"  # one name per loop: resumable
        self.learn.fields["run_id"] = self.learn.run_id
        self.timings: dict[str, float] = {}
        self.start = time.perf_counter()
        records = success_records([config.data_dir / "memory"]).values()
        self.real_runs = sum(1 for r in records if not r.get("synthetic"))

    @staticmethod
    def _resume(root: Path) -> Path | None:
        for state in sorted(root.glob("*/state.json"), reverse=True):
            try:
                if json.loads(state.read_text()).get("status") == "running":
                    return state.parent
            except (OSError, ValueError):
                continue
        return None

    def _save_state(self, **fields: Any) -> None:
        data = json.loads(self.state.read_text()) if self.state.exists() else {}
        data.update(fields)
        self.state.write_text(json.dumps(data, indent=2, default=str))

    # -- steps -------------------------------------------------------------------------
    def tasks(self) -> list[Task]:
        path = self.work / "tasks.jsonl"
        if path.exists():
            return [Task.from_dict(r) for r in JsonlLog(path)]
        python = self.options.python or sys.executable
        paraphrase = self._paraphraser() if self.options.paraphrase else None
        tasks, rejected = generate(
            self.config.repo,
            python,
            self.config.sandbox,
            self.work / "verify",
            GenerateOptions(
                kinds=self.options.kinds,
                max_tasks=self.plan.max_tasks,
                seconds=self.plan.generate_s,
                seed=self.options.seed,
            ),
            progress=lambda done, total, what: self.bar("generating tasks", done, total),
            paraphrase=paraphrase,
        )
        out = JsonlLog(path)
        for task in tasks:
            out.append(task.to_dict())
        self._save_state(rejected=rejected)
        self.progress(f"{len(tasks)} verified task(s); rejected: {rejected}")
        return tasks

    def _paraphraser(self) -> Callable[[str], str]:
        llm = self.learn.factory(self.learn.current)

        def say(issue: str) -> str:
            prompt = (
                "Reword this request for a code change. Keep every name in backticks, every "
                "file path and every test id exactly; add nothing.\n\n" + issue
            )
            try:
                return llm.chat([{"role": "user", "content": prompt}]).text
            except Exception:  # a failed paraphrase keeps the template's text
                return ""

        return say

    def split(self, tasks: Sequence[Task]) -> tuple[list[Task], list[Task]]:
        return split_by_group(
            tasks,
            lambda t: t.group,
            lambda t: t.kind,
            test_per_kind=self.plan.test_per_kind,
            seed=self.options.seed,
        )

    def _solver(self, name: str) -> Solver:
        return Solver(
            self.config,
            self.work / name,
            self.options.python or sys.executable,
            self.options.solve,
            self.learn.factory,
            progress=lambda msg: log.debug("%s", msg),
        )

    def evaluate(self, label: str, model: str, tasks: Sequence[Task]) -> dict[str, Attempt]:
        """Greedy ``fix`` runs of ``model`` on ``tasks`` (resumes from ``<label>.jsonl``)."""
        path = JsonlLog(self.work / f"{label}.jsonl")
        done = {r["task_id"]: Attempt.from_dict(r) for r in path}
        solver = self._solver(f"eval-{label}")
        try:
            for i, task in enumerate(tasks, 1):
                if task.task_id not in done:
                    attempt = solver.attempt(task, model)
                    path.append(attempt.to_dict())
                    done[task.task_id] = attempt
                self.bar(f"held-out tasks, {label} ({model})", i, len(tasks))
        finally:
            solver.close()
        return done

    def solve(self, tasks: Sequence[Task]) -> dict[str, Any]:
        """Rejection sampling on the training tasks until the solve share is spent."""
        path = JsonlLog(self.work / "solved.jsonl")
        done = {r["task_id"]: r for r in path}
        memory = Memory(self.config.data_dir)
        solver = self._solver("solve")
        deadline = time.monotonic() + self.plan.solve_s
        try:
            for i, task in enumerate(tasks, 1):
                if task.task_id in done:
                    continue
                if time.monotonic() > deadline:
                    self.progress(f"solve budget spent after {i - 1}/{len(tasks)} task(s)")
                    break
                kept = solver.sample(task, self.learn.current, deadline)
                for attempt in kept:
                    solver.remember(memory, task, attempt)
                record = {"task_id": task.task_id, "kind": task.kind, "kept": len(kept),
                          "model_calls": [a.model_calls for a in kept]}  # fmt: skip
                path.append(record)
                done[task.task_id] = record
                self.bar("solving training tasks", i, len(tasks))
        finally:
            solver.close()
        tried = list(done.values())
        return {
            "tried": len(tried),
            "solved": sum(1 for r in tried if r["kept"]),
            "kept_runs": sum(r["kept"] for r in tried),
            "by_kind": {
                k: [
                    sum(1 for r in tried if r["kind"] == k and r["kept"]),
                    sum(1 for r in tried if r["kind"] == k),
                ]
                for k in sorted({r["kind"] for r in tried})
            },  # fmt: skip
        }

    def export(self) -> tuple[Path, dict[str, Any]]:
        """Export memory (``StepFailed`` when there is nothing), or reuse this loop's export
        when an interrupted run already wrote it."""
        out = self.config.data_dir / "datasets" / self.learn.run_id
        if (out / "manifest.json").is_file():
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            self.learn.note_dataset(out, manifest)
            return out, manifest
        return self.learn.export()

    def real_deltas(self, candidate: str, held_out: Sequence[str]) -> dict[str, float] | None:
        """Metric deltas (candidate − current) on the user's real held-out runs; None if none."""
        calls = self.learn.held_out_calls(held_out)  # synthetic runs are never held out
        if not calls:
            return None
        before = self.learn._evaluate(self.learn.current, calls, None)
        after = self.learn._evaluate(candidate, calls, None)
        return dict(gate(before, after).deltas)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> TrainingRun:
        try:
            return self._run()
        except StepFailed as exc:
            self.learn.timings.update(self.timings)
            self.learn.record("failed", failed_step=exc.step, error=exc.error)
            self._save_state(status="failed", error=str(exc))
            raise ValueError(
                f"learn --bootstrap failed at the {exc.step} step: {exc.error}; the active "
                f"model {self.learn.current} is unchanged (work kept in {self.work})"
            ) from exc

    def _run(self) -> TrainingRun:
        with step("generate", self.timings):
            tasks = self.tasks()
            if not tasks:
                raise ValueError("no task could be generated and verified from this repository")
        train, test = self.split(tasks)
        self.progress(f"{len(train)} training task(s), {len(test)} held-out task(s)")
        current = self.learn.current
        with step("before", self.timings):
            before = self.evaluate("before", current, test)
        with step("solve", self.timings):
            solved = self.solve(train)
        dataset, manifest = self.export()
        candidate = self.learn.finetune(dataset)
        with step("after", self.timings):
            after = self.evaluate("after", candidate, test)
        with step("real", self.timings):
            real = self.real_deltas(candidate, validation_run_ids(manifest))
        kinds = {t.task_id: t.kind for t in test}
        results = compare(
            {i: a.passed for i, a in before.items() if i in kinds},
            {i: a.passed for i, a in after.items() if i in kinds},
            kinds,
            seed=self.options.seed,
        )
        verdict = bootstrap_gate(results, real)
        promote = verdict.better and self.options.promote
        if promote:
            self.learn.registry.use(candidate)
            message = f"promoted {candidate}: {verdict.reason}"
        elif verdict.better:
            message = f"{candidate} is better ({verdict.reason}) but --no-promote kept {current}"
        else:
            message = f"kept {current}; {candidate} not promoted: {verdict.reason}"
        wall = round(time.perf_counter() - self.start, 1)
        examples = self.learn.fields.get("examples") or {}
        self.learn.timings.update(self.timings)
        origin = manifest.get("origin") or {}
        bootstrap = {
            "work_dir": str(self.work),
            "real_success_runs": self.real_runs,
            "wall_s": wall,
            "plan": self.plan.to_dict(),
            "tasks": {"generated": len(tasks), "train": len(train), "test": len(test)},
            "by_kind_generated": {k: sum(t.kind == k for t in tasks) for k in self.options.kinds},
            "solved": solved,
            "train_examples": sum(int(v.get("train", 0)) for v in examples.values()),
            "synthetic_rows": (origin.get("synthetic") or {}).get("rows"),
            "real_rows": (origin.get("real") or {}).get("rows"),
            "kinds": {k: v.to_dict() for k, v in results.items()},
            "verdict": verdict.to_dict(),
            "measured": {
                "train_tokens_per_s": self._tokens_per_s(candidate),
                "s_per_fix_attempt": _mean(
                    [a.seconds for a in [*before.values(), *after.values()]]
                ),
            },
        }
        self._save_state(status="done", decision=message)
        return self.learn.record(
            "promoted" if promote else "kept",
            candidate_model=candidate,
            decision=message,
            bootstrap=bootstrap,
        )

    def _tokens_per_s(self, candidate: str) -> float | None:
        entry = next((e for e in self.learn.registry.entries() if e.name == candidate), None)
        metrics = (entry.provenance.get("metrics") or {}) if entry is not None else {}
        value = metrics.get("tokens_per_s")
        return float(value) if value else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def learn_bootstrap(
    config: AppConfig,
    options: BootstrapOptions,
    progress: Callable[[str], None] = log.info,
    *,
    bar: Bar | None = None,
    llm_factory: LLMFactory | None = None,
) -> TrainingRun:
    """Run (or resume) one bootstrap loop; see the module docstring."""
    return BootstrapLoop(config, options, progress, bar, llm_factory).run()
