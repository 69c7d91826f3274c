"""Memory → training datasets: ``export_datasets(memory_dirs, out, options)``.

For every kind asked (``sft``, ``repair``, ``spec``, ``style``, ``preference``; see
``memory.export_examples`` and ``memory.export_spec`` for what each holds) it writes
``<out>/<kind>.train.jsonl`` and ``<out>/<kind>.validation.jsonl`` in one of the formats
of ``memory.export_formats``, plus ``<out>/manifest.json``.

Rules:

- only successful (validated) runs are used; a run whose latest feedback rating is below
  ``min_rating`` is left out; a human ``corrected_diff`` outranks the agent's output;
- several memory folders are pooled (run ids are unique); a folder given twice is read once;
- every string of every row is redacted (``memory.redact``) before de-duplication, which
  keeps the first of identical rows (oldest run first) across both splits;
- the split is by run (seeded, deterministic): no run has rows in both splits; one run
  alone goes to train;
- ``synthetic`` runs (``autopatch learn --bootstrap``: tasks made from the repository,
  solved and verified) always go to train and never change which real runs are held out;
  the manifest counts real and synthetic runs and rows apart (``origin``, and per kind);
- rows carry no provenance (they load into TRL as they are): ``manifest.json`` lists, per
  kind and split, the run id and attempt ids of each row, in row order, together with
  counts, sha256 of every file, the source memory files (sha256, records, torn lines),
  the run ids of each split and what was skipped and why;
- the dataset is written to a hidden temporary folder beside ``out`` and renamed into
  place, so a crash never leaves half a dataset.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from memory.export_examples import Example, chat_examples
from memory.export_formats import FORMATS, to_row
from memory.export_load import Pool, Run, load_pool
from memory.export_spec import spec_example, style_examples
from memory.redact import Redactor

KINDS = ("sft", "repair", "spec", "style", "preference")
SPLITS = ("train", "validation")
ORIGINS = ("real", "synthetic")
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ExportOptions:
    """What to export.

    kinds: dataset kinds to write (any of ``KINDS``).
    fmt: row format, one of ``FORMATS``.
    min_rating: runs whose latest feedback rating is below this are left out (0: keep all).
    val_fraction: share of runs held out for validation, in [0, 1).
    seed: seed of the run split.
    """

    kinds: tuple[str, ...] = KINDS
    fmt: str = "messages"
    min_rating: int = 4
    val_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"unknown kind(s) {unknown or '(none)'}; valid: {', '.join(KINDS)}")
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}; valid: {', '.join(FORMATS)}")
        if not 0 <= self.min_rating <= 5:
            raise ValueError(f"min_rating must be 0..5, got {self.min_rating}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kinds": list(self.kinds)}


def default_out(data_dir: str | Path) -> Path:
    """``<data_dir>/datasets/<UTC timestamp>``."""
    return Path(data_dir) / "datasets" / time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def split_runs(run_ids: Sequence[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Run id → split. Seeded and order-independent; one run alone goes to train."""
    ids = sorted(set(run_ids))
    random.Random(seed).shuffle(ids)
    n_val = 0
    if len(ids) > 1 and val_fraction > 0:
        n_val = min(len(ids) - 1, max(1, round(len(ids) * val_fraction)))
    return {run_id: ("validation" if i < n_val else "train") for i, run_id in enumerate(ids)}


def _examples(
    run: Run, kinds: Sequence[str], skips: dict[str, Counter[str]]
) -> dict[str, list[Example]]:
    found: dict[str, list[Example]] = {}
    if {"sft", "repair", "preference"} & set(kinds):
        chat_skips: Counter[str] = Counter()
        found.update(chat_examples(run, chat_skips))
        for kind in ("sft", "repair", "preference"):
            skips[kind].update(chat_skips)
    if "spec" in kinds:
        spec = spec_example(run, skips["spec"])
        found["spec"] = [spec] if spec is not None else []
    if "style" in kinds:
        found["style"] = style_examples(run, skips["style"])
    return {k: v for k, v in found.items() if k in kinds}


def _eligible(pool: Pool, min_rating: int) -> tuple[list[Run], dict[str, str]]:
    kept: list[Run] = []
    excluded: dict[str, str] = {}
    for run in pool.runs:
        validation = run.success.get("validation")
        rating = run.rating
        if isinstance(validation, dict) and validation.get("ok") is False:
            excluded[run.run_id] = "validation not ok"
        elif rating is not None and rating < min_rating:
            excluded[run.run_id] = f"rated {rating} < min_rating {min_rating}"
        else:
            kept.append(run)
    return kept, excluded


def _nothing(
    pool: Pool, runs: list[Run], skips: dict[str, Counter[str]], kinds: Sequence[str]
) -> str:
    if not pool.runs:
        return (
            f"nothing to export: no successful runs in memory yet ({pool.failed_runs} failed); "
            "run `autopatch fix` first"
        )
    if not runs:
        return (
            f"nothing to export: all {len(pool.runs)} successful run(s) were rated below "
            "--min-rating or did not validate"
        )
    why = "; ".join(
        f"{kind}: " + (", ".join(f"{r} ×{n}" for r, n in skips[kind].most_common(3)) or "none")
        for kind in kinds
    )
    return (
        f"nothing to export: {len(runs)} successful run(s), but none gives a {'/'.join(kinds)} "
        f"example (skipped: {why}); runs without LLM calls give no sft/repair/preference rows"
    )


def _write(folder: Path, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    with (folder / name).open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return {"rows": len(rows), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _dataset_hash(files: dict[str, Any]) -> str:
    """One hash for the whole dataset: sha256 over the sorted (file name, file sha256) pairs."""
    joined = "".join(f"{name}\0{files[name]['sha256']}\n" for name in sorted(files))
    return hashlib.sha256(joined.encode()).hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"output folder {out} exists and is not empty; give a new --out")


@dataclass
class _Rows:
    """The de-duplicated rows of every kind and split, with their provenance and counts."""

    rows: dict[str, dict[str, list[dict[str, Any]]]]
    provenance: dict[str, dict[str, list[dict[str, Any]]]]
    origin_rows: dict[str, dict[str, dict[str, int]]]
    duplicates: Counter[str]
    redactions: dict[str, int]


def _collect(
    runs: Sequence[Run],
    per_run: dict[str, dict[str, list[Example]]],
    split: dict[str, str],
    synthetic: set[str],
    options: ExportOptions,
) -> _Rows:
    """Every example as a redacted row of its kind and split (the first of identical ones)."""
    origin_rows = {o: {k: dict.fromkeys(SPLITS, 0) for k in options.kinds} for o in ORIGINS}
    redactor = Redactor()
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    provenance: dict[str, dict[str, list[dict[str, Any]]]] = {}
    duplicates: Counter[str] = Counter()
    for kind in options.kinds:
        rows[kind] = {s: [] for s in SPLITS}
        provenance[kind] = {s: [] for s in SPLITS}
        seen: set[str] = set()
        for run in runs:
            for example in per_run[run.run_id].get(kind, []):
                row = redactor.redact_value(to_row(example, options.fmt))
                key = json.dumps(row, sort_keys=True, ensure_ascii=False)
                if key in seen:
                    duplicates[kind] += 1
                    continue
                seen.add(key)
                origin = "synthetic" if run.run_id in synthetic else "real"
                rows[kind][split[run.run_id]].append(row)
                origin_rows[origin][kind][split[run.run_id]] += 1
                provenance[kind][split[run.run_id]].append(
                    {"run_id": run.run_id, "attempts": list(example.attempts)}
                )
    return _Rows(rows, provenance, origin_rows, duplicates, dict(redactor.counts))


def export_datasets(
    memory_dirs: Sequence[str | Path], out: str | Path, options: ExportOptions | None = None
) -> dict[str, Any]:
    """Write the datasets to ``out`` (new or empty) and return the manifest."""
    options = options or ExportOptions()
    out = Path(out)
    _check_out(out)
    pool = load_pool(memory_dirs)
    runs, excluded = _eligible(pool, options.min_rating)
    skips: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    per_run = {run.run_id: _examples(run, options.kinds, skips) for run in runs}
    producing = [r for r, found in per_run.items() if any(found.values())]
    synthetic = {run.run_id for run in runs if run.success.get("synthetic")}
    split = split_runs(
        [r for r in producing if r not in synthetic], options.val_fraction, options.seed
    )
    split.update({r: "train" for r in producing if r in synthetic})
    found = _collect(runs, per_run, split, synthetic, options)
    if not any(found.rows[k][s] for k in options.kinds for s in SPLITS):
        raise ValueError(_nothing(pool, runs, skips, options.kinds))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        files, kinds = _write_kinds(tmp, found, skips, options)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "hash": _dataset_hash(files),
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "options": options.to_dict(),
            "format": options.fmt,
            "kinds": kinds,
            "files": files,
            "sources": pool.sources,
            "torn_lines": pool.torn_lines,
            "runs": {
                "successful": len(pool.runs),
                "failed": pool.failed_runs,
                "used": len(producing),
                "excluded": excluded,
                "notes": dict(pool.notes),
            },
            "splits": {s: sorted(r for r, v in split.items() if v == s) for s in SPLITS},
            "origin": {
                o: {
                    "runs": sorted(r for r in producing if (r in synthetic) == (o == "synthetic")),
                    "rows": found.origin_rows[o],
                }
                for o in ORIGINS
            },
            "redactions": found.redactions,
            "provenance": found.provenance,
        }
        data = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        with (tmp / "manifest.json").open("w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _check_out(out)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)  # atomic; replaces an empty folder
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write_kinds(
    tmp: Path, found: _Rows, skips: dict[str, Counter[str]], options: ExportOptions
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write each kind's split files into ``tmp``: (files, the manifest's ``kinds``)."""
    files: dict[str, Any] = {}
    kinds: dict[str, Any] = {}
    for kind in options.kinds:
        entry: dict[str, Any] = {"files": {}}
        for s in SPLITS:
            name = f"{kind}.{s}.jsonl"
            files[name] = _write(tmp, name, found.rows[kind][s])
            entry[s] = len(found.rows[kind][s])
            entry["files"][s] = name
        entry.update({o: found.origin_rows[o][kind] for o in ORIGINS})
        entry["duplicates_dropped"] = found.duplicates[kind]
        entry["skipped"] = dict(skips[kind])
        kinds[kind] = entry
    return files, kinds
