"""Code an issue names only to fence it off is no target."""

from __future__ import annotations

import pytest

from planner.exclusions import left_alone
from planner.ground import ground


@pytest.mark.parametrize(
    ("issue", "fenced"),
    [
        (
            "Add a docstring to `chunks`. `get_user` is self-explanatory, leave it alone.",
            ["pkg.users.get_user"],
        ),
        (
            "Rename the `size` parameter of `chunks` to `n`; `get_user(verbose=...)` stays as it is.",
            ["pkg.users.get_user"],
        ),
        ("Rename `chunks` to `batches` (the `Store` class keeps its name).", ["pkg.users.Store"]),
        ("Document `chunks`, but don't touch `get_user`.", ["pkg.users.get_user"]),
        # named as a target elsewhere: not fenced off
        ("Document `get_user`. Its callers stay as they are; `get_user` is public.", []),
        ("Rename `chunks` to `batches` and `get_user` to `fetch_user`.", []),
    ],
)
def test_a_symbol_named_only_to_stay_as_it_is_is_fenced_off(
    sample_digest,  # type: ignore[no-untyped-def]
    issue: str,
    fenced: list[str],
) -> None:
    assert sorted(left_alone(ground(issue, sample_digest))) == fenced


def test_a_fenced_symbol_gets_no_candidate_and_is_context(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    from cores.llm_scripted import ScriptedLLM
    from planner.decide import GroundedPlanner

    issue = "Add a docstring to `chunks`. `get_user` is self-explanatory, leave it alone."
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    planner._left_alone = left_alone(ground(issue, sample_digest))
    pool, dropped = planner._pool(issue, ground(issue, sample_digest))
    assert not [p for p in pool if p.operation.target.startswith("pkg.users.get_user")]
    assert any("stays as it is" in d and "get_user" in d for d in dropped)
    assert [p for p in pool if p.operation.target == "pkg.util.chunks"]
