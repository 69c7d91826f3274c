"""The result a bug report asks for, read from its words by the model.

The voting and parsing run with the scripted backend (control flow); the reading itself
runs with the real 1.5B model on a small issue; the check it yields runs in the real
sandbox on a real repository, failing on the buggy tree and passing on the fixed one.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent.acceptance import acceptance_module, run_acceptance
from agent.acceptance.checks import shows_only_a_change
from agent.acceptance.infer import Inferred, infer_expected, literal_answer, open_questions
from agent.run.verdict import unchecked_behaviour
from agent.verify.sandbox import Sandbox
from cores.llm_scripted import ScriptedLLM
from planner.digest import RepositoryDigest
from planner.spec import Operation, Spec

ISSUE = textwrap.dedent(
    """\
    `chunks` drops the last partial chunk

    ```
    >>> from mylib import chunks
    >>> chunks([1, 2, 3, 4, 5], 2)
    [[1, 2], [3, 4]]
    ```

    The trailing 5 is lost. Every item should end up in some chunk: the last chunk may be
    shorter than the others.
    """
)
BUGGY = textwrap.dedent(
    """\
    def chunks(items, size):
        return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]
    """
)
FIXED = textwrap.dedent(
    """\
    def chunks(items, size):
        return [items[i : i + size] for i in range(0, len(items), size)]
    """
)
ANSWER = "Rule: Every item should end up in some chunk.\nValue: [[1, 2], [3, 4], [5]]"


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("Rule: the result should be empty\nValue: []", "[]"),
        ("Value: `[4]`.", "[4]"),
        ("Value: 'a-b'", "'a-b'"),
        ("[1, 2]", "[1, 2]"),
        ("Rule: NONE\nValue: UNKNOWN", None),
        ("Value: an empty list", None),
        ("Value: >>> chunks(x)", None),
        ("", None),
    ],
)
def test_only_a_python_literal_is_an_answer(reply: str, value: str | None) -> None:
    assert literal_answer(reply) == value


def test_the_questions_are_the_calls_shown_without_an_expected_output() -> None:
    issue = ISSUE + "\nIt should give:\n\n>>> chunks([1, 2, 3], 2)\n[[1, 2], [3]]\n"
    asked = open_questions(issue)
    # the import is no expression; the call whose expected output is shown is answered
    assert [e.source for _, e in asked] == ["chunks([1, 2, 3, 4, 5], 2)"]
    assert asked[0][1].wrong == "[[1, 2], [3, 4]]"
    assert open_questions("Please document `chunks`.") == []


def test_every_sample_must_agree_and_differ_from_the_wrong_output() -> None:
    agreed = infer_expected(ISSUE, ScriptedLLM([ANSWER] * 3))
    assert [i.expected for i in agreed] == ["[[1, 2], [3, 4], [5]]"]
    assert agreed[0].usable and agreed[0].votes == 3

    split = infer_expected(ISSUE, ScriptedLLM([ANSWER, ANSWER, "Value: [[1, 2], [3, 4, 5]]"]))
    assert split[0].expected is None and not split[0].usable

    same = infer_expected(ISSUE, ScriptedLLM(["Value: [[1, 2], [3, 4]]"] * 3))
    assert same[0].expected == "[[1, 2], [3, 4]]" and not same[0].usable  # shown, not wrong

    unknown = infer_expected(ISSUE, ScriptedLLM(["Rule: NONE\nValue: UNKNOWN"] * 3))
    assert not unknown[0].usable


def test_a_model_that_fails_leaves_the_question_open() -> None:
    found = infer_expected(ISSUE, ScriptedLLM([ANSWER]))  # runs out after the greedy answer
    assert len(found) == 1 and not found[0].usable


def test_the_model_is_loaded_only_when_there_is_a_question() -> None:
    def factory() -> ScriptedLLM:
        raise AssertionError("loaded without a question")

    assert infer_expected("Please document `chunks`.", factory) == []
    assert infer_expected(ISSUE, lambda: ScriptedLLM([ANSWER] * 3))[0].usable


def test_the_read_value_is_a_check_that_fails_before_and_passes_after(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "mylib").mkdir(parents=True)
    (repo / "mylib" / "__init__.py").write_text(BUGGY)
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    spec = Spec("t", ISSUE, (Operation("edit", "mylib.chunks"),))
    inferred = infer_expected(ISSUE, ScriptedLLM([ANSWER] * 3))
    module = acceptance_module(ISSUE, spec, list(digest.definitions()), inferred)
    read = [c for c in module.checks if c.name.endswith("as_read")]
    assert len(read) == 1 and not shows_only_a_change(read[0].name)
    assert "read from the issue's words, 3/3 samples" in read[0].doc
    sandbox = Sandbox(wall_s=60)
    before = run_acceptance(module, repo, sys.executable, sandbox)
    assert [r.ok for r in before.results if r.name == read[0].name] == [False]
    # `return []` no longer gives the wrong output, but is not what the issue's words ask
    (repo / "mylib" / "__init__.py").write_text("def chunks(items, size):\n    return []\n")
    lazy = run_acceptance(module, repo, sys.executable, sandbox)
    assert [r.ok for r in lazy.results if r.name == read[0].name] == [False]
    (repo / "mylib" / "__init__.py").write_text(FIXED)
    after = run_acceptance(module, repo, sys.executable, sandbox)
    assert after.ok, after.message()
    # a value the model read steers the drafts but is not the issue's own: the edit stays
    # unchecked, and the verdict says what it does give
    assert unchecked_behaviour(spec, after) == ["edit mylib.chunks"]
    from agent.acceptance import coverage_of
    from agent.run.verdict import verdict_of

    verdict = verdict_of(True, coverage_of(spec), after, unchecked_behaviour(spec, after))
    assert verdict.status == "unverified"
    assert "the values the model read from the issue's words" in verdict.why


def test_without_a_read_value_the_edit_stays_unchecked(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "mylib").mkdir(parents=True)
    (repo / "mylib" / "__init__.py").write_text(FIXED)
    digest = RepositoryDigest.build(repo, tmp_path / "cache")
    spec = Spec("t", ISSUE, (Operation("edit", "mylib.chunks"),))
    unread = [Inferred("chunks([1, 2, 3, 4, 5], 2)", "[[1, 2], [3, 4]]", None, 1, 3)]
    module = acceptance_module(ISSUE, spec, list(digest.definitions()), unread)
    assert not [c for c in module.checks if c.name.endswith("as_read")]
    report = run_acceptance(module, repo, sys.executable, Sandbox(wall_s=60))
    assert unchecked_behaviour(spec, report) == ["edit mylib.chunks"]


def test_the_real_model_reads_the_rule_of_a_small_bug_report(quality_gguf: Path) -> None:
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    llm = LlamaCppLLM(quality_gguf, model_id="quality", settings=LlamaCppSettings(n_ctx=2048))
    try:
        found = infer_expected(ISSUE, llm)
    finally:
        llm.close()
    assert [i.expected for i in found] == ["[[1, 2], [3, 4], [5]]"]
    assert found[0].usable
