"""Any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, Ollama): the scale-out path."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from cores.errors import BackendUnavailableError, CoreError
from cores.types import (
    Completion,
    GenerationParams,
    Message,
    as_messages,
    first_token_alternatives,
)

log = logging.getLogger(__name__)

_RETRYABLE = {408, 429, 500, 502, 503, 504}


class OpenAICompatLLM:
    """Chat completions over HTTP with timeouts, retries and JSON-schema output.

    ``schema_style`` picks how the schema is sent: ``json_schema`` (OpenAI / vLLM /
    llama.cpp server) or ``json_object`` (llama-cpp-python's server and Ollama accept
    ``{"type": "json_object", "schema": ...}``).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 2,
        schema_style: str = "json_object",
    ) -> None:
        if schema_style not in ("json_object", "json_schema"):
            raise ValueError("schema_style must be 'json_object' or 'json_schema'")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.schema_style = schema_style

    @property
    def model_id(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode("utf-8")
        last: str = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2**attempt))
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                    return dict(json.loads(resp.read().decode("utf-8")))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:500]
                last = f"HTTP {exc.code}: {detail}"
                if exc.code not in _RETRYABLE:
                    raise CoreError(f"{url} rejected the request ({last})") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = str(getattr(exc, "reason", exc))
            except ValueError as exc:
                raise CoreError(f"{url} answered with something that is not JSON: {exc}") from None
            log.warning(
                "openai backend: attempt %d/%d failed: %s", attempt + 1, self.max_retries + 1, last
            )
        raise BackendUnavailableError(
            f"cannot reach the OpenAI-compatible server at {self.base_url} ({last}); start it "
            "(e.g. `python -m llama_cpp.server --model FILE.gguf`) or fix `llm.base_url`"
        )

    def chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]] | str,
        params: GenerationParams | None = None,
    ) -> Completion:
        params = params or GenerationParams()
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in as_messages(messages)],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.top_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = params.top_logprobs
        if params.json_schema is not None:
            schema = dict(params.json_schema)
            if self.schema_style == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "reply", "schema": schema, "strict": True},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": schema}
        texts: list[str] = []
        reasons: list[str] = []
        firsts: list[dict[str, float]] = []
        prompt_tokens = completion_tokens = 0
        start = time.perf_counter()
        # One request per sample: not every server honours ``n``.
        for i in range(params.n):
            if params.seed is not None:
                body["seed"] = params.seed + i
            out = self._post("/chat/completions", body)
            try:
                choice = out["choices"][0]
                texts.append(choice["message"].get("content") or "")
            except (KeyError, IndexError, TypeError):
                raise CoreError(
                    f"unexpected reply from {self.base_url}: {str(out)[:300]}"
                ) from None
            reasons.append(choice.get("finish_reason") or "stop")
            if params.top_logprobs:
                firsts.append(first_token_alternatives(choice))
            usage = out.get("usage") or {}
            prompt_tokens += int(usage.get("prompt_tokens", 0))
            completion_tokens += int(usage.get("completion_tokens", 0))
        return Completion(
            texts=tuple(texts),
            model_id=self.model_id,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=time.perf_counter() - start,
            finish_reasons=tuple(reasons),
            first_token_logprobs=tuple(firsts),
        )

    def close(self) -> None:
        """Nothing to release: each call opens its own connection."""
