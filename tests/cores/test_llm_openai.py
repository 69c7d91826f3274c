"""The OpenAI-compatible backend against a real llama-cpp-python server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from cores import LLMConfig, create_llm
from cores.errors import BackendUnavailableError
from cores.llm_openai import OpenAICompatLLM
from cores.types import GenerationParams

pytestmark = pytest.mark.slow

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "reason": {"type": "string"},
    },
    "required": ["answer", "reason"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(fast_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(fast_gguf),
                "--model_alias",
                "smol",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_chat_through_real_server(server: str) -> None:
    llm = create_llm(LLMConfig(backend="openai", model="smol", base_url=server, timeout_s=120))
    out = llm.chat("Say hello in one word.", GenerationParams(max_tokens=8, seed=1))
    assert out.text.strip()
    assert out.completion_tokens > 0 and out.prompt_tokens > 0
    assert out.model_id == f"openai:smol@{server}"


def test_schema_constrained_json_through_server(server: str) -> None:
    llm = OpenAICompatLLM(server, "smol", timeout_s=120)
    out = llm.chat(
        "Is water wet? Answer as JSON.", GenerationParams(max_tokens=48, json_schema=SCHEMA, n=2)
    )
    assert len(out.texts) == 2
    for text in out.texts:
        jsonschema.validate(json.loads(text), SCHEMA)


def test_unreachable_server_is_a_clear_error() -> None:
    llm = OpenAICompatLLM(f"http://127.0.0.1:{_free_port()}/v1", "x", timeout_s=2, max_retries=1)
    with pytest.raises(BackendUnavailableError, match="cannot reach the OpenAI-compatible server"):
        llm.chat("hi")
