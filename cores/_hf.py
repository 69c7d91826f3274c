"""Shared helpers for the transformers-based backends (imported only by them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transformers.utils import logging as hf_logging  # noqa: E402


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' own tqdm bars while loading; the CLI shows its own progress."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
