"""Intervals, the split by function and the bootstrap gate."""

from __future__ import annotations

import random

from memory.significance import (
    bootstrap_gate,
    compare,
    paired_bootstrap,
    split_by_group,
    wilson,
)


def test_wilson_matches_known_values() -> None:
    assert wilson(0, 10) == (0.0, 0.2775)
    assert wilson(5, 10) == (0.2366, 0.7634)
    assert wilson(10, 10) == (0.7225, 1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_paired_bootstrap_interval() -> None:
    gain, low, high = paired_bootstrap([False] * 20, [True] * 20)
    assert (gain, low, high) == (1.0, 1.0, 1.0)
    gain, low, high = paired_bootstrap([True, False] * 10, [True, False] * 10)
    assert gain == 0.0 and low == 0.0 and high == 0.0
    gain, low, high = paired_bootstrap([False] * 10, [True] * 5 + [False] * 5)
    assert gain == 0.5 and 0.0 < low <= 0.5 <= high


def test_the_split_never_shares_a_function() -> None:
    rng = random.Random(1)
    kinds = ("docstring", "annotate", "fix", "rename")
    for seed in range(20):
        items = [(f"f{rng.randrange(15)}", rng.choice(kinds), i) for i in range(60)]
        train, test = split_by_group(
            items, lambda t: t[0], lambda t: t[1], test_per_kind=3, seed=seed
        )
        assert sorted(train + test) == sorted(items)
        assert not {t[0] for t in train} & {t[0] for t in test}
        for kind in kinds:
            total = sum(1 for t in items if t[1] == kind)
            if total > 1:
                assert any(t[1] == kind for t in train)  # every kind keeps training data


def _results(before: list[bool], after: list[bool], kind: str = "fix"):  # type: ignore[no-untyped-def]
    ids = [f"t{i}" for i in range(len(before))]
    return compare(dict(zip(ids, before, strict=True)), dict(zip(ids, after, strict=True)),
                   dict.fromkeys(ids, kind))  # fmt: skip


def test_the_gate_refuses_a_worse_model() -> None:
    verdict = bootstrap_gate(_results([True] * 12, [True] * 4 + [False] * 8), None)
    assert not verdict.better
    assert "worse" in verdict.reason or "not a significant gain" in verdict.reason
    assert verdict.kinds["fix"].after < verdict.kinds["fix"].before


def test_the_gate_refuses_a_gain_that_is_not_significant() -> None:
    verdict = bootstrap_gate(_results([False] * 10, [True] + [False] * 9), None)
    assert not verdict.better and "not a significant gain" in verdict.reason


def test_the_gate_promotes_a_significant_gain_only_if_real_runs_do_not_fall() -> None:
    results = _results([False] * 15, [True] * 10 + [False] * 5)
    assert bootstrap_gate(results, None).better
    assert bootstrap_gate(results, {"spec_exact": 0.0, "slot_exact": 0.25}).better
    refused = bootstrap_gate(results, {"spec_exact": -0.25})
    assert not refused.better and "real runs got worse" in refused.reason
    data = refused.to_dict()
    assert data["kinds"]["all"]["n_test"] == 15 and data["kinds"]["fix"]["gain"] == 0.6667
