"""The sampler of model-written phases: control flow with the scripted backend, the drafter's
never-the-same-prompt rule, and the real 0.5B fixing one small real bug."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agent.draft import Draft, Drafter
from agent.run.budget import Budget, Spend
from agent.run.sampler import slots_key
from agent.run.trial import Score
from cores.llm_scripted import ScriptedLLM
from planner.digest import RepositoryDigest
from planner.phases import Phase
from planner.spec import Operation
from tests.agent.test_fix_cli import GIT_ENV, fix, memory, shop, snapshot  # noqa: F401

ISSUE = "`Cart.total` is slow"
NO_SPEC = "-"  # the LLM spec backend's turn: unusable, so the planner falls back to an edit


def edit(line: str) -> str:
    return (
        "```python\ndef total(self, tax=TAX_RATE):\n"
        f"    {line}\n"
        "    return calc_total([p * q for p, q in self.items.values()], tax)\n```"
    )


def run(repo: Path, replies: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    return fix(
        repo,
        ISSUE,
        "--apply",
        "--accept-unverified",  # the issue states nothing to run: an honest "unverified"
        "--max-repairs",
        "0",
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={json.dumps([NO_SPEC, *replies])}",
        *extra,
    )


def drafts_of(repo: Path) -> list[dict]:
    return [a for a in memory(repo, "attempts.jsonl") if a.get("phase") == "01_edit"]


def test_an_identical_draft_is_not_run_again_and_a_fresh_sample_follows(shop: Path) -> None:  # noqa: F811
    broken = edit("undefined_helper()")
    same = broken.replace("undefined_helper()", "undefined_helper( )")  # the same code
    good = edit("pass")
    out = run(shop, [broken, same, good], "--candidates", "3")
    assert out.returncode == 3, out.stderr
    assert "nothing in the issue could be run to confirm" in out.stderr
    outcomes = [a["outcome"] for a in drafts_of(shop)]
    assert outcomes == ["failed", "repeated", "validated"]
    third = drafts_of(shop)[2]
    assert third["role"] == "slot" and third["params"]["temperature"] > 0  # a fresh sample


def test_the_budget_ends_the_phase_and_nothing_lands(shop: Path) -> None:  # noqa: F811
    before = snapshot(shop)
    out = run(
        shop,
        [edit("undefined_a()"), edit("undefined_b()"), edit("lines = 1")],
        "--phase-calls",
        "2",
    )
    assert out.returncode == 1
    assert "budget spent (2 model call(s))" in out.stderr
    assert [a["outcome"] for a in drafts_of(shop)] == ["failed", "failed"]
    assert snapshot(shop) == before


def test_a_draft_that_breaks_a_related_test_never_wins(shop: Path) -> None:  # noqa: F811
    """The related tests are part of the phase's oracle: a draft that applies cleanly but
    changes the total is sent back with the failing test, and the next draft wins."""
    wrong = (
        "```python\ndef total(self, tax=TAX_RATE):\n"
        "    return calc_total([p for p, q in self.items.values()], tax)\n```"
    )
    right = edit("pass")
    out = run(shop, [wrong, right], "--candidates", "2")
    assert out.returncode == 3, out.stderr
    drafts = drafts_of(shop)
    assert [a["outcome"] for a in drafts] == ["failed", "validated"]
    assert "related_tests" in drafts[1]["messages"][-1]["content"]


def _drafter(tmp_path: Path, replies: list[str]) -> tuple[Drafter, Phase, ScriptedLLM]:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text("def f(x):\n    return x\n")
    digest = RepositoryDigest.build(tmp_path, tmp_path / ".cache")
    llm = ScriptedLLM(replies)
    drafter = Drafter(llm, tmp_path, digest, issue="f(1) should return 2")
    phase = Phase("01_edit", Operation("edit", "pkg.m.f"), ("pkg/m.py",))
    return drafter, phase, llm


def test_the_drafter_never_sends_the_same_prompt_twice(tmp_path: Path) -> None:
    reply = "```python\ndef f(x):\n    return x + 1\n```"
    drafter, phase, llm = _drafter(tmp_path, [reply, reply])
    files = {"pkg/m.py": (tmp_path / "pkg" / "m.py").read_text()}
    drafter.draft(phase, files, temperature=0.0)
    drafter.draft(phase, files, temperature=0.0)
    (m1, p1), (m2, p2) = llm.calls
    assert [m.content for m in m1] == [m.content for m in m2]
    assert p1.temperature == 0.0 and p2.temperature > 0 and p1.seed != p2.seed


def test_localized_facts_and_the_rewrite_cap_reach_the_model(tmp_path: Path) -> None:
    drafter, phase, llm = _drafter(tmp_path, ["```python\ndef f(x):\n    return x + 1\n```"])
    drafter.facts = "What the issue's examples give on the current code:\n>>> f(1)\n1"
    draft = drafter.draft(phase, {"pkg/m.py": "def f(x):\n    return x\n"})
    ((messages, params),) = llm.calls
    assert ">>> f(1)\n1" in messages[-1].content
    assert params.copies_input and params.max_tokens < drafter.max_tokens  # capped by the node
    assert draft.slots["source"].strip().endswith("return x + 1")


def test_drafts_are_compared_by_their_code_and_ranked_by_their_checks() -> None:
    op = Operation("edit", "pkg.m.f")
    a = Draft("01", op, {"source": "def f(x):\n    return x+1\n"}, "01.py", "")
    b = Draft("01", op, {"source": "def f(x):\n    return (x + 1)  # same\n"}, "01.py", "")
    assert slots_key(a) == slots_key(b)
    breaks_tests = Score(applied=True, tests=False, accepted=5)
    passes_some = Score(applied=True, accepted=1, complete=False)
    assert passes_some.key() > breaks_tests.key()
    assert passes_some.usable and not passes_some.passes and not breaks_tests.usable
    assert (
        Score(applied=True, accepted=1, size=10).key()
        > Score(applied=True, accepted=1, size=90).key()
    )


def test_a_budget_tells_what_is_spent() -> None:
    budget = Budget(drafts=2, calls=10, seconds=60)
    spend = Spend(budget, drafts=2)
    assert spend.exhausted() == "2 draft(s)"
    assert Spend(budget, drafts=1, calls=3, seconds=61).exhausted() == "60 s"
    with pytest.raises(ValueError):
        Budget(drafts=0)


BUGGY = '''\
def clamp(value, low, high):
    """Limit ``value`` to the range from ``low`` to ``high``."""
    if value < low:
        return high
    if value > high:
        return high
    return value
'''


@pytest.mark.slow
def test_the_real_default_model_fixes_a_small_real_bug(tmp_path: Path) -> None:
    repo = tmp_path / "proj"
    (repo / "num").mkdir(parents=True)
    (repo / "num" / "__init__.py").write_text("")
    (repo / "num" / "bounds.py").write_text(BUGGY)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_bounds.py").write_text(
        "from num.bounds import clamp\n\n\ndef test_inside():\n    assert clamp(5, 0, 10) == 5\n"
    )
    env = {**os.environ, **GIT_ENV}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    issue = (
        "clamp() returns the upper bound for values below the range\n\n"
        "```python\n>>> from num.bounds import clamp\n>>> clamp(-5, 0, 10)\n10\n```\n\n"
        "A value below `low` should give `low`, so `clamp(-5, 0, 10)` should return 0."
    )
    out = fix(repo, issue, "--apply", "--yes", "--spec-llm", "never", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "validated"
    check = subprocess.run(
        ["python", "-c", "from num.bounds import clamp; print(clamp(-5, 0, 10), clamp(50, 0, 10))"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.split() == ["0", "10"]
    calls = [a for a in memory(repo, "attempts.jsonl") if a.get("role") in ("slot", "repair")]
    assert calls and all(a["model_id"].startswith("default@") for a in calls)


def test_an_alternate_model_answers_when_asked(tmp_path: Path) -> None:
    drafter, phase, llm = _drafter(tmp_path, ["```python\ndef f(x):\n    return x + 1\n```"])
    other = ScriptedLLM(["```python\ndef f(x):\n    return x + 2\n```"], model_id="other")
    drafter.alternate = other
    files = {"pkg/m.py": "def f(x):\n    return x\n"}
    first = drafter.draft(phase, files)
    second = drafter.draft(phase, files, alternate=True)
    assert len(llm.calls) == 1 and len(other.calls) == 1
    assert second.calls[0].model_id == "other" and "x + 2" in second.slots["source"]
    assert first.calls[0].model_id == "scripted"
