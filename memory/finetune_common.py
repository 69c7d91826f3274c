"""Helpers both fine-tunes use (the LoRA one in ``memory.finetune``, the T5 one in
``memory.t5_train``), so neither imports the other for them."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cores.registry import ModelRegistry


def utc_stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def check_name_free(registry: ModelRegistry, name: str, run_dir: Path) -> bool:
    """True when ``name`` exists and was made by this run folder (it will be replaced)."""
    existing = next((e for e in registry.entries() if e.name == name), None)
    if existing is None:
        return False
    if existing.provenance.get("run_dir") == str(run_dir):
        return True
    raise ValueError(f"a model named {name!r} is already registered; pick another name with --out")
