"""Value types shared by every model backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        return cls(role=data["role"], content=data["content"])


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters for one LLM call.

    ``json_schema`` switches on constrained decoding: every returned text is JSON
    that validates against the schema. ``n`` asks for that many independent samples.
    """

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.95
    seed: int | None = 0
    stop: tuple[str, ...] = ()
    n: int = 1
    json_schema: Mapping[str, Any] | None = None
    top_logprobs: int = 0  # >0: also return the first token's most likely alternatives
    # a hint: the reply mostly copies the prompt (a rewrite of given code); a backend may
    # then decode speculatively from the prompt's own n-grams (prompt-lookup decoding)
    copies_input: bool = False

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError("temperature must be within [0, 5]")
        if not 0 <= self.top_logprobs <= 64:
            raise ValueError("top_logprobs must be within [0, 64]")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


@dataclass(frozen=True)
class Completion:
    """What an LLM call returned: one text per sample plus accounting."""

    texts: tuple[str, ...]
    model_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    finish_reasons: tuple[str, ...] = ()
    # per sample, the first generated token's alternatives: {token text: log-probability}
    # (empty when the backend cannot tell, e.g. the scripted one)
    first_token_logprobs: tuple[Mapping[str, float], ...] = ()
    schema_version: int = SCHEMA_VERSION

    @property
    def text(self) -> str:
        """The first (usually only) sample."""
        return self.texts[0] if self.texts else ""

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.latency_s if self.latency_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["texts"] = list(self.texts)
        data["finish_reasons"] = list(self.finish_reasons)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Completion:
        return cls(
            texts=tuple(data["texts"]),
            model_id=data["model_id"],
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            latency_s=float(data.get("latency_s", 0.0)),
            finish_reasons=tuple(data.get("finish_reasons", ())),
        )


@dataclass(frozen=True)
class LLMConfig:
    """How to reach a chat model.

    Fields:
      backend: ``llama_cpp`` (in-process GGUF), ``openai`` (any OpenAI-compatible
        HTTP server) or ``scripted`` (canned replies, for tests and demos).
      model: a registry entry name (``default``, ``quality``, ``fast``, a fine-tuned
        version), ``active`` (the registry's active llm: ``default`` until ``autopatch
        models use NAME`` or a promotion by ``autopatch learn`` changes it) or, for
        ``openai``, the server-side model name.
      model_path: explicit GGUF path; overrides the registry entry's file.
      adapter_path: optional LoRA adapter in GGUF form (llama_cpp only).
      n_ctx: context window in tokens.
      n_threads: CPU threads; ``None`` picks a default for this machine.
      prompt_lookup: llama_cpp only: tokens drafted per step by prompt-lookup speculative
        decoding for calls that copy their input (code rewrites); 0 turns it off.
      base_url / api_key / timeout_s / max_retries: the ``openai`` backend's endpoint.
      schema_style: how that endpoint takes a JSON schema: ``json_object`` (llama-cpp-python
        server, Ollama) or ``json_schema`` (OpenAI, vLLM, llama.cpp's own server).
      replies: the ``scripted`` backend's canned replies, used in order.
    """

    backend: str = "llama_cpp"
    model: str = "active"
    model_path: str | None = None
    adapter_path: str | None = None
    n_ctx: int = 8192
    n_threads: int | None = None
    prompt_lookup: int = 10
    base_url: str = "http://127.0.0.1:8080/v1"
    api_key: str | None = None
    timeout_s: float = 120.0
    max_retries: int = 2
    schema_style: str = "json_object"
    replies: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["replies"] = list(self.replies)
        data.pop("api_key")  # never persisted or logged
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LLMConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown llm config field(s): {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
            )
        values = dict(data)
        if "replies" in values:
            values["replies"] = tuple(values["replies"])
        return cls(**values)


def as_messages(messages: Sequence[Message | Mapping[str, Any]] | str) -> list[Message]:
    """Accept a plain prompt, dicts or Messages; return Messages."""
    if isinstance(messages, str):
        return [Message("user", messages)]
    return [m if isinstance(m, Message) else Message.from_dict(m) for m in messages]


def first_token_alternatives(choice: Mapping[str, Any]) -> dict[str, float]:
    """``{token: logprob}`` of the first generated token, from an OpenAI-style choice."""
    content = ((choice.get("logprobs") or {}).get("content")) or []
    if not content:
        return {}
    first = content[0]
    alts = {
        str(a.get("token", "")): float(a.get("logprob", -1e9))
        for a in first.get("top_logprobs") or []
    }
    alts.setdefault(str(first.get("token", "")), float(first.get("logprob", -1e9)))
    return alts
