"""The base model of a fine-tune: resolved from the registry, dequantized once, cached.

A quantized GGUF (Q4_K, Q4_1, Q8_0, …) is loaded with transformers' GGUF reader into
dense fp32 weights and saved as an ordinary Hugging Face folder in
``<cache>/hf/<sha256 of the GGUF, 16 hex digits>/``. The folder is written to a
temporary name and renamed, so a crash never leaves half a model behind, and later
fine-tunes of the same GGUF reuse it (rebuilding the tokenizer alone takes 10-20 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cores.embedded import cache_dir, sha256_file
from cores.errors import ModelNotFoundError
from cores.registry import ModelRegistry

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
_HASHES = "sha256.json"


@dataclass(frozen=True)
class BaseModel:
    """What a LoRA is trained on top of.

    ``name``: registry name (or folder name); ``gguf``: the file llama.cpp loads with the
    adapter (None for an HF folder that has no GGUF yet); ``hf_dir``: an HF folder when
    the base already is one; ``sha256``: of the GGUF, or a digest of the folder.
    """

    name: str
    gguf: Path | None
    hf_dir: Path | None
    sha256: str
    note: str = ""


def _hash_cache_file() -> Path:
    return cache_dir() / "hf" / _HASHES


def gguf_sha256(path: Path, known: str | None = None) -> str:
    """The file's sha256: ``known`` when pinned, else computed once and remembered."""
    if known:
        return known
    stat = path.stat()
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    store = _hash_cache_file()
    cached: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        cached = json.loads(store.read_text())
    if key in cached:
        return cached[key]
    digest = sha256_file(path)
    cached[key] = digest
    with contextlib.suppress(OSError):
        store.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=store.parent, prefix=".sha256-")
        with os.fdopen(fd, "w") as fh:
            json.dump(cached, fh, indent=1)
        os.replace(tmp, store)
    return digest


def folder_digest(folder: Path) -> str:
    """A cheap identity for an HF folder: names, sizes and mtimes of its files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def resolve_base(base: str | None, registry: ModelRegistry, active_llm: str) -> BaseModel:
    """A registry LLM name or an HF folder → ``BaseModel``; a clear ``ValueError`` otherwise.

    A fine-tuned entry (one with an adapter) resolves to its base GGUF: a new adapter
    is always trained from the base weights on the whole exported dataset.
    """
    wanted = base or active_llm
    folder = Path(wanted).expanduser()
    if ("/" in wanted or wanted.startswith(".")) and folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ValueError(f"base folder {folder} has no config.json; it is not an HF model")
        return BaseModel(folder.name, None, folder.resolve(), folder_digest(folder))
    try:
        entry = registry.get(wanted)
    except ModelNotFoundError as exc:
        raise ValueError(f"unknown base model {wanted!r}: {exc}") from None
    if entry.kind != "llm":
        raise ValueError(f"base model {wanted!r} is not an LLM (it is a {entry.kind} model)")
    note = ""
    if entry.adapter:
        note = f"{wanted!r} is itself a fine-tune; training a new adapter on its base"
    try:
        path = entry.resolved_path()
    except ModelNotFoundError as exc:
        raise ValueError(f"base model {wanted!r} is not available: {exc}") from None
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"base model {wanted!r} points at a folder without config.json")
        return BaseModel(entry.base or entry.name, None, path, folder_digest(path), note)
    name = entry.base if entry.adapter and entry.base else entry.name
    return BaseModel(name, path, None, gguf_sha256(path, entry.sha256), note)


def hf_folder_for(sha256: str) -> Path:
    return cache_dir() / "hf" / sha256[:16]


def dequantize(gguf: Path, sha256: str, progress: Progress) -> tuple[Path, float]:
    """The cached HF folder of ``gguf`` (created on first use) and the seconds spent."""
    final = hf_folder_for(sha256)
    if (final / "config.json").is_file() and (final / ".complete").is_file():
        return final, 0.0
    progress(f"dequantizing {gguf.name} to an fp32 HF folder (once; cached in {final})")
    start = time.perf_counter()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cores._hf import quiet_progress

    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
    try:
        # The GGUF reader draws its own tqdm bar on stderr; the CLI shows ``progress``.
        with quiet_progress(), contextlib.redirect_stderr(io.StringIO()):
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
            )
            # Dense now: saving must not record the GGUF quantizer.
            model.hf_quantizer = None  # type: ignore[assignment]
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(str(staging), safe_serialization=True)
            tokenizer.save_pretrained(str(staging))
        (staging / ".complete").write_text(json.dumps({"gguf": str(gguf), "sha256": sha256}))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - start
    progress(f"dequantized in {seconds:.1f}s")
    return final, seconds
