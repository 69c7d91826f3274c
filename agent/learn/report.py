"""``autopatch learn --report``: the learning curve of the bootstrap loops.

Held-out pass rate (all kinds, and per kind) against the training examples each tuned
model saw and against the loops' cumulated wall time, as a PNG (``agent.learn.png_plot``)
and a table. The first point of each curve is the model the first loop started from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.learn.png_plot import Canvas, Series, legend, panel
from memory.training_runs import TrainingRun, TrainingRunLog


@dataclass(frozen=True)
class CurvePoint:
    loop: str  # "start" or the loop's run id
    model: str
    examples: int
    wall_min: float
    kinds: dict[str, dict[str, Any]]  # kind → {"rate", "ci", "n"}


def curve(runs: Sequence[TrainingRun]) -> list[CurvePoint]:
    """One point for the starting model, then one per completed bootstrap loop."""
    loops = [r for r in runs if r.bootstrap and r.status != "failed"]
    points: list[CurvePoint] = []
    wall = 0.0
    for i, run in enumerate(loops):
        data = run.bootstrap or {}
        kinds = data.get("kinds") or {}
        if i == 0:
            start = {k: {"rate": v["before"], "ci": v["before_ci"], "n": v["n_test"]}
                     for k, v in kinds.items()}  # fmt: skip
            points.append(CurvePoint("start", run.current_model, 0, 0.0, start))
        wall += float(data.get("wall_s") or 0) / 60
        after = {k: {"rate": v["after"], "ci": v["after_ci"], "n": v["n_test"]}
                 for k, v in kinds.items()}  # fmt: skip
        model = run.candidate_model or "?"
        points.append(
            CurvePoint(run.run_id, model, int(data.get("train_examples") or 0), wall, after)
        )
    return points


def table(points: Sequence[CurvePoint]) -> str:
    rows = ["| loop | model | examples | wall (min) | kind | n | pass rate | 95% CI |",
            "| --- | --- | ---: | ---: | --- | ---: | ---: | --- |"]  # fmt: skip
    for p in points:
        for kind, v in sorted(p.kinds.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            low, high = v["ci"]
            rows.append(
                f"| {p.loop} | {p.model} | {p.examples} | {p.wall_min:.1f} | {kind} | {v['n']} "
                f"| {v['rate']:.2f} | {low:.2f}–{high:.2f} |"
            )
    return "\n".join(rows)


def plot(points: Sequence[CurvePoint], path: Path) -> Path:
    """Two panels (rate vs examples, rate vs wall minutes) with the legend below."""
    kinds = sorted({k for p in points for k in p.kinds}, key=lambda k: (k != "all", k))
    canvas = Canvas(1200, 520)
    for box, xlabel, x_of in (
        ((0, 0, 600, 470), "TRAINING EXAMPLES", lambda p: float(p.examples)),
        ((600, 0, 1200, 470), "WALL MINUTES", lambda p: p.wall_min),
    ):
        series = []
        for kind in kinds:
            mine = [p for p in points if kind in p.kinds]
            series.append(
                Series(
                    kind.upper(),
                    [(x_of(p), float(p.kinds[kind]["rate"])) for p in mine],
                    [tuple(p.kinds[kind]["ci"]) for p in mine] if kind == "all" else [],
                    width=3 if kind == "all" else 1,
                )
            )
        panel(canvas, box, "HELD-OUT PASS RATE", xlabel, series)
    legend(canvas, 60, 490, [Series(k.upper(), []) for k in kinds])
    return canvas.save(path)


def report(data_dir: Path, out: Path | None = None) -> tuple[Path | None, str, list[CurvePoint]]:
    """(PNG path or None when there is no loop yet, the table, the points)."""
    points = curve(TrainingRunLog(data_dir).runs())
    if not points:
        return None, "no bootstrap loop has finished yet; run `autopatch learn --bootstrap`", []
    path = plot(points, out or data_dir / "reports" / "learning_curve.png")
    text = table(points)
    path.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    return path, text, points
