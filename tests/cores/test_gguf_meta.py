from __future__ import annotations

from pathlib import Path

import gguf
import pytest

from cores.errors import ModelCorruptError, ModelNotFoundError
from cores.gguf_meta import check_adapter, read_gguf_header


def _write_gguf(path: Path, arch: str, file_type: str | None) -> Path:
    writer = gguf.GGUFWriter(str(path), arch)
    if file_type:
        writer.add_string("general.type", file_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_reads_real_model_header(fast_gguf: Path) -> None:
    head = read_gguf_header(fast_gguf)
    assert head.architecture == "llama"
    assert head.file_type == "model"
    assert head.tensor_count > 0


def test_default_model_is_qwen2(default_gguf: Path) -> None:
    assert read_gguf_header(default_gguf).architecture == "qwen2"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        read_gguf_header(tmp_path / "nope.gguf")


def test_garbage_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(ModelCorruptError, match="not a GGUF file"):
        read_gguf_header(bad)


def test_truncated_file(tmp_path: Path, fast_gguf: Path) -> None:
    bad = tmp_path / "trunc.gguf"
    bad.write_bytes(fast_gguf.read_bytes()[:200])
    with pytest.raises(ModelCorruptError, match="corrupt GGUF header"):
        read_gguf_header(bad)


def test_adapter_checks(tmp_path: Path, fast_gguf: Path) -> None:
    good = _write_gguf(tmp_path / "ok.gguf", "llama", "adapter")
    assert check_adapter(good, fast_gguf).file_type == "adapter"
    wrong_arch = _write_gguf(tmp_path / "arch.gguf", "qwen2", "adapter")
    with pytest.raises(ModelCorruptError, match="architecture"):
        check_adapter(wrong_arch, fast_gguf)
    not_adapter = _write_gguf(tmp_path / "model.gguf", "llama", None)
    with pytest.raises(ModelCorruptError, match="not a LoRA adapter"):
        check_adapter(not_adapter, fast_gguf)
