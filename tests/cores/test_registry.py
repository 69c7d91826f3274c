from __future__ import annotations

import json
from pathlib import Path

import pytest

from cores import LLMConfig, ModelEntry, ModelRegistry, create_llm
from cores.embedded import CATALOG
from cores.errors import ModelNotFoundError


def test_embedded_defaults_register_themselves(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    names = {e.name for e in reg.entries()}
    assert set(CATALOG) <= names
    assert reg.active("llm").name == "default"
    assert reg.active("embedder").name == "minilm"
    assert json.loads(reg.file.read_text())["schema_version"] == 1
    entry = reg.get("default")
    assert entry.embedded and entry.sha256 and len(entry.sha256) == 64
    assert entry.provenance["source"] == "pypi"


def test_add_use_and_errors(tmp_path: Path, fast_gguf: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.add(ModelEntry(name="mine", kind="llm", path=str(fast_gguf), params={"temperature": 0.2}))
    assert reg.use("mine").name == "mine"
    assert ModelRegistry(tmp_path).active("llm").name == "mine"  # persisted
    with pytest.raises(ValueError, match="already exists"):
        reg.add(ModelEntry(name="mine", kind="llm", path=str(fast_gguf)))
    with pytest.raises(ValueError, match="already exists"):
        reg.add(ModelEntry(name="default", kind="llm", path=str(fast_gguf)), overwrite=True)
    with pytest.raises(ModelNotFoundError, match="known: "):
        reg.get("missing")
    with pytest.raises(ValueError, match="kind"):
        ModelEntry(name="x", kind="vision", path="p")


def test_dangling_path_is_a_clear_error(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.add(ModelEntry(name="gone", kind="llm", path=str(tmp_path / "gone.gguf")))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        reg.get("gone").resolved_path()


def test_corrupt_registry_file(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.root.mkdir(parents=True)
    reg.file.write_text("{not json")
    with pytest.raises(ModelNotFoundError, match="unreadable"):
        reg.entries()


@pytest.mark.slow
def test_create_llm_resolves_registry_name(tmp_path: Path) -> None:
    llm = create_llm(LLMConfig(model="fast", n_ctx=512), ModelRegistry(tmp_path))
    try:
        assert llm.model_id.startswith("fast@")
        assert llm.chat("Say hi.").text
    finally:
        llm.close()


def test_the_active_llm_is_what_a_default_config_loads(tmp_path, fast_gguf) -> None:  # type: ignore[no-untyped-def]
    from cores.llm import create_llm, resolve_model_name
    from cores.types import LLMConfig

    registry = ModelRegistry(tmp_path)
    assert resolve_model_name(LLMConfig(), registry) == "default"
    registry.use("fast")
    assert resolve_model_name(LLMConfig(), registry) == "fast"
    assert resolve_model_name(LLMConfig(model="default"), registry) == "default"
    llm = create_llm(LLMConfig(n_ctx=512), registry)
    try:
        assert llm.model_id.startswith("fast@")
    finally:
        llm.close()
