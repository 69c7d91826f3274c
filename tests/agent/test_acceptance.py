"""Acceptance checks from the issue, each kind on a real small repository.

Every check is run twice in the real sandbox: on the unpatched tree, where the change
matters it must fail, and on the tree as the issue wants it, where it must pass.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent.acceptance.issue import Statements, sessions, stated_calls
from agent.acceptance.module import acceptance_module, coverage_of, run_acceptance
from agent.verify.sandbox import Sandbox
from planner.digest import RepositoryDigest
from planner.spec import Operation, Spec


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def outcomes(
    tmp_path: Path, issue: str, ops: list[Operation], before: dict[str, str], after: dict[str, str]
) -> tuple[dict[str, bool], dict[str, bool], str]:
    """(results on the unpatched tree, results on the patched tree, module text)."""
    repo = tmp_path / "repo"
    write(repo, before)
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    spec = Spec("t", issue, tuple(ops))
    module = acceptance_module(issue, spec, list(digest.definitions()))
    sandbox = Sandbox(wall_s=60)
    first = run_acceptance(module, repo, sys.executable, sandbox)
    write(repo, after)
    second = run_acceptance(module, repo, sys.executable, sandbox)
    assert not first.error and not second.error, (first.error, second.error)
    pick = lambda r: {x.name: x.ok for x in r.results}  # noqa: E731
    return pick(first), pick(second), module.text


def test_a_session_a_request_leads_to_shows_the_result_it_wants() -> None:
    """ "Please add `conjunction` ... so that" introduces what the change should give."""
    issue = (
        'Please add an optional `conjunction` argument, defaulting to `"and"`, so that\n\n'
        '    >>> natural_list(["a", "b", "c"], conjunction="or")\n'
        "    'a, b or c'\n"
    )
    (session,) = sessions(issue)
    assert [(e.label, e.expected) for e in session.examples] == [("expected", "'a, b or c'")]


def test_sessions_are_labelled_by_the_prose_before_them() -> None:
    issue = textwrap.dedent(
        """\
        `tail(0, seq)` is wrong. Currently:

        >>> tail(0, [1, 2])
        [1, 2]

        It should give:

        >>> tail(0, [1, 2])
        []
        >>> tail(1, [1, 2])  # expected [2]

        >>> f(3)
        7
        """
    )
    found = sessions(issue)
    assert [e.label for s in found for e in s.examples] == [
        "wrong",
        "expected",
        "expected",
        "unclear",
    ]
    assert found[0].examples[0].wrong == "[1, 2]"
    assert found[1].examples[1].expected == "[2]"


def test_statements_found_by_meaning() -> None:
    says = Statements.of(
        "Rename `load` to `read`. Code that still calls `load` must not break; emit a "
        "DeprecationWarning. Passing `timeout` positionally should raise TypeError."
    )
    assert says.keeps_old("load") and says.deprecation("load")
    assert not says.keeps_old("other_name")
    assert says.positional_type_error()
    assert not Statements.of("Rename `load` to `read` everywhere.").keeps_old("load")
    no_alias = "Rename `load` to `read`. No need to keep `load` as a deprecated alias."
    assert not Statements.of(no_alias).keeps_old("load")


def test_coverage_missing_means_complete() -> None:
    spec = Spec("t", "x", (Operation("rename", "a.b", {"new_name": "c"}),))
    assert coverage_of(spec).complete
    partial = Spec(
        "t",
        "x",
        spec.operations,
        provenance={"coverage": {"complete": False, "uncovered": ["a.d"]}},
    )
    assert not coverage_of(partial).complete and coverage_of(partial).uncovered == ("a.d",)


RENAME_BEFORE = {
    "pkg/__init__.py": "",
    "pkg/core.py": '''
        def get_user(uid):
            """A user.

            >>> get_user(3)
            'user-3'
            """
            return f"user-{uid}"


        def helper():
            return 1
    ''',
}


def test_rename_with_deprecated_alias_and_doctests(tmp_path: Path) -> None:
    issue = (
        "Rename `get_user` to `fetch_user`. The old name must keep working for one release "
        "and emit a DeprecationWarning.\n\n>>> from pkg.core import fetch_user\n"
        ">>> fetch_user(2)\n'user-2'\n"
    )
    after = {
        "pkg/core.py": '''
            import warnings


            def fetch_user(uid):
                """A user.

                >>> fetch_user(3)
                'user-3'
                """
                return f"user-{uid}"


            def get_user(uid):
                warnings.warn("use fetch_user", DeprecationWarning, stacklevel=2)
                return fetch_user(uid)


            def helper():
                return 1
        '''
    }
    op = Operation("rename", "pkg.core.get_user", {"new_name": "fetch_user"})
    before, now, text = outcomes(tmp_path, issue, [op], RENAME_BEFORE, after)
    assert all(now.values()), now
    for name in (
        "test_postcondition_rename_get_user_new_name",
        "test_statement_rename_get_user_deprecation_warning",
        "test_postcondition_rename_get_user_doctests_in_get_user",
        "test_example_issue_example_1",
    ):
        assert before[name] is False, name
    assert before["test_statement_rename_get_user_old_name_kept"]  # true before, must stay
    assert "def test_statement_rename_get_user_deprecation_warning():" in text


def test_rename_that_takes_another_name_is_caught(tmp_path: Path) -> None:
    """The sentinel case: a plain rename that also renamed a sibling fails an invariant."""
    issue = "Rename `get_user` to `fetch_user` everywhere."
    wrong = {
        "pkg/core.py": "def fetch_user(uid):\n    return uid\n\n\ndef renamed():\n    return 1\n"
    }
    op = Operation("rename", "pkg.core.get_user", {"new_name": "fetch_user"})
    before, now, _ = outcomes(tmp_path, issue, [op], RENAME_BEFORE, wrong)
    assert before["test_postcondition_rename_get_user_old_name_gone"] is False
    assert now["test_postcondition_rename_get_user_old_name_gone"]
    assert now["test_postcondition_rename_pkg_core_get_user_fetch_user_others_intact"] is False


def test_bug_report_examples_expected_and_wrong(tmp_path: Path) -> None:
    issue = textwrap.dedent(
        """\
        `tail(0, seq)` returns the whole sequence:

        >>> from pkg.seq import tail
        >>> tail(0, [1, 2, 3])
        [1, 2, 3]

        It should return nothing:

        >>> tail(0, [1, 2, 3])
        []
        """
    )
    before = {"pkg/__init__.py": "", "pkg/seq.py": "def tail(n, seq):\n    return list(seq[-n:])\n"}
    after = {"pkg/seq.py": "def tail(n, seq):\n    return list(seq[-n:]) if n else []\n"}
    op = Operation("edit", "pkg.seq.tail", {})
    was, now, _ = outcomes(tmp_path, issue, [op], before, after)
    assert was == {
        "test_example_issue_example_1_not_wrong": False,
        "test_example_issue_example_2": False,
    }
    assert all(now.values()), now


def test_keyword_only_signature_and_positional_type_error(tmp_path: Path) -> None:
    issue = "Make every parameter after `value` of `naturalsize` keyword-only; positional use should raise TypeError."
    before = {
        "hz/__init__.py": "",
        "hz/size.py": "def naturalsize(value, binary=False, gnu=False):\n    return value\n",
    }
    after = {
        "hz/size.py": "def naturalsize(value, *, binary=False, gnu=False):\n    return value\n"
    }
    op = Operation("make_keyword_only", "hz.size.naturalsize", {"after": "value"})
    was, now, _ = outcomes(tmp_path, issue, [op], before, after)
    assert set(was.values()) == {False} and len(was) == 2
    assert all(now.values()), now


def test_move_symbol_same_object_and_all(tmp_path: Path) -> None:
    issue = "Move `parse` to `pkg.parsing` and add it to `__all__` there; `from pkg.util import parse` must give the very same object."
    before = {
        "pkg/__init__.py": "",
        "pkg/util.py": "def parse(x):\n    return int(x)\n",
        "pkg/parsing.py": "__all__ = []\n",
    }
    after = {
        "pkg/util.py": "from pkg.parsing import parse\n",
        "pkg/parsing.py": "__all__ = ['parse']\n\n\ndef parse(x):\n    return int(x)\n",
    }
    op = Operation("move_symbol", "pkg.util.parse", {"to_module": "pkg.parsing"})
    was, now, _ = outcomes(tmp_path, issue, [op], before, after)
    assert was["test_postcondition_move_parse_defined"] is False
    assert was["test_statement_move_parse_in_all"] is False
    assert was["test_postcondition_move_parse_old_path_same_object"] is False
    assert all(now.values()), now


def test_added_parameter_must_be_used_and_docstring_names_parameters(tmp_path: Path) -> None:
    issue = (
        "Add a `timeout` parameter (default `None`) to `fetch` and pass it on. "
        "Also document `fetch`: describe every parameter. Add a function `ping` to `net.api`, "
        "exported in `__all__`."
    )
    before = {
        "net/__init__.py": "",
        "net/api.py": "__all__ = ['fetch']\n\n\ndef fetch(url):\n    return url\n",
    }
    half = {
        "net/api.py": "__all__ = ['fetch']\n\n\ndef fetch(url, timeout=None):\n    '''Fetch.'''\n    return url\n"
    }
    done = {
        "net/api.py": "__all__ = ['fetch', 'ping']\n\n\n"
        "def fetch(url, timeout=None):\n    '''Fetch url, waiting at most timeout seconds.'''\n"
        "    return (url, timeout)\n\n\ndef ping():\n    return True\n"
    }
    ops = [
        Operation("add_parameter", "net.api.fetch", {"name": "timeout", "default": "None"}),
        Operation("add_docstring", "net.api.fetch", {}),
        Operation("add_function", "net.api", {"name": "ping"}),
    ]
    was, partial, _ = outcomes(tmp_path, issue, ops, before, half)
    assert set(was.values()) == {False}, was
    assert partial["test_postcondition_add_parameter_timeout"]
    assert partial["test_postcondition_add_parameter_timeout_used"] is False
    assert partial["test_statement_docstring_net_api_fetch_names_parameters"] is False
    write(tmp_path / "repo", done)
    digest = RepositoryDigest.build(tmp_path / "repo", tmp_path / "cache2")
    module = acceptance_module(issue, Spec("t", issue, tuple(ops)), list(digest.definitions()))
    report = run_acceptance(module, tmp_path / "repo", sys.executable, Sandbox(wall_s=60))
    assert report.ok, report.message()


@pytest.mark.parametrize("idiom", ["fstring"])
def test_modernize_leaves_no_old_idiom(tmp_path: Path, idiom: str) -> None:
    issue = "Use f-strings in `pkg.fmt` instead of % formatting."
    before = {
        "pkg/__init__.py": "",
        "pkg/fmt.py": "def a(x):\n    return f'{x}'\n\n\ndef b(x):\n    return '%s!' % x\n",
    }
    after = {"pkg/fmt.py": "def a(x):\n    return f'{x}'\n\n\ndef b(x):\n    return f'{x}!'\n"}
    was, now, _ = outcomes(
        tmp_path, issue, [Operation("modernize", "pkg.fmt", {"idiom": idiom})], before, after
    )
    assert set(was.values()) == {False} and all(now.values())


def test_method_rename_and_class_annotations(tmp_path: Path) -> None:
    issue = "Rename the method `Store.load` to `fetch`, and add type hints to `Store`."
    before = {
        "pkg/__init__.py": "",
        "pkg/store.py": '''
            class Base:
                def load(self, key):
                    return None


            class Store(Base):
                def load(self, key):
                    """Load.

                    >>> Store().load(1)
                    1
                    """
                    return key
        ''',
    }
    after = {
        "pkg/store.py": '''
            class Base:
                def load(self, key):
                    return None


            class Store(Base):
                def fetch(self, key: int) -> int:
                    """Load.

                    >>> Store().fetch(1)
                    1
                    """
                    return key
        '''
    }
    ops = [
        Operation("rename", "pkg.store.Store.load", {"new_name": "fetch"}),
        Operation("add_annotations", "pkg.store.Store", {}),
    ]
    was, now, _ = outcomes(tmp_path, issue, ops, before, after)
    assert was == {
        "test_postcondition_rename_load_new_name": False,
        "test_postcondition_rename_load_old_name_gone": False,  # Base.load does not count
        "test_postcondition_rename_load_doctests_in_load": False,
        "test_postcondition_annotations_pkg_store_store": False,
    }
    assert all(now.values()), now


def test_calls_the_issue_states_in_prose(tmp_path: Path) -> None:
    issue = (
        "`parse(',1')` currently returns `[1]`, but it should raise `ValueError`. "
        "And `tail(0, [1, 2])` should return `[]`. "
        "Calling `naturalsize(1, True)` should raise TypeError once `binary` is keyword-only."
    )
    before = {
        "pkg/__init__.py": "",
        "pkg/seq.py": "def parse(s):\n    return [int(x) for x in s.split(',') if x]\n\n\n"
        "def tail(n, seq):\n    return list(seq[-n:])\n\n\n"
        "def naturalsize(value, binary=False):\n    return value\n",
    }
    after = {
        "pkg/seq.py": "def parse(s):\n    return [int(x) for x in s.split(',')]\n\n\n"
        "def tail(n, seq):\n    return list(seq[-n:]) if n else []\n\n\n"
        "def naturalsize(value, *, binary=False):\n    return value\n"
    }
    ops = [Operation("edit", "pkg.seq.parse", {}), Operation("edit", "pkg.seq.tail", {})]
    was, now, text = outcomes(tmp_path, issue, ops, before, after)
    assert len(was) == 3 and set(was.values()) == {False}, was
    assert all(now.values()), now
    assert "raises(\"parse(',1')\", 'ValueError', {'parse': 'pkg.seq.parse'})" in text


def test_an_example_that_cannot_run_on_either_tree_does_not_apply(tmp_path: Path) -> None:
    issue = "`double` is wrong. It should give:\n\n>>> undefined_helper(2)\n4\n>>> double(2)\n4\n"
    before = {"pkg/__init__.py": "", "pkg/m.py": "def double(x):\n    return x + 1\n"}
    after = {"pkg/m.py": "def double(x):\n    return x * 2\n"}
    repo = tmp_path / "repo"
    write(repo, before)
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    spec = Spec("t", issue, (Operation("edit", "pkg.m.double", {}),))
    module = acceptance_module(issue, spec, list(digest.definitions()))
    first = run_acceptance(module, repo, sys.executable, Sandbox(wall_s=60))
    write(repo, after)
    second = run_acceptance(module, repo, sys.executable, Sandbox(wall_s=60))
    assert not second.ok  # on its own the example fails (NameError) …
    judged = second.with_before(first)
    assert judged.ok and not judged.results[0].applies  # … but it never could run


def test_rename_keeps_all_in_step_and_extracted_helper_exists(tmp_path: Path) -> None:
    issue = "Rename `get_user` to `fetch_user`, and pull the shared formatting into `_fmt`."
    before = {
        "pkg/__init__.py": "",
        "pkg/core.py": "__all__ = ['get_user']\n\n\ndef get_user(uid):\n    return f'user-{uid}'\n",
    }
    stale = {
        "pkg/core.py": "__all__ = ['get_user']\n\n\ndef fetch_user(uid):\n    return f'user-{uid}'\n"
    }
    ops = [
        Operation("rename", "pkg.core.get_user", {"new_name": "fetch_user"}),
        Operation("extract_helper", "pkg.core", {"name": "_fmt"}),
    ]
    was, now, _ = outcomes(tmp_path, issue, ops, before, stale)
    assert was["test_postcondition_rename_get_user_in_all"] is False
    assert now["test_postcondition_rename_get_user_in_all"] is False  # __all__ left behind
    assert now["test_postcondition_helper__fmt"] is False


def test_what_an_issue_keeps_is_not_called_wrong() -> None:
    """Behaviour shown without saying it is wrong stays unchecked ("keep raising as today")."""
    issue = (
        "What `nth` raises depends on the input type:\n\n>>> nth(5, [1, 2])\n"
        "IndexError: list index out of range\n\nWhen omitted, keep raising as today.\n"
        "Repro of the other bug:\n\n>>> fold(add, [], 0)\nRecursionError: maximum recursion\n"
    )
    assert [e.label for s in sessions(issue) for e in s.examples] == ["unclear", "wrong"]
    calls = stated_calls("Expected: `fold(add, [], 0)` returns `0`. Today `g(1)` returns `3`.")
    assert [(c.call, c.kind, c.value) for c in calls] == [("fold(add, [], 0)", "returns", "0")]
    assert not Statements.of("Same class of bug; it does the same thing.").same_object()
    assert Statements.of("It must be the very same function object.").same_object()


def test_a_bug_reports_descriptive_intro_marks_the_output_wrong() -> None:
    issue = (
        "`tail(0, seq)` returns the whole sequence\n\n```python\n>>> tail(0, [1, 2])\n[1, 2]\n```\n"
    )
    assert [e.label for s in sessions(issue, bug_report=True) for e in s.examples] == ["wrong"]
    assert [e.label for s in sessions(issue) for e in s.examples] == ["unclear"]


def test_model_written_behaviour_nothing_checks_is_unverified() -> None:
    from agent.acceptance.module import AcceptanceReport, CheckResult
    from agent.run.verdict import unchecked_behaviour, verdict_of

    spec = Spec("i", "make it faster", (Operation("edit", "m.f"),))
    post = CheckResult("f_exists", "postcondition", "f exists", True)
    only_post = AcceptanceReport((post,))
    coverage = coverage_of(spec)
    unchecked = unchecked_behaviour(spec, only_post)
    assert unchecked == ["edit m.f"]
    verdict = verdict_of(True, coverage, only_post, unchecked)
    assert verdict.status == "unverified" and "nothing in the issue could be run" in verdict.why
    example = CheckResult("ex", "example", "the issue's example", True)
    assert unchecked_behaviour(spec, AcceptanceReport((post, example))) == []
    changed = CheckResult("test_example_issue_example_1_not_wrong", "example", "no longer", True)
    assert unchecked_behaviour(spec, AcceptanceReport((post, changed))) == ["edit m.f"]
    templated = Spec("i", "x", (Operation("add_method", "m.C", {"name": "__repr__"}),))
    assert unchecked_behaviour(templated, only_post) == []  # a template is not free code
    # behaviour the issue says must stay (its checks pass before and after) is confirmed
    held = CheckResult("ex", "example", "the issue's example", True, before=True)
    statement = CheckResult("raises", "statement", "should raise", True, before=True)
    assert unchecked_behaviour(spec, AcceptanceReport((post, held, statement))) == []
    # where the issue shows behaviour that must change, a check the untouched code passed
    # already cannot tell the change from no change
    gone = CheckResult("test_example_issue_example_2_not_wrong", "example", "", True, before=False)
    report = AcceptanceReport((post, held, statement, gone))
    assert unchecked_behaviour(spec, report) == ["edit m.f"]
    why = verdict_of(True, coverage, report, unchecked_behaviour(spec, report)).why
    assert "that the code before the change did not already give" in why
    shown = CheckResult("ex2", "example", "the issue's example", True, before=False)
    assert unchecked_behaviour(spec, AcceptanceReport((post, held, gone, shown))) == []


def test_a_failed_example_reads_as_call_got_and_expected(tmp_path: Path) -> None:
    from agent.acceptance.module import concise

    (tmp_path / "m.py").write_text("def tail(n, seq):\n    return list(seq[-n:])\n")
    issue = "tail(0, seq) is wrong; it should give:\n\n>>> from m import tail\n>>> tail(0, [1, 2])\n[]\n"
    spec = Spec("t", issue, (Operation("edit", "m.tail"),))
    digest = RepositoryDigest.build(tmp_path, tmp_path / ".cache")
    module = acceptance_module(issue, spec, list(digest.definitions()))
    report = run_acceptance(module, tmp_path, sys.executable, Sandbox())
    failed = [r for r in report.results if not r.ok]
    assert (
        failed
        and concise(failed[0].message) == "`tail(0, [1, 2])` returned `[1, 2]`, expected `[]`"
    )
    assert "returned `[1, 2]`, expected `[]`" in report.message()


def test_a_bare_literal_that_ends_the_clause_is_a_stated_result() -> None:
    calls = stated_calls(
        "So `clamp(-5, 0, 10)` should return 0. And `f(x)` should be 3 times faster."
    )
    assert [(c.call, c.kind, c.value) for c in calls] == [("clamp(-5, 0, 10)", "returns", "0")]
