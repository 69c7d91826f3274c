"""SentenceTransformerEmbedder on the real MiniLM model from the user cache."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from cores import embedded
from cores.embedder import SentenceTransformerEmbedder
from cores.errors import ModelCorruptError, ModelNotFoundError
from cores.protocols import Embedder


@cache
def minilm() -> SentenceTransformerEmbedder:
    """The installed MiniLM; a missing install fails the test (it is a setup step, not a skip)."""
    if not embedded.is_installed("minilm"):
        pytest.fail(
            "the MiniLM embedding model is not installed; run `autopatch models install minilm`"
        )
    return SentenceTransformerEmbedder(embedded.locate("minilm"))


@pytest.mark.slow
def test_embeds_unit_float32_rows() -> None:
    model = minilm()
    assert isinstance(model, Embedder)
    assert model.dimension == 384
    assert model.model_id == "st:minilm"
    texts = ["def add(a, b):\n    return a + b", "Rename the helper", "x" * 2000]
    vectors = model.embed(texts, batch_size=2)
    assert isinstance(vectors, np.ndarray)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = model.embed(texts[:1])
    np.testing.assert_allclose(again[0], vectors[0], atol=1e-5)


@pytest.mark.slow
def test_similar_meanings_are_closer() -> None:
    rename_fn, rename_method, baking = minilm().embed(
        [
            "Rename a function and update all of its call sites.",
            "Rename a method and update every place that calls it.",
            "Bake the bread in a hot oven until the crust is golden.",
        ]
    )
    assert float(rename_fn @ rename_method) > float(rename_fn @ baking) + 0.3


@pytest.mark.slow
def test_empty_input_gives_zero_rows() -> None:
    empty = minilm().embed([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        minilm().embed("one string, not a list")


def test_missing_folder_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="autopatch models install minilm"):
        SentenceTransformerEmbedder(tmp_path / "nowhere")


def test_garbage_folder_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "modules.json").write_text("[]garbage")
    with pytest.raises(ModelCorruptError, match="autopatch models install minilm") as info:
        SentenceTransformerEmbedder(tmp_path)
    assert info.value.__cause__ is None and "\n" not in str(info.value)


def test_empty_folder_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(ModelCorruptError, match="no modules.json or config.json"):
        SentenceTransformerEmbedder(tmp_path)
