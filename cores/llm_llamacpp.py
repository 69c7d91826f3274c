"""In-process GGUF chat models through llama-cpp-python."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cores.errors import BackendUnavailableError, ModelCorruptError
from cores.gguf_meta import check_adapter, read_gguf_header
from cores.types import Completion, GenerationParams, Message, as_messages

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Half the cores (at least one): on a shared 2-core box, 2 threads thrash."""
    env = os.environ.get("AUTOPATCH_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) // 2)


def _import_llama() -> Any:
    # Busy-waiting OpenMP threads steal the only other core on small machines.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendUnavailableError(
            "llama-cpp-python is not installed; run the README setup command "
            "(`make setup`) or `pip install 'llama-cpp-python==0.3.36'`"
        ) from exc
    return llama_cpp


class LlamaCppLLM:
    """A GGUF model loaded in this process, with an optional LoRA adapter."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        model_id: str | None = None,
        adapter_path: str | Path | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        prompt_cache_mb: int = 256,
    ) -> None:
        model_path = Path(model_path)
        header = read_gguf_header(model_path)  # raises a clear error on a bad file
        if header.file_type == "adapter":
            raise ModelCorruptError(f"{model_path} is a LoRA adapter, not a base model")
        if adapter_path is not None:
            check_adapter(adapter_path, model_path)
        llama_cpp = _import_llama()
        self.model_path = model_path
        self.adapter_path = Path(adapter_path) if adapter_path else None
        self.architecture = header.architecture
        self.n_threads = n_threads or default_threads()
        self._model_id = model_id or model_path.stem
        start = time.perf_counter()
        kwargs: dict[str, Any] = {
            "model_path": str(model_path),
            "n_ctx": n_ctx,
            "n_threads": self.n_threads,
            "n_threads_batch": self.n_threads,
            "verbose": False,
        }
        if self.adapter_path is not None:
            kwargs["lora_path"] = str(self.adapter_path)
        try:
            with _quiet_stderr():
                self._llama = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ModelCorruptError(f"llama.cpp could not load {model_path}: {exc}") from None
        if prompt_cache_mb > 0:
            self._llama.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=prompt_cache_mb << 20))
        self.load_seconds = time.perf_counter() - start
        log.debug(
            "loaded %s in %.1fs (%d threads)", model_path.name, self.load_seconds, self.n_threads
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]] | str,
        params: GenerationParams | None = None,
    ) -> Completion:
        params = params or GenerationParams()
        payload = [m.to_dict() for m in as_messages(messages)]
        extra: dict[str, Any] = {}
        if params.json_schema is not None:
            extra["response_format"] = {"type": "json_object", "schema": dict(params.json_schema)}
        texts: list[str] = []
        reasons: list[str] = []
        prompt_tokens = completion_tokens = 0
        start = time.perf_counter()
        for i in range(params.n):
            seed = None if params.seed is None else params.seed + i
            out = self._llama.create_chat_completion(
                messages=payload,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                seed=seed,
                stop=list(params.stop) or None,
                **extra,
            )
            choice = out["choices"][0]
            texts.append(choice["message"].get("content") or "")
            reasons.append(choice.get("finish_reason") or "stop")
            usage = out.get("usage") or {}
            prompt_tokens += int(usage.get("prompt_tokens", 0))
            completion_tokens += int(usage.get("completion_tokens", 0))
        return Completion(
            texts=tuple(texts),
            model_id=self._model_id,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=time.perf_counter() - start,
            finish_reasons=tuple(reasons),
        )

    def close(self) -> None:
        llama = getattr(self, "_llama", None)
        if llama is not None:
            llama.close()
            self._llama = None


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    """llama.cpp prints its load log to fd 2 even with verbose=False; hide it."""
    if os.environ.get("AUTOPATCH_LLAMA_LOG"):
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
