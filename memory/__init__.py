"""Append-only histories of what autopatch tried (success_memory.jsonl, attempts, failures),
and later the dataset export and the fine-tune exporter. Never imports ``agent``."""

from memory.jsonl import JsonlLog
from memory.store import SUCCESS_FIELDS, Memory

__all__ = ["SUCCESS_FIELDS", "JsonlLog", "Memory"]
