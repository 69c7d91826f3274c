"""Seq2seq backend: local T5-style checkpoints through ``transformers``.

``TransformersSeq2Seq`` loads any local encoder-decoder checkpoint (T5, CodeT5,
DivoT5) offline and generates greedily. ``make_tiny_t5`` and ``train_seq2seq`` are
the small tools the fine-tune loop uses to create and train a spec normaliser
from scratch (no pretrained T5 weights ship on PyPI); tests use them too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from cores._hf import quiet_progress as _quiet  # noqa: E402
from cores.errors import ModelCorruptError, ModelNotFoundError  # noqa: E402

log = logging.getLogger(__name__)

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
_GENERATE_BATCH = 16  # inputs per forward pass; bounds memory on long batches
_MAX_INPUT_TOKENS = 1024  # used only when the tokenizer declares no limit


def _config_hash(config_file: Path) -> str:
    return hashlib.sha256(config_file.read_bytes()).hexdigest()[:8]


def _load(path: Path, device: str) -> tuple[Any, Any]:
    """Tokenizer and model from ``path``, or a ``cores.errors`` error saying what to do."""
    if not path.is_dir():
        raise ModelNotFoundError(
            f"seq2seq checkpoint directory {path} does not exist; "
            "point the seq2seq backend at a local T5-style checkpoint folder"
        )
    if not (path / "config.json").is_file():
        raise ModelCorruptError(
            f"{path} has no config.json, so it is not a transformers checkpoint; "
            "save the model there with save_pretrained (or make_tiny_t5) first"
        )
    try:
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # transformers raises many types; none should leak
        log.debug("loading seq2seq checkpoint %s failed", path, exc_info=True)
        raise ModelCorruptError(
            f"{path} does not hold a loadable seq2seq checkpoint "
            f"({type(exc).__name__}); re-save the tokenizer and safetensors weights there"
        ) from None
    model.to(device)
    model.eval()
    return tokenizer, model


class TransformersSeq2Seq:
    """A local encoder-decoder checkpoint, generating greedily (or by beam search).

    ``generate`` is deterministic: no sampling, dropout off, ``torch.inference_mode``.
    """

    def __init__(self, path: str | Path, *, device: str = "cpu") -> None:
        self._path = Path(path).expanduser()
        self._device = device
        self._tokenizer, self._model = _load(self._path, device)
        self._model_id = f"seq2seq:{self._path.name}:{_config_hash(self._path / 'config.json')}"
        log.info("loaded %s on %s", self._model_id, device)

    @property
    def model_id(self) -> str:
        """``seq2seq:<folder name>:<first 8 hex digits of sha256(config.json)>``."""
        return self._model_id

    def generate(
        self, inputs: Sequence[str], *, max_new_tokens: int = 256, num_beams: int = 1
    ) -> list[str]:
        """One decoded output string (special tokens removed) per input string."""
        if isinstance(inputs, str):
            raise TypeError("generate() takes a sequence of strings, not one string")
        if max_new_tokens < 1 or num_beams < 1:
            raise ValueError("max_new_tokens and num_beams must be >= 1")
        texts = list(inputs)
        outputs: list[str] = []
        for start in range(0, len(texts), _GENERATE_BATCH):
            outputs.extend(
                self._generate_batch(
                    texts[start : start + _GENERATE_BATCH], max_new_tokens, num_beams
                )
            )
        return outputs

    def _generate_batch(self, texts: list[str], max_new_tokens: int, num_beams: int) -> list[str]:
        limit = self._tokenizer.model_max_length
        max_length = limit if limit and limit < 100_000 else _MAX_INPUT_TOKENS
        encoded = self._tokenizer(
            texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(self._device)
        with torch.inference_mode():
            generated = self._model.generate(
                input_ids=encoded["input_ids"],
                attention_mask=encoded["attention_mask"],
                max_new_tokens=max_new_tokens,
                num_beams=num_beams,
                do_sample=False,
            )
        return [str(t) for t in self._tokenizer.batch_decode(generated, skip_special_tokens=True)]


def make_tiny_t5(
    out_dir: str | Path,
    corpus: Sequence[str],
    *,
    d_model: int = 64,
    layers: int = 2,
    vocab_size: int = 1000,
    seed: int = 0,
) -> Path:
    """Create an untrained tiny T5 with a byte-level BPE tokenizer trained on ``corpus``.

    The tokenizer keeps every byte (so YAML whitespace survives a round trip) and
    appends ``</s>`` to each encoded text. Ids: ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2;
    decoding starts from ``<pad>`` as in T5. Weights are initialised from ``seed``;
    dropout is off. Saved to ``out_dir`` in safetensors; returns ``out_dir``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    texts = [t for t in corpus if t]
    if not texts:
        raise ValueError("make_tiny_t5 needs a non-empty corpus to train its tokenizer")
    raw = Tokenizer(models.BPE(unk_token=UNK))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(texts, trainer=trainer)
    eos_id = raw.token_to_id(EOS)
    raw.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, eos_id)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token=PAD, eos_token=EOS, unk_token=UNK, model_max_length=512
    )
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_ff=2 * d_model,
        d_kv=32,
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=2,
        dropout_rate=0.0,
        feed_forward_proj="relu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,  # type: ignore[call-arg]  # a **kwargs field
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _quiet():
        tokenizer.save_pretrained(str(out))
        model.save_pretrained(str(out), safe_serialization=True)
    log.info("created tiny T5 (%d-token vocab, d_model %d) in %s", len(tokenizer), d_model, out)
    return out


def train_seq2seq(
    path: str | Path,
    pairs: Sequence[tuple[str, str]],
    *,
    steps: int,
    lr: float = 3e-3,
    batch_size: int = 8,
    seed: int = 0,
) -> list[float]:
    """Train the checkpoint at ``path`` on (input, target) pairs; save it back; return losses.

    A plain AdamW loop: the pairs are shuffled once per epoch with ``seed`` and cut
    into batches of ``batch_size``; one optimizer step per batch, ``steps`` in all.
    """
    if not pairs:
        raise ValueError("train_seq2seq needs at least one (input, target) pair")
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be >= 1")
    folder = Path(path).expanduser()
    tokenizer, model = _load(folder, "cpu")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses: list[float] = []
    order: list[tuple[str, str]] = []
    while len(losses) < steps:
        if len(order) < batch_size:
            epoch = list(pairs)
            rng.shuffle(epoch)
            order.extend(epoch)
        batch, order = order[:batch_size], order[batch_size:]
        enc = tokenizer(
            [src for src, _ in batch],
            text_target=[tgt for _, tgt in batch],
            padding=True,
            return_tensors="pt",
        )
        labels = enc["labels"].masked_fill(enc["labels"] == tokenizer.pad_token_id, -100)
        loss = model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels
        ).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
        if len(losses) % 50 == 0:
            log.debug("step %d/%d loss %.4f", len(losses), steps, losses[-1])
    model.eval()
    # Save beside the checkpoint, then move file by file: a crash never leaves a
    # half-written weights file in place.
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        with _quiet():
            model.save_pretrained(str(staging), safe_serialization=True)
        for item in staging.iterdir():
            os.replace(item, folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("trained %s for %d steps: loss %.4f -> %.4f", folder, steps, losses[0], losses[-1])
    return losses
