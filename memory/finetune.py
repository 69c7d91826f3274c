"""``autopatch finetune``: exported datasets → LoRA adapter → GGUF → a registry version.

Steps: resolve the base (registry name or HF folder) and dequantize its GGUF once
(``memory.dequantize``); train a PEFT LoRA on the sft + repair + spec chat data,
answer tokens only (``memory.finetune_train``); convert the adapter with llama.cpp's
``convert_lora_to_gguf.py`` and check it (``memory.lora_gguf``); register it with
provenance, not active (the learning gate or ``autopatch models use`` decides), and
write an Ollama ``Modelfile`` beside it. ``finetune_t5`` (``memory.t5_train``) trains the
Seq2Seq spec normalizer instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cores.registry import ModelEntry, ModelRegistry
from memory.dequantize import BaseModel, dequantize, resolve_base
from memory.finetune_common import check_name_free, utc_stamp, write_json
from memory.finetune_data import Dataset as ChatDataset
from memory.finetune_data import load_chat
from memory.finetune_types import FinetuneOptions, FinetuneResult
from memory.t5_train import finetune_t5

if TYPE_CHECKING:
    from memory.finetune_train import TrainOutcome, TrainSettings

__all__ = ["FinetuneOptions", "FinetuneResult", "finetune", "finetune_t5"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
RUN_FILE = "run.json"


def _run_key(base: BaseModel, dataset_sha: str, options: FinetuneOptions) -> str:
    settings = {
        k: v
        for k, v in options.to_dict().items()
        if k not in ("steps", "resume", "out_name", "merged", "base", "max_seconds", "device")
    }
    blob = json.dumps([base.sha256, dataset_sha, settings], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _unfinished_run(work_root: Path, key: str) -> str | None:
    """The name of an interrupted unnamed run with the same inputs, to resume."""
    for marker in sorted(work_root.glob(f"*/{RUN_FILE}"), reverse=True):
        try:
            data = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if data.get("key") == key and data.get("status") != "done":
            return marker.parent.name
    return None


def _previous_key(run_dir: Path) -> str | None:
    try:
        return str(json.loads((run_dir / RUN_FILE).read_text())["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _commands(name: str, base_gguf: Path, adapter: Path, folder: Path) -> tuple[Path, str]:
    modelfile = folder / "Modelfile"
    modelfile.write_text(
        f"# autopatch fine-tune {name}: `ollama create {name} -f {modelfile}`\n"
        f"FROM {base_gguf}\nADAPTER {adapter}\n"
    )
    command = f"llama-cli -m {base_gguf} --lora {adapter}"
    return modelfile, command


def _merge(hf_dir: Path, adapter_dir: Path, run_dir: Path, name: str) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from memory.lora_gguf import convert_model

    base = AutoModelForCausalLM.from_pretrained(
        str(hf_dir), local_files_only=True, dtype=torch.float32
    )
    with warnings.catch_warnings():  # transformers 5's v6-rename notices
        warnings.simplefilter("ignore", FutureWarning)
        merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    out_dir = run_dir / "merged-hf"
    shutil.rmtree(out_dir, ignore_errors=True)
    merged.save_pretrained(str(out_dir), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(hf_dir), local_files_only=True).save_pretrained(str(out_dir))
    gguf = convert_model(out_dir, run_dir / f"{name}.merged.q8_0.gguf", outtype="q8_0")
    shutil.rmtree(out_dir, ignore_errors=True)
    return gguf


def finetune(
    data: Path,
    registry: ModelRegistry,
    options: FinetuneOptions,
    *,
    work_root: Path,
    active_llm: str = "default",
    progress: Progress = log.info,
) -> FinetuneResult:
    """Train a LoRA adapter on the exported datasets in ``data`` and register it.

    Raises ``ValueError`` for a missing/empty dataset, an unknown base or a taken name,
    ``FileNotFoundError`` when setup has not installed llama.cpp's converters, and
    ``memory.lora_gguf.ConversionError`` when a converter fails.
    """
    from memory.finetune_train import train_lora
    from memory.lora_gguf import convert_adapter, convert_model, llama_cpp_tools

    dataset = load_chat(Path(data))
    base = resolve_base(options.base, registry, active_llm)
    llama_cpp_tools()  # fail before training, not after, when setup has not run
    run = _start_run(registry, options, base, dataset, work_root)
    name, run_dir, steps = run.name, run.run_dir, run.steps
    timings: dict[str, float] = {"dequantize_s": 0.0, "train_s": 0.0, "convert_s": 0.0}

    hf_dir = base.hf_dir
    if base.gguf is not None:
        hf_dir, timings["dequantize_s"] = dequantize(base.gguf, base.sha256, progress)
    assert hf_dir is not None
    settings = _train_settings(options, steps)
    outcome = train_lora(hf_dir, dataset.train, dataset.validation, settings, run_dir, progress)
    timings["train_s"] = outcome.seconds

    progress("converting the adapter to GGUF (llama.cpp convert_lora_to_gguf.py)")
    start = time.perf_counter()
    base_gguf = base.gguf
    if base_gguf is None:  # an HF folder base: llama.cpp needs it as GGUF too
        base_gguf = convert_model(hf_dir, run_dir / "base.q8_0.gguf", outtype="q8_0")
    adapter = convert_adapter(outcome.adapter_dir, hf_dir, run_dir / f"{name}.lora.gguf", base_gguf)
    timings["convert_s"] = time.perf_counter() - start
    merged = None
    if options.merged:
        progress("merging the adapter and converting the merged model to q8_0 GGUF")
        start = time.perf_counter()
        merged = _merge(hf_dir, outcome.adapter_dir, run_dir, name)
        timings["merge_s"] = time.perf_counter() - start
    modelfile, command = _commands(name, base_gguf, adapter, run_dir)

    hyper = {k: v for k, v in options.to_dict().items() if not k.startswith("t5_")}
    hyper.update(steps=steps, lora_dropout=settings.lora_dropout)
    result = FinetuneResult(
        name=name,
        kind="llm",
        base=base.name,
        model_path=base_gguf,
        adapter_path=adapter,
        run_dir=run_dir,
        dataset=_dataset_info(dataset),
        hyperparameters=hyper,
        metrics=_metrics(outcome, steps),
        timings=timings,
        adapter_bytes=adapter.stat().st_size,
        merged_path=merged,
        modelfile=modelfile,
        llama_cpp_command=command,
        notes=tuple(run.notes),
    )
    _register(registry, result, base, hf_dir, replacing=run.replacing)
    write_json(run_dir / "result.json", result.to_dict())
    write_json(run_dir / RUN_FILE, {"key": run.key, "status": "done", "name": name, "steps": steps})
    progress(f"registered {name} (adapter {result.adapter_bytes / 1e6:.1f} MB)")
    return result


def _train_settings(options: FinetuneOptions, steps: int) -> TrainSettings:
    from memory.finetune_train import TrainSettings

    return TrainSettings(
        steps=steps,
        lr=options.lr,
        lora_r=options.lora_r,
        lora_alpha=options.lora_alpha,
        target_modules=options.target_modules,
        batch_size=options.batch_size,
        max_length=options.max_length,
        resume=options.resume,
        seed=options.seed,
        device=options.device,
        max_seconds=options.max_seconds,
    )


@dataclass(frozen=True)
class _Run:
    """A training run's name, folder and resume key, its step count and notes."""

    name: str
    run_dir: Path
    key: str
    steps: int
    replacing: bool
    notes: tuple[str, ...]


def _start_run(
    registry: ModelRegistry,
    options: FinetuneOptions,
    base: BaseModel,
    dataset: ChatDataset,
    work_root: Path,
) -> _Run:
    """Name the run (resuming an unfinished one with the same inputs) and mark it started."""
    key = _run_key(base, dataset.sha256, options)
    name = (
        options.out_name
        or (options.resume and _unfinished_run(work_root, key))
        or (f"{base.name}-lora-{utc_stamp()}")
    )
    run_dir = (Path(work_root) / name).resolve()
    replacing = check_name_free(registry, name, run_dir)
    notes = [base.note] if base.note else []
    changed = _previous_key(run_dir) not in (None, key)
    if changed and options.resume:
        notes.append("base, data or settings changed since the last checkpoint; started over")
    if changed or not options.resume:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    steps = options.default_steps(len(dataset.train))
    write_json(run_dir / RUN_FILE, {"key": key, "status": "training", "name": name, "steps": steps})
    return _Run(name, run_dir, key, steps, replacing, tuple(notes))


def _metrics(outcome: TrainOutcome, steps: int) -> dict[str, Any]:
    losses = [loss for _, loss in outcome.losses]
    return {
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "eval_loss": outcome.eval_loss,
        "steps": steps,
        "steps_this_run": outcome.steps_trained,
        "steps_taken": (outcome.resumed_from_step or 0) + outcome.steps_trained,
        "resumed_from_step": outcome.resumed_from_step,
        "s_per_step": outcome.extra.get("s_per_step"),
        "tokens_per_s": outcome.extra.get("tokens_per_s"),
        "truncated_examples": outcome.truncated,
        "device": outcome.device,
    }


def _dataset_info(dataset: ChatDataset) -> dict[str, Any]:
    return {
        "dir": str(dataset.folder),
        "sha256": dataset.sha256,
        "files": list(dataset.files),
        "train_examples": len(dataset.train),
        "validation_examples": len(dataset.validation),
    }


def _register(
    registry: ModelRegistry,
    result: FinetuneResult,
    base: BaseModel,
    hf_dir: Path,
    *,
    replacing: bool,
) -> None:
    """The adapter as a registry version (not active), with its provenance."""
    provenance = {
        "dataset": result.dataset,
        "base_sha256": base.sha256,
        "hf_base_dir": str(hf_dir),
        "hyperparameters": result.hyperparameters,
        "metrics": result.metrics,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "run_dir": str(result.run_dir),
        "merged_gguf": str(result.merged_path) if result.merged_path else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    entry = ModelEntry(
        name=result.name,
        kind="llm",
        path=str(result.model_path),
        adapter=str(result.adapter_path),
        base=base.name,
        chat_template=_chat_template_of(registry, base.name),
        sha256=base.sha256 if base.gguf is not None else None,  # of ``path``, the base GGUF
        provenance=provenance,
    )
    registry.add(entry, overwrite=replacing)


def _chat_template_of(registry: ModelRegistry, base_name: str) -> str | None:
    entry = next((e for e in registry.entries() if e.name == base_name), None)
    return entry.chat_template if entry else None
