from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cores.errors import ModelCorruptError
from cores.llm_llamacpp import LlamaCppLLM
from cores.types import GenerationParams, Message

pytestmark = pytest.mark.slow

RENAME_SCHEMA = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["rename", "add_parameter", "edit"]},
        "old_name": {"type": "string"},
        "new_name": {"type": "string"},
    },
    "required": ["op", "old_name", "new_name"],
    "additionalProperties": False,
}


def test_generates_text(default_llm: LlamaCppLLM) -> None:
    out = default_llm.chat(
        [Message("user", "Complete: def add(a, b):\n    return")],
        GenerationParams(max_tokens=24),
    )
    assert out.text.strip()
    assert out.completion_tokens > 0 and out.prompt_tokens > 0
    assert out.latency_s > 0
    assert out.model_id == "default"


def test_schema_constrained_json(default_llm: LlamaCppLLM) -> None:
    prompt = (
        "Turn the issue into JSON.\n"
        "op: rename | add_parameter | edit.\n"
        "old_name: the name that exists today.\nnew_name: the name it should have afterwards.\n\n"
        "Issue: please rename the function get_user to fetch_user everywhere."
    )
    out = default_llm.chat(prompt, GenerationParams(max_tokens=64, json_schema=RENAME_SCHEMA))
    value = json.loads(out.text)
    jsonschema.validate(value, RENAME_SCHEMA)
    assert value["op"] == "rename"
    assert value["old_name"] == "get_user"
    assert value["new_name"] == "fetch_user"


def test_n_samples_with_seeds(default_llm: LlamaCppLLM) -> None:
    out = default_llm.chat(
        "Name one fruit.", GenerationParams(max_tokens=8, temperature=1.0, n=2, seed=7)
    )
    assert len(out.texts) == 2
    assert len(out.finish_reasons) == 2


def test_corrupt_model_file_is_a_clear_error(tmp_path: Path, fast_gguf: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(fast_gguf.read_bytes()[:4096])
    with pytest.raises(ModelCorruptError):
        LlamaCppLLM(bad)


def test_corrupt_adapter_rejected_before_llama_cpp(tmp_path: Path, fast_gguf: Path) -> None:
    bad = tmp_path / "adapter.gguf"
    bad.write_bytes(b"not an adapter at all")
    with pytest.raises(ModelCorruptError, match="not a GGUF file"):
        LlamaCppLLM(fast_gguf, adapter_path=bad)
    with pytest.raises(ModelCorruptError, match="not a LoRA adapter"):
        LlamaCppLLM(fast_gguf, adapter_path=fast_gguf)
