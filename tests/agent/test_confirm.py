"""The user in the loop: the plan in plain words; go on / edit in $EDITOR / stop."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from agent.run.confirm import Confirmer, plan_in_words
from planner.digest import RepositoryDigest
from planner.spec import Operation, Spec


def test_plain_words_per_operation() -> None:
    op = Operation("make_keyword_only", "humanize.filesize.naturalsize", {"after": "value"})
    assert op.plain() == (
        "make every parameter after `value` of `humanize.filesize.naturalsize` keyword-only"
    )
    assert Operation("make_keyword_only", "m.f", {"names": ["a", "b"]}).plain() == (
        "make `a` and `b` of `m.f` keyword-only"
    )
    assert Operation("rename", "m.f", {"new_name": "g"}).plain().startswith("rename `m.f` to `g`")
    move = Operation("move_symbol", "m.f", {"to_module": "n"})
    assert move.plain() == "move `m.f` to `n`, re-exporting it from where it was"


def test_plan_names_what_coverage_leaves_out() -> None:
    spec = Spec(
        "t",
        "x",
        (Operation("rename", "m.f", {"new_name": "g"}),),
        provenance={"coverage": {"complete": False, "uncovered": ["m.h"]}},
    )
    text = plan_in_words(spec)
    assert "1. rename `m.f` to `g`" in text and "does not cover: m.h" in text


@pytest.fixture()
def digest(git_repo: Path, tmp_path: Path) -> RepositoryDigest:
    return RepositoryDigest.build(git_repo, tmp_path / "cache")


SPEC = Spec("t", "rename greet", (Operation("rename", "pkg.core.greet", {"new_name": "hello"}),))


def ask(
    digest: RepositoryDigest, answers: str, editor: str | None = None
) -> tuple[Spec | None, str]:
    said: list[str] = []
    confirm = Confirmer(
        digest, ask=True, say=said.append, stdin=io.StringIO(answers), editor=editor
    )
    return confirm(SPEC), "\n".join(said)


def test_go_on_and_stop(digest: RepositoryDigest) -> None:
    spec, said = ask(digest, "g\n")
    assert spec == SPEC and "rename `pkg.core.greet` to `hello`" in said
    assert ask(digest, "s\n")[0] is None
    assert ask(digest, "")[0] is None  # end of input stops: nothing is drafted unasked


def test_edit_the_spec_in_the_editor(digest: RepositoryDigest, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/new_name: hello/new_name: salute/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    spec, said = ask(digest, "e\ng\n", editor=str(editor))
    assert spec is not None and spec.operations[0].params["new_name"] == "salute"
    assert said.count("autopatch understood the issue as:") == 2
    assert "to `salute`" in said


def test_a_broken_edit_keeps_the_plan(digest: RepositoryDigest, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/pkg.core.greet/pkg.core.nothere/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    spec, said = ask(digest, "e\ng\n", editor=str(editor))
    assert spec == SPEC and "the edited spec was not used" in said


def test_yes_only_states_the_plan(digest: RepositoryDigest) -> None:
    said: list[str] = []
    assert Confirmer(digest, ask=False, say=said.append)(SPEC) == SPEC
    assert len(said) == 1 and os.linesep not in said[0][:5]
