"""The history of learning loops: ``<data dir>/memory/training_runs.jsonl``.

One record per loop that did work (a loop that was not due writes nothing): what
was trained on, how long each step took, the before/after scores, and whether the
new version was promoted, kept back (and why) or failed (at which step, with what).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from memory.jsonl import JsonlLog

SCHEMA_VERSION = 1
STATUSES = ("promoted", "kept", "failed")


@dataclass(frozen=True)
class TrainingRun:
    """One learning loop.

    Fields:
      run_id / started_utc: identity and start time (UTC).
      status: ``promoted`` (the new version is active), ``kept`` (the current one stays)
        or ``failed`` (``failed_step`` and ``error`` say where and why).
      current_model / candidate_model: the active llm before the loop, the new version.
      success_runs: successful runs in memory when the loop started (``--every`` counts
        new ones from here).
      dataset_dir / dataset_hash / manifest_sha256 / examples: the exported datasets used
        (the manifest's dataset hash, the sha256 of manifest.json, rows per kind and split);
        held_out_runs: runs of the validation split (their LLM calls are replayed).
      timings: seconds per step (export_s, dequantize_s, train_s, convert_s, evaluate_s, …).
      adapter_bytes: size of the adapter GGUF.
      before / after: the evaluation reports (summaries) of the current and new model.
      decision: the gate's reason, in words.
      bootstrap: for ``learn --bootstrap``: tasks, the budget plan, per-kind held-out pass
        rates before/after with intervals, training examples and wall time (the points of
        ``learn --report``'s learning curve).
    """

    run_id: str
    started_utc: str
    status: str
    current_model: str
    candidate_model: str | None = None
    success_runs: int = 0
    dataset_dir: str | None = None
    dataset_hash: str | None = None
    manifest_sha256: str | None = None
    examples: Mapping[str, Any] = field(default_factory=dict)
    held_out_runs: int = 0
    timings: Mapping[str, float] = field(default_factory=dict)
    adapter_bytes: int | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    decision: str = ""
    failed_step: str | None = None
    error: str | None = None
    bootstrap: Mapping[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["examples"] = dict(self.examples)
        data["timings"] = dict(self.timings)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingRun:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class TrainingRunLog:
    """Append-only, crash-safe (see ``JsonlLog``)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.log = JsonlLog(Path(data_dir) / "memory" / "training_runs.jsonl")

    @property
    def path(self) -> Path:
        return self.log.path

    def append(self, run: TrainingRun) -> None:
        self.log.append(run.to_dict())

    def runs(self) -> list[TrainingRun]:
        return [TrainingRun.from_dict(r) for r in self.log if r.get("status") in STATUSES]

    def last_completed(self) -> TrainingRun | None:
        """The latest loop that got as far as a decision (promoted or kept)."""
        done = [r for r in self.runs() if r.status != "failed"]
        return done[-1] if done else None
