from __future__ import annotations

import pytest

from planner.normalize import SpecNormalizer
from planner.spec import SpecError


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        (
            "Rename `get_user` to `fetch_user` everywhere.",
            [("rename", "pkg.users.get_user", {"new_name": "fetch_user"})],
        ),
        (
            "Style: `_cache_size` -> `_CACHE_SIZE` please",
            [("rename", "pkg.users._cache_size", {"new_name": "_CACHE_SIZE"})],
        ),
        (
            "get_user: rename the `verbose` flag to `debug`.",
            [("rename_parameter", "pkg.users.get_user", {"old": "verbose", "new": "debug"})],
        ),
        (
            "`Store(path, timeout, retries)` takes too much positionally. Make everything after `path` keyword-only.",
            [("make_keyword_only", "pkg.users.Store.__init__", {"after": "path"})],
        ),
        (
            "Please move `chunks` into `users.py`, it belongs there.",
            [("move_symbol", "pkg.util.chunks", {"to_module": "pkg.users", "reexport": True})],
        ),
        (
            "Add docstrings to `Store.load` and `Store.save`.",
            [
                ("add_docstring", "pkg.users.Store.load", {}),
                ("add_docstring", "pkg.users.Store.save", {}),
            ],
        ),
        (
            "Convert `pkg/users.py` to f-strings.",
            [("modernize", "pkg.users", {"idiom": "fstring"})],
        ),
        (
            "Wrap `chunks` with `functools.lru_cache`.",
            [("add_decorator", "pkg.util.chunks", {"decorator": "functools.lru_cache"})],
        ),
        (
            "Please give `Store` a `__repr__`.",
            [("add_method", "pkg.users.Store", {"name": "__repr__"})],
        ),
        ("get_user crashes when the db is None", [("edit", "pkg.users.get_user", None)]),
        # plain phrasings, not only the canonical ones
        (
            "Please rename `pkg.users.get_user` to `fetch_user` (keeping the old name is not needed).",
            [("rename", "pkg.users.get_user", {"new_name": "fetch_user"})],
        ),
        (
            "`chunks` should accept `step` as a keyword argument defaulting to 1.",
            [("add_parameter", "pkg.util.chunks", {"name": "step", "default": "1"})],
        ),
        (
            # an example call's value is not the default
            "`chunks` should accept `step` as a keyword argument defaulting to 1, so that\n\n"
            "    >>> chunks([1, 2, 3, 4], 2, step=2)\n    [[1, 2]]\n",
            [("add_parameter", "pkg.util.chunks", {"name": "step", "default": "1"})],
        ),
        (
            "It would help if `get_user` accepted an optional `cache` argument.",
            [("add_parameter", "pkg.users.get_user", {"name": "cache", "default": "None"})],
        ),
        (
            "Make the `verbose` argument of `pkg.users.get_user` keyword-only.",
            [("make_keyword_only", "pkg.users.get_user", {"names": ["verbose"]})],
        ),
        (
            "Move `pkg.util.chunks` into `pkg.users` and keep importing it from util.",
            [("move_symbol", "pkg.util.chunks", {"to_module": "pkg.users", "reexport": True})],
        ),
        (
            "The number 10 in `pkg/users.py` should become a module constant `CACHE_SIZE`.",
            [("extract_constant", "pkg.users", {"name": "CACHE_SIZE", "value": "10"})],
        ),
        (
            "Replace the `typing.List` annotations in `pkg/users.py` with builtin generics.",
            [("modernize", "pkg.users", {"idiom": "builtin_generics"})],
        ),
        (
            "The `verbose` parameter of `get_user` is never used; drop it and update every caller.",
            [("remove_parameter", "pkg.users.get_user", {"name": "verbose"})],
        ),
        (
            "Rename the `verbose` argument of `pkg.users.get_user` to `debug`.",
            [("rename_parameter", "pkg.users.get_user", {"old": "verbose", "new": "debug"})],
        ),
        (
            "`chunks` should be memoized with `functools.lru_cache`.",
            [("add_decorator", "pkg.util.chunks", {"decorator": "functools.lru_cache"})],
        ),
        (
            "`get_user` needs a docstring that explains what `db` is.",
            [("add_docstring", "pkg.users.get_user", {})],
        ),
        (
            "Replace all calls to `pkg.util.chunks` with `pkg.users.get_user`.",
            [("replace_calls", "pkg.util.chunks", {"new": "pkg.users.get_user"})],
        ),
        (
            "Import `chunks` from `pkg.users` instead of `pkg.util` everywhere.",
            [("change_import", "pkg.util.chunks", {"new_module": "pkg.users"})],
        ),
        (
            "Tests should import `get_user` from `pkg.users` instead of `pkg`.",
            [("change_import", "pkg.get_user", {"new_module": "pkg.users"})],
        ),
        (
            "Remove the `@functools.lru_cache` decorator from `chunks`.",
            [("remove_decorator", "pkg.util.chunks", {"decorator": "functools.lru_cache"})],
        ),
        (
            "`pkg.util.chunks` is a confusing name; it should be called `batches`.",
            [("rename", "pkg.util.chunks", {"new_name": "batches"})],
        ),
        (
            "Pull the repeated lookup in `get_user` and `Store.load` out into a helper `_lookup`.",
            [
                (
                    "extract_helper",
                    "pkg.users",
                    {"functions": ["get_user", "load"], "name": "_lookup"},
                )
            ],
        ),
        (
            "Add a new function `pkg.util.flatten(seqs)` that joins a list of lists.",
            [("add_function", "pkg.util", {"name": "flatten"})],
        ),
        (
            'The string "member" in `pkg/users.py` should be a named constant `MEMBER`.',
            [("extract_constant", "pkg.users", {"name": "MEMBER", "value": '"member"'})],
        ),
        (
            "`pkg.util.chunks` does not belong in util; relocate it to `pkg.users`.",
            [("move_symbol", "pkg.util.chunks", {"to_module": "pkg.users", "reexport": True})],
        ),
    ],
)
def test_rules_and_fusion(sample_digest, issue: str, expected: list) -> None:  # type: ignore[no-untyped-def]
    spec = SpecNormalizer(sample_digest).normalize(issue, backends=["rules"])
    got = [(o.op, o.target, dict(o.params)) for o in spec.operations]
    assert [(op, target) for op, target, _ in got] == [(op, target) for op, target, _ in expected]
    for (_, _, params), (_, _, want) in zip(got, expected, strict=True):
        if want is not None:
            assert params == want
    assert spec.provenance["chosen"] == "rules"
    assert spec.target_files


def test_near_miss_target_is_repaired(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate
    from planner.fusion import fuse
    from planner.spec import Operation

    cand = Candidate("llm", (Operation("rename", "get_usr", {"new_name": "fetch_user"}),))
    spec = fuse("x", "rename get_usr to fetch_user", [cand], sample_digest)
    assert [o.target for o in spec.operations] == ["pkg.users.get_user"]
    assert "repaired" in spec.provenance["candidates"][0]["repairs"][0]


def test_unknown_target_is_rejected_with_close_names(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate
    from planner.fusion import OperationChecker, check
    from planner.spec import Operation

    checked = check(
        Candidate("llm", (Operation("rename", "Warehouse.fetch_all", {"new_name": "x"}),)),
        OperationChecker(sample_digest),
    )
    assert not checked.operations
    assert "is not a symbol or module of this repository" in checked.problems[0]


def test_bad_params_rejected(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate
    from planner.fusion import OperationChecker, check
    from planner.spec import Operation

    checker = OperationChecker(sample_digest)
    bad = check(
        Candidate("llm", (Operation("rename_parameter", "get_user", {"old": "nope", "new": "x"}),)),
        checker,
    )
    assert "has no parameter 'nope'" in bad.problems[0]
    bad = check(
        Candidate("llm", (Operation("rename", "get_user", {"new_name": "not valid"}),)), checker
    )
    assert "not an identifier" in bad.problems[0]
    # a function renamed to a class's spelling (or back) renames something else
    bad = check(
        Candidate("llm", (Operation("rename", "pkg.users.get_user", {"new_name": "_UserGetter"}),)),
        checker,
    )
    assert "spelled like a class" in bad.problems[0]
    for target, new in [
        ("pkg.users.get_user", "fetch_user"),
        ("pkg.users.Store", "UserStore"),
        ("pkg.users._cache_size", "CACHE_SIZE"),  # a variable made a constant
    ]:
        assert not check(
            Candidate("llm", (Operation("rename", target, {"new_name": new}),)), checker
        ).problems
    # keyword-only after the last parameter changes nothing
    bad = check(
        Candidate(
            "llm", (Operation("make_keyword_only", "pkg.users.get_user", {"after": "verbose"}),)
        ),
        checker,
    )
    assert "no parameter comes after 'verbose'" in bad.problems[0]
    good = check(
        Candidate("llm", (Operation("make_keyword_only", "pkg.users.get_user", {"after": "db"}),)),
        checker,
    )
    assert not good.problems


def test_unmatched_issue_falls_back_to_edit(sample_digest) -> None:  # type: ignore[no-untyped-def]
    spec = SpecNormalizer(sample_digest).normalize(
        "The store should remember the timeout it was given", backends=["rules"]
    )
    assert spec.provenance["chosen"] in {"rules", "fallback"}
    assert {o.op for o in spec.operations} == {"edit"}
    assert any("Store" in o.target for o in spec.operations)


@pytest.mark.parametrize("issue", ["", "   \n  "])
def test_empty_issue(sample_digest, issue: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match="the issue is empty"):
        SpecNormalizer(sample_digest).normalize(issue)


def test_issue_naming_nothing(sample_digest) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match="names nothing that exists"):
        SpecNormalizer(sample_digest).normalize(
            "Improve the quantum flux capacitor", backends=["rules"]
        )


def test_extract_helper_keeps_only_the_listed_names_that_are_functions(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate
    from planner.fusion import OperationChecker, check
    from planner.spec import Operation

    op = Operation(
        "extract_helper", "pkg.users", {"functions": ["get_user", "_format_name", "verbose"]}
    )
    checked = check(Candidate("rules", (op,)), OperationChecker(sample_digest))
    assert checked.operations[0].params["functions"] == ["get_user", "_format_name"]


def test_a_parameter_is_added_once_per_function(sample_digest) -> None:  # type: ignore[no-untyped-def]
    from planner.candidates import Candidate
    from planner.fusion import OperationChecker, check
    from planner.spec import Operation

    ops = (
        Operation("add_parameter", "pkg.users.get_user", {"name": "key", "default": "None"}),
        Operation("add_parameter", "pkg.users.get_user", {"name": "key", "default": "len"}),
    )
    checked = check(Candidate("rules", ops), OperationChecker(sample_digest))
    assert [o.params["default"] for o in checked.operations] == ["None"]


def test_a_named_function_without_the_parameter_is_not_a_repo_wide_removal(sample_digest) -> None:  # type: ignore[no-untyped-def]
    spec = SpecNormalizer(sample_digest).normalize(
        "Remove the unused `retries` parameter from `chunks`.", backends=["rules"]
    )
    assert all(o.op != "remove_parameter" for o in spec.operations)


def test_replacing_calls_of_another_package_scopes_the_files_importing_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from planner.digest import RepositoryDigest
    from planner.phases import PhasePlanner

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "clock.py").write_text("import time\n\n\ndef now():\n    return time.time()\n")
    (root / "pkg" / "other.py").write_text("def f():\n    return 1\n")
    digest = RepositoryDigest.build(root, tmp_path / "cache")
    spec = SpecNormalizer(digest).normalize(
        "Use `time.monotonic` instead of `time.time`; the wall clock can jump.", backends=["rules"]
    )
    assert [(o.op, o.target, dict(o.params)) for o in spec.operations] == [
        ("replace_calls", "time.time", {"new": "time.monotonic"})
    ]
    assert spec.target_files == ("pkg/clock.py",)
    (phase,) = PhasePlanner(digest).plan(spec).phases
    assert phase.files == ("pkg/clock.py",)


def test_a_model_that_invents_a_new_name_loses_to_the_rules(sample_digest) -> None:  # type: ignore[no-untyped-def]
    """A bug report is not a rename: a new name the issue never spells out is a guess."""
    from planner.candidates import Candidate
    from planner.fusion import fuse
    from planner.spec import Operation

    issue = "get_user returns duplicates for repeated ids"
    guess = Candidate(
        "llm", (Operation("rename", "pkg.users.get_user", {"new_name": "get_user_unique"}),)
    )
    rules = Candidate("rules", (Operation("edit", "pkg.users.get_user", {"instruction": issue}),))
    spec = fuse("x", issue, [guess, rules], sample_digest)
    assert [(o.op, o.target) for o in spec.operations] == [("edit", "pkg.users.get_user")]
    llm = next(c for c in spec.provenance["candidates"] if c["backend"] == "llm")
    assert "never names 'get_user_unique'" in llm["problems"][0]
