"""``StyleProfile``: a repository's measured house style as one frozen value — what
generated code should do (``formatter_settings``), the measured shares behind it, and how
well a piece of code fits it (``score``); which fields a refiner may override, and with
what (``REFINABLE``, ``parse_overrides``). ``planner.style`` measures and builds it."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from planner.style_measure import (
    CONVENTIONS,
    DOCSTRING_STYLES,
    FORMATTING,
    NAME_KINDS,
    measure_source,
)

SCHEMA_VERSION = 1
_DEFAULT_NAMING = {"classes": "PascalCase", "constants": "UPPER_CASE"}
_UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
_INDENT = re.compile(r"^(tab|[1-8] spaces)$")


def indent_unit(label: str) -> str:
    """The literal indentation for a label: ``"tab"`` -> ``"\\t"``, ``"4 spaces"`` -> 4 spaces."""
    return "\t" if label == "tab" else " " * int(label.split()[0])


@dataclass(frozen=True)
class StyleProfile:
    """A repository's measured style. Shares are fractions in [0, 1], rounded to 3 places.

    Decisions (what generated code should do) are ``indent``, ``quote``,
    ``line_length``, ``naming`` (dominant convention per kind), ``docstring_style``,
    ``use_annotations``, ``future_annotations`` and ``formatting``; the other fields
    are the evidence. ``refined_by`` names the seq2seq model whose overrides of
    ``refined_fields`` were applied, if any.
    """

    files_sampled: int = 0
    files_skipped: int = 0
    lines_sampled: int = 0
    indent: str = "4 spaces"
    indent_shares: dict[str, float] = field(default_factory=dict)
    quote: str = "double"
    single_quote_share: float = 0.5
    line_length: int = 88
    line_length_source: str = "default"
    line_length_stats: dict[str, int] = field(default_factory=dict)
    naming: dict[str, str] = field(default_factory=dict)
    naming_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    docstring_style: str = "none"
    docstring_shares: dict[str, float] = field(default_factory=dict)
    docstring_coverage: float = 0.0
    annotated_params: float = 0.0
    annotated_returns: float = 0.0
    use_annotations: bool = False
    from_import_share: float = 0.0
    relative_import_share: float = 0.0
    future_annotations_share: float = 0.0
    future_annotations: bool = False
    formatting: str = "fstring"
    formatting_counts: dict[str, int] = field(default_factory=dict)
    trailing_comma_share: float | None = None
    refined_by: str | None = None
    refined_fields: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["refined_fields"] = list(self.refined_fields)
        return json.loads(json.dumps(data))  # deep copy, JSON types only

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StyleProfile:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"style profile schema_version {data.get('schema_version')!r} is not "
                f"{SCHEMA_VERSION}; re-run `autopatch profile` to rebuild it"
            )
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown style profile field(s): {', '.join(unknown)}")
        values = dict(data)
        values["refined_fields"] = tuple(values.get("refined_fields", ()))
        return cls(**values)

    def profile_hash(self) -> str:
        """First 16 hex digits of sha256 over the canonical JSON."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def formatter_settings(self) -> dict[str, Any]:
        """What generated code should look like; ``indent`` and ``quote`` are literal text."""
        return {
            "line_length": self.line_length,
            "indent": indent_unit(self.indent),
            "quote": "'" if self.quote == "single" else '"',
            "docstring_style": self.docstring_style,
            "use_annotations": self.use_annotations,
            "fstrings": self.formatting == "fstring",
            "future_annotations": self.future_annotations,
            "trailing_commas": self.trailing_comma_share is None
            or self.trailing_comma_share >= 0.5,
        }

    def fingerprint(self) -> dict[str, Any]:
        """The decisions only: the compact summary the refiner sees."""
        return {name: getattr(self, name) for name in sorted(REFINABLE)}

    def score(self, code: str) -> float:
        """How well ``code`` (dedented first) matches this style, in [0, 1]; unparseable -> 0.

        The mean of the checks that apply to the snippet: indentation, quotes,
        line lengths, naming of what it defines, docstring style (structured
        docstrings only), annotations (when the repo uses them), string formatting
        and trailing commas (when the repo is consistent about them).
        """
        try:
            t = measure_source(textwrap.dedent(code))
        except _UNPARSEABLE:
            return 0.0
        parts = [
            _match(t.indent, [self.indent]),
            _match(t.quotes, [self.quote]),
            _match(t.formatting, [self.formatting]),
            _match(
                {k: t.docstrings[k] for k in ("google", "numpy", "rest")}, [self.docstring_style]
            ),
        ]
        if t.line_lengths:
            parts.append(sum(n <= self.line_length for n in t.line_lengths) / len(t.line_lengths))
        for kind in NAME_KINDS:
            dominant = self.naming.get(kind, _DEFAULT_NAMING.get(kind, "snake_case"))
            lower = ["lower"] if dominant in ("snake_case", "camelCase") else []
            parts.append(_match(t.naming[kind], [dominant, *lower]))
        if self.use_annotations:
            parts.append(_match(t.params + t.returns, ["annotated"]))
        share = self.trailing_comma_share
        if share is not None and abs(share - 0.5) >= 0.2:
            parts.append(_match(t.trailing_commas, ["yes" if share > 0.5 else "no"]))
        applicable = [p for p in parts if p is not None]
        return sum(applicable) / len(applicable) if applicable else 1.0


def _match(counts: Mapping[str, int], good: list[str]) -> float | None:
    total = sum(counts.values())
    return sum(counts.get(k, 0) for k in good) / total if total else None


# -- refiner overrides -----------------------------------------------------------------


def _is_naming(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(k in NAME_KINDS and v in CONVENTIONS for k, v in value.items())
    )


REFINABLE: dict[str, Callable[[object], bool]] = {
    "indent": lambda v: isinstance(v, str) and bool(_INDENT.match(v)),
    "quote": lambda v: v in ("single", "double"),
    "line_length": lambda v: type(v) is int and 40 <= v <= 400,
    "naming": _is_naming,
    "docstring_style": lambda v: v in DOCSTRING_STYLES,
    "use_annotations": lambda v: type(v) is bool,
    "future_annotations": lambda v: type(v) is bool,
    "formatting": lambda v: v in FORMATTING,
}


def parse_overrides(text: str) -> tuple[dict[str, Any], str | None]:
    """Refiner output -> (overrides, None), or ({}, why it was rejected)."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}, f"not JSON: {text[:80]!r}"
    if not isinstance(data, dict) or not data:
        return {}, "not a non-empty JSON object"
    bad = [k for k, v in data.items() if k not in REFINABLE or not REFINABLE[k](v)]
    if bad:
        return {}, f"unknown field(s) or invalid value(s): {', '.join(map(str, bad))}"
    return data, None
