"""StyleProfiler: the measured house style of a repository, plus the DivoT5 refiner slot.

``StyleProfiler(repo).profile()`` measures a deterministic, weighted sample of the
repo's Python files (``planner.style_measure``) into a frozen ``StyleProfile``
(``planner.style_profile``):
indentation, quotes, line lengths and limit, naming per kind, docstring style and
coverage, annotations, imports, string formatting and trailing commas. Drafting
reads ``formatter_settings()``; candidate patches are ranked with ``score(code)``.
An optional ``Seq2Seq`` refiner may override a few decisions with a JSON object;
anything it says that is not a known field with a valid value is ignored.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

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
from planner.style_profile import (
    _DEFAULT_NAMING,
    _UNPARSEABLE,
    StyleProfile,
    parse_overrides,
)

log = logging.getLogger(__name__)

PROFILE_FILE = "style_profile.json"
MAX_FILES = 200
MAX_LINES = 20_000
FILE_LINE_CAP = 1_000  # a file counts as at most this many lines' worth
COMMON_LIMITS = (79, 88, 99, 100, 120)


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
