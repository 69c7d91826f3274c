"""Pick an LLM backend by name and build it from an ``LLMConfig``."""

from __future__ import annotations

import importlib
from pathlib import Path

from cores.errors import UnknownBackendError
from cores.protocols import LLM
from cores.registry import ModelRegistry
from cores.types import LLMConfig

BACKENDS: dict[str, str] = {
    "llama_cpp": "cores.llm_llamacpp:LlamaCppLLM",
    "openai": "cores.llm_openai:OpenAICompatLLM",
    "scripted": "cores.llm_scripted:ScriptedLLM",
}


def backend_class(name: str) -> type:
    """Import a backend class lazily (heavy libraries load only when used)."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise UnknownBackendError(
            f"unknown LLM backend {name!r}; valid backends: {', '.join(sorted(BACKENDS))}"
        ) from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def resolve_model_name(config: LLMConfig, registry: ModelRegistry | None) -> str:
    """The registry name ``config.model`` stands for (``active`` → the active llm)."""
    if config.model != "active":
        return config.model
    if config.backend != "llama_cpp" or registry is None:
        return "default"
    return registry.active("llm").name


def create_llm(config: LLMConfig, registry: ModelRegistry | None = None) -> LLM:
    """Build the configured LLM; a registry resolves model names to verified files."""
    cls = backend_class(config.backend)
    if config.backend == "scripted":
        return cls(config.replies)
    if config.backend == "openai":
        return cls(
            config.base_url,
            resolve_model_name(config, None),
            api_key=config.api_key,
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            schema_style=config.schema_style,
        )
    adapter = config.adapter_path
    if config.model_path:
        path = Path(config.model_path).expanduser()
        model_id = path.stem
    else:
        if registry is None:
            raise ValueError("a model registry is needed to resolve model names")
        entry = registry.get(resolve_model_name(config, registry))
        if entry.kind != "llm":
            raise UnknownBackendError(f"model {entry.name!r} is a {entry.kind} model, not an LLM")
        path = entry.resolved_path()
        adapter = adapter or entry.adapter
        model_id = entry.name + (f"@{entry.sha256[:12]}" if entry.sha256 else "")
    if adapter:
        model_id += f"+{Path(adapter).stem}"
    from cores.llm_llamacpp import LlamaCppSettings

    settings = LlamaCppSettings(
        n_ctx=config.n_ctx, n_threads=config.n_threads, prompt_lookup=config.prompt_lookup
    )
    return cls(path, model_id=model_id, adapter_path=adapter, settings=settings)
