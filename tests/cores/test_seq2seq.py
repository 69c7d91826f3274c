"""The transformers seq2seq backend and the tiny-T5 tools, on a real (tiny) model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from cores.errors import ModelCorruptError, ModelNotFoundError
from cores.protocols import Seq2Seq
from cores.seq2seq import TransformersSeq2Seq, make_tiny_t5, train_seq2seq

OLD = ["parse", "load_config", "fetch", "render", "compute_total",
       "send_mail", "get_user", "build_index", "read_rows", "save"]  # fmt: skip
NEW = ["parse_text", "read_config", "download", "render_page", "total",
       "send_email", "fetch_user", "make_index", "iter_rows", "persist"]  # fmt: skip
FILES = ["app/io.py", "core/util.py", "web/views.py"]


def issue_spec_pairs(n: int = 30) -> list[tuple[str, str]]:
    """Synthetic (issue text -> YAML-ish rename spec) pairs."""
    pairs = []
    for i in range(n):
        old, new, path = OLD[i % 10], NEW[i % 10], FILES[i % 3]
        issue = f"Please rename {old} to {new} in {path}"
        spec = f"op: rename\nold: {old}\nnew: {new}\nfile: {path}\n"
        pairs.append((issue, spec))
    return pairs


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models train fastest on one thread; two threads on a busy 2-core box crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_t5(tmp_path: Path) -> Path:
    pairs = issue_spec_pairs()
    return make_tiny_t5(tmp_path / "tiny-t5", [t for pair in pairs for t in pair])


@pytest.mark.slow
def test_make_tiny_t5_saves_a_loadable_safetensors_checkpoint(tiny_t5: Path) -> None:
    names = {p.name for p in tiny_t5.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not any(name.endswith(".bin") for name in names)
    model = TransformersSeq2Seq(tiny_t5)
    assert isinstance(model, Seq2Seq)
    assert model.model_id.startswith("seq2seq:tiny-t5:") and len(model.model_id) == 24
    out = model.generate(["Please rename a to b", "x"], max_new_tokens=5)
    assert len(out) == 2 and all(isinstance(o, str) for o in out)
    assert model.generate([]) == []


@pytest.mark.slow
def test_training_memorises_pairs_and_reload_generates_them(tiny_t5: Path, one_thread) -> None:
    train = issue_spec_pairs()[:4]
    losses = train_seq2seq(tiny_t5, train, steps=300, lr=3e-3, batch_size=4, seed=0)
    assert len(losses) == 300
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.05 * first, (first, last)

    model = TransformersSeq2Seq(tiny_t5)  # reload what train_seq2seq saved
    inputs = [src for src, _ in train]
    batched = model.generate(inputs, max_new_tokens=40)
    assert batched == [spec for _, spec in train]
    assert model.generate(inputs[1:2], max_new_tokens=40) == [train[1][1]]
    assert model.generate(inputs[:1], max_new_tokens=40, num_beams=2) == [train[0][1]]


def test_missing_dir_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        TransformersSeq2Seq(tmp_path / "nowhere")


def test_dir_without_checkpoint_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelCorruptError, match="no config.json"):
        TransformersSeq2Seq(tmp_path)


def test_garbage_checkpoint_is_corrupt_without_a_leaked_traceback(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{garbage")
    (tmp_path / "model.safetensors").write_bytes(os.urandom(256))
    with pytest.raises(ModelCorruptError, match="not hold a loadable seq2seq checkpoint") as info:
        TransformersSeq2Seq(tmp_path)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_damaged_weights_are_corrupt(tiny_t5: Path) -> None:
    (tiny_t5 / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelCorruptError, match=str(tiny_t5.name)):
        TransformersSeq2Seq(tiny_t5)
