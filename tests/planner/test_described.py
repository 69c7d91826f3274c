"""Definitions an issue describes inside a module or class it names (``described_within``)."""

from __future__ import annotations

from pathlib import Path

from planner.described import described_within
from planner.digest import RepositoryDigest
from planner.exclusions import left_alone
from planner.ground import ground

COMPAT = '''import re

_ansi_re = re.compile(r"\\033\\[[;?0-9]*[a-zA-Z]")


def term_len(x):
    return len(strip_ansi(x))


def strip_ansi(value):
    return _ansi_re.sub("", value)


def should_strip_ansi(stream=None, color=None):
    if color is None:
        return not isatty(stream)
    return not color


def isatty(stream):
    return stream.isatty()


def open_stream(filename, mode="r", encoding=None):
    return open(filename, mode, encoding=encoding)


class Wrapper:
    """Wraps text."""

    def extra_indent(self, indent):
        self.indent = indent

    def indent_only(self, text):
        return text

    def wrap_words(self, words):
        return words
'''


def digest_of(tmp_path: Path) -> RepositoryDigest:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "compat.py").write_text(COMPAT)
    return RepositoryDigest.build(root, tmp_path / "cache")


def described(text: str, digest: RepositoryDigest) -> list[str]:
    g = ground(text, digest)
    after = described_within(g, digest, left_alone(g))
    assert after.symbols[: len(g.symbols)] == g.symbols, "nothing grounded is lost"
    return [s.qualname for s in after.symbols[len(g.symbols) :]]


def test_functions_described_in_a_named_module_join_the_grounding(tmp_path: Path) -> None:
    digest = digest_of(tmp_path)
    issue = (
        "Two functions in pkg/compat.py lack docstrings: the helper that removes ANSI escape "
        "sequences from a string, and the one that decides for a stream and a color setting "
        "whether to strip them. `term_len` is fine, leave it alone."
    )
    found = described(issue, digest)
    assert found[:2] == ["pkg.compat.should_strip_ansi", "pkg.compat.strip_ansi"]
    assert "pkg.compat.open_stream" not in found and "pkg.compat.term_len" not in found
    g = ground(issue, digest)
    assert described_within(g, digest) == g, "`term_len` named inside: only fenced, it is not"
    strengths = {s.qualname: s.strength for s in described_within(g, digest, left_alone(g)).symbols}
    assert strengths["pkg.compat.strip_ansi"] == 1.0, "a candidate, never a target to cover"


def test_a_named_class_is_a_target_itself_its_members_are_not_searched(tmp_path: Path) -> None:
    digest = digest_of(tmp_path)
    issue = "The two indentation helpers of `Wrapper` in pkg/compat.py need docstrings."
    assert described(issue, digest) == []


def test_a_scope_whose_definitions_the_issue_names_adds_nothing(tmp_path: Path) -> None:
    digest = digest_of(tmp_path)
    issue = "In pkg/compat.py, `strip_ansi` should also remove OSC sequences from the stream."
    assert described(issue, digest) == []


def test_the_planner_asks_for_descriptions_only_when_it_has_module_changes_alone(
    tmp_path: Path,
) -> None:
    from cores.llm_scripted import ScriptedLLM
    from planner.decide import GroundedPlanner

    digest = digest_of(tmp_path)
    planner = GroundedPlanner(ScriptedLLM([]), digest, repo=tmp_path / "repo")
    issue = (
        "Two functions in pkg/compat.py have no docstring: the helper that removes ANSI "
        "escape sequences, and the one that decides whether a stream should be stripped."
    )
    _, pool, _ = planner._grounded_pool(issue)
    docs = {p.operation.target for p in pool if p.operation.op == "add_docstring"}
    assert {"pkg.compat.strip_ansi", "pkg.compat.should_strip_ansi"} <= docs
    # a named function gives candidates of its own: nothing described is added
    _, pool, _ = planner._grounded_pool("`isatty` in pkg/compat.py needs a docstring.")
    assert {p.operation.target for p in pool if p.operation.op == "add_docstring"} == {
        "pkg.compat.isatty"
    }
