"""What one ``autopatch learn`` loop is asked to do (``LearnOptions``) and what it did
(``LearnOutcome``), and how a loop's step fails (``step``, ``StepFailed``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cores.protocols import LLM
from memory.training_runs import TrainingRun

Progress = Callable[[str], None]
LLMFactory = Callable[[str], LLM]


@dataclass(frozen=True)
class LearnOptions:
    """One learning loop.

    Fields:
      every: run only when this many new successful runs arrived since the last
        completed loop (0: run now).
      eval_limit: held-out LLM calls replayed per model.
      promote: switch the active llm when the new version wins (off: evaluate only).
      extra_memory: more memory folders to learn from (beside ``<data dir>/memory``).
      min_rating / val_fraction / seed: the export's filter and train/validation split.
      finetune: ``memory.finetune.FinetuneOptions`` fields (steps, lr, lora_r, …).
      validate_edits: held-out edit calls per model whose output is re-rendered and
        validated on a scratch copy (0: the validation pass rate is not measured).
    """

    every: int = 0
    eval_limit: int = 24
    promote: bool = True
    extra_memory: tuple[Path, ...] = ()
    min_rating: int = 4
    val_fraction: float = 0.2
    seed: int = 0
    finetune: Mapping[str, Any] = field(default_factory=dict)
    validate_edits: int = 4

    def __post_init__(self) -> None:
        if self.every < 0 or self.eval_limit < 1 or self.validate_edits < 0:
            raise ValueError("every and validate_edits must be >= 0, eval_limit >= 1")


@dataclass(frozen=True)
class LearnOutcome:
    """What one ``learn`` call did: ``not due``, ``promoted`` or ``kept`` (a failed loop
    is recorded and raised as ``ValueError``)."""

    status: str
    message: str
    new_runs: int
    every: int
    run: TrainingRun | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "new_runs": self.new_runs,
            "every": self.every,
            "training_run": self.run.to_dict() if self.run else None,
        }

    def report(self) -> str:
        if self.run is None:
            return self.message
        run = self.run
        lines = [f"learn {run.run_id}: {self.message}"]
        for label, data in (("current", run.before), ("new", run.after)):
            if data:
                shown = ", ".join(
                    f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in data["metrics"].items()
                )
                lines.append(f"  {label:>7} {data['model_id']}: {shown} ({data['calls']} calls)")
        timings = ", ".join(f"{k} {v:.1f}" for k, v in run.timings.items())
        lines.append(f"  timings (s): {timings}")
        if run.adapter_bytes:
            lines.append(f"  adapter: {run.adapter_bytes / 1e6:.1f} MB")
        return "\n".join(lines)


class StepFailed(ValueError):
    def __init__(self, step: str, error: str) -> None:
        super().__init__(f"{step}: {error}")
        self.step = step
        self.error = error


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    except StepFailed:
        raise
    except ValueError as exc:  # an expected failure: its message says what to do
        raise StepFailed(name, str(exc)) from exc
    except Exception as exc:
        raise StepFailed(name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        timings.setdefault(f"{name}_s", round(time.perf_counter() - start, 3))
