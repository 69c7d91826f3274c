from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_config


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOPATCH_DATA_DIR", raising=False)
    cfg = load_config(tmp_path)
    assert cfg.data_dir == tmp_path.resolve() / ".agent_data"
    assert cfg.llm.backend == "llama_cpp" and cfg.llm.model == "active"
    assert cfg.sources == ()


def test_precedence_pyproject_yaml_env_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.autopatch]\ndata_dir = 'from-pyproject'\n[tool.autopatch.llm]\nn_ctx = 1024\nmodel = 'fast'\n"
    )
    (tmp_path / ".autopatch.yaml").write_text(
        "llm:\n  model: quality\nembedder:\n  batch_size: 8\n"
    )
    monkeypatch.delenv("AUTOPATCH_DATA_DIR", raising=False)
    cfg = load_config(tmp_path, ["llm.n_threads=3"])
    assert cfg.llm.n_ctx == 1024  # pyproject
    assert cfg.llm.model == "quality"  # yaml beats pyproject
    assert cfg.embedder.batch_size == 8
    assert cfg.llm.n_threads == 3  # CLI
    assert cfg.data_dir == tmp_path.resolve() / "from-pyproject"
    monkeypatch.setenv("AUTOPATCH_DATA_DIR", str(tmp_path / "env"))
    assert load_config(tmp_path).data_dir == tmp_path / "env"
    assert len(cfg.sources) == 2


@pytest.mark.parametrize(
    ("files", "overrides", "message"),
    [
        ({".autopatch.yaml": "llm: [unclosed"}, [], "not valid YAML"),
        ({".autopatch.yaml": "- a list"}, [], "mapping at the top level"),
        ({"pyproject.toml": "[tool.autopatch\n"}, [], "not valid TOML"),
        ({}, ["llm.flavour=spicy"], "unknown setting.*llm.flavour"),
        ({}, ["telemetry.on=1"], "unknown config section"),
        ({}, ["no-equals-sign"], "section.field=value"),
    ],
)
def test_bad_config_is_a_clear_error(
    tmp_path: Path, files: dict[str, str], overrides: list[str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises((ConfigError, ValueError), match=message):
        load_config(tmp_path, overrides)


def test_missing_repo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope")
