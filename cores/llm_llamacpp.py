"""In-process GGUF chat models through llama-cpp-python."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cores.errors import BackendUnavailableError, ModelCorruptError
from cores.gguf_meta import check_adapter, read_gguf_header
from cores.types import (
    Completion,
    GenerationParams,
    Message,
    as_messages,
)

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


LOOKUP_CTX = 4096  # the speculative context keeps every position's logits: 2.4 GiB at 4k


@dataclass(frozen=True)
class LlamaCppSettings:
    """How llama.cpp runs a model.

    Fields:
      n_ctx: the context length in tokens.
      n_threads: CPU threads (None: ``default_threads()``).
      prompt_cache_mb: the RAM cache of evaluated prompts (0: none).
      prompt_lookup: > 0: calls marked ``copies_input`` (code rewrites) decode
        speculatively, drafting that many tokens per step from the prompt's own n-grams
        (llama-cpp-python's ``LlamaPromptLookupDecoding``), on a second context of the same
        weights: speculation needs every position's logits, which would slow the judge's
        long prompts on the main context.
    """

    n_ctx: int = 8192
    n_threads: int | None = None
    prompt_cache_mb: int = 256
    prompt_lookup: int = 0


class LlamaCppLLM:
    """A GGUF model loaded in this process, with an optional LoRA adapter."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        model_id: str | None = None,
        adapter_path: str | Path | None = None,
        settings: LlamaCppSettings | None = None,
    ) -> None:
        """Load ``model_path`` (and ``adapter_path``) with ``settings`` (the defaults of
        ``LlamaCppSettings`` when None)."""
        settings = settings or LlamaCppSettings()
        n_ctx, n_threads = settings.n_ctx, settings.n_threads
        prompt_cache_mb, prompt_lookup = settings.prompt_cache_mb, settings.prompt_lookup
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
        self.prompt_lookup = max(0, prompt_lookup)
        self._lookup: Any = None  # the speculative context, made on first use
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
        self._kwargs = kwargs
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
        if params.top_logprobs and params.n == 1 and params.json_schema is None:
            return self._first_token(payload, params.top_logprobs)
        llama = self._context_for(payload, params)
        firsts: list[dict[str, float]] = []
        texts: list[str] = []
        reasons: list[str] = []
        prompt_tokens = completion_tokens = 0
        start = time.perf_counter()
        for i in range(params.n):
            seed = None if params.seed is None else params.seed + i
            out = llama.create_chat_completion(
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
            first_token_logprobs=tuple(firsts),
        )

    def _context_for(self, payload: list[dict[str, str]], params: GenerationParams) -> Any:
        """The speculative context for a rewrite that fits it, else the main one."""
        if not (self.prompt_lookup and params.copies_input) or params.json_schema is not None:
            return self._llama
        chars = sum(len(m.get("content") or "") for m in payload)
        if chars // 3 + params.max_tokens > LOOKUP_CTX:  # a rough token estimate
            return self._llama
        if self._lookup is None:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            kwargs = {
                **self._kwargs,
                "n_ctx": LOOKUP_CTX,
                # llama-cpp-python 0.3.x sizes its logits buffer by this flag, not by the
                # draft model it then switches on: without it, speculation overruns it
                "logits_all": True,
                "draft_model": LlamaPromptLookupDecoding(num_pred_tokens=self.prompt_lookup),
            }
            with _quiet_stderr():
                self._lookup = _import_llama().Llama(**kwargs)
        return self._lookup

    def _first_token(self, payload: list[dict[str, str]], k: int) -> Completion:
        """One forward pass: the first answer token's ``k`` likeliest alternatives.

        llama-cpp-python only reports log-probabilities for contexts that keep the logits
        of every prompt token (gigabytes at 8k context); this evaluates the rendered chat
        prompt itself, reusing the longest prefix already in the KV cache, and reads the
        last position's logits.
        """
        import numpy as np
        from llama_cpp import llama_chat_format

        llama = self._llama
        start = time.perf_counter()
        if getattr(self, "_formatter", None) is None:
            model = llama._model
            eos, bos = model.token_eos(), model.token_bos()
            self._formatter = llama_chat_format.Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"],
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=model.token_get_text(bos) if bos != -1 else "",
            )
        rendered = self._formatter(messages=payload)  # type: ignore[arg-type]
        tokens = llama.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )
        same = 0
        for a, b in zip(llama._input_ids.tolist(), tokens[:-1], strict=False):
            if a != b:
                break
            same += 1
        llama.n_tokens = same
        llama.eval(tokens[same:])
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        logits = logits.astype(np.float64)
        logprobs = logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))
        top = np.argsort(-logprobs)[:k]
        alts = {
            llama.detokenize([int(i)]).decode("utf-8", "replace"): float(logprobs[i]) for i in top
        }
        best = llama.detokenize([int(top[0])]).decode("utf-8", "replace")
        return Completion(
            texts=(best,),
            model_id=self._model_id,
            prompt_tokens=len(tokens) - same,
            completion_tokens=1,
            latency_s=time.perf_counter() - start,
            finish_reasons=("length",),
            first_token_logprobs=(alts,),
        )

    def close(self) -> None:
        for name in ("_llama", "_lookup"):
            llama = getattr(self, name, None)
            if llama is not None:
                llama.close()
                setattr(self, name, None)


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
