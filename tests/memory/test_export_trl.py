"""Exported datasets load with ``datasets`` and train with TRL as they are (no conversion).

A tiny random Qwen2 model and a byte-level BPE tokenizer trained here on the exported
text (with a ChatML template) stand in for the real model: no hub access needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from memory.export import ExportOptions, export_datasets
from tests.memory.test_export import docstring_run, repaired_run

pytestmark = pytest.mark.slow

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trl")
    data = root / "repo" / ".agent_data"
    docstring_run(data, "20261123-000001-aaaaaa")
    docstring_run(data, "20261123-000009-iiiiii", name="last", doc="The last item.")
    repaired_run(data, "20261123-000002-bbbbbb")
    outs = {}
    for fmt in ("messages", "prompt-completion", "alpaca", "sharegpt"):
        outs[fmt] = root / fmt
        export_datasets(
            [data / "memory"], outs[fmt], ExportOptions(fmt=fmt, val_fraction=0.0, min_rating=0)
        )
    return outs


def _texts(folder: Path) -> list[str]:
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            walk(json.loads(line))
    return texts


@pytest.fixture(scope="module")
def tokenizer(exported: dict[str, Path]) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(_texts(exported["messages"]), trainer=trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
    )
    tok.chat_template = CHATML
    return tok


def tiny_model(tokenizer: Any) -> Any:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    return Qwen2ForCausalLM(config)


def load(folder: Path, kind: str) -> Any:
    from datasets import load_dataset

    files = {"train": str(folder / f"{kind}.train.jsonl")}
    return load_dataset("json", data_files=files, split="train")


def common(tmp_path: Path) -> dict[str, Any]:
    return {
        "output_dir": str(tmp_path / "run"),
        "per_device_train_batch_size": 2,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "bf16": False,
        "use_cpu": True,
        "activation_checkpointing": False,
        "max_length": 2048,  # the spec prompt lists every operation
        "dataloader_num_workers": 0,
        "seed": 0,
    }


def sft(tokenizer: Any, dataset: Any, tmp_path: Path, steps: int = 2) -> Any:
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(max_steps=steps, **common(tmp_path))
    trainer = SFTTrainer(
        model=tiny_model(tokenizer), args=args, train_dataset=dataset, processing_class=tokenizer
    )
    result = trainer.train()
    assert trainer.state.global_step == steps
    assert math.isfinite(result.training_loss) and result.training_loss > 0
    return trainer


def test_versions() -> None:
    import transformers
    import trl

    assert int(trl.__version__.split(".")[0]) >= 1, trl.__version__
    assert int(transformers.__version__.split(".")[0]) >= 5, transformers.__version__


def test_sft_trainer_takes_the_messages_files(
    exported: dict[str, Path], tokenizer: Any, tmp_path: Path
) -> None:
    from datasets import concatenate_datasets

    sft_rows = load(exported["messages"], "sft")
    assert sft_rows.column_names == ["messages"] and len(sft_rows) == 3
    repair = load(exported["messages"], "repair")
    sft(tokenizer, concatenate_datasets([sft_rows, repair]), tmp_path)


def test_sft_trainer_takes_the_prompt_completion_files(
    exported: dict[str, Path], tokenizer: Any, tmp_path: Path
) -> None:
    rows = load(exported["prompt-completion"], "sft")
    assert rows.column_names == ["prompt", "completion"]
    trainer = sft(tokenizer, rows, tmp_path)
    labels = trainer.train_dataset[0]["labels"]
    assert -100 in labels and any(t != -100 for t in labels)  # the loss covers the answer only


def test_extra_seq2seq_columns_do_not_bother_the_sft_trainer(
    exported: dict[str, Path], tokenizer: Any, tmp_path: Path
) -> None:
    for fmt in ("messages", "prompt-completion"):
        rows = load(exported[fmt], "spec")
        assert {"input", "target"} <= set(rows.column_names)
        sft(tokenizer, rows, tmp_path / fmt, steps=1)


def test_dpo_trainer_takes_the_preference_file(
    exported: dict[str, Path], tokenizer: Any, tmp_path: Path
) -> None:
    from trl import DPOConfig, DPOTrainer

    for fmt in ("messages", "prompt-completion"):
        rows = load(exported[fmt], "preference")
        assert rows.column_names == ["prompt", "chosen", "rejected"] and len(rows) == 1
        args = DPOConfig(max_steps=1, **common(tmp_path / fmt))
        trainer = DPOTrainer(
            model=tiny_model(tokenizer),
            ref_model=tiny_model(tokenizer),  # (a hub name would be needed to build one)
            args=args,
            train_dataset=rows,
            processing_class=tokenizer,
        )
        result = trainer.train()
        assert trainer.state.global_step == 1 and math.isfinite(result.training_loss)


def test_alpaca_and_sharegpt_files_load(exported: dict[str, Path]) -> None:
    alpaca = load(exported["alpaca"], "repair")
    assert set(alpaca.column_names) == {"instruction", "input", "output", "system", "history"}
    assert len(alpaca[0]["history"]) == 1
    ranking = load(exported["alpaca"], "preference")
    assert {"chosen", "rejected"} <= set(ranking.column_names)
    share = load(exported["sharegpt"], "sft")
    assert share[0]["conversations"][-1]["from"] == "gpt"
    pref = load(exported["sharegpt"], "preference")
    assert pref[0]["chosen"]["from"] == "gpt"
