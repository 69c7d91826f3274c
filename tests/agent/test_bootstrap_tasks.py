"""Bootstrap tasks from a small real repository: generated, verified by running its tests,
solved through the real ``fix`` pipeline, remembered as synthetic."""

from __future__ import annotations

import ast
import difflib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import AppConfig
from agent.learn.generate import GenerateOptions, bug_report, generate
from agent.learn.mutants import mutants
from agent.learn.solve import SolveOptions, Solver, check_answer
from agent.learn.tasks import KINDS, Task, leaks
from agent.verify.sandbox import Sandbox
from cores.llm_scripted import ScriptedLLM
from cores.types import LLMConfig
from memory.export import ExportOptions, export_datasets
from memory.store import Memory
from tests.agent.bootstrap_repo import MODULE, make_repo


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Task], dict[str, int]]:
    root = tmp_path_factory.mktemp("bootstrap")
    repo = make_repo(root)
    tasks, rejected = generate(
        repo, sys.executable, Sandbox(), root / "work", GenerateOptions(max_tasks=30, seconds=300)
    )
    return repo, tasks, rejected


def _pytest(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def _with_files(repo: Path, where: Path, files: dict[str, str]) -> Path:
    shutil.copytree(repo, where, ignore=shutil.ignore_patterns(".git"))
    for rel, text in files.items():
        (where / rel).write_text(text)
    return where


def test_every_kind_is_generated(made: tuple[Path, list[Task], dict[str, int]]) -> None:
    _, tasks, _ = made
    assert {t.kind for t in tasks} == set(KINDS)
    assert len({t.task_id for t in tasks}) == len(tasks)
    for task in tasks:
        assert Task.from_dict(json.loads(json.dumps(task.to_dict()))) == task


def test_mutants_fail_and_the_original_passes(
    made: tuple[Path, list[Task], dict[str, int]], tmp_path: Path
) -> None:
    repo, tasks, rejected = made
    fixes = [t for t in tasks if t.kind == "fix"]
    assert len(fixes) >= 2
    assert _pytest(repo).returncode == 0  # the original passes
    for i, task in enumerate(fixes):
        mutated = _with_files(repo, tmp_path / f"m{i}", dict(task.files))
        out = _pytest(mutated)
        assert out.returncode != 0, task.detail  # the mutant fails the repo's own tests
        assert task.failing and task.failing[0] in out.stdout
        assert task.files[task.path] != MODULE
    # mutants the tests do not catch were tried and rejected, not kept
    assert any(k.startswith("fix: the mutant passes") for k in rejected) or len(fixes) > 2


def test_other_kinds_start_from_a_passing_repo(
    made: tuple[Path, list[Task], dict[str, int]], tmp_path: Path
) -> None:
    repo, tasks, _ = made
    for kind in ("docstring", "annotate", "rename", "keyword_only"):
        task = next(t for t in tasks if t.kind == kind)
        assert _pytest(_with_files(repo, tmp_path / kind, dict(task.files))).returncode == 0


def test_no_task_leaks_its_answer(made: tuple[Path, list[Task], dict[str, int]]) -> None:
    _, tasks, _ = made
    original = ast.parse(MODULE)
    bodies = {
        n.name: ast.get_source_segment(MODULE, n) or ""
        for n in original.body
        if isinstance(n, ast.FunctionDef)
    }
    for task in tasks:
        name = task.function.rsplit(".", 1)[-1]
        assert f"`{name}`" in task.issue or f"`{task.answer.get('old')}`" in task.issue
        if task.kind == "docstring":
            assert task.answer["docstring"] not in task.issue
            assert leaks(task.issue, [task.answer["docstring"]]) is None
        if task.kind == "annotate":
            for param, annotation in task.answer["annotations"].items():
                assert f"{param}: {annotation}" not in task.issue
                assert f"-> {annotation}" not in task.issue
        if task.kind == "fix":
            # no line of the original function's body (the answer) is in the report
            for line in bodies[name].splitlines()[1:]:
                if len(line.strip()) >= 8 and "return" not in line.strip()[:6]:
                    assert line.strip() not in task.issue, (task.detail, line)
            assert task.detail not in task.issue
            assert task.failing[0] in task.issue


def test_the_bug_report_drops_lines_that_hold_the_original() -> None:
    output = (
        "E       assert 3 == 4\nE        +  where 3 = f(2)\n"
        "E       if value < low:\n"
        "FAILED tests/test_x.py::test_f - assert 3 == 4\n"
    )
    report, failing = bug_report(output, ["if value < low:"])
    assert failing == ["tests/test_x.py::test_f"]
    assert "assert 3 == 4" in report and "value < low" not in report


def test_mutation_operators_keep_the_rest_of_the_file() -> None:
    found = mutants("mathy/core.py", MODULE, per_function=10)
    details = {c.detail.split(" `")[0] for c in found}
    assert {"flip comparison", "drop an early-exit branch", "off by one"} <= details
    assert any(d.startswith("wrong default") for d in (c.detail for c in found))
    for c in found:
        new = c.files["mathy/core.py"]
        diff = difflib.ndiff(MODULE.splitlines(), new.splitlines())
        changed = [ln for ln in diff if ln[:1] in "+-"]
        assert 1 <= len(changed) <= 4 and new != MODULE, c.detail


def _docstring_llm(name: str) -> ScriptedLLM:
    reply = json.dumps({"docstring": "Return the values, changed as the name says."})
    return ScriptedLLM([reply] * 20, model_id=name)


def test_rejection_sampling_runs_fix_and_remembers_synthetic(
    made: tuple[Path, list[Task], dict[str, int]], tmp_path: Path
) -> None:
    repo, tasks, _ = made
    config = AppConfig(repo=repo, data_dir=tmp_path / "data", llm=LLMConfig(model="fast"))
    solver = Solver(
        config, tmp_path / "solve", sys.executable, SolveOptions(candidates=2, keep=2),
        _docstring_llm,
    )  # fmt: skip
    doc = next(t for t in tasks if t.kind == "docstring")
    rename = next(t for t in tasks if t.kind == "rename")
    kept = solver.sample(doc, "fast")
    assert kept and all(a.passed and a.validated for a in kept)
    # the real pipeline landed the answer in the task repo: the docstring is back
    landed = ast.parse((solver.repo.root / doc.path).read_text())
    node = next(n for n in landed.body if getattr(n, "name", "") == doc.function)
    assert ast.get_docstring(node) == "Return the values, changed as the name says."
    assert [a.model_calls for a in kept] == sorted(a.model_calls for a in kept)
    renamed = solver.sample(rename, "fast", deadline=0.0)  # no time left: greedy only
    assert len(renamed) == 1 and renamed[0].model_calls == 0  # the codemod needs no model
    memory = Memory(config.data_dir)
    for task, attempts in ((doc, kept), (rename, renamed)):
        for attempt in attempts:
            solver.remember(memory, task, attempt)
    successes = memory.successes()
    assert successes and all(s["synthetic"] is True for s in successes)
    assert {s["bootstrap"]["kind"] for s in successes} == {"docstring", "rename"}
    assert all(a["synthetic"] for a in memory.attempts())
    # export keeps synthetic and real apart; synthetic never lands in validation
    manifest = export_datasets(
        [config.data_dir / "memory"], tmp_path / "ds", ExportOptions(val_fraction=0.5)
    )
    assert manifest["splits"]["validation"] == []
    assert set(manifest["origin"]["synthetic"]["runs"]) <= {s["run_id"] for s in successes}
    assert manifest["origin"]["real"]["runs"] == []
    assert manifest["kinds"]["sft"]["synthetic"]["train"] >= 1
    assert manifest["kinds"]["sft"]["real"] == {"train": 0, "validation": 0}
    solver.close()


def test_a_wrong_answer_fails_the_check(
    made: tuple[Path, list[Task], dict[str, int]], tmp_path: Path
) -> None:
    repo, tasks, _ = made
    fix = next(t for t in tasks if t.kind == "fix")
    mutated = _with_files(repo, tmp_path / "m", dict(fix.files))
    ok, why = check_answer(fix, mutated, sys.executable, Sandbox())
    assert not ok and "still fail" in why
    original = _with_files(repo, tmp_path / "o", {})
    assert check_answer(fix, original, sys.executable, Sandbox())[0]
    annotate = next(t for t in tasks if t.kind == "annotate")
    assert not check_answer(annotate, _with_files(repo, tmp_path / "a", dict(annotate.files)),
                            sys.executable, Sandbox())[0]  # fmt: skip
    assert check_answer(annotate, original, sys.executable, Sandbox())[0]


def test_paraphrases_are_used_unless_they_leak(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)

    def reword(issue: str) -> str:
        if "clamp" in issue:  # a paraphrase that gives the answer away is not used
            return issue + "\nIt should say: Limit the given value to the closed range."
        return "Could you please do this: " + issue

    tasks, _ = generate(
        repo, sys.executable, Sandbox(), tmp_path / "work",
        GenerateOptions(kinds=("docstring",), max_tasks=5, seconds=120), paraphrase=reword,
    )  # fmt: skip
    by_name = {t.function: t for t in tasks}
    assert by_name["clamp"].template >= 0 and "Limit the given" not in by_name["clamp"].issue
    assert by_name["scale"].template == -1
    assert by_name["scale"].issue.startswith("Could you please do this:")


def test_mutants_of_code_with_expression_bodies() -> None:
    """``IfExp.body`` and ``Lambda.body`` are expressions, not statement lists."""
    source = (
        "def pick(a, b):\n"
        "    key = (lambda x: x) if a else None\n"
        "    if a > b:\n"
        "        return a\n"
        "    return b if b else a\n"
    )
    found = mutants("m.py", source, per_function=20)
    assert "drop an early-exit branch" in {c.detail for c in found}
