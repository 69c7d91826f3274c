"""Fit one bootstrap loop to a budget in minutes: how many tasks, how long each step, and
the LoRA shape (sequence length, rank, steps) that trains in the time left.

The throughputs are measured defaults for the 0.5B default model (2 CPU cores: ~20
training tokens/s, ~40 s per ``fix`` attempt with drafting; one GPU: ~2,000 tokens/s);
the last loop's measured training speed replaces the default when the history has one.
See docs/learning.md for the budget/gain trade-off.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# share of the budget per step: generate (test runs), solve (rejection sampling),
# evaluate (held-out tasks, current + candidate), train (LoRA + conversion)
SHARES = {"generate": 0.10, "solve": 0.35, "evaluate": 0.30, "train": 0.25}
TOKENS_PER_S = {"cpu": 20.0, "cuda": 2000.0}
ATTEMPT_S = 40.0  # one fix run of a task with the 0.5B on 2 cores (docstring ~12 s, fix ~50 s)
TRAIN_OVERHEAD_S = 60.0  # model load, adapter conversion
FILL = 0.7  # average share of max_length an example uses


@dataclass(frozen=True)
class BudgetPlan:
    """What one loop may spend, and the LoRA settings that fit its training share.

    Fields:
      minutes: the whole budget; generate_s / solve_s / evaluate_s / train_s: its shares.
      test_per_kind: held-out tasks per kind; train_tasks: tasks solved for training;
      max_tasks: tasks generated (train + test, with room for rejects).
      max_length / lora_r / lora_alpha / steps / batch_size: the fine-tune's shape.
      device: ``cpu`` or ``cuda``; tokens_per_s: the training speed the plan assumed.
    """

    minutes: float
    generate_s: float
    solve_s: float
    evaluate_s: float
    train_s: float
    test_per_kind: int
    train_tasks: int
    max_tasks: int
    max_length: int
    lora_r: int
    lora_alpha: int
    steps: int
    batch_size: int
    device: str
    tokens_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def finetune(self) -> dict[str, Any]:
        """``memory.finetune.FinetuneOptions`` fields."""
        return {
            "steps": self.steps,
            "max_length": self.max_length,
            "lora_r": self.lora_r,
            "lora_alpha": self.lora_alpha,
            "batch_size": self.batch_size,
            "device": self.device,
            "max_seconds": max(60.0, self.train_s - TRAIN_OVERHEAD_S),
        }


def fit_budget(
    minutes: float,
    *,
    kinds: int,
    device: str = "cpu",
    tokens_per_s: float | None = None,
    attempt_s: float = ATTEMPT_S,
) -> BudgetPlan:
    """The plan for ``minutes`` on ``device`` with ``kinds`` task kinds."""
    if minutes <= 0 or kinds < 1:
        raise ValueError("the budget must be positive and at least one task kind asked")
    device = "cuda" if device == "cuda" else "cpu"
    speed = tokens_per_s or TOKENS_PER_S[device]
    total = minutes * 60
    shares = {k: total * v for k, v in SHARES.items()}
    test_per_kind = max(2, int(shares["evaluate"] / (2 * attempt_s * kinds)))
    train_tasks = max(kinds, int(shares["solve"] / (1.5 * attempt_s)))
    max_tasks = int((train_tasks + test_per_kind * kinds) * 1.2) + 1
    # longer sequences keep more of each example, but cost steps; ranks above 16 do not
    # pay on a few hundred examples
    max_length = 512 if minutes < 45 else 768 if minutes < 240 else 1024
    lora_r = 8 if minutes < 45 else 16
    batch = 2 if device == "cpu" else 8
    tokens = max(0.0, shares["train"] - TRAIN_OVERHEAD_S) * speed
    steps = max(4, min(400, math.floor(tokens / (batch * max_length * FILL))))
    return BudgetPlan(
        minutes, round(shares["generate"], 1), round(shares["solve"], 1),
        round(shares["evaluate"], 1), round(shares["train"], 1), test_per_kind, train_tasks,
        max_tasks, max_length, lora_r, 2 * lora_r, steps, batch, device, speed,
    )  # fmt: skip


def measured_speed(history: list[Any]) -> float | None:
    """Training tokens per second of the latest loop that recorded one."""
    for run in reversed(history):
        speed = ((getattr(run, "bootstrap", None) or {}).get("measured") or {}).get(
            "train_tokens_per_s"
        )
        if speed:
            return float(speed)
    return None
