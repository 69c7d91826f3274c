"""Grounded planning: mentions → symbols, candidates checked against the code, the judge."""

from __future__ import annotations

from cores.llm_scripted import ScriptedLLM
from planner.decide import GroundedPlanner, siblings
from planner.ground import ground
from planner.judge import Judge, yes_from_logprobs
from planner.normalize import JudgeContext, SpecNormalizer
from planner.propose import Proposer

TRACEBACK = """Store.load blows up on a missing key

Traceback (most recent call last):
  File "app.py", line 3, in <module>
  File "/home/me/venv/lib/site-packages/pkg/users.py", line 23, in load
    return get_user(key, self)
  File "pkg/users.py", line 9, in get_user
    return db.lookup(user_id)
AttributeError: 'Store' object has no attribute 'lookup'
"""


def kind_replies(pool, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Scripted answers to the kind questions: ``kind`` is the main change, nothing else."""
    kinds = list(dict.fromkeys(p.operation.op for p in pool))
    i, n = kinds.index(kind), len(kinds)
    letter = chr(ord("A") + i)
    reverse = chr(ord("A") + n - 1 - i)
    return [letter, reverse, "A", chr(ord("A") + n - 1)]  # then "nothing else", both orders


def test_traceback_frames_ground_to_the_enclosing_definitions(sample_digest) -> None:  # type: ignore[no-untyped-def]
    g = ground(TRACEBACK, sample_digest)
    innermost = g.get("pkg.users.get_user")
    outer = g.get("pkg.users.Store.load")
    assert innermost is not None and "traceback frame (innermost)" in innermost.evidence
    assert innermost.strength == 3.0
    assert outer is not None and outer.strength >= 1.5


def test_names_paths_and_new_names(sample_digest) -> None:  # type: ignore[no-untyped-def]
    g = ground("Please rename `get_user` in pkg/users.py to `fetch_user`.", sample_digest)
    assert g.get("pkg.users.get_user") is not None
    assert "pkg.users" in g.modules
    assert [n for n, _ in g.new_names] == ["fetch_user"]


def test_prose_description_grounds_through_retrieval(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.retrieval import Retriever

    g = ground(
        "the helper that splits a sequence into chunks of a size",
        sample_digest,
        retriever=Retriever(sample_digest),
    )
    assert any(
        s.qualname == "pkg.util.chunks" and "prose (retrieval)" in s.evidence for s in g.symbols
    )


def test_list_of_targets_are_siblings(sample_digest) -> None:  # type: ignore[no-untyped-def]
    g = ground(
        "Add docstrings to `chunks`, `get_user` and `_format_name`; `Store` is fine.", sample_digest
    )
    sib = siblings(g)
    assert set(sib["pkg.util.chunks"]) == {
        "pkg.util.chunks",
        "pkg.users.get_user",
        "pkg.users._format_name",
    }
    assert "pkg.users.Store" not in sib["pkg.util.chunks"]


def test_candidates_never_invent_a_name_and_are_checked(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    g = ground("`get_user` should take its `db` argument as `database`", sample_digest)
    props = Proposer(g, sample_digest, sample_repo).all()
    ops = {(p.operation.op, repr(sorted(p.operation.params.items()))) for p in props}
    assert ("rename_parameter", repr([("new", "database"), ("old", "db")])) in ops
    spelled = {"get_user", "db", "database"}
    assert all(
        p.operation.params.get("new_name") in spelled for p in props if p.operation.op == "rename"
    )
    assert not any(p.operation.params.get("new_name") == "db" for p in props)  # its own param
    # modernize is only offered where the idiom occurs in the code
    g2 = ground("modernize `_format_name` and `chunks`", sample_digest)
    mods = [
        p for p in Proposer(g2, sample_digest, sample_repo).all() if p.operation.op == "modernize"
    ]
    assert [(p.operation.target, p.operation.params["idiom"]) for p in mods] == [
        ("pkg.users._format_name", "fstring")
    ]


def test_yes_probability_from_logprobs() -> None:
    assert yes_from_logprobs({"yes": -0.1, "no": -2.5}) > 0.9
    assert yes_from_logprobs({" No": -0.05, "Yes": -3.0}) < 0.1
    assert yes_from_logprobs({"maybe": -0.1}) is None


def test_scripted_judge_control_flow(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """Main kind by letter, "nothing else", then one yes/no per option of that kind."""
    issue = "Rename `get_user` to `fetch_user`; `chunks` already has the right name."
    g = ground(issue, sample_digest)
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    pool, _ = planner._pool(issue, g)
    renames = [p for p in pool if p.operation.op == "rename"]
    replies = kind_replies(pool, "rename") + [
        "yes" if "get_user" in p.operation.target else "no" for p in renames
    ]
    replies += ["B", "A"]  # coverage: why is `chunks` named? context (asked in both orders)
    llm = ScriptedLLM(replies)
    cand = GroundedPlanner(llm, sample_digest, repo=sample_repo).propose(issue)
    assert cand is not None
    assert [(o.op, o.target, dict(o.params)) for o in cand.operations] == [
        ("rename", "pkg.users.get_user", {"new_name": "fetch_user"})
    ]
    assert cand.meta["coverage"]["complete"] is True
    assert "pkg.util.chunks" in cand.meta["coverage"]["context"]
    assert len(llm.calls) >= 2


def test_uncovered_named_target_makes_the_plan_incomplete(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    issue = "Rename `get_user` to `fetch_user`. `chunks` needs to change as well."
    g = ground(issue, sample_digest)
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    pool, _ = planner._pool(issue, g)
    renames = [p for p in pool if p.operation.op == "rename"]
    assert {p.operation.target for p in renames} == {"pkg.users.get_user", "pkg.util.chunks"}
    # the judge says yes to both renames; one new name can only go to one symbol, so
    # `chunks` (named, judged sure) is left out: the plan is incomplete, not silently partial
    # coverage then asks why `chunks` is named: "to change it itself", in both orders
    llm = ScriptedLLM([*kind_replies(pool, "rename"), *["yes" for _ in renames], "A", "B"])
    cand = GroundedPlanner(llm, sample_digest, repo=sample_repo).propose(issue)
    assert cand is not None
    cov = cand.meta["coverage"]
    assert cov["complete"] is False
    assert cov["uncovered"] == ["pkg.util.chunks"]


def test_judge_falls_back_to_text_votes() -> None:
    llm = ScriptedLLM(["yes", "no", "yes"])
    judge = Judge(llm, "issue", samples=3)
    assert abs(judge.ask("Does it?") - 2 / 3) < 1e-9
    assert judge.answers[0]["question"] == "Does it?"


def test_real_model_judges_a_plain_rename(sample_digest, sample_repo, default_llm) -> None:  # type: ignore[no-untyped-def]
    """The real 0.5B through llama.cpp: log-probabilities, prefix reuse, a right plan."""
    judge = Judge(default_llm, "Please rename `get_user` to `fetch_user` everywhere.")
    p_yes = judge.ask("Does the issue ask to rename `pkg.users.get_user` to `fetch_user`?")
    p_other = judge.ask("Does the issue ask to write a docstring for `pkg.util.chunks`?")
    assert p_yes > p_other
    spec = SpecNormalizer(
        sample_digest, judge_llm=default_llm, judge=JudgeContext(repo=sample_repo)
    ).normalize("Please rename `get_user` to `fetch_user` everywhere.", backends=["rules", "judge"])
    assert spec.provenance["chosen"] == "judge"
    assert ("rename", "pkg.users.get_user") in [(o.op, o.target) for o in spec.operations]
    assert spec.provenance["coverage"]["complete"] is True


def test_another_packages_names_are_not_new_names(sample_digest) -> None:  # type: ignore[no-untyped-def]
    g = ground("Log through `logging.getLogger(__name__)` in `get_user`.", sample_digest)
    assert "getLogger" not in [n for n, _ in g.new_names]


def test_only_data_model_dunders_become_methods(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    issue = "`Store` needs `__eq__`; its `__name__` and `__all__` are fine."
    props = Proposer(ground(issue, sample_digest), sample_digest, sample_repo).all()
    added = {p.operation.params["name"] for p in props if p.operation.op == "add_method"}
    assert "__eq__" in added and not added & {"__name__", "__all__"}


def test_callers_and_members_of_a_change_are_context(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """`Store.load` calls `get_user`: renaming `get_user` changes it, no question asked."""
    issue = "Rename `get_user` to `fetch_user` (`Store.load` calls it)."
    g = ground(issue, sample_digest)
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    pool, _ = planner._pool(issue, g)
    renames = [p for p in pool if p.operation.op == "rename"]
    llm = ScriptedLLM(
        [
            *kind_replies(pool, "rename"),
            *["yes" if "get_user" in p.operation.target else "no" for p in renames],
        ]
    )
    cand = GroundedPlanner(llm, sample_digest, repo=sample_repo).propose(issue)
    assert cand is not None and cand.meta["coverage"]["complete"] is True
    assert cand.meta["coverage"]["context"]["pkg.users.Store.load"].startswith(
        "uses `pkg.users.get_user`"
    )


def test_an_operation_inside_a_changed_module_is_dropped(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.decide import subsumed_dropped
    from planner.propose import Proposal
    from planner.spec import Operation

    module = Operation("modernize", "pkg.users", {"idiom": "fstring"})
    member = Operation("modernize", "pkg.users._format_name", {"idiom": "fstring"})
    other = Operation("add_docstring", "pkg.users._format_name", {})
    kept = subsumed_dropped([Proposal(o, o.op, o.target) for o in (module, member, other)])
    assert [p.operation for p in kept] == [module, other]


def test_each_new_name_goes_to_one_target(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """Two constants for two modules: the judge likes one name for both; each name still
    goes to one module only, so both constants survive."""
    from planner.decide import _key
    from planner.propose import Proposal
    from planner.spec import Operation

    def opt(module: str, name: str) -> Proposal:
        op = Operation("extract_constant", module, {"name": name})
        return Proposal(op, op.op, module)

    options = [
        opt("pkg.users", "ROLE"),
        opt("pkg.util", "ROLE"),
        opt("pkg.util", "CHUNK"),
        opt("pkg.users", "CHUNK"),
    ]
    p = {
        _key(options[0]): 0.95,
        _key(options[1]): 0.9,
        _key(options[2]): 0.88,
        _key(options[3]): 0.2,
    }
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    planner._siblings = {}
    kept = planner._select(options, p)
    assert sorted((k.operation.target, k.operation.params["name"]) for k in kept) == [
        ("pkg.users", "ROLE"),
        ("pkg.util", "CHUNK"),
    ]


def test_a_kept_constructor_brings_its_classes_list_siblings(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    """`getsizeof` of `A`, `B` and `C`: a kept `B.__init__` keeps `A.__init__` and `C.__init__`
    though the best option was another target (the list is the issue's, not the judge's)."""
    from planner.decide import _key
    from planner.propose import Proposal
    from planner.spec import Operation

    def opt(target: str) -> Proposal:
        return Proposal(Operation("make_keyword_only", target, {"names": ["x"]}), "", target)

    options = [opt("m.f"), opt("m.B.__init__"), opt("m.A.__init__"), opt("m.C.__init__")]
    p = {_key(options[0]): 0.96, _key(options[1]): 0.9, _key(options[2]): 0.6}
    p[_key(options[3])] = 0.55
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest, repo=sample_repo)
    planner._siblings = {q: ("m.A", "m.B", "m.C") for q in ("m.A", "m.B", "m.C")}
    kept = planner._select(options, p)
    assert [k.operation.target for k in kept] == [
        "m.f",
        "m.B.__init__",
        "m.A.__init__",
        "m.C.__init__",
    ]
    planner._siblings = {}
    assert [k.operation.target for k in planner._select(options, p)] == ["m.f", "m.B.__init__"]


def test_a_new_name_spelled_like_a_symbol_grounds_it(sample_digest) -> None:  # type: ignore[no-untyped-def]
    """The issue describes `_format_name` in prose and gives only the new spelling."""
    g = ground("The private name formatter should be called `_format_names`.", sample_digest)
    found = g.get("pkg.users._format_name")
    assert found is not None and found.strength == 2.0
    assert "spelled like the new name `_format_names`" in found.evidence
    # a new name unlike anything in the repository grounds nothing new
    other = ground("Add `pairwise_windows` to the utils.", sample_digest)
    assert [s.qualname for s in other.symbols if "spelled like" in " ".join(s.evidence)] == []


def test_a_method_added_to_a_base_class_is_not_added_to_its_subclasses(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from planner.decide import inherited_dropped
    from planner.digest import RepositoryDigest
    from planner.propose import Proposal
    from planner.spec import Operation

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "base.py").write_text("class Signer:\n    pass\n\n\nclass Other:\n    pass\n")
    (root / "pkg" / "timed.py").write_text(
        "from .base import Signer\n\n\nclass TimestampSigner(Signer[str]):\n    pass\n\n\n"
        "class Deeper(TimestampSigner):\n    pass\n"
    )
    digest = RepositoryDigest.build(root, tmp_path / "cache")
    assert digest.class_ancestors("pkg.timed.Deeper") == [
        "pkg.timed.TimestampSigner",
        "pkg.base.Signer",
    ]

    def add(target: str, name: str = "__repr__") -> Proposal:
        return Proposal(Operation("add_method", target, {"name": name}), "", target)

    chosen = [add("pkg.base.Signer"), add("pkg.timed.TimestampSigner"), add("pkg.timed.Deeper")]
    chosen += [add("pkg.base.Other"), add("pkg.timed.Deeper", "__eq__")]
    kept = inherited_dropped(chosen, digest)
    assert [(p.operation.target, p.operation.params["name"]) for p in kept] == [
        ("pkg.base.Signer", "__repr__"),
        ("pkg.base.Other", "__repr__"),
        ("pkg.timed.Deeper", "__eq__"),
    ]
    # a named subclass of a changed class is context, with the reason
    from cores.llm_scripted import ScriptedLLM
    from planner.decide import GroundedPlanner
    from planner.ground import Grounded

    planner = GroundedPlanner(ScriptedLLM([]), digest)
    planner._left_alone = {}
    sub = Grounded("pkg.timed.TimestampSigner", "class", "pkg/timed.py", 3.0, 0)
    reason = planner._context_reason(sub, {"pkg.base.Signer"})
    assert reason == "inherits the change of `pkg.base.Signer`"


def test_keyword_only_choices_include_everything_after_each_named_parameter(
    sample_digest, sample_repo
) -> None:  # type: ignore[no-untyped-def]
    """An issue that quotes the whole signature may ask for everything after one parameter;
    each reading is a candidate, described in plain words for the judge."""
    from planner.ground import ground
    from planner.propose import Proposer

    issue = "`get_user(user_id, db, verbose)`: the options should be keyword-only."
    pool = Proposer(ground(issue, sample_digest), sample_digest, sample_repo).all()
    choices = [
        (p.operation.params, p.plain)
        for p in pool
        if p.operation.op == "make_keyword_only" and p.operation.target == "pkg.users.get_user"
    ]
    assert [c for c, _ in choices] == [
        {"names": ["user_id", "db", "verbose"]},
        {"after": "user_id"},
        {"after": "db"},
    ]
    assert "every parameter after `user_id`" in choices[1][1]
    # the issue's own words name the `after` parameter: that reading alone
    said = "`get_user(user_id, db, verbose)`: everything after `user_id` should be keyword-only."
    pool = Proposer(ground(said, sample_digest), sample_digest, sample_repo).all()
    assert [
        p.operation.params
        for p in pool
        if p.operation.op == "make_keyword_only" and p.operation.target == "pkg.users.get_user"
    ] == [{"after": "user_id"}]


def test_readings_of_one_change_compete_in_one_choice() -> None:
    """Both readings got P(yes) = 1; the lettered choice (scripted: the second, both ways)
    keeps that one on top and scales the other down. A lone option is not asked."""
    from planner.decide import _key, readings
    from planner.propose import Proposal, describe
    from planner.spec import Operation

    names = Operation("make_keyword_only", "m.f", {"names": ["a", "b", "c"]})
    after = Operation("make_keyword_only", "m.f", {"after": "a"})
    other = Operation("make_keyword_only", "m.g", {"after": "x"})
    options = [Proposal(o, describe(o), o.target) for o in (names, after, other)]
    target_p = {_key(p): 1.0 for p in options}
    llm = ScriptedLLM(["B", "A"])
    readings(options, target_p, Judge(llm, "everything after `a` keyword-only"))
    assert target_p[_key(options[1])] == 1.0
    assert target_p[_key(options[0])] == 0.0
    assert target_p[_key(options[2])] == 1.0
    assert len(llm.calls) == 2


def test_a_new_functions_home_is_described_by_what_the_issue_names_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from planner.digest import RepositoryDigest

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(
        "from pkg.dicts import *\n\n\ndef version():\n    return 1\n"
    )
    (root / "pkg" / "dicts.py").write_text(
        "def assoc(d, k, v):\n    return {**d, k: v}\n\n\ndef dissoc(d, k):\n    return d\n"
    )
    digest = RepositoryDigest.build(root, tmp_path / "cache")
    g = ground(
        "Add `assoc_many` to pkg/dicts.py, like `assoc`, available as `pkg.assoc_many`.", digest
    )
    adds = {
        p.operation.target: p.plain
        for p in Proposer(g, digest, root).all()
        if p.operation.op == "add_function" and p.operation.params["name"] == "assoc_many"
    }
    assert adds["pkg.dicts"].endswith("beside `assoc` that the issue names")
    assert adds["pkg"].endswith("which defines none of the code the issue names")


def test_calls_are_replaced_only_where_the_code_makes_them(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    def replacements(text: str) -> list[tuple[str, str]]:
        g = ground(text, sample_digest)
        return [
            (p.operation.target, p.operation.params["new"])
            for p in Proposer(g, sample_digest, sample_repo).all()
            if p.operation.op == "replace_calls"
        ]

    # `get_user` is called by `Store.load`; `chunks` is called nowhere
    assert replacements("`get_user` should go through `logging.getLogger`") == [
        ("pkg.users.get_user", "logging.getLogger")
    ]
    assert replacements("`chunks` should go through `logging.getLogger`") == []


def test_a_docstring_candidate_says_whether_one_is_there(sample_digest, sample_repo) -> None:  # type: ignore[no-untyped-def]
    g = ground("Document `get_user` and `chunks`.", sample_digest)
    plain = {
        p.operation.target: p.plain
        for p in Proposer(g, sample_digest, sample_repo).all()
        if p.operation.op == "add_docstring"
    }
    assert plain["pkg.users.get_user"].endswith("(it has one, to be rewritten)")
    assert plain["pkg.util.chunks"].endswith("(it has none)")


def test_a_parameter_change_of_a_method_carries_to_its_overrides(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from planner.decide_plans import with_overrides
    from planner.digest import RepositoryDigest
    from planner.propose import Proposal
    from planner.spec import Operation

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "base.py").write_text(
        "class Store:\n    def get(self, key, default=None):\n        return default\n"
    )
    (root / "pkg" / "more.py").write_text(
        "from pkg.base import Store\n\n\n"
        "class Cached(Store):\n    def get(self, key, default=None):\n        return key\n\n\n"
        "class Deeper(Cached):\n    def get(self, key, *args, **kw):\n        return key\n\n\n"
        "class Renamed(Store):\n    def get(self, name, default=None):\n        return name\n\n\n"
        "class Unrelated:\n    def get(self, key):\n        return key\n"
    )
    digest = RepositoryDigest.build(root, tmp_path / "cache")

    def carried(op: Operation) -> list[tuple[str, str]]:
        out = with_overrides([Proposal(op, "", op.target)], digest)
        return [(p.operation.target, p.plain) for p in out[1:]]

    rename = Operation("rename_parameter", "pkg.base.Store.get", {"old": "key", "new": "k"})
    assert [t for t, _ in carried(rename)] == ["pkg.more.Cached.get", "pkg.more.Deeper.get"]
    assert carried(rename)[0][1].endswith("(it overrides `pkg.base.Store.get`)")
    only = Operation("make_keyword_only", "pkg.base.Store.get", {"names": ["default"]})
    assert [t for t, _ in carried(only)] == ["pkg.more.Cached.get", "pkg.more.Renamed.get"]
    after = Operation("make_keyword_only", "pkg.base.Store.get", {"after": "key"})
    assert carried(after) == [], "`after` a parameter: an override may order them otherwise"
    function = Operation("rename_parameter", "pkg.more.Unrelated.get", {"old": "key", "new": "k"})
    assert carried(function) == []


FAILING = """`parse` doesn't take a timedelta

```python
>>> parse(timedelta(days=1))
Traceback (most recent call last):
  ...
TypeError: unsupported operand type(s) for +: 'int' and 'datetime.timedelta'
```

It should accept one. Please update the type hints too.
"""


def test_quoted_failures_are_read_from_tracebacks_and_sessions() -> None:
    from planner.issue_text import quoted_failure

    assert quoted_failure(FAILING) == (
        "TypeError: unsupported operand type(s) for +: 'int' and 'datetime.timedelta'"
    )
    assert quoted_failure(">>> nth(5, [1, 2])\nIndexError: list index out of range\n") == (
        "IndexError: list index out of range"
    )
    assert quoted_failure(TRACEBACK) == "AttributeError: 'Store' object has no attribute 'lookup'"
    assert quoted_failure("Positional use should raise TypeError, like `f(1, 2)`.") is None


def test_a_quoted_failure_needs_a_behaviour_change_when_the_judge_says_so(sample_digest) -> None:  # type: ignore[no-untyped-def]
    planner = GroundedPlanner(ScriptedLLM([]), sample_digest)
    ops = ["rename", "add_annotations", "edit"]
    # the judge: yes, the issue wants the failure gone; then "edit" in both orders
    llm = ScriptedLLM(["yes", "B", "A"])
    kinds = {"rename": 0.0, "add_annotations": 1.0, "edit": 0.01}
    planner._stop_failure(ops, kinds, Judge(llm, FAILING))
    assert kinds == {"rename": 0.0, "add_annotations": 1.0, "edit": 1.0}

    # the judge reads the failure as wanted: the describing plan stays
    kinds = {"rename": 0.0, "add_annotations": 1.0, "edit": 0.01}
    planner._stop_failure(ops, kinds, Judge(ScriptedLLM(["no"]), FAILING))
    assert kinds["edit"] == 0.01

    # a plan that already changes behaviour, or an issue that quotes no failure: no question
    for issue, kinds in (
        (FAILING, {"add_annotations": 1.0, "edit": 1.0}),
        ("Please add type hints to `parse`.", {"add_annotations": 1.0, "edit": 0.01}),
    ):
        quiet, before = ScriptedLLM([]), dict(kinds)
        planner._stop_failure(["add_annotations", "edit"], kinds, Judge(quiet, issue))
        assert quiet.calls == [] and kinds == before


def test_a_package_that_only_imports_is_a_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from planner.digest import RepositoryDigest
    from planner.fusion import OperationChecker

    root = tmp_path / "repo"
    (root / "shop" / "api").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "api" / "__init__.py").write_text("from shop.api.orders import place\n")
    (root / "shop" / "api" / "orders.py").write_text("def place(order):\n    return order\n")
    digest = RepositoryDigest.build(root, tmp_path / "cache")
    assert digest.modules()["shop.api"] == "shop/api/__init__.py"
    g = ground("Please export `cancel` from `shop.api` as well.", digest)
    assert "shop.api" in g.modules
    assert OperationChecker(digest).module_for("shop.api") == "shop.api"
