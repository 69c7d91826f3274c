"""``autopatch finetune --t5``: train the Seq2Seq spec normalizer on the ``spec`` pairs.

Starts from a seq2seq checkpoint folder (``--base DIR`` or a registry seq2seq name) or,
by default, from a new small T5 whose tokenizer is trained on the corpus
(``cores.seq2seq.make_tiny_t5``); trains with ``cores.seq2seq.train_seq2seq``; saves
safetensors under ``<work root>/<name>/model``; scores exact match on the validation
pairs with the planner's decoding (greedy, 256 new tokens); registers a ``seq2seq``
entry (not active). Runs are short, so a T5 run starts over instead of resuming.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cores.errors import ModelNotFoundError
from cores.registry import ModelEntry, ModelRegistry
from memory.finetune_data import load_pairs
from memory.finetune_types import FinetuneOptions, FinetuneResult

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
MAX_NEW_TOKENS = 256  # planner.spec_t5.T5Normalizer's default
_TRAIN_SAMPLE = 32


def _base_folder(base: str | None, registry: ModelRegistry) -> tuple[Path | None, str | None]:
    """The checkpoint folder to start from (None: a new T5) and the base's name."""
    if not base:
        return None, None
    folder = Path(base).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ValueError(f"{folder} has no config.json; it is not a seq2seq checkpoint")
        return folder.resolve(), folder.name
    try:
        entry = registry.get(base)
    except ModelNotFoundError as exc:
        raise ValueError(f"unknown seq2seq base {base!r}: {exc}") from None
    if entry.kind != "seq2seq":
        raise ValueError(
            f"{base!r} is a {entry.kind} model; --t5 needs a seq2seq checkpoint folder or none"
        )
    try:
        return entry.resolved_path(), entry.name
    except ModelNotFoundError as exc:
        raise ValueError(str(exc)) from None


@contextmanager
def _forward_log(progress: Progress) -> Iterator[None]:
    """Show ``train_seq2seq``'s periodic step/loss log lines as progress."""
    target = logging.getLogger("cores.seq2seq")

    class _Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("step "):
                progress(record.getMessage())

    handler, level, propagate = _Forward(logging.DEBUG), target.level, target.propagate
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    target.propagate = False  # the debug lines go to ``progress`` only
    try:
        yield
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
        target.propagate = propagate


def exact_match(model_dir: Path, pairs: Sequence[tuple[str, str]]) -> float | None:
    if not pairs:
        return None
    from cores.seq2seq import TransformersSeq2Seq

    outputs = TransformersSeq2Seq(model_dir).generate(
        [src for src, _ in pairs], max_new_tokens=MAX_NEW_TOKENS
    )
    hits = sum(out.strip() == tgt.strip() for out, (_, tgt) in zip(outputs, pairs, strict=True))
    return hits / len(pairs)


def finetune_t5(
    data: Path,
    registry: ModelRegistry,
    options: FinetuneOptions,
    *,
    work_root: Path,
    active_llm: str = "default",
    progress: Progress = log.info,
) -> FinetuneResult:
    """Train the T5 spec normalizer on ``data``'s spec pairs and register it (not active).

    ``active_llm`` is accepted for a uniform call shape and not used.
    """
    from memory.finetune_common import check_name_free, utc_stamp, write_json

    dataset = load_pairs(Path(data))
    start_from, base_name = _base_folder(options.base, registry)
    name = options.out_name or f"spec-t5-{utc_stamp()}"
    run_dir = (Path(work_root) / name).resolve()
    replacing = check_name_free(registry, name, run_dir)
    model_dir = run_dir / "model"
    train: list[tuple[str, str]] = [(s, t) for s, t in dataset.train]
    validation: list[tuple[str, str]] = [(s, t) for s, t in dataset.validation]
    epoch = math.ceil(len(train) / options.batch_size)
    steps = options.steps or min(1000, max(100, 30 * epoch))
    lr = options.lr if start_from else options.t5_scratch_lr
    timings: dict[str, float] = {"dequantize_s": 0.0, "train_s": 0.0, "convert_s": 0.0}

    start = time.perf_counter()
    losses = _train(run_dir, model_dir, start_from, train, steps, lr, options, progress)
    timings["train_s"] = time.perf_counter() - start

    progress(f"scoring exact match on {len(validation)} validation pair(s)")
    start = time.perf_counter()
    metrics = {
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "steps": steps,
        "exact_match": exact_match(model_dir, validation),
        "validation_pairs": len(validation),
        "train_exact_match": exact_match(model_dir, train[:_TRAIN_SAMPLE]),
    }
    timings["evaluate_s"] = time.perf_counter() - start
    hyper = {
        "steps": steps,
        "lr": lr,
        "batch_size": options.batch_size,
        "seed": options.seed,
        "from_scratch": start_from is None,
        **(
            {"d_model": options.t5_d_model, "layers": options.t5_layers}
            if start_from is None
            else {}
        ),
    }
    dataset_info = {
        "dir": str(dataset.folder),
        "sha256": dataset.sha256,
        "files": list(dataset.files),
        "train_examples": len(train),
        "validation_examples": len(validation),
    }
    weights = model_dir / "model.safetensors"
    result = FinetuneResult(
        name=name,
        kind="seq2seq",
        base=base_name,
        model_path=model_dir,
        adapter_path=None,
        run_dir=run_dir,
        dataset=dataset_info,
        hyperparameters=hyper,
        metrics=metrics,
        timings=timings,
        adapter_bytes=weights.stat().st_size if weights.is_file() else 0,
    )
    _register(registry, result, start_from, replacing=replacing)
    write_json(run_dir / "result.json", result.to_dict())
    progress(f"registered seq2seq model {name}")
    return result


def _train(
    run_dir: Path,
    model_dir: Path,
    start_from: Path | None,
    train: list[tuple[str, str]],
    steps: int,
    lr: float,
    options: FinetuneOptions,
    progress: Progress,
) -> list[float]:
    """Train in a staging folder (from the checkpoint, else a new small T5 with a tokenizer
    trained on the corpus) and move it to ``model_dir``; the losses."""
    from cores.seq2seq import make_tiny_t5, train_seq2seq
    from memory.finetune_train import cpu_threads

    run_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=run_dir, prefix=".model-"))
    try:
        if start_from is not None:
            progress(f"starting from the checkpoint in {start_from}")
            shutil.copytree(start_from, staging, dirs_exist_ok=True)
        else:
            corpus = [text for pair in train for text in pair]
            progress(
                f"creating a small T5 (d_model {options.t5_d_model}) with a tokenizer trained on the corpus"
            )
            make_tiny_t5(
                staging,
                corpus,
                d_model=options.t5_d_model,
                layers=options.t5_layers,
                vocab_size=4000,
                seed=options.seed,
            )
        progress(
            f"training the T5 spec normalizer: {len(train)} pair(s), {steps} step(s), lr {lr:g}"
        )
        with _forward_log(progress), cpu_threads():
            losses = train_seq2seq(
                staging, train, steps=steps, lr=lr, batch_size=options.batch_size, seed=options.seed
            )
        shutil.rmtree(model_dir, ignore_errors=True)
        os.replace(staging, model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return losses


def _register(
    registry: ModelRegistry, result: FinetuneResult, start_from: Path | None, *, replacing: bool
) -> None:
    """The trained model as a registry version (not active), with its provenance."""
    provenance = {
        "dataset": result.dataset,
        "base": str(start_from) if start_from else None,
        "hyperparameters": result.hyperparameters,
        "metrics": result.metrics,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "run_dir": str(result.run_dir),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    registry.add(
        ModelEntry(
            name=result.name,
            kind="seq2seq",
            path=str(result.model_path),
            base=result.base,
            provenance=provenance,
        ),
        overwrite=replacing,
    )
