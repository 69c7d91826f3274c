"""A scripted LLM: canned replies in order, every prompt recorded (tests and demos)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cores.errors import CoreError
from cores.types import Completion, GenerationParams, Message, as_messages


class ScriptedLLM:
    """Replays ``replies`` one per sample; raises when they run out.

    Meant for tests of control flow (repair loops, error paths) — not a
    substitute for a real model in tests that can afford one.
    """

    def __init__(self, replies: Iterable[str], *, model_id: str = "scripted") -> None:
        self._replies = list(replies)
        self._model_id = model_id
        self.calls: list[tuple[list[Message], GenerationParams]] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def remaining(self) -> int:
        return len(self._replies)

    def chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]] | str,
        params: GenerationParams | None = None,
    ) -> Completion:
        params = params or GenerationParams()
        msgs = as_messages(messages)
        self.calls.append((msgs, params))
        start = time.perf_counter()
        if len(self._replies) < params.n:
            raise CoreError(
                f"scripted backend ran out of replies ({len(self.calls)} calls made); "
                "give it more replies"
            )
        texts = tuple(self._replies.pop(0) for _ in range(params.n))
        if params.json_schema is not None:
            for text in texts:
                json.loads(text)  # a scripted reply for a schema call must be JSON
        prompt_words = sum(len(m.content.split()) for m in msgs)
        return Completion(
            texts=texts,
            model_id=self._model_id,
            prompt_tokens=prompt_words,
            completion_tokens=sum(len(t.split()) for t in texts),
            latency_s=time.perf_counter() - start,
            finish_reasons=("stop",) * len(texts),
        )

    def close(self) -> None:
        self._replies.clear()
