"""StyleProfiler: the measured house style of a repository, plus the DivoT5 refiner slot.

``StyleProfiler(repo).profile()`` measures a deterministic, weighted sample of the
repo's Python files (``planner.style_measure``) into a frozen ``StyleProfile``:
indentation, quotes, line lengths and limit, naming per kind, docstring style and
coverage, annotations, imports, string formatting and trailing commas. Drafting
reads ``formatter_settings()``; candidate patches are ranked with ``score(code)``.
An optional ``Seq2Seq`` refiner may override a few decisions with a JSON object;
anything it says that is not a known field with a valid value is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cores.protocols import Seq2Seq
from planner.style_files import configured_line_length, file_factor, list_python_files, rank_files
from planner.style_measure import (
    CONVENTIONS,
    DOCSTRING_STYLES,
    FORMATTING,
    NAME_KINDS,
    Tally,
    measure_source,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PROFILE_FILE = "style_profile.json"
MAX_FILES = 200
MAX_LINES = 20_000
FILE_LINE_CAP = 1_000  # a file counts as at most this many lines' worth
COMMON_LIMITS = (79, 88, 99, 100, 120)
_DEFAULT_NAMING = {"classes": "PascalCase", "constants": "UPPER_CASE"}
_INDENT = re.compile(r"^(tab|[1-8] spaces)$")
_UNPARSEABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


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


# -- aggregation -----------------------------------------------------------------------


def _weighted(items: Iterable[tuple[Mapping[str, int], float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for counts, scale in items:
        for key, value in counts.items():
            total[key] = total.get(key, 0.0) + value * scale
    return total


def _shares(counts: Mapping[str, float], keys: Iterable[str] = ()) -> dict[str, float]:
    total = sum(counts.values())
    names = list(dict.fromkeys([*keys, *sorted(counts)]))
    return {k: round(counts.get(k, 0.0) / total, 3) if total else 0.0 for k in names}


def _share(counts: Mapping[str, float], key: str, of: Iterable[str]) -> float:
    total = sum(counts.get(k, 0.0) for k in of)
    return round(counts.get(key, 0.0) / total, 3) if total else 0.0


def _percentile(ordered: list[int], pct: float) -> int:
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)] if ordered else 0


def _limit_from(p99: int) -> int:
    return next((c for c in COMMON_LIMITS if p99 <= c), math.ceil(p99 / 10) * 10)


def _naming(
    tallies: list[tuple[Tally, float]],
) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    dominant: dict[str, str] = {}
    shares: dict[str, dict[str, float]] = {}
    for kind in NAME_KINDS:
        counts = _weighted((t.naming[kind], s) for t, s in tallies)
        lower = counts.pop("lower", 0.0)
        bucket = (
            "camelCase"
            if counts.get("camelCase", 0) > counts.get("snake_case", 0)
            else "snake_case"
        )
        counts[bucket] = counts.get(bucket, 0.0) + lower
        shares[kind] = _shares(counts, CONVENTIONS)
        default = _DEFAULT_NAMING.get(kind, "snake_case")
        best = max(CONVENTIONS, key=lambda c: (counts.get(c, 0.0), c == default))
        dominant[kind] = best if counts.get(best) else default
    return dominant, shares


def _docstrings(counts: Mapping[str, float]) -> str:
    documented = sum(v for k, v in counts.items() if k != "none")
    structured = {k: counts.get(k, 0.0) for k in ("google", "numpy", "rest")}
    if sum(structured.values()) > 0 and sum(structured.values()) >= 0.1 * documented:
        return max(structured, key=lambda k: structured[k])
    return "plain" if documented else "none"


def build_profile(
    measured: list[tuple[str, Tally]], skipped: int, configured: tuple[int, str] | None
) -> StyleProfile:
    """Combine per-file tallies (path, tally) into a profile, weighting files by kind and size."""
    tallies = [
        (t, file_factor(rel) * min(t.lines, FILE_LINE_CAP) / max(t.lines, 1)) for rel, t in measured
    ]
    indent = _weighted((t.indent, s) for t, s in tallies)
    quotes = _weighted((t.quotes, s) for t, s in tallies)
    docs = _weighted((t.docstrings, s) for t, s in tallies)
    params = _weighted((t.params, s) for t, s in tallies)
    returns = _weighted((t.returns, s) for t, s in tallies)
    imports = _weighted((t.imports, s) for t, s in tallies)
    formatting = _weighted((t.formatting, s) for t, s in tallies)
    commas = _weighted((t.trailing_commas, s) for t, s in tallies)
    with_imports = [(t, s * t.lines) for t, s in tallies if t.imports]
    future = sum(s for t, s in with_imports if t.future_annotations)
    future_share = round(future / sum(s for _, s in with_imports), 3) if with_imports else 0.0
    lengths = sorted(n for _, t in measured for n in t.line_lengths)
    stats = {f"p{p}": _percentile(lengths, p) for p in (50, 95, 99)} | {
        "max": max(lengths, default=0)
    }
    limit, source = configured or (
        (_limit_from(stats["p99"]), "measured p99") if lengths else (88, "default")
    )
    naming, naming_shares = _naming(tallies)
    annotated_params = _share(params, "annotated", ("annotated", "bare"))
    annotated_returns = _share(returns, "annotated", ("annotated", "bare"))
    single = _share(quotes, "single", ("single", "double")) if quotes else 0.5
    return StyleProfile(
        files_sampled=len(measured),
        files_skipped=skipped,
        lines_sampled=sum(t.lines for _, t in measured),
        indent=max(indent, key=lambda k: (indent[k], k == "4 spaces")) if indent else "4 spaces",
        indent_shares=_shares(indent),
        quote="single" if single > 0.5 else "double",
        single_quote_share=single,
        line_length=limit,
        line_length_source=source,
        line_length_stats=stats,
        naming=naming,
        naming_shares=naming_shares,
        docstring_style=_docstrings(docs),
        docstring_shares=_shares(docs, DOCSTRING_STYLES),
        docstring_coverage=round(1.0 - _share(docs, "none", DOCSTRING_STYLES), 3) if docs else 0.0,
        annotated_params=annotated_params,
        annotated_returns=annotated_returns,
        use_annotations=(annotated_params + annotated_returns) / 2 >= 0.5,
        from_import_share=_share(imports, "from", ("from", "import")),
        relative_import_share=_share(imports, "relative", ("relative", "absolute")),
        future_annotations_share=future_share,
        future_annotations=future_share >= 0.5,
        formatting=max(FORMATTING, key=lambda k: formatting.get(k, 0.0))
        if formatting
        else "fstring",
        formatting_counts={k: sum(t.formatting[k] for _, t in measured) for k in FORMATTING},
        trailing_comma_share=_share(commas, "yes", ("yes", "no")) if commas else None,
    )


# -- the profiler ----------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _sample_lines(text: str, limit: int = 8) -> str:
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith(("def ", "class "))), 0)
    picked = [ln[:120] for ln in lines[start:] if ln.strip()][:limit]
    return "\n".join(picked)


class StyleProfiler:
    """Measures ``repo``'s style; never writes to it. ``refiner`` is the DivoT5 slot."""

    def __init__(self, repo: Path, *, refiner: Seq2Seq | None = None) -> None:
        self.repo = Path(repo).expanduser().resolve()
        self.refiner = refiner

    def profile(self) -> StyleProfile:
        """Measure a sample of at most ``MAX_FILES`` files / about ``MAX_LINES`` lines."""
        if not self.repo.is_dir():
            raise ValueError(f"repository folder {self.repo} does not exist")
        measured: list[tuple[str, Tally]] = []
        skipped = lines = 0
        sample = ""
        for rel in rank_files(self.repo, list_python_files(self.repo)):
            if len(measured) >= MAX_FILES or lines >= MAX_LINES:
                break
            text = _read_text(self.repo / rel)
            try:
                tally = measure_source(text) if text is not None else None
            except _UNPARSEABLE:
                tally = None
            if tally is None or text is None:
                skipped += 1
                continue
            measured.append((rel, tally))
            lines += tally.lines
            sample = sample or _sample_lines(text)
        profile = build_profile(measured, skipped, configured_line_length(self.repo))
        log.info(
            "profiled %s: %d files, %d lines, %d skipped",
            self.repo,
            profile.files_sampled,
            profile.lines_sampled,
            skipped,
        )
        return self._refine(profile, sample) if self.refiner is not None else profile

    def _refine(self, profile: StyleProfile, sample: str) -> StyleProfile:
        assert self.refiner is not None
        fingerprint = json.dumps(profile.fingerprint(), sort_keys=True, separators=(",", ":"))
        prompt = f"style: {fingerprint} code: {sample}"
        model_id = self.refiner.model_id
        try:
            outputs = self.refiner.generate([prompt], max_new_tokens=128)
        except Exception as exc:  # an optional model must not break profiling
            log.warning("style refiner %s failed (%s); profile left as measured", model_id, exc)
            return profile
        overrides, problem = parse_overrides(outputs[0].strip() if outputs else "")
        if problem:
            log.warning("style refiner %s output ignored: %s", model_id, problem)
            return profile
        if "naming" in overrides:
            overrides["naming"] = {**profile.naming, **overrides["naming"]}
        log.info("style refiner %s set %s", model_id, ", ".join(sorted(overrides)))
        return replace(
            profile, **overrides, refined_by=model_id, refined_fields=tuple(sorted(overrides))
        )

    @staticmethod
    def save(profile: StyleProfile, data_dir: Path) -> Path:
        """Write ``<data_dir>/style_profile.json`` atomically (temp file, fsync, rename)."""
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / PROFILE_FILE
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".style_profile-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(profile.to_dict(), fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    @staticmethod
    def load(data_dir: Path) -> StyleProfile | None:
        """The saved profile, or None if there is none; ``ValueError`` if it is unreadable."""
        path = Path(data_dir) / PROFILE_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"style profile {path} is unreadable ({exc}); re-run `autopatch profile`"
            ) from None
        if not isinstance(data, dict):
            raise ValueError(f"style profile {path} does not hold a JSON object")
        return StyleProfile.from_dict(data)
