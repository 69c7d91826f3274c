"""``memory.finetune`` end to end on the real SmolLM2-135M GGUF: dequantize, LoRA training,
adapter → GGUF with llama.cpp's converter, registry entry, loading with the llama_cpp
backend, and resuming from a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_finetune_data import SYSTEM, chat_dataset

from cores import embedded
from cores.gguf_meta import check_adapter
from cores.llm import create_llm
from cores.registry import ModelRegistry
from cores.types import GenerationParams, LLMConfig, Message
from memory.dequantize import dequantize, hf_folder_for
from memory.finetune import FinetuneOptions, finetune
from memory.finetune_data import ChatExample
from memory.finetune_train import encode

pytestmark = pytest.mark.slow

PROMPT = [
    Message("system", SYSTEM),
    Message("user", "Rename get_user3 to fetch_user3 in pkg/core.py"),
]


def _greedy(registry: ModelRegistry, name: str) -> str:
    llm = create_llm(LLMConfig(model=name, n_ctx=512, n_threads=1), registry)
    try:
        out = llm.chat(PROMPT, GenerationParams(max_tokens=24))
        assert out.completion_tokens > 0
        return out.text
    finally:
        llm.close()


def test_lora_finetune_end_to_end_and_resume(tmp_path: Path, fast_gguf: Path) -> None:
    registry = ModelRegistry(tmp_path / "data")
    work = tmp_path / "data" / "training"
    data = chat_dataset(tmp_path / "ds", train=8)
    lines: list[str] = []
    options = FinetuneOptions(out_name="fast-tuned", steps=2, lr=2e-3, batch_size=4, max_length=256)

    result = finetune(
        data, registry, options, work_root=work, active_llm="fast", progress=lines.append
    )

    # the adapter: converted, valid for the base, small
    assert result.adapter_path is not None and result.adapter_path.is_file()
    header = check_adapter(result.adapter_path, fast_gguf)
    assert header.architecture == "llama" and header.tensor_count == 30 * 4 * 2
    assert result.adapter_bytes == result.adapter_path.stat().st_size
    assert 1_000_000 < result.adapter_bytes < 20_000_000
    assert result.model_path == fast_gguf and result.base == "fast"
    # the dequantized base is cached by the GGUF's hash and reused
    assert (hf_folder_for(registry.get("fast").sha256 or "") / "config.json").is_file()
    # metrics, timings, progress
    m = result.metrics
    assert m["steps"] == 2 and m["resumed_from_step"] is None and m["steps_this_run"] == 2
    assert m["first_loss"] > 0 and m["last_loss"] > 0 and m["eval_loss"] > 0
    assert set(result.timings) >= {"dequantize_s", "train_s", "convert_s"}
    assert result.timings["train_s"] > 0 and result.timings["convert_s"] > 0
    assert any(line.startswith("step 2/2 loss") for line in lines)
    # registry: a new version with provenance, not active
    entry = registry.get("fast-tuned")
    assert entry.kind == "llm" and entry.adapter == str(result.adapter_path)
    assert entry.path == str(fast_gguf) and entry.base == "fast"
    prov = entry.provenance
    assert prov["dataset"]["sha256"] == "feedc0de" and prov["dataset"]["train_examples"] == 8
    assert prov["base_sha256"] == registry.get("fast").sha256
    assert prov["hyperparameters"]["lora_r"] == 16 and prov["hyperparameters"]["steps"] == 2
    assert prov["metrics"]["last_loss"] == m["last_loss"]
    assert registry.active_names()["llm"] == "default"
    # how to serve it elsewhere
    assert result.modelfile is not None
    assert result.modelfile.read_text().splitlines()[1:] == [
        f"FROM {fast_gguf}",
        f"ADAPTER {result.adapter_path}",
    ]
    assert result.llama_cpp_command == f"llama-cli -m {fast_gguf} --lora {result.adapter_path}"
    assert json.loads((result.run_dir / "result.json").read_text())["name"] == "fast-tuned"
    assert "fast-tuned" in result.report()

    # the project's llama_cpp backend loads base + adapter, and the adapter changes the output
    tuned = _greedy(registry, "fast-tuned")
    assert tuned.strip()
    assert tuned != _greedy(registry, "fast")

    # resume: more steps continue from checkpoint-2 instead of starting over
    assert (result.run_dir / "checkpoints" / "checkpoint-2").is_dir()
    more = FinetuneOptions(out_name="fast-tuned", steps=4, lr=2e-3, batch_size=4, max_length=256)
    lines.clear()
    again = finetune(data, registry, more, work_root=work, active_llm="fast", progress=lines.append)
    assert again.metrics["resumed_from_step"] == 2 and again.metrics["steps_this_run"] == 2
    assert again.metrics["first_loss"] == m["first_loss"]  # history carried over
    assert again.timings["dequantize_s"] == 0.0  # cached folder reused
    assert "resuming from checkpoint-2" in lines
    assert [ln.split(" loss")[0] for ln in lines if ln.startswith("step ")] == [
        "step 3/4",
        "step 4/4",
    ]
    assert registry.get("fast-tuned").provenance["hyperparameters"]["steps"] == 4
    check_adapter(again.adapter_path or "", fast_gguf)

    # changed settings under the same name: the old checkpoints do not fit; start over
    other = FinetuneOptions(out_name="fast-tuned", steps=1, lora_r=4, batch_size=4, max_length=256)
    third = finetune(data, registry, other, work_root=work, active_llm="fast")
    assert third.metrics["resumed_from_step"] is None and third.metrics["steps_this_run"] == 1
    assert any("started over" in note for note in third.notes)
    assert third.adapter_bytes < again.adapter_bytes  # rank 4 instead of 16


def test_encode_masks_the_prompt_and_keeps_the_answer(fast_gguf: Path) -> None:
    from transformers import AutoTokenizer

    folder, _ = dequantize(fast_gguf, embedded.get("fast").members[0].sha256, lambda _: None)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    example = ChatExample(({"role": "user", "content": "word " * 300},), "the answer " * 20, "sft")
    ids, labels, cut = encode(tokenizer, example, 1024)
    assert not cut and len(ids) == len(labels)
    answer = [t for t, lab in zip(ids, labels, strict=True) if lab != -100]
    assert tokenizer.decode(answer).startswith("the answer the answer")
    assert tokenizer.decode(answer).rstrip().endswith("<|im_end|>")
    assert labels[0] == -100
    ids, labels, cut = encode(tokenizer, example, 64)
    assert cut and len(ids) == 64
    kept = tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab != -100])
    assert kept.startswith("the answer") and -100 in labels  # answer start + prompt tail


def test_hf_folder_base_and_merged_gguf(tmp_path: Path, fast_gguf: Path) -> None:
    """An HF folder as the base (converted to GGUF for llama.cpp) and ``merged=True``."""
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    folder, _ = dequantize(fast_gguf, embedded.get("fast").members[0].sha256, lambda _: None)
    registry = ModelRegistry(tmp_path / "data")
    options = FinetuneOptions(
        out_name="folder-tuned",
        base=str(folder),
        steps=1,
        batch_size=2,
        max_length=128,
        merged=True,
    )
    result = finetune(
        chat_dataset(tmp_path / "ds"), registry, options, work_root=tmp_path / "training"
    )
    assert result.base == folder.name and result.model_path.name == "base.q8_0.gguf"
    assert result.adapter_path is not None
    check_adapter(result.adapter_path, result.model_path)
    assert result.merged_path is not None and result.merged_path.stat().st_size > 50_000_000
    assert registry.get("folder-tuned").provenance["merged_gguf"] == str(result.merged_path)
    assert "merge_s" in result.timings
    for path, adapter in ((result.merged_path, None), (result.model_path, result.adapter_path)):
        llm = LlamaCppLLM(
            path, adapter_path=adapter, settings=LlamaCppSettings(n_ctx=512, n_threads=1)
        )
        try:
            assert llm.chat(PROMPT, GenerationParams(max_tokens=8)).completion_tokens > 0
        finally:
            llm.close()


def test_a_time_budget_stops_training_early_and_still_converts(
    tmp_path: Path, fast_gguf: Path
) -> None:
    registry = ModelRegistry(tmp_path / "data")
    data = chat_dataset(tmp_path / "ds", train=8)
    lines: list[str] = []
    options = FinetuneOptions(
        out_name="fast-timed", steps=50, batch_size=2, max_length=128, max_seconds=0.5
    )
    result = finetune(
        data, registry, options, work_root=tmp_path / "w", active_llm="fast",
        progress=lines.append,
    )  # fmt: skip
    assert result.metrics["steps_taken"] == 1 and result.metrics["steps"] == 50
    assert any(line.startswith("time budget: stopping at step 1/50") for line in lines)
    assert result.adapter_path is not None and result.adapter_path.is_file()
