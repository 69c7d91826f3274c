"""Embedding backend: a local sentence-transformers model folder (default: MiniLM).

Loads offline from a folder such as ``cores.embedded.locate("minilm")``; never
reaches a model hub. Vectors come back as float32, L2-normalised, one row per text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from cores._hf import quiet_progress as _quiet  # noqa: E402
from cores.errors import ModelCorruptError, ModelNotFoundError  # noqa: E402

log = logging.getLogger(__name__)

INSTALL_HINT = "autopatch models install minilm"


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, on CPU."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path).expanduser()
        if not self._path.is_dir():
            raise ModelNotFoundError(
                f"embedding model folder {self._path} does not exist; run `{INSTALL_HINT}`"
            )
        if (
            not (self._path / "modules.json").is_file()
            and not (self._path / "config.json").is_file()
        ):
            raise ModelCorruptError(
                f"{self._path} holds no sentence-transformers model (no modules.json or "
                f"config.json); run `{INSTALL_HINT} --force` to reinstall it"
            )
        try:
            with _quiet():
                self._model = SentenceTransformer(
                    str(self._path), device="cpu", local_files_only=True
                )
            self._dimension = int(_dimension_of(self._model))
        except Exception as exc:  # the library raises many types; none should leak
            log.debug("loading embedder %s failed", self._path, exc_info=True)
            raise ModelCorruptError(
                f"{self._path} is not a loadable sentence-transformers model "
                f"({type(exc).__name__}); run `{INSTALL_HINT} --force` to reinstall it"
            ) from None
        self._model_id = f"st:{self._path.name}"
        log.info("loaded %s (%d dimensions)", self._model_id, self._dimension)

    @property
    def model_id(self) -> str:
        """``st:<folder name>``."""
        return self._model_id

    @property
    def dimension(self) -> int:
        """Length of every vector ``embed`` returns."""
        return self._dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """A float32 array of shape ``(len(texts), dimension)``, each row of unit length."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not one string")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        items = list(texts)
        if not items:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            items,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _dimension_of(model: Any) -> int:
    """The embedding size, across sentence-transformers versions."""
    getter = getattr(model, "get_embedding_dimension", None)
    if getter is None:  # sentence-transformers < 5
        getter = model.get_sentence_embedding_dimension
    dim = getter()
    if not dim:
        raise ValueError("model does not report an embedding dimension")
    return int(dim)
