"""Model backends behind Protocols: LLMs (GGUF in-process, OpenAI-compatible HTTP,
scripted), Seq2Seq (T5 / DivoT5 checkpoints), embeddings + vector index, and the
model registry. Heavy libraries are imported only inside the backend modules."""

from cores.errors import (
    BackendUnavailableError,
    CoreError,
    ModelCorruptError,
    ModelNotFoundError,
    UnknownBackendError,
)
from cores.llm import BACKENDS, create_llm
from cores.protocols import LLM, Embedder, Seq2Seq
from cores.registry import ModelEntry, ModelRegistry
from cores.types import Completion, GenerationParams, LLMConfig, Message

__all__ = [
    "BACKENDS",
    "LLM",
    "BackendUnavailableError",
    "Completion",
    "CoreError",
    "Embedder",
    "GenerationParams",
    "LLMConfig",
    "Message",
    "ModelCorruptError",
    "ModelEntry",
    "ModelNotFoundError",
    "ModelRegistry",
    "Seq2Seq",
    "UnknownBackendError",
    "create_llm",
]
