"""Type and range checks for config values, run when the config loads.

``check_section(cls, values, section)`` returns the values converted to the field types of
the dataclass ``cls`` (an int where a float is expected, a list where a tuple is), or
raises ``ConfigError`` with one sentence naming the setting, what it must be and what it
got: ``--set sandbox.wall_s=abc`` fails here, before any planning starts.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

__all__ = ["RANGES", "ConfigError", "check_section"]


class ConfigError(ValueError):
    """A configuration file or override that cannot be used; the message says why."""


# section.field -> (lowest allowed, highest allowed or None); numbers not listed must be >= 0.
RANGES: dict[str, tuple[float, float | None]] = {
    "sandbox.wall_s": (0.1, 24 * 3600),
    "sandbox.memory_mb": (64, None),
    "sandbox.max_processes": (8, None),
    "llm.n_ctx": (128, None),
    "llm.n_threads": (1, 1024),
    "llm.timeout_s": (0.1, None),
    "llm.max_retries": (0, 100),
    "embedder.batch_size": (1, 100_000),
    "seq2seq.max_new_tokens": (1, 100_000),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "llm.schema_style": ("json_object", "json_schema"),
}
_NAMES = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}


def _describe(kind: Any) -> str:
    if typing.get_origin(kind) is tuple:
        return "a list"
    return _NAMES.get(kind, getattr(kind, "__name__", str(kind)))


def _convert(key: str, kind: Any, value: Any) -> Any:
    """``value`` as ``kind`` (a plain type, ``X | None`` or ``tuple[str, ...]``) or ConfigError."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _convert(key, inner[0], value)
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} must be a list of strings, not {value!r}")
        return tuple(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, not {value!r}")
        return value
    if kind in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is int and ok and float(value) != int(value):
            ok = False
        if not ok or value != value:  # NaN is not a number we can use
            raise ConfigError(f"{key} must be {_describe(kind)}, not {value!r}")
        return _in_range(key, kind(value))
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, not {value!r}")
        choices = CHOICES.get(key)
        if choices and value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
        return value
    return value


def _in_range(key: str, value: float) -> float:
    low, high = RANGES.get(key, (0, None))
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{key} must be {bound}, not {value:g}")
    return value


def check_section(cls: type, values: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The values of ``section`` checked against the field types of ``cls``."""
    hints = typing.get_type_hints(cls)
    return {
        name: _convert(f"{section}.{name}", hints.get(name, Any), value)
        for name, value in values.items()
    }
