"""What autopatch remembers and how it learns from it: crash-safe histories
(``success_memory.jsonl``, attempts, failures, feedback, training runs), the dataset export
(the fine-tune exporter), LoRA fine-tuning with adapter → GGUF, and the evaluation of a new
model version on held-out memory. Never imports ``agent``.

Heavy modules (``memory.export``, ``memory.finetune``, ``memory.evaluate``) are imported by
name where needed so that ``import memory`` stays light.
"""

from memory.jsonl import JsonlLog
from memory.query import RunSummary, run_detail, runs, stats
from memory.store import SUCCESS_FIELDS, Memory
from memory.training_runs import TrainingRun, TrainingRunLog

__all__ = [
    "SUCCESS_FIELDS",
    "JsonlLog",
    "Memory",
    "RunSummary",
    "TrainingRun",
    "TrainingRunLog",
    "run_detail",
    "runs",
    "stats",
]
