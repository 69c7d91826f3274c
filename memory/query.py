"""Questions asked of memory: which runs there were, how they went, what one run did.

Pure functions over ``Memory``'s record lists; ``autopatch memory stats|list|show``
prints what they return.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from memory.store import Memory, Record, patch_set_name

OUTCOMES = ("success", "failure", "incomplete")
NO_MODEL = "(no model)"


@dataclass(frozen=True)
class RunSummary:
    """One ``fix`` run as memory knows it.

    ``outcome`` is ``incomplete`` when a run left attempts but neither a success
    nor a failure record (it was killed); ``rating`` is the newest feedback's.
    """

    run_id: str
    time: str
    outcome: str
    issue_id: str | None
    ops: tuple[str, ...]
    model: str | None
    patch_set: str | None = None
    rating: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ops": list(self.ops)}


def _spec_ops(spec: Any) -> list[str]:
    if not isinstance(spec, Mapping):
        return []
    return [str(o.get("op")) for o in spec.get("operations") or [] if isinstance(o, Mapping)]


def _attempt_ops(attempts: Sequence[Record]) -> list[str]:
    ops = []
    for a in attempts:
        op = a.get("op")
        name = op.get("op") if isinstance(op, Mapping) else op
        if name and name not in ops:
            ops.append(str(name))
    return ops


def _group(records: Sequence[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.get("run_id"):
            out[str(r["run_id"])].append(r)
    return out


def _summary(
    run_id: str,
    success: Record | None,
    failure: Record | None,
    attempts: Sequence[Record],
    feedback: Record | None,
) -> RunSummary:
    final = success or failure
    spec = (final or {}).get("spec")
    issue_id = (success or {}).get("spec_issue_id") or (
        spec.get("issue_id") if isinstance(spec, Mapping) else None
    )
    model = (success or {}).get("model_id") or next(
        # the judge only reads the issue; the run's model is the one that wrote something
        (a["model_id"] for a in attempts if a.get("model_id") and a.get("role") != "judge"),
        None,
    )
    first = attempts[0].get("timestamp_utc") if attempts else None
    rating = feedback.get("rating") if feedback else None
    return RunSummary(
        run_id=run_id,
        time=str((final or {}).get("timestamp_utc") or first or ""),
        outcome="success" if success else "failure" if failure else "incomplete",
        issue_id=issue_id,
        ops=tuple(_spec_ops(spec) or _attempt_ops(attempts)),
        model=model,
        patch_set=patch_set_name(success) if success else None,
        rating=rating if isinstance(rating, int) else None,
    )


def runs(memory: Memory) -> list[RunSummary]:
    """Every run in memory, newest first."""
    successes = {str(r["run_id"]): r for r in memory.successes() if r.get("run_id")}
    failures = {str(r["run_id"]): r for r in memory.failures() if r.get("run_id")}
    attempts = _group(memory.attempts())
    feedback = memory.latest_feedback()
    ids = set(successes) | set(failures) | set(attempts)
    out = [
        _summary(
            rid, successes.get(rid), failures.get(rid), attempts.get(rid, []), feedback.get(rid)
        )
        for rid in ids
    ]
    return sorted(out, key=lambda r: (r.time, r.run_id), reverse=True)


def stats(memory: Memory) -> dict[str, Any]:
    """Counts for ``autopatch memory stats`` (plain JSON-ready data)."""
    all_runs = runs(memory)
    by_op: dict[str, Counter[str]] = defaultdict(Counter)
    by_model: dict[str, Counter[str]] = defaultdict(Counter)
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    for r in all_runs:
        for op in r.ops or ("?",):
            by_op[op][r.outcome] += 1
        by_model[r.model or NO_MODEL][r.outcome] += 1
        per_day[r.time[:10] or "?"][r.outcome] += 1
    calls: dict[str, Counter[str]] = defaultdict(Counter)
    for a in memory.attempts():
        calls[str(a.get("role") or "?")][str(a.get("outcome") or "?")] += 1
    ratings = [f["rating"] for f in memory.latest_feedback().values()]
    days = []
    for day in sorted(per_day):
        c = per_day[day]
        done = c["success"] + c["failure"]
        days.append(
            {**{k: c[k] for k in OUTCOMES}, "day": day, "success_rate": _rate(c["success"], done)}
        )
    outcomes = Counter(r.outcome for r in all_runs)
    return {
        "runs": {k: outcomes[k] for k in OUTCOMES},
        "success_rate": _rate(outcomes["success"], outcomes["success"] + outcomes["failure"]),
        "by_op": {k: dict(v) for k, v in sorted(by_op.items())},
        "by_model": {k: dict(v) for k, v in sorted(by_model.items())},
        "calls_by_role": {k: dict(v) for k, v in sorted(calls.items())},
        "feedback": {
            "rated_runs": len(ratings),
            "mean_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        },
        "torn_lines": memory.torn_lines(),
        "per_day": days,
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def resolve_run(memory: Memory, key: str) -> str:
    """The run id that ``key`` names: a run id, a unique prefix of one, or a patch-set name."""
    success = memory.find_success(key)
    if success is not None and success.get("run_id"):
        return str(success["run_id"])
    ids = {r.run_id for r in runs(memory)}
    if key in ids:
        return key
    matches = sorted(i for i in ids if i.startswith(key)) if key else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"{key!r} matches several runs: {', '.join(matches[:10])}")
    raise ValueError(f"no run {key!r} in memory; `autopatch memory list` shows the recent run ids")


def run_detail(memory: Memory, key: str) -> dict[str, Any]:
    """Everything memory holds about one run: outcome records, attempts in order, feedback."""
    run_id = resolve_run(memory, key)
    success = next((r for r in reversed(memory.successes()) if r.get("run_id") == run_id), None)
    failure = next((r for r in reversed(memory.failures()) if r.get("run_id") == run_id), None)
    attempts = [a for a in memory.attempts() if a.get("run_id") == run_id]
    name = patch_set_name(success) if success else None
    feedback = [
        f
        for f in memory.feedback()
        if f.get("run_id") == run_id or (name and f.get("patch_set") == name)
    ]
    summary = _summary(run_id, success, failure, attempts, feedback[-1] if feedback else None)
    return {
        "run": summary.to_dict(),
        "success": success,
        "failure": failure,
        "attempts": attempts,
        "feedback": feedback,
    }
