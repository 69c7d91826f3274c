"""What one ``autopatch learn --bootstrap`` loop is asked to do (``BootstrapOptions``),
the device it trains on, and when it is due (``new_real_runs``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.learn.solve import SolveOptions
from agent.learn.tasks import KINDS
from memory.held_out import success_records
from memory.training_runs import TrainingRunLog

Bar = Callable[[str, int, int], None]  # stage, done, total


@dataclass(frozen=True)
class BootstrapOptions:
    """One bootstrap loop.

    Fields:
      budget_minutes: the whole loop's budget; it sets the task counts and the LoRA shape.
      kinds: task kinds (``agent.learn.tasks.KINDS``).
      device: ``auto``, ``cpu`` or ``cuda`` (training; the plan assumes the GPU's speed).
      python: the interpreter that runs the repository's tests (default: this one).
      solve: how tasks go through ``fix`` (``agent.learn.solve.SolveOptions``).
      paraphrase: let the current model reword each issue (leak-checked again).
      promote / seed / eval_limit: as for ``autopatch learn``.
      max_tasks / test_per_kind: override the plan's counts (0: the plan's).
    """

    budget_minutes: float = 60.0
    kinds: tuple[str, ...] = KINDS
    device: str = "auto"
    python: str | None = None
    solve: SolveOptions = SolveOptions()
    paraphrase: bool = False
    promote: bool = True
    seed: int = 0
    eval_limit: int = 24
    max_tasks: int = 0
    test_per_kind: int = 0


def training_device(device: str) -> str:
    """``auto``: cuda where torch sees a GPU, else cpu; any other value as it is."""
    if device != "auto":
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def new_real_runs(data_dir: Path) -> int:
    """Real (not synthetic) successful runs since the last completed loop (``--every``)."""
    runs = success_records([data_dir / "memory"])
    real = sum(1 for r in runs.values() if not r.get("synthetic"))
    last = TrainingRunLog(data_dir).last_completed()
    seen = int(((last.bootstrap or {}).get("real_success_runs") or 0) if last else 0)
    return real - seen
