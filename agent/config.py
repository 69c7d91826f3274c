"""Configuration: ``.autopatch.yaml`` or ``[tool.autopatch]`` in the target repo, then CLI flags.

One config object per component; ``AppConfig`` only groups them. Every field is
documented on its dataclass. Precedence (lowest first): defaults, pyproject
``[tool.autopatch]``, ``.autopatch.yaml``, environment (``AUTOPATCH_DATA_DIR``),
command-line overrides (``--set llm.n_threads=2`` and the named flags).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from agent.config_check import ConfigError, check_section
from agent.verify.sandbox import Sandbox
from cores.types import LLMConfig
from memory.store import MemoryConfig

DATA_DIR_ENV = "AUTOPATCH_DATA_DIR"
CONFIG_FILE = ".autopatch.yaml"


@dataclass(frozen=True)
class EmbedderConfig:
    """Sentence embeddings for retrieval.

    Fields:
      model: registry name of an ``embedder`` entry (default: the embedded MiniLM).
      batch_size: texts per forward pass.
    """

    model: str = "minilm"
    batch_size: int = 32


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The T5 / DivoT5 slot.

    Fields:
      model: registry name of a ``seq2seq`` entry, or ``None`` (no checkpoint: the
        ``t5`` spec backend and the style refiner stay off).
      max_new_tokens: generation budget per input.
    """

    model: str | None = None
    max_new_tokens: int = 256


@dataclass(frozen=True)
class AppConfig:
    """Everything a command needs, resolved for one target repository.

    Fields:
      repo: the target repository root.
      data_dir: runtime state (index, memory, models, runs); default ``<repo>/.agent_data``.
      llm / embedder / seq2seq: the component configs above.
      sandbox: limits for generated scripts and the project's tests
        (``agent.verify.sandbox.Sandbox``: wall_s, memory_mb, max_processes, network,
        force_fallback, unsafe, work_dir), e.g.
        ``--set sandbox.wall_s=600``; ``sandbox.unsafe: true`` lets the unisolated fallback
        run generated code (same as ``fix --unsafe-sandbox``).
      memory: where memory records go (``memory.store.MemoryConfig``: backend, dsn), e.g.
        ``--set memory.backend=postgres --set memory.dsn=postgresql://me@db/autopatch``.
      sources: the files the values came from, for ``doctor`` and error messages.
    """

    repo: Path
    data_dir: Path
    llm: LLMConfig = field(default_factory=LLMConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    seq2seq: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    sandbox: Sandbox = field(default_factory=Sandbox)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "data_dir": str(self.data_dir),
            "llm": self.llm.to_dict(),
            "embedder": asdict(self.embedder),
            "seq2seq": asdict(self.seq2seq),
            "sandbox": asdict(self.sandbox),
            "memory": self.memory.to_dict(),
            "sources": list(self.sources),
        }


_SECTIONS: dict[str, type] = {
    "llm": LLMConfig,
    "embedder": EmbedderConfig,
    "seq2seq": Seq2SeqConfig,
    "sandbox": Sandbox,
    "memory": MemoryConfig,
}


def _read_file_settings(repo: Path) -> tuple[dict[str, Any], list[str]]:
    settings: dict[str, Any] = {}
    sources: list[str] = []
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
        if isinstance(tool.get("autopatch"), dict):
            _merge(settings, tool["autopatch"])
            sources.append(f"{pyproject} [tool.autopatch]")
    yaml_file = repo / CONFIG_FILE
    if yaml_file.is_file():
        try:
            loaded = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{yaml_file} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{yaml_file} must hold a mapping at the top level")
        _merge(settings, loaded)
        sources.append(str(yaml_file))
    return settings, sources


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def parse_override(text: str) -> tuple[list[str], Any]:
    """``llm.n_threads=2`` → (["llm", "n_threads"], 2); values are parsed as YAML."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r} must look like section.field=value")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def _build(cls: type, values: Mapping[str, Any], section: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(f'{section}.{u}' for u in unknown)}; "
            f"valid: {', '.join(sorted(names))}"
        )
    checked = check_section(cls, values, section)
    try:
        if cls is LLMConfig:
            return LLMConfig.from_dict(checked)
        return cls(**checked)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section}: {exc}") from None


def load_config(
    repo: str | Path = ".",
    overrides: Sequence[str] = (),
    *,
    data_dir: str | Path | None = None,
) -> AppConfig:
    """Resolve the configuration for ``repo``; raise ``ConfigError`` on bad input."""
    root = Path(repo).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"repository folder {root} does not exist")
    settings, sources = _read_file_settings(root)
    for text in overrides:
        path, value = parse_override(text)
        node = settings
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r}: {part} is not a section")
        node[path[-1]] = value
    unknown = sorted(set(settings) - set(_SECTIONS) - {"data_dir"})
    if unknown:
        raise ConfigError(
            f"unknown config section(s) {', '.join(unknown)}; valid: data_dir, {', '.join(_SECTIONS)}"
        )
    built = {name: _build(cls, settings.get(name) or {}, name) for name, cls in _SECTIONS.items()}
    if settings.get("data_dir") is not None and not isinstance(settings["data_dir"], str):
        raise ConfigError(f"data_dir must be a folder path, not {settings['data_dir']!r}")
    chosen = data_dir or os.environ.get(DATA_DIR_ENV) or settings.get("data_dir") or ".agent_data"
    resolved = Path(chosen).expanduser()
    if not resolved.is_absolute():
        resolved = root / resolved
    return AppConfig(repo=root, data_dir=resolved, sources=tuple(sources), **built)


def with_llm(config: AppConfig, **changes: Any) -> AppConfig:
    """A copy with some LLM fields changed (used by CLI flags like ``--model``)."""
    return replace(
        config, llm=replace(config.llm, **{k: v for k, v in changes.items() if v is not None})
    )
