"""Train a PEFT LoRA adapter on chat examples with ``transformers.Trainer``.

Loss covers the assistant answer only (prompt tokens are labelled -100). Examples
longer than ``max_length`` keep the start of the answer and the end of the prompt.
Checkpoints go to ``<run dir>/checkpoints``; a resumed run continues from the latest.
On CPU everything is fp32 without gradient checkpointing (both far faster there).
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.finetune_data import ChatExample

os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# Used only when the base tokenizer carries no chat template (llama.cpp falls back to ChatML).
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)
_MAX_EVAL_EXAMPLES = 16  # validation loss only; the learning gate does the real evaluation


@dataclass(frozen=True)
class TrainSettings:
    steps: int
    lr: float
    lora_r: int
    lora_alpha: int
    target_modules: tuple[str, ...]
    batch_size: int
    max_length: int
    resume: bool
    seed: int = 0
    lora_dropout: float = 0.05
    device: str = "auto"  # auto | cpu | cuda
    max_seconds: float | None = None  # stop early (and save) to keep within this budget


@dataclass(frozen=True)
class TrainOutcome:
    adapter_dir: Path
    losses: tuple[tuple[int, float], ...]  # (step, loss), resumed history included
    eval_loss: float | None
    resumed_from_step: int | None
    steps_trained: int  # optimizer steps taken in this call
    seconds: float
    device: str
    truncated: int
    extra: Mapping[str, Any] = field(default_factory=dict)


def encode(
    tokenizer: Any, example: ChatExample, max_length: int
) -> tuple[list[int], list[int], bool]:
    """Token ids and labels (-100 on the prompt); whether the example was cut."""
    prompt = list(example.prompt)
    prompt_text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(
        [*prompt, {"role": "assistant", "content": example.answer}], tokenize=False
    )
    if full_text.startswith(prompt_text):
        answer_text = full_text[len(prompt_text) :]
    else:  # an unusual template: learn the answer followed by end-of-sequence
        answer_text = example.answer + (tokenizer.eos_token or "")
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    a = tokenizer(answer_text, add_special_tokens=False)["input_ids"]
    cut = len(p) + len(a) > max_length
    if cut:
        keep_answer = min(len(a), max(max_length - len(p), max_length // 2))
        a = a[:keep_answer]
        p = p[len(p) - (max_length - keep_answer) :] if max_length > keep_answer else []
    return list(p) + list(a), [-100] * len(p) + list(a), cut


class _Collator:
    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, rows: Sequence[Mapping[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        ids, labels, mask = [], [], []
        for r in rows:
            pad = width - len(r["input_ids"])
            ids.append(r["input_ids"] + [self.pad_id] * pad)
            labels.append(r["labels"] + [-100] * pad)
            mask.append([1] * len(r["input_ids"]) + [0] * pad)
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }


def _progress_callback(
    progress: Progress, start_step: int, max_seconds: float | None = None
) -> Any:
    """Reports each step; with ``max_seconds``, stops (and saves) before the next step would
    end past that many seconds of training."""
    from transformers import TrainerCallback

    class _Report(TrainerCallback):
        started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            if max_seconds is None:
                return
            elapsed = time.perf_counter() - self.started
            per_step = elapsed / max(1, state.global_step - start_step)
            if elapsed + per_step > max_seconds and state.global_step < state.max_steps:
                progress(
                    f"time budget: stopping at step {state.global_step}/{state.max_steps} "
                    f"({elapsed:.0f}s of {max_seconds:.0f}s)"
                )
                control.should_training_stop = True
                control.should_save = True

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs:
                done = max(1, state.global_step - start_step)
                per_step = (time.perf_counter() - self.started) / done
                left = per_step * (state.max_steps - state.global_step)
                progress(
                    f"step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} "
                    f"({per_step:.1f}s/step, ~{left:.0f}s left)"
                )

    return _Report()


def _rows(
    tokenizer: Any, examples: Sequence[ChatExample], max_length: int
) -> tuple[list[dict[str, list[int]]], int]:
    rows, truncated = [], 0
    for ex in examples:
        ids, labels, cut = encode(tokenizer, ex, max_length)
        truncated += cut
        if any(label != -100 for label in labels):
            rows.append({"input_ids": ids, "labels": labels})
    return rows, truncated


def _peft_model(model: Any, settings: TrainSettings) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:
        linear = sorted(
            {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if type(m).__name__ == "Linear"}
        )
        raise ValueError(
            f"LoRA target modules {', '.join(settings.target_modules)} do not fit this model "
            f"({exc}); its linear layers are: {', '.join(linear)}"
        ) from None


@contextmanager
def cpu_threads() -> Iterator[int]:
    """Torch CPU threads for training: the project's default (half the cores, or
    ``AUTOPATCH_THREADS``); the previous setting is restored afterwards.

    On a busy 2-core machine two OpenMP threads ran a LoRA step 2x slower than one.
    """
    import torch

    from cores.llm_llamacpp import default_threads

    before = torch.get_num_threads()
    torch.set_num_threads(default_threads())
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _history(state_file: Path) -> list[tuple[int, float]]:
    data = json.loads(state_file.read_text())
    return [(int(e["step"]), float(e["loss"])) for e in data.get("log_history", []) if "loss" in e]


def use_cuda(device: str, available: bool) -> bool:
    """Whether to train on the GPU: ``auto`` uses one when torch sees it."""
    if device == "cuda" and not available:
        raise ValueError("--device cuda: torch sees no CUDA device (a CPU-only torch build?)")
    return device == "cuda" or (device == "auto" and available)


def _tokens_per_s(
    rows: Sequence[Mapping[str, Any]], settings: TrainSettings, seconds: float, steps: int
) -> float | None:
    """Training tokens per second: the mean example length × examples seen / time."""
    if not rows or not steps or seconds <= 0:
        return None
    mean = sum(len(r["input_ids"]) for r in rows) / len(rows)
    return round(mean * settings.batch_size * steps / seconds, 2)


def train_lora(
    hf_dir: Path,
    train: Sequence[ChatExample],
    validation: Sequence[ChatExample],
    settings: TrainSettings,
    run_dir: Path,
    progress: Progress,
) -> TrainOutcome:
    """Train (or resume) the adapter; save it to ``<run_dir>/adapter``."""
    with warnings.catch_warnings(), cpu_threads():
        # transformers 5 announces its v6 renames (gradient → activation checkpointing).
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers(\.|$)")
        return _train_lora(hf_dir, train, validation, settings, run_dir, progress)


def _train_lora(
    hf_dir: Path,
    train: Sequence[ChatExample],
    validation: Sequence[ChatExample],
    settings: TrainSettings,
    run_dir: Path,
    progress: Progress,
) -> TrainOutcome:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, set_seed
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint

    from cores._hf import quiet_progress

    start = time.perf_counter()
    cuda = use_cuda(settings.device, torch.cuda.is_available())
    tokenizer = AutoTokenizer.from_pretrained(str(hf_dir), local_files_only=True)
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML
    train_rows, truncated = _rows(tokenizer, train, settings.max_length)
    val_rows, _ = _rows(tokenizer, validation[:_MAX_EVAL_EXAMPLES], settings.max_length)
    if not train_rows:
        raise ValueError("no training example has answer tokens left after truncation")
    set_seed(settings.seed)
    with quiet_progress():
        base = AutoModelForCausalLM.from_pretrained(
            str(hf_dir), local_files_only=True, dtype=torch.float32
        )
    base.config.use_cache = False
    model = _peft_model(base, settings)
    ckpt_dir = run_dir / "checkpoints"
    latest = get_last_checkpoint(str(ckpt_dir)) if settings.resume and ckpt_dir.is_dir() else None
    resumed_from = int(Path(latest).name.rsplit("-", 1)[-1]) if latest else None
    args = _training_args(settings, ckpt_dir, cuda)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_rows,  # a list is a map-style dataset
        data_collator=_Collator(
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        ),
        callbacks=[_progress_callback(progress, resumed_from or 0, settings.max_seconds)],
    )
    trainer.remove_callback(PrinterCallback)  # progress goes through ``progress`` only
    history, steps_trained, loop_s = _fit(
        trainer, model, latest, resumed_from, settings, progress, len(train_rows), cuda
    )
    eval_loss = None
    if val_rows:
        eval_loss = float(trainer.evaluate(eval_dataset=val_rows)["eval_loss"])  # type: ignore[arg-type]
    adapter_dir = run_dir / "adapter"
    model.save_pretrained(str(adapter_dir))
    return TrainOutcome(
        adapter_dir=adapter_dir,
        losses=tuple(history),
        eval_loss=eval_loss,
        resumed_from_step=resumed_from,
        steps_trained=steps_trained,
        seconds=time.perf_counter() - start,
        device="cuda" if cuda else "cpu",
        truncated=truncated,
        extra={
            "train_rows": len(train_rows),
            "validation_rows": len(val_rows),
            "s_per_step": round(loop_s / steps_trained, 3) if steps_trained else None,
            "tokens_per_s": _tokens_per_s(train_rows, settings, loop_s, steps_trained),
        },
    )


def _training_args(settings: TrainSettings, ckpt_dir: Path, cuda: bool) -> Any:
    """The Trainer's arguments: checkpoints every quarter (at most every 10 steps), no
    reports, activation checkpointing off."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(ckpt_dir),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        learning_rate=settings.lr,
        lr_scheduler_type="linear",
        weight_decay=0.0,
        logging_steps=1,
        save_strategy="steps",
        save_steps=max(1, min(10, settings.steps // 4 or 1)),
        save_total_limit=2,
        seed=settings.seed,
        data_seed=settings.seed,
        report_to="none",
        disable_tqdm=True,
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        activation_checkpointing=False,  # on CPU recomputation costs far more than it saves
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


def _fit(
    trainer: Any,
    model: Any,
    latest: str | None,
    resumed_from: int | None,
    settings: TrainSettings,
    progress: Progress,
    rows: int,
    cuda: bool,
) -> tuple[list[tuple[int, float]], int, float]:
    """Train from ``latest`` (or load it when it already has every step): (loss history,
    steps trained now, seconds of the training loop)."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    if latest and resumed_from is not None and resumed_from >= settings.steps:
        progress(
            f"checkpoint {Path(latest).name} already reached {settings.steps} steps; not training"
        )
        set_peft_model_state_dict(model, load_file(str(Path(latest) / "adapter_model.safetensors")))
        history = _history(Path(latest) / "trainer_state.json")
        steps_trained, loop_s = 0, 0.0
    else:
        if latest:
            progress(f"resuming from {Path(latest).name}")
        progress(
            f"training LoRA r={settings.lora_r} on {rows} example(s), "
            f"{settings.steps} step(s) of {settings.batch_size} on {'cuda' if cuda else 'cpu'}"
        )
        loop_start = time.perf_counter()
        trainer.train(resume_from_checkpoint=latest)
        loop_s = time.perf_counter() - loop_start
        history = [
            (int(e["step"]), float(e["loss"])) for e in trainer.state.log_history if "loss" in e
        ]
        steps_trained = trainer.state.global_step - (resumed_from or 0)
    return history, steps_trained, loop_s
