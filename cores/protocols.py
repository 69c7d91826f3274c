"""The model interfaces every backend implements (structural, ``typing.Protocol``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from cores.types import Completion, GenerationParams, Message


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``chat`` never mutates its inputs and is safe to call repeatedly."""

    @property
    def model_id(self) -> str:
        """A stable identifier: registry name plus file hash prefix or server model name."""
        ...

    def chat(
        self,
        messages: Sequence[Message | Mapping[str, Any]] | str,
        params: GenerationParams | None = None,
    ) -> Completion:
        """Generate ``params.n`` replies to the conversation."""
        ...

    def close(self) -> None:
        """Release the model (memory, connections)."""
        ...


@runtime_checkable
class Seq2Seq(Protocol):
    """A text-to-text model (T5 / CodeT5 / DivoT5 checkpoints)."""

    @property
    def model_id(self) -> str: ...

    def generate(
        self, inputs: Sequence[str], *, max_new_tokens: int = 256, num_beams: int = 1
    ) -> list[str]:
        """One output string per input string."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns text into fixed-size, L2-normalised float32 vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> Any:
        """A float32 numpy array of shape (len(texts), dimension)."""
        ...
