"""Code the issue quotes, checked against the repository: evidence of the kind of change."""

from __future__ import annotations

import pytest

from cores.llm_scripted import ScriptedLLM
from planner.decide import GroundedPlanner, _key, subsumed_dropped
from planner.ground import ground
from planner.propose import Proposal
from planner.snippets import code_evidence, matches
from planner.spec import Operation


def evidence(issue: str, digest) -> list[tuple[str, tuple[str, ...], str]]:  # type: ignore[no-untyped-def]
    return [(e.op, e.targets, e.value) for e in code_evidence(ground(issue, digest), digest)]


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        (
            "`get_user` should take a cache: `get_user(user_id, db, cache: dict | None = None)`.",
            [("add_parameter", ("pkg.users.get_user",), "cache")],
        ),
        (
            "`chunks` needs the same `verbose: bool = False` switch that `get_user` has.",
            [("add_parameter", ("pkg.util.chunks",), "verbose")],
        ),
        (
            "Please add `pairs(seq: list, size: int) -> list` to `pkg.util`.",
            [("add_function", (), "pairs")],
        ),
        (
            "Give `Store` a `reload(key, force=False)` to drop a cached entry.",
            [("add_method", (), "reload")],
        ),
        (
            "`_format_name` never touches state; make it a `@staticmethod`.",
            [("decorator", ("pkg.users._format_name",), "staticmethod")],
        ),
        (
            "In pkg/users.py write `MAX_RETRIES = 3` instead of the bare number.",
            [("extract_constant", (), "MAX_RETRIES")],
        ),
        ("Annotate `chunks`: `size: int`.", [("add_annotations", ("pkg.util.chunks",), "")]),
    ],
)
def test_quoted_code_becomes_evidence(sample_digest, issue, expected) -> None:  # type: ignore[no-untyped-def]
    assert evidence(issue, sample_digest) == expected


@pytest.mark.parametrize(
    "issue",
    [
        "`get_user(user_id, db)` fails when `db` is closed.",  # a call, not a signature
        "callers pass `verbose=True` to `get_user` and `chunks`",  # a keyword at a call site
        "`get_user(user_id, db, verbose=False)` logs too much",  # quotes what exists
        "`@property` and `@staticmethod` on `chunks` and `get_user`",  # not about one function
        "`Store(path, timeout, retries=3)` is documented wrong",  # the class as it is
        "`get_user(key=len)` should give a function back",  # passes only the new keyword
    ],
)
def test_code_that_asks_for_nothing_new_is_no_evidence(sample_digest, issue) -> None:  # type: ignore[no-untyped-def]
    assert evidence(issue, sample_digest) == []


def test_evidence_matches_the_operations_it_asks_for(sample_digest) -> None:  # type: ignore[no-untyped-def]
    (e,) = code_evidence(
        ground("make `_format_name` a `@staticmethod`", sample_digest), sample_digest
    )
    target = "pkg.users._format_name"
    assert matches(e, "add_decorator", target, {"decorator": "staticmethod"})
    assert not matches(e, "add_decorator", target, {"decorator": "classmethod"})
    assert not matches(e, "add_decorator", "pkg.util.chunks", {"decorator": "staticmethod"})


def test_evidence_makes_its_kind_the_main_change(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """The judge is not asked for the main kind when the issue's code names it; it is asked
    only what else, and then which target (scripted control flow)."""
    issue = "`chunks` needs the same `verbose: bool = False` switch that `get_user` has."
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    pool, _ = planner._pool(issue, ground(issue, sample_digest))
    wanted = Operation("add_parameter", "pkg.util.chunks", {"name": "verbose", "default": "False"})
    assert wanted in [p.operation for p in pool]
    others = list(dict.fromkeys(p.operation.op for p in pool if p.operation.op != "add_parameter"))
    last = chr(ord("A") + len(others))
    # "what else besides adding a parameter": "nothing else" (A) in both orders
    replies = ["A", last, *["no"] * 8]
    llm = ScriptedLLM(replies)
    cand = GroundedPlanner(llm, sample_digest, repo=sample_repo).propose(issue)
    assert cand is not None
    assert cand.meta["kinds"]["add_parameter"] == 1.0
    asked = " ".join(msg.content for msgs, _ in llm.calls for msg in msgs)
    assert "What is the main change" not in asked
    assert wanted in cand.operations


def test_an_edit_of_a_function_that_gains_a_parameter_is_dropped() -> None:
    add = Proposal(Operation("add_parameter", "m.f", {"name": "x"}), "", "m.f")
    edit = Proposal(Operation("edit", "m.f", {}), "", "m.f")
    other = Proposal(Operation("edit", "m.g", {}), "", "m.g")
    assert subsumed_dropped([edit, add, other]) == [add, other]


def test_a_plan_that_ignores_the_quoted_code_does_not_compete(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate

    issue = "`chunks` needs the same `verbose: bool = False` switch that `get_user` has."
    rules = Candidate("rules", (Operation("edit", "pkg.util.chunks", {}),))
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    pool, _ = planner._pool(issue, ground(issue, sample_digest))
    others = list(dict.fromkeys(p.operation.op for p in pool if p.operation.op != "add_parameter"))
    last = chr(ord("A") + len(others))
    llm = ScriptedLLM(["A", last, *["B", "A"] * 4])
    cand = GroundedPlanner(llm, sample_digest, repo=sample_repo, proposals=[rules]).propose(issue)
    assert cand is not None and cand.meta["arbitration"] == {}
    asked = " ".join(msg.content for msgs, _ in llm.calls for msg in msgs)
    assert "Which plan" not in asked
    assert [o.op for o in cand.operations] == ["add_parameter"]


def test_two_half_plans_also_compete_as_one(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """An issue with two requests read half by the judge, half by the rules: the union of
    the two plans is one more option of the lettered choice (scripted: the judge picks it)."""
    from planner.candidates import Candidate
    from planner.judge import Judge
    from planner.propose import describe

    issue = (
        "Rename `get_user` to `fetch_user`; also rename the `size` parameter of `chunks` to `n`."
    )
    param = Operation("rename_parameter", "pkg.util.chunks", {"old": "size", "new": "n"})
    rename = Operation("rename", "pkg.users.get_user", {"new_name": "fetch_user"})
    judged = [Proposal(param, describe(param), param.target)]
    rules = Candidate("rules", (rename,))
    # the halves first (rules wins: B forward, A backward), then rules against the union,
    # head to head (the union wins: B forward, A backward)
    llm = ScriptedLLM(["B", "A", "B", "A"])
    planner = GroundedPlanner(llm, sample_digest, repo=sample_repo, proposals=[rules])
    planner.evidence = []
    chosen, record = planner._arbitrate(issue, judged, Judge(llm, issue))
    assert [b["backend"] for b in record["plans"]] == ["judge", "rules", "judge+rules"]
    assert record["plans"][2]["against"] == "rules"
    assert record["winner"] == "judge+rules"
    assert [p.operation for p in chosen] == [param, rename]
    # a winner that beats the union keeps the plan
    llm = ScriptedLLM(["A", "B", "A", "B"])
    planner = GroundedPlanner(llm, sample_digest, repo=sample_repo, proposals=[rules])
    planner.evidence = []
    chosen, record = planner._arbitrate(issue, judged, Judge(llm, issue))
    assert record["winner"] == "judge" and [p.operation for p in chosen] == [param]
    # plans that change the same symbol do not combine
    same = Candidate("rules", (Operation("edit", "pkg.util.chunks", {}),))
    planner = GroundedPlanner(ScriptedLLM(["A", "B"]), sample_digest, proposals=[same])
    planner.evidence = []
    _, record = planner._arbitrate(issue, judged, Judge(planner.llm, issue))
    assert [b["backend"] for b in record["plans"]] == ["judge", "rules"]


def test_the_default_the_issues_signature_writes_is_the_one_kept(
    sample_digest, sample_repo
) -> None:  # type: ignore[no-untyped-def]
    """`get_user(user_id, db, key=None)` is a signature; `get_user(key=len)` later in the issue
    is a call. Of the two readings of "add `key`", the one whose default the signature
    writes is kept even when the judge likes the other better."""
    issue = (
        "Feature: `get_user(user_id, db, key=None)`.\n\n"
        "Then `get_user(key=len)` should return a function."
    )
    (e,) = code_evidence(ground(issue, sample_digest), sample_digest)
    target = "pkg.users.get_user"
    assert matches(e, "add_parameter", target, {"name": "key", "default": "None"})
    assert not matches(e, "add_parameter", target, {"name": "key", "default": "len"})

    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    planner._pool(issue, ground(issue, sample_digest))
    planner._siblings = {}
    readings = [
        Proposal(Operation("add_parameter", target, {"name": "key", "default": d}), d, target)
        for d in ("len", "None")
    ]
    p = {_key(r): v for r, v in zip(readings, (0.9, 0.6), strict=True)}
    (kept,) = planner._select(readings, p)
    assert kept.operation.params["default"] == "None"
