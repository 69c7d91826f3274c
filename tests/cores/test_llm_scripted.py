from __future__ import annotations

import pytest

from cores import LLMConfig, create_llm
from cores.errors import CoreError, UnknownBackendError
from cores.llm_scripted import ScriptedLLM
from cores.types import GenerationParams


def test_replays_in_order_and_records_prompts() -> None:
    llm = ScriptedLLM(["one", "two", "three"])
    assert llm.chat("first").text == "one"
    out = llm.chat("second", GenerationParams(n=2))
    assert out.texts == ("two", "three")
    assert [c[0][0].content for c in llm.calls] == ["first", "second"]
    with pytest.raises(CoreError, match="ran out of replies"):
        llm.chat("again")


def test_schema_calls_need_json_replies() -> None:
    llm = ScriptedLLM(["not json"])
    with pytest.raises(ValueError):
        llm.chat("x", GenerationParams(json_schema={"type": "object"}))


def test_factory_builds_scripted_and_rejects_unknown() -> None:
    llm = create_llm(LLMConfig(backend="scripted", replies=("ok",)))
    assert llm.chat("hi").text == "ok"
    with pytest.raises(UnknownBackendError, match="valid backends: llama_cpp, openai, scripted"):
        create_llm(LLMConfig(backend="gpt-cloud"))
