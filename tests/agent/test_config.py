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


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sandbox.wall_s=abc", "sandbox.wall_s must be a number, not 'abc'"),
        ("sandbox.wall_s=-5", "sandbox.wall_s must be between 0.1 and 86400, not -5"),
        ("sandbox.wall_s=0", "sandbox.wall_s must be between"),
        ("sandbox.wall_s=.nan", "sandbox.wall_s must be a number"),
        ("sandbox.memory_mb=10", "sandbox.memory_mb must be at least 64"),
        ("sandbox.memory_mb=1.5", "sandbox.memory_mb must be a whole number"),
        ("sandbox.memory_mb=true", "sandbox.memory_mb must be a whole number"),
        ("sandbox.max_processes=2", "sandbox.max_processes must be at least 8"),
        ("sandbox.network=yes please", "sandbox.network must be true or false"),
        ("sandbox.unsafe=1", "sandbox.unsafe must be true or false"),
        ("llm.n_ctx=-1", "llm.n_ctx must be at least 128"),
        ("llm.n_threads=0", "llm.n_threads must be between 1 and 1024"),
        ("llm.timeout_s=fast", "llm.timeout_s must be a number"),
        ("llm.max_retries=-1", "llm.max_retries must be between 0 and 100"),
        ("llm.model=[1, 2]", "llm.model must be a string"),
        ("llm.schema_style=xml", "llm.schema_style must be one of json_object, json_schema"),
        ("llm.replies=hello", "llm.replies must be a list of strings"),
        ("embedder.batch_size=0", "embedder.batch_size must be between 1"),
        ("seq2seq.max_new_tokens=many", "seq2seq.max_new_tokens must be a whole number"),
        ("memory.backend=mongo", "memory.backend must be one of"),
        ("data_dir=[a]", "data_dir must be a folder path"),
    ],
)
def test_every_field_is_checked_when_the_config_loads(
    tmp_path: Path, override: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, [override])
    assert message in str(info.value)


def test_good_values_are_converted_to_the_field_types(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        ["sandbox.wall_s=30", "sandbox.memory_mb=1024.0", "llm.n_threads=null", "llm.replies=[a]"],
    )
    assert cfg.sandbox.wall_s == 30.0 and isinstance(cfg.sandbox.wall_s, float)
    assert cfg.sandbox.memory_mb == 1024 and isinstance(cfg.sandbox.memory_mb, int)
    assert cfg.llm.n_threads is None and cfg.llm.replies == ("a",)


def test_a_bad_value_in_the_yaml_file_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / ".autopatch.yaml").write_text("sandbox:\n  wall_s: soon\n")
    with pytest.raises(ConfigError, match="sandbox.wall_s must be a number, not 'soon'"):
        load_config(tmp_path)
