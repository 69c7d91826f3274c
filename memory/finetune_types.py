"""Options and result of a fine-tune (``memory.finetune`` re-exports both)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
DEVICES = ("auto", "cpu", "cuda")
MAX_DEFAULT_STEPS = 60  # steps=None: about one epoch, at most this many


@dataclass(frozen=True)
class FinetuneOptions:
    """How to fine-tune. ``None`` means "pick the default".

    Fields:
      out_name: registry name of the new version (default ``<base>-lora-<UTC time>``, or
        ``spec-t5-<UTC time>`` for the T5 normalizer).
      base: registry llm name or HF model folder (default: the active llm). For ``--t5``: a
        seq2seq checkpoint folder or registry name (default: a new small T5).
      steps: optimizer steps (default: one epoch, capped at 60; T5: ~30 epochs, 100-1000).
      lr: learning rate for LoRA or for a pretrained T5.
      lora_r / lora_alpha / target_modules: the LoRA shape (dropout is 0.05).
      batch_size / max_length: examples per step; token cap per example.
      merged: also write a merged q8_0 GGUF (PEFT merge → convert_hf_to_gguf).
      resume: continue from the latest checkpoint of the same run (same ``out_name``, or the
        same base, data and hyperparameters when unnamed).
      seed: for LoRA init, data order and the T5 tokenizer/weights.
      device: where LoRA trains: ``auto`` (CUDA when torch sees a GPU, else the CPU),
        ``cpu`` or ``cuda`` (an error when no GPU is usable).
      max_seconds: stop training (saving the adapter) before this many seconds are spent,
        even if fewer than ``steps`` were taken (``learn --bootstrap``'s budget).
      t5_scratch_lr / t5_d_model / t5_layers: a T5 trained from scratch (no ``base``).
    """

    out_name: str | None = None
    base: str | None = None
    steps: int | None = None
    lr: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    batch_size: int = 4
    max_length: int = 768
    merged: bool = False
    resume: bool = True
    seed: int = 0
    device: str = "auto"
    max_seconds: float | None = None
    t5_scratch_lr: float = 3e-3
    t5_d_model: int = 128
    t5_layers: int = 2

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, not {self.steps}")
        if self.batch_size < 1 or self.max_length < 16:
            raise ValueError("batch_size must be >= 1 and max_length >= 16")
        if self.lora_r < 1 or self.lora_alpha < 1 or not self.lr > 0:
            raise ValueError("lora_r, lora_alpha and lr must be positive")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if not self.target_modules:
            raise ValueError("target_modules must name at least one module (e.g. q_proj)")
        if self.out_name is not None and (
            not self.out_name or "/" in self.out_name or self.out_name.strip() != self.out_name
        ):
            raise ValueError(f"invalid model name {self.out_name!r}")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))

    def default_steps(self, examples: int) -> int:
        return self.steps or max(1, min(MAX_DEFAULT_STEPS, math.ceil(examples / self.batch_size)))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data


@dataclass(frozen=True)
class FinetuneResult:
    """A finished fine-tune: the registered version and how it was made.

    ``kind`` is ``llm`` (LoRA adapter GGUF on ``model_path``, the base GGUF) or
    ``seq2seq`` (``model_path`` is the trained T5 folder; no adapter). ``timings`` has
    ``dequantize_s``, ``train_s``, ``convert_s`` (and ``evaluate_s`` for T5);
    ``metrics`` has ``first_loss``, ``last_loss``, ``eval_loss``, ``steps`` (T5:
    ``exact_match``, ``validation_pairs``). ``adapter_bytes`` is the adapter GGUF's
    size (T5: the weights file's).
    """

    name: str
    kind: str
    base: str | None
    model_path: Path
    adapter_path: Path | None
    run_dir: Path
    dataset: Mapping[str, Any]
    hyperparameters: Mapping[str, Any]
    metrics: Mapping[str, Any]
    timings: Mapping[str, float]
    adapter_bytes: int
    merged_path: Path | None = None
    modelfile: Path | None = None
    llama_cpp_command: str | None = None
    notes: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FinetuneResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("model_path", "adapter_path", "run_dir", "merged_path", "modelfile"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        values["notes"] = tuple(values.get("notes") or ())
        return cls(**values)

    def report(self) -> str:
        """A few lines for people: what was trained, how well, how long, how to use it."""
        m, t = self.metrics, self.timings
        lines = [
            f"✔ fine-tuned {self.kind} model {self.name!r}"
            + (f" from {self.base}" if self.base else "")
        ]
        data = self.dataset
        lines.append(
            f"  data: {data.get('train_examples', '?')} train / "
            f"{data.get('validation_examples', '?')} validation from {data.get('dir', '?')}"
        )
        if self.kind == "llm":
            lines.append(
                f"  loss: {_num(m.get('first_loss'))} → {_num(m.get('last_loss'))} over "
                f"{m.get('steps')} step(s); validation loss {_num(m.get('eval_loss'))}"
            )
        else:
            lines.append(
                f"  exact match on {m.get('validation_pairs', 0)} validation pair(s): "
                f"{_num(m.get('exact_match'))} (train sample: {_num(m.get('train_exact_match'))}); "
                f"loss {_num(m.get('first_loss'))} → {_num(m.get('last_loss'))}"
            )
        lines.append("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in t.items()))
        if self.adapter_path is not None:
            lines.append(f"  adapter: {self.adapter_path} ({self.adapter_bytes / 1e6:.1f} MB)")
        lines.append(f"  {'base' if self.kind == 'llm' else 'model'}: {self.model_path}")
        if self.merged_path is not None:
            lines.append(f"  merged: {self.merged_path}")
        if self.modelfile is not None:
            lines.append(f"  Ollama: ollama create {self.name} -f {self.modelfile}")
        if self.llama_cpp_command:
            lines.append(f"  llama.cpp: {self.llama_cpp_command}")
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.append(f"  not active yet; use it with `autopatch models use {self.name}`")
        return "\n".join(lines)


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value < 1 else f"{value:.3f}"
    return "n/a" if value is None else str(value)
