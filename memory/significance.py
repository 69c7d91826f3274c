"""Pass rates with intervals, a split that never shares a function, and the bootstrap gate.

- ``wilson``: the Wilson score interval of k passes in n tasks;
- ``paired_bootstrap``: the interval of the pass-rate gain of one model over another on
  the same tasks (tasks resampled with replacement, seeded);
- ``split_by_group``: train/test by group (a function), each kind getting test groups
  first; no group ever lands on both sides;
- ``bootstrap_gate``: promote only when the gain on held-out tasks is significant (the
  lower end of its interval above zero) and no metric on the user's real held-out runs
  fell.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
Z95 = 1.959964


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (``(0, 1)`` when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def paired_bootstrap(
    before: Sequence[bool], after: Sequence[bool], *, iters: int = 4000, seed: int = 0
) -> tuple[float, float, float]:
    """(gain, low, high): the mean of after − before over the same tasks, with a 95 %
    percentile interval from resampling the tasks."""
    if len(before) != len(after):
        raise ValueError("before and after must score the same tasks")
    n = len(before)
    if n == 0:
        return 0.0, 0.0, 0.0
    diffs = [int(a) - int(b) for b, a in zip(before, after, strict=True)]
    rng = random.Random(seed)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(iters))
    low, high = means[int(0.025 * iters)], means[min(iters - 1, int(0.975 * iters))]
    return round(sum(diffs) / n, 4), round(low, 4), round(high, 4)


def _order(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split_by_group(
    items: Sequence[T],
    group: Callable[[T], Hashable],
    kind: Callable[[T], str],
    *,
    test_per_kind: int,
    seed: int = 0,
) -> tuple[list[T], list[T]]:
    """(train, test): groups in a seeded order go to test while a kind of theirs still has
    fewer than ``test_per_kind`` test items and at least one item would stay in train;
    every other group goes to train. A group is never split."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(group(item), []).append(item)
    total: dict[str, int] = {}
    for item in items:
        total[kind(item)] = total.get(kind(item), 0) + 1
    test_n: dict[str, int] = {}
    test_groups: set[Hashable] = set()
    for g in sorted(groups, key=lambda g: _order(repr(g), seed)):
        kinds = [kind(i) for i in groups[g]]
        wanted = any(test_n.get(k, 0) < test_per_kind for k in kinds)
        room = all(test_n.get(k, 0) + kinds.count(k) < total[k] for k in set(kinds))
        if wanted and room:
            test_groups.add(g)
            for k in kinds:
                test_n[k] = test_n.get(k, 0) + 1
    train = [i for i in items if group(i) not in test_groups]
    test = [i for i in items if group(i) in test_groups]
    return train, test


@dataclass(frozen=True)
class KindResult:
    """One task kind: held-out pass rates of the current and the candidate model."""

    kind: str
    n_test: int
    before: float
    after: float
    before_ci: tuple[float, float]
    after_ci: tuple[float, float]
    gain: float
    gain_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_test": self.n_test,
            "before": self.before,
            "after": self.after,
            "before_ci": list(self.before_ci),
            "after_ci": list(self.after_ci),
            "gain": self.gain,
            "gain_ci": list(self.gain_ci),
        }


def compare(
    before: Mapping[str, bool], after: Mapping[str, bool], kinds: Mapping[str, str], seed: int = 0
) -> dict[str, KindResult]:
    """Per kind (and ``all``): rates with Wilson intervals and the paired gain interval.
    ``before``/``after``: task id → passed; ``kinds``: task id → kind."""
    ids = sorted(set(before) & set(after))
    out: dict[str, KindResult] = {}
    for k in [*sorted({kinds[i] for i in ids}), "all"]:
        mine = [i for i in ids if k == "all" or kinds[i] == k]
        b = [before[i] for i in mine]
        a = [after[i] for i in mine]
        n = len(mine)
        gain, low, high = paired_bootstrap(b, a, seed=seed)
        out[k] = KindResult(
            k, n, round(sum(b) / n, 4), round(sum(a) / n, 4), wilson(sum(b), n),
            wilson(sum(a), n), gain, (low, high),
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class BootstrapVerdict:
    better: bool
    reason: str
    kinds: Mapping[str, KindResult] = field(default_factory=dict)
    real_deltas: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "better": self.better,
            "reason": self.reason,
            "kinds": {k: v.to_dict() for k, v in self.kinds.items()},
            "real_deltas": dict(self.real_deltas),
        }


def bootstrap_gate(
    kinds: Mapping[str, KindResult], real_deltas: Mapping[str, float] | None
) -> BootstrapVerdict:
    """Promote only when the held-out gain over all tasks is significant (its interval's
    lower end above zero) and no metric on the user's real held-out runs fell
    (``real_deltas``: metric → candidate − current; ``None`` when there were none)."""
    real = dict(real_deltas or {})
    overall = kinds.get("all")
    fell = [f"{m} {d:+.2f}" for m, d in real.items() if d < 0]
    if overall is None or overall.n_test == 0:
        return BootstrapVerdict(False, "no held-out tasks to compare on", kinds, real)
    shown = (
        f"held-out pass rate {overall.before:.2f} → {overall.after:.2f} "
        f"(gain {overall.gain:+.2f}, 95% CI {overall.gain_ci[0]:+.2f}..{overall.gain_ci[1]:+.2f},"
        f" n={overall.n_test})"
    )
    if fell:
        return BootstrapVerdict(False, f"{shown}, but real runs got worse: {', '.join(fell)}",
                                kinds, real)  # fmt: skip
    worse = [f"{k} {r.before:.2f} → {r.after:.2f}" for k, r in kinds.items()
             if k != "all" and r.gain_ci[1] < 0]  # fmt: skip
    if worse:
        return BootstrapVerdict(False, f"{shown}, but significantly worse on {', '.join(worse)}",
                                kinds, real)  # fmt: skip
    if overall.gain_ci[0] <= 0:
        return BootstrapVerdict(False, f"{shown}: not a significant gain", kinds, real)
    return BootstrapVerdict(True, f"{shown}: a significant gain, nothing worse", kinds, real)
