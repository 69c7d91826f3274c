"""``autopatch learn``: memory → datasets → LoRA → GGUF → evaluation → gated promotion.

One loop: (a) when ``--every N`` is set, do nothing until N new successful runs
arrived since the last completed loop; (b) export memory into datasets; (c) fine-tune
a new llm version; (d) replay the same held-out LLM calls against the current model
and the new one; (e) promote the new one only if the gate says it is better;
(f) append a record to ``<data dir>/memory/training_runs.jsonl``. A failing step
leaves a ``failed`` record naming the step, raises ``ValueError``, and never touches
the active model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.config import AppConfig
from agent.learn.check import SPEC_PARAMS, EditChecker, issue_spec_calls
from agent.learn.options import (
    LearnOptions,
    LearnOutcome,
    LLMFactory,
    Progress,
    StepFailed,
    step,
)
from agent.run.rundir import RunDir
from cores.llm import create_llm
from cores.protocols import LLM
from cores.registry import ModelRegistry
from memory.evaluate import EvalReport, evaluate, gate
from memory.held_out import HeldOutCall, held_out_calls, round_robin, success_records
from memory.store import now_utc
from memory.training_runs import TrainingRun, TrainingRunLog
from planner.spec_llm import to_operations

log = logging.getLogger(__name__)

EXPORT_KINDS = ("sft", "repair", "spec", "style", "preference")
SPEC_DEFAULTS = {"spec": SPEC_PARAMS}


def successful_runs(memory_dirs: Sequence[Path]) -> int:
    """Distinct successful run ids across the memory folders."""
    return len(success_records(memory_dirs))


def current_llm(config: AppConfig, registry: ModelRegistry) -> str:
    """The llm in use: the configured name, or the registry's active one for ``default``."""
    if config.llm.model_path:
        return Path(config.llm.model_path).stem
    if config.llm.model == "active" and config.llm.backend == "llama_cpp":
        return registry.active_names().get("llm", "default")
    return config.llm.model


def dataset_spec_calls(
    dataset: Path | None, successes: Mapping[str, Any], run_ids: Sequence[str]
) -> list[HeldOutCall]:
    """Spec calls for held-out runs of other repositories: the exported validation rows'
    prompts (issue + symbols, the form the spec data trains on), against the run's spec."""
    if dataset is None or not (dataset / "spec.validation.jsonl").is_file():
        return []
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    sources = ((manifest.get("provenance") or {}).get("spec") or {}).get("validation") or []
    rows = [
        json.loads(line)
        for line in (dataset / "spec.validation.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    wanted, calls = set(run_ids), []
    for source, row in zip(sources, rows, strict=False):
        run = successes.get(source.get("run_id"))
        messages = [m for m in row.get("messages") or [] if m.get("role") != "assistant"]
        if source.get("run_id") not in wanted or run is None or not messages:
            continue
        calls.append(
            HeldOutCall(
                run_id=str(source["run_id"]),
                attempt_id=f"{source['run_id']}:dataset-spec",
                role="spec",
                answer="spec",
                messages=tuple(messages),
                params=SPEC_PARAMS,
                reference=list((run.get("spec") or {}).get("operations") or []),
            )
        )
    return calls


def validation_run_ids(manifest: Mapping[str, Any]) -> list[str]:
    """The run ids the export held out for validation."""
    splits = manifest.get("splits") or {}
    return [str(r) for r in splits.get("validation") or ()]


def _file_sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


class Loop:
    """One learning loop; each step is one method, ``run`` strings them together."""

    def __init__(
        self,
        config: AppConfig,
        options: LearnOptions,
        progress: Progress = log.info,
        factory: LLMFactory | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.progress = progress
        self.registry = ModelRegistry(config.data_dir)
        self.factory = factory or _default_factory(config, self.registry)
        self.history = TrainingRunLog(config.data_dir)
        own = config.data_dir / "memory"
        # this repo's memory, unless it has none yet and other folders were given
        self.memory_dirs = [
            *([own] if own.is_dir() or not options.extra_memory else []),
            *options.extra_memory,
        ]
        self.current = current_llm(config, self.registry)
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.timings: dict[str, float] = {}
        self.dataset: Path | None = None
        self.fields: dict[str, Any] = {
            "run_id": self.run_id,
            "started_utc": now_utc(),
            "current_model": self.current,
            "success_runs": successful_runs(self.memory_dirs),
        }

    def run(self) -> TrainingRun:
        """export → finetune → judge; a failing step is recorded and raised as ValueError."""
        try:
            dataset, manifest = self.export()
            self.dataset = dataset
            candidate = self.finetune(dataset)
            return self.judge(candidate, validation_run_ids(manifest))
        except StepFailed as exc:
            self.record("failed", failed_step=exc.step, error=exc.error)
            raise ValueError(
                f"learn failed at the {exc.step} step: {exc.error}; the active model "
                f"{self.current} is unchanged (recorded in {self.history.path})"
            ) from exc

    def export(self) -> tuple[Path, dict[str, Any]]:
        from memory.export import ExportOptions, export_datasets

        out = self.config.data_dir / "datasets" / self.run_id
        self.progress(f"exporting memory into {out}")
        with step("export", self.timings):
            manifest = export_datasets(
                self.memory_dirs,
                out,
                ExportOptions(
                    kinds=EXPORT_KINDS,
                    fmt="messages",
                    min_rating=self.options.min_rating,
                    val_fraction=self.options.val_fraction,
                    seed=self.options.seed,
                ),
            )
        self.note_dataset(out, manifest)
        return out, manifest

    def note_dataset(self, out: Path, manifest: Mapping[str, Any]) -> None:
        """Record which exported dataset this loop trains on (fields of its record)."""
        self.dataset = out
        kinds = manifest.get("kinds") or {}
        self.fields.update(
            dataset_dir=str(out),
            dataset_hash=manifest.get("hash"),
            manifest_sha256=_file_sha256(out / "manifest.json")
            or hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest(),
            examples={
                k: {s: v.get(s, 0) for s in ("train", "validation")} for k, v in kinds.items()
            },
            held_out_runs=len(validation_run_ids(manifest)),
        )

    def finetune(self, dataset: Path) -> str:
        from memory.finetune import FinetuneOptions, finetune

        settings = {"out_name": f"learn-{self.run_id}", **self.options.finetune}
        with step("finetune", self.timings):
            result = finetune(
                dataset,
                self.registry,
                FinetuneOptions(**settings),
                work_root=self.config.data_dir / "training",
                active_llm=self.current,
                progress=self.progress,
            )
        for key, value in (result.timings or {}).items():
            self.timings[key] = round(float(value), 3)
        self.fields.update(candidate_model=result.name, adapter_bytes=result.adapter_bytes)
        return str(result.name)

    def judge(self, candidate: str, held_out: Sequence[str]) -> TrainingRun:
        """Evaluate the current model and ``candidate`` on the held-out runs' calls, gate,
        promote when better (and allowed), record."""
        self.fields["candidate_model"] = candidate
        with step("evaluate", self.timings):
            calls = self.held_out_calls(held_out)
            with RunDir(self.config.data_dir, self.run_id) as work:
                checker = None
                if self.options.validate_edits:
                    sandbox = replace(self.config.sandbox, work_dir=str(work.path))
                    checker = EditChecker(
                        self.config.repo,
                        self.memory_dirs,
                        calls,
                        limit=self.options.validate_edits,
                        sandbox=sandbox,
                    )
                before = self._evaluate(self.current, calls, checker)
                after = self._evaluate(candidate, calls, checker)
        verdict = gate(before, after)
        promote = verdict.better and self.options.promote
        if promote:
            with step("promote", self.timings):
                self.registry.use(candidate)
            message = f"promoted {candidate}: {verdict.reason}"
        elif verdict.better:
            message = (
                f"{candidate} is better ({verdict.reason}) but --no-promote kept {self.current}"
            )
        else:
            message = f"kept {self.current}; {candidate} not promoted: {verdict.reason}"
        return self.record(
            "promoted" if promote else "kept",
            before=before.to_dict(),
            after=after.to_dict(),
            decision=message,
        )

    def held_out_calls(self, run_ids: Sequence[str]) -> list[HeldOutCall]:
        """The recorded calls of the held-out runs, plus a spec prompt for each held-out
        issue of this repository whose run made no spec call; ``eval_limit`` at most."""
        recorded = held_out_calls(self.memory_dirs, run_ids, defaults=SPEC_DEFAULTS)
        have_spec = {c.run_id for c in recorded if c.role == "spec"}
        issues = issue_spec_calls(
            self.config.repo,
            self.config.data_dir / "index",
            self.memory_dirs,
            [r for r in run_ids if r not in have_spec],
        )
        covered = have_spec | {c.run_id for c in issues}
        exported = dataset_spec_calls(
            self.dataset,
            success_records(self.memory_dirs),
            [r for r in run_ids if r not in covered],
        )
        return round_robin([*recorded, *issues, *exported], self.options.eval_limit)

    def _evaluate(
        self, name: str, calls: Sequence[HeldOutCall], checker: EditChecker | None
    ) -> EvalReport:
        self.progress(f"evaluating {name} on {len(calls)} held-out call(s)")
        llm = self.factory(name)
        try:
            return evaluate(
                llm,
                calls,
                spec_mapper=lambda v: [o.to_dict() for o in to_operations(dict(v), "")],
                validate_edit=checker,
                validation_note=checker.note if checker else "not measured: validate_edits is 0",
                progress=self.progress,
            )
        finally:
            llm.close()

    def record(self, status: str, **extra: Any) -> TrainingRun:
        run = TrainingRun(status=status, timings=dict(self.timings), **{**self.fields, **extra})
        self.history.append(run)
        return run


def learn(
    config: AppConfig,
    options: LearnOptions,
    progress: Progress = log.info,
    *,
    llm_factory: LLMFactory | None = None,
) -> LearnOutcome:
    """Run one learning loop (see the module docstring). ``llm_factory`` builds the llm of
    a registry name (default: ``create_llm`` on the configured backend)."""
    memory_dirs = [config.data_dir / "memory", *options.extra_memory]
    last = TrainingRunLog(config.data_dir).last_completed()
    new = successful_runs(memory_dirs) - (last.success_runs if last else 0)
    if options.every and new < options.every:
        message = f"not due: {new}/{options.every} new successful runs since the last loop"
        return LearnOutcome("not due", message, new, options.every)
    run = Loop(config, options, progress, llm_factory).run()
    return LearnOutcome(run.status, run.decision, new, options.every, run)


def _default_factory(config: AppConfig, registry: ModelRegistry) -> LLMFactory:
    current = current_llm(config, registry)
    as_configured = bool(
        config.llm.model_path or config.llm.adapter_path or config.llm.backend != "llama_cpp"
    )

    def make(name: str) -> LLM:
        if name == current and as_configured:
            return create_llm(config.llm, registry)
        llm = replace(config.llm, backend="llama_cpp", model=name, model_path=None)
        return create_llm(replace(llm, adapter_path=None), registry)

    return make
