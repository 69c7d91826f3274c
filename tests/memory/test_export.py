"""``memory.export``: memory written the way ``autopatch fix`` writes it → datasets."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.draft import LLMCall
from agent.draft.docstring import DOCSTRING_SCHEMA
from cores.types import GenerationParams
from memory import JsonlLog, Memory
from memory.export import ExportOptions, default_out, export_datasets, split_runs
from planner.spec import Operation, Spec
from planner.spec_llm import SYSTEM, to_operations
from planner.spec_t5 import t5_input, text_to_ops
from planner.style import StyleProfile, StyleProfiler

MODEL = "default@1d9614638d18"
DOC_SYSTEM = (
    'You write Python docstrings. Reply with JSON: {"docstring": text}. The text is the '
    "docstring body only, no quotes. Style: google docstrings, line length 88."
)
CODE_SYSTEM = (
    "You change Python code. Reply with only one ```python code block holding the complete "
    "code asked for; keep the existing behaviour unless the issue asks to change it."
)
ISSUE = "Fix total()\n\n`shop.calc.total` adds the tax instead of multiplying by it."
BEFORE = (
    "TAX = 0.2\n\n\ndef total(items, tax=TAX):\n    return sum(items) + tax\n\n\n"
    "def count(items):\n    n = len(items)\n    return n\n\n\ndef last(items):\n    return items[-1]\n"
)
GOOD = "def total(items, tax=TAX):\n    return sum(items) * (1 + tax)"
BAD = "def total(items, tax=TAX):\n    return sum(items) * tax"
FIXED = (
    'def total(items, tax=TAX):\n    """Items plus tax, rounded to cents."""\n'
    "    subtotal = sum(items)\n    return round(subtotal * (1 + tax), 2)"
)


def fenced(code: str) -> str:
    return f"```python\n{code}"  # the stop sequence "\n```\n" cuts the closing fence


def git_diff(path: str, before: str, after: str) -> str:
    body = difflib.unified_diff(
        before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}", n=3
    )
    return f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n" + "".join(body)


def with_total(code: str) -> str:
    return BEFORE.replace("def total(items, tax=TAX):\n    return sum(items) + tax", code)


def llm_call(
    role: str,
    messages: Sequence[dict[str, str]],
    raw: str,
    parsed: Any,
    *,
    error: str | None = None,
    docstring: bool = False,
) -> dict[str, Any]:
    params = GenerationParams(
        max_tokens=300 if docstring else 900,
        json_schema=DOCSTRING_SCHEMA if docstring else None,
        stop=() if docstring else ("\n```\n",),
    )
    call = LLMCall(role, tuple(messages), raw, parsed, MODEL, params.to_dict(), 120, 30, 2.5, error)
    return call.to_dict()


def code_prompt(target: str = "total", issue: str = ISSUE) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": CODE_SYSTEM},
        {
            "role": "user",
            "content": f"Issue:\n{issue}\n\nCurrent code:\n```python\n"
            f"def {target}(items, tax=TAX):\n    return sum(items) + tax\n```\n"
            f"Write the complete new version of `{target}` that resolves the issue.",
        },
    ]


def repair_prompt(previous: str, error: str) -> list[dict[str, str]]:
    return [
        *code_prompt(),
        {"role": "assistant", "content": f"```python\n{previous}\n```"},
        {"role": "user", "content": f"That failed: {error}\nSend the corrected complete code."},
    ]


def doc_prompt(name: str, issue: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": DOC_SYSTEM},
        {
            "role": "user",
            "content": f"Code of `{name}`:\n```python\ndef {name}(items):\n    return len(items)\n```"
            f"\n\nRequest (context only):\n{issue}\n\nWrite the docstring of `{name}`.",
        },
    ]


class RunLog:
    """Writes one run's records exactly as ``agent.run.job.FixRun`` does."""

    def __init__(self, data_dir: Path, run_id: str) -> None:
        self.memory = Memory(data_dir)
        self.data_dir = data_dir
        self.run_id = run_id

    def draft(
        self,
        phase: str,
        op: Operation,
        calls: list[dict[str, Any]],
        outcome: str,
        attempt: int,
        parent: str | None,
        failure: str | None = None,
    ) -> str:
        attempt_id = f"{self.run_id}:{phase}:{attempt}"
        for call in calls or [{"role": "codemod"}]:
            self.memory.record_attempt(
                {
                    "run_id": self.run_id,
                    "attempt_id": attempt_id,
                    "parent_attempt": parent,
                    "phase": phase,
                    "op": op.to_dict(),
                    **call,
                    "outcome": outcome,
                    "error": call.get("error") or failure,
                    "script_hash": hashlib.sha256(repr(call).encode()).hexdigest(),
                }
            )
        return attempt_id

    def spec_call(self, messages: list[dict[str, str]], raw: str, ops: list[Operation]) -> None:
        self.memory.record_attempt(
            {
                "run_id": self.run_id,
                "phase": "spec",
                "role": "spec",
                "messages": messages,
                "raw_output": raw,
                "parsed": [o.to_dict() for o in ops],
                "model_id": MODEL,
                "prompt_tokens": 900,
                "completion_tokens": 40,
                "latency_s": 9.0,
                "outcome": "chosen",
            }
        )

    def success(self, issue: str, ops: list[Operation], diff: str, **extra: Any) -> None:
        spec = Spec("issue-" + self.run_id[-6:], issue, tuple(ops), ("shop/calc.py",))
        patch = self.data_dir.parent / ".autopatches" / f"20261123-000000-{self.run_id[-6:]}"
        self.memory.record_success(
            {
                "run_id": self.run_id,
                "spec_issue_id": spec.issue_id,
                "spec_issue_description": spec.description,
                "spec_target_files": list(spec.target_files),
                "spec_operations_summary": "; ".join(o.summary() for o in ops),
                "successful_diff_summary": "1 file(s): shop/calc.py",
                "successful_script_hash": hashlib.sha256(diff.encode()).hexdigest(),
                "patch_source": extra.pop("patch_source", "llm"),
                "scripts": {"01_phase.py": "# script\n"},
                "diff": diff,
                "spec": spec.to_dict(),
                "style_profile_hash": extra.pop("style_profile_hash", None),
                "model_id": MODEL,
                "validation": {"schema_version": 1, "ok": True, "passed_count": 5, "checks": []},
                "patch_set": str(patch),
                **extra,
            }
        )

    def failure(self, issue: str, reason: str) -> None:
        self.memory.record_failure(
            {"run_id": self.run_id, "issue": issue, "spec": None, "reason": reason, "phases": []}
        )

    def feedback(self, rating: int | None, *, corrected: str | None = None, key: str = "") -> None:
        JsonlLog(self.data_dir / "memory" / "feedback.jsonl").append(
            {
                "timestamp_utc": f"2026-11-23T01:00:{len(self.feedback_log()):02d}Z",
                "patch_id": key or self.run_id,
                "run_id": None if key else self.run_id,
                "patch_set": key or None,
                "rating": rating,
                "note": "checked by hand",
                "corrected_diff": corrected,
            }
        )

    def feedback_log(self) -> list[dict[str, Any]]:
        return list(JsonlLog(self.data_dir / "memory" / "feedback.jsonl"))


# -- scenarios ----------------------------------------------------------------------------
EDIT = Operation("edit", "shop.calc.total", {"instruction": "Fix total()"})
TEST_FAIL = "related_tests: tests/test_calc.py::test_total failed: assert 12.0 == 14.4"


def docstring_run(data_dir: Path, run_id: str, name: str = "count", doc: str = "") -> RunLog:
    """One add_docstring phase, right the first time."""
    log = RunLog(data_dir, run_id)
    issue = f"Document {name}\n\nPlease add a docstring to `shop.calc.{name}`."
    doc = doc or f"Return how many items {name} sees."
    op = Operation("add_docstring", f"shop.calc.{name}")
    raw = json.dumps({"docstring": doc})
    call = llm_call("slot", doc_prompt(name, issue), raw, doc, docstring=True)
    log.draft("01_add_docstring", op, [call], "validated", 1, None)
    after = BEFORE.replace(f"def {name}(items):\n", f'def {name}(items):\n    """{doc}"""\n')
    log.success(issue, [op], git_diff("shop/calc.py", BEFORE, after))
    return log


def repaired_run(data_dir: Path, run_id: str, **success: Any) -> RunLog:
    """An edit that failed its tests once, then was repaired; the spec came from the LLM."""
    log = RunLog(data_dir, run_id)
    symbols = "- shop.calc.total (function, shop/calc.py)\n- shop.calc.TAX (constant, shop/calc.py)"
    spec_prompt = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Request:\n{ISSUE}\n\nSymbols in the repository:\n{symbols}"},
    ]
    answer = '{"op": "edit", "old_names": ["shop.calc.total"], "param": "", "new_name": "", "detail": ""}'
    log.spec_call(spec_prompt, answer, [EDIT])
    first = llm_call("slot", code_prompt(), fenced(BAD), BAD)
    parent = log.draft("01_edit", EDIT, [first], "failed", 1, None, failure=TEST_FAIL)
    second = llm_call("repair", repair_prompt(BAD, TEST_FAIL), fenced(GOOD), GOOD)
    log.draft("01_edit", EDIT, [second], "validated", 2, parent)
    log.success(ISSUE, [EDIT], git_diff("shop/calc.py", BEFORE, with_total(GOOD)), **success)
    return log


def codemod_run(data_dir: Path, run_id: str) -> RunLog:
    log = RunLog(data_dir, run_id)
    op = Operation("rename", "shop.calc.count", {"new_name": "size"})
    log.draft("01_rename", op, [], "validated", 1, None)
    issue = "Rename count to size\n\nRename `shop.calc.count` to `size` everywhere."
    after = BEFORE.replace("def count(", "def size(")
    log.success(issue, [op], git_diff("shop/calc.py", BEFORE, after), patch_source="codemod")
    return log


def read_rows(out: Path, kind: str, split: str = "train") -> list[dict[str, Any]]:
    path = out / f"{kind}.{split}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def all_rows(out: Path, kind: str) -> list[dict[str, Any]]:
    return read_rows(out, kind, "train") + read_rows(out, kind, "validation")


def export(dirs: Path | Sequence[Path], out: Path, **options: Any) -> tuple[dict[str, Any], Path]:
    folders = [dirs] if isinstance(dirs, Path) else list(dirs)
    opts = {"val_fraction": 0.0, **options}
    manifest = export_datasets([d / "memory" for d in folders], out, ExportOptions(**opts))
    return manifest, out


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "repo" / ".agent_data"


# -- kinds ---------------------------------------------------------------------------------
def test_sft_is_the_accepted_answer_under_the_first_prompt(data: Path, tmp_path: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")
    repaired_run(data, "20261123-000002-bbbbbb")
    manifest, out = export(data, tmp_path / "out", kinds=("sft",))
    rows = read_rows(out, "sft")
    assert manifest["kinds"]["sft"] == {**manifest["kinds"]["sft"], "train": 2, "validation": 0}
    doc, edit = rows
    assert doc["messages"][-1] == {"role": "assistant", "content": '{"docstring": "Return how many items count sees."}'}  # fmt: skip
    assert edit["messages"][:-1] == code_prompt()  # the first prompt, not the repair one
    assert edit["messages"][-1] == {"role": "assistant", "content": fenced(GOOD)}
    assert BAD not in json.dumps(rows)  # the failed answer is never an sft target
    prov = manifest["provenance"]["sft"]["train"][1]
    assert prov == {
        "run_id": "20261123-000002-bbbbbb",
        "attempts": ["20261123-000002-bbbbbb:01_edit:1", "20261123-000002-bbbbbb:01_edit:2"],
    }


def test_repair_is_the_recorded_repair_prompt_to_the_output_that_validated(
    data: Path, tmp_path: Path
) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")  # right first time: no repair row
    repaired_run(data, "20261123-000002-bbbbbb")
    _, out = export(data, tmp_path / "out", kinds=("repair",))
    (row,) = read_rows(out, "repair")
    assert row["messages"] == [
        *repair_prompt(BAD, TEST_FAIL),
        {"role": "assistant", "content": fenced(GOOD)},
    ]


def test_preference_pairs_the_failed_answer_with_the_validated_one(
    data: Path, tmp_path: Path
) -> None:
    repaired_run(data, "20261123-000002-bbbbbb")
    _, out = export(data, tmp_path / "out", kinds=("preference",))
    (row,) = read_rows(out, "preference")
    assert row == {
        "prompt": code_prompt(),  # the prompt that produced the rejected answer
        "chosen": [{"role": "assistant", "content": fenced(GOOD)}],
        "rejected": [{"role": "assistant", "content": fenced(BAD)}],
    }


def test_attempt_ids_reused_by_the_final_repair_loop(data: Path, tmp_path: Path) -> None:
    """Phase-level repair, then the final-validation loop redrafts with attempt ids from 1 again."""
    log = RunLog(data, "20261123-000003-cccccc")
    broken = "def total(items, tax=TAX)\n    return 0"
    p1 = log.draft(
        "01_edit",
        EDIT,
        [llm_call("slot", code_prompt(), fenced(broken), broken, error="the code does not parse")],
        "invalid slot",
        1,
        None,
    )
    mid = llm_call("repair", repair_prompt(broken, "the code does not parse"), fenced(BAD), BAD)
    log.draft("01_edit", EDIT, [mid], "validated", 2, p1)
    # final validation failed → FixRun redrafts the phase: attempt 1 again, no parent
    last = llm_call("repair", repair_prompt(BAD, TEST_FAIL), fenced(GOOD), GOOD)
    log.draft("01_edit", EDIT, [last], "validated", 1, None)
    log.success(ISSUE, [EDIT], git_diff("shop/calc.py", BEFORE, with_total(GOOD)))
    _, out = export(data, tmp_path / "out", kinds=("sft", "repair", "preference"))
    (sft,) = read_rows(out, "sft")
    assert sft["messages"] == [*code_prompt(), {"role": "assistant", "content": fenced(GOOD)}]
    (repair,) = read_rows(out, "repair")
    assert repair["messages"][:-1] == repair_prompt(BAD, TEST_FAIL)
    rejected = sorted(r["rejected"][0]["content"] for r in read_rows(out, "preference"))
    assert rejected == sorted([fenced(broken), fenced(BAD)])  # superseded answers lose too
    assert all(r["chosen"][0]["content"] == fenced(GOOD) for r in read_rows(out, "preference"))


def test_docstring_reask_within_one_draft(data: Path, tmp_path: Path) -> None:
    log = RunLog(data, "20261123-000004-dddddd")
    issue = "Document count\n\nPlease add a docstring to `shop.calc.count`."
    op = Operation("add_docstring", "shop.calc.count")
    parrot = json.dumps({"docstring": "Please add a docstring to count."})
    first = llm_call(
        "slot",
        doc_prompt("count", issue),
        parrot,
        "Please add a docstring to count.",
        docstring=True,
        error="the docstring repeats the request instead of describing `count`",
    )
    reask = [
        *doc_prompt("count", issue),
        {"role": "assistant", "content": parrot},
        {"role": "user", "content": "the docstring repeats the request. Describe the code."},
    ]
    good = "Count the items."
    second = llm_call("slot", reask, json.dumps({"docstring": good}), good, docstring=True)
    log.draft("01_add_docstring", op, [first, second], "validated", 1, None)
    log.success(issue, [op], git_diff("shop/calc.py", BEFORE, BEFORE.replace("n = len", "n=len")))
    _, out = export(data, tmp_path / "out", kinds=("sft", "repair", "preference"))
    (sft,) = read_rows(out, "sft")
    assert sft["messages"][:-1] == doc_prompt("count", issue)
    assert json.loads(sft["messages"][-1]["content"]) == {"docstring": good}
    assert read_rows(out, "repair")[0]["messages"][:-1] == reask
    (pref,) = read_rows(out, "preference")
    assert pref["rejected"][0]["content"] == parrot


def test_spec_rows_follow_the_planner_backends(data: Path, tmp_path: Path) -> None:
    repaired_run(data, "20261123-000002-bbbbbb")  # spec prompt recorded
    codemod_run(data, "20261123-000005-eeeeee")  # rules-only: prompt rebuilt from the spec
    _, out = export(data, tmp_path / "out", kinds=("spec",))
    recorded, rebuilt = read_rows(out, "spec")
    assert recorded["messages"][0]["content"] == SYSTEM
    assert "shop.calc.TAX (constant, shop/calc.py)" in recorded["messages"][1]["content"]
    assert recorded["input"] == t5_input(ISSUE, ["shop.calc.total (function)", "shop.calc.TAX"])
    assert text_to_ops(recorded["target"]) == [EDIT]
    answer = json.loads(recorded["messages"][-1]["content"])
    assert to_operations(answer, "Fix total()") == [EDIT]
    rename = Operation("rename", "shop.calc.count", {"new_name": "size"})
    assert rebuilt["messages"][0] == {"role": "system", "content": SYSTEM}
    assert rebuilt["messages"][1]["content"].startswith("Request:\nRename count to size\n")
    assert rebuilt["messages"][1]["content"].endswith(
        "Symbols in the repository:\n- shop.calc.count"
    )
    assert rebuilt["target"] == "- {op: rename, target: shop.calc.count, params: {new_name: size}}"
    assert to_operations(json.loads(rebuilt["messages"][-1]["content"]), "") == [rename]
    assert rebuilt["input"].startswith("issue: Rename count to size Rename") and rebuilt[
        "input"
    ].endswith("symbols: shop.calc.count")


def test_spec_that_is_not_one_llm_answer_is_counted(data: Path, tmp_path: Path) -> None:
    log = RunLog(data, "20261123-000006-ffffff")
    ops = [
        Operation("rename", "shop.calc.count", {"new_name": "size"}),
        Operation("add_docstring", "shop.calc.last"),
    ]
    log.draft("01_rename", ops[0], [], "validated", 1, None)
    log.success("Two things\n\nRename count, document last.", ops, git_diff("a.py", "a\n", "b\n"))
    codemod_run(data, "20261123-000005-eeeeee")
    manifest, out = export(data, tmp_path / "out", kinds=("spec",))
    assert manifest["kinds"]["spec"]["train"] == 1
    assert list(manifest["kinds"]["spec"]["skipped"].values()) == [1]


def test_style_rows_need_the_profile_itself(data: Path, tmp_path: Path) -> None:
    profile = StyleProfile(files_sampled=4, docstring_style="google", use_annotations=True)
    StyleProfiler.save(profile, data)
    added = 'def size(items: list) -> int:\n    """How many."""\n    n = len(items)\n    return n\n'
    diff = git_diff("shop/calc.py", BEFORE, BEFORE + "\n\n" + added)
    log = RunLog(data, "20261123-000007-gggggg")
    log.draft("01_add_function", Operation("add_function", "shop.calc", {"name": "size"}), [], "validated", 1, None)  # fmt: skip
    log.success(ISSUE, [EDIT], diff, style_profile_hash=profile.profile_hash())
    other = RunLog(data, "20261123-000008-hhhhhh")
    other.success(ISSUE, [EDIT], diff, style_profile_hash="0123456789abcdef")  # profile gone
    manifest, out = export(data, tmp_path / "out", kinds=("style",))
    (row,) = read_rows(out, "style")
    assert json.loads(row["messages"][-1]["content"]) == profile.fingerprint()
    assert "n = len(items)" in row["messages"][1]["content"]
    assert row["input"] == "code: " + added.strip("\n")
    assert json.loads(row["target"]) == profile.fingerprint()
    assert manifest["kinds"]["style"]["skipped"] == {
        "style profile not in memory (only its hash)": 1
    }


# -- formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "sft_keys", "pref_keys"),
    [
        ("messages", {"messages"}, {"prompt", "chosen", "rejected"}),
        ("prompt-completion", {"prompt", "completion"}, {"prompt", "chosen", "rejected"}),
        (
            "alpaca",
            {"instruction", "input", "output", "system", "history"},
            {"instruction", "input", "chosen", "rejected", "system", "history"},
        ),
        ("sharegpt", {"conversations"}, {"conversations", "chosen", "rejected"}),
    ],
)
def test_formats(data: Path, tmp_path: Path, fmt: str, sft_keys: set, pref_keys: set) -> None:
    repaired_run(data, "20261123-000002-bbbbbb")
    _, out = export(data, tmp_path / "out", fmt=fmt)
    (sft,) = read_rows(out, "sft")
    (repair,) = read_rows(out, "repair")
    (pref,) = read_rows(out, "preference")
    (spec,) = read_rows(out, "spec")
    assert set(sft) == sft_keys and set(pref) == pref_keys
    assert set(spec) == sft_keys | {"input", "target"}
    if fmt == "prompt-completion":
        assert sft["prompt"] == code_prompt()
        assert sft["completion"] == [{"role": "assistant", "content": fenced(GOOD)}]
    if fmt == "alpaca":
        assert (sft["system"], sft["instruction"], sft["output"]) == (
            CODE_SYSTEM,
            code_prompt()[1]["content"],
            fenced(GOOD),
        )
        assert repair["history"] == [[code_prompt()[1]["content"], f"```python\n{BAD}\n```"]]
        assert repair["instruction"].startswith("That failed:")
        assert (pref["chosen"], pref["rejected"]) == (fenced(GOOD), fenced(BAD))
    if fmt == "sharegpt":
        assert [t["from"] for t in sft["conversations"]] == ["system", "human", "gpt"]
        assert [t["from"] for t in repair["conversations"]] == [
            "system",
            "human",
            "gpt",
            "human",
            "gpt",
        ]
        assert pref["chosen"] == {"from": "gpt", "value": fenced(GOOD)}
        assert pref["conversations"][-1]["from"] == "human"


# -- filtering, precedence, de-duplication --------------------------------------------------
def test_identical_examples_are_kept_once(data: Path, tmp_path: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")
    docstring_run(data, "20261123-000009-iiiiii")  # the same prompt and answer again
    docstring_run(data, "20261123-000010-jjjjjj", doc="Count them.")
    manifest, out = export(data, tmp_path / "out", kinds=("sft",))
    assert len(read_rows(out, "sft")) == 2
    assert manifest["kinds"]["sft"]["duplicates_dropped"] == 1


def test_latest_feedback_rating_filters_runs(data: Path, tmp_path: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa", doc="Kept: never rated.")
    low = docstring_run(data, "20261123-000009-iiiiii", doc="Dropped: rated 2.")
    low.feedback(5)
    low.feedback(2)  # the latest rating counts
    up = docstring_run(data, "20261123-000010-jjjjjj", doc="Kept: rated 1 then 4.")
    up.feedback(1)
    last = list(JsonlLog(data / "memory" / "success_memory.jsonl"))[-1]
    up.feedback(4, key=Path(last["patch_set"]).name)  # by patch-set folder name only
    manifest, out = export(data, tmp_path / "out", kinds=("sft",))
    text = json.dumps(read_rows(out, "sft"))
    assert "Kept: never rated." in text and "Kept: rated 1 then 4." in text
    assert "Dropped" not in text
    assert manifest["runs"]["excluded"] == {"20261123-000009-iiiiii": "rated 2 < min_rating 4"}
    manifest, out = export(data, tmp_path / "out2", kinds=("sft",), min_rating=0)
    assert manifest["kinds"]["sft"]["train"] == 3


def test_corrected_diff_outranks_the_agent(data: Path, tmp_path: Path) -> None:
    StyleProfiler.save(StyleProfile(files_sampled=2), data)
    log = repaired_run(data, "20261123-000002-bbbbbb", style_profile_hash=StyleProfile(files_sampled=2).profile_hash())  # fmt: skip
    log.feedback(4, corrected=git_diff("shop/calc.py", BEFORE, with_total(FIXED)))
    _, out = export(data, tmp_path / "out", kinds=("sft", "repair", "preference", "style"))
    (sft,) = read_rows(out, "sft")
    assert sft["messages"][-1]["content"] == fenced(FIXED)
    assert read_rows(out, "repair")[0]["messages"][-1]["content"] == fenced(FIXED)
    pairs = {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in read_rows(out, "preference")}  # fmt: skip
    assert pairs == {(fenced(FIXED), fenced(GOOD)), (fenced(FIXED), fenced(BAD))}
    (style,) = read_rows(out, "style")
    assert "round(subtotal" in style["input"]  # the human's code, not the agent's


def test_corrected_docstring_maps_onto_the_json_answer(data: Path, tmp_path: Path) -> None:
    log = docstring_run(data, "20261123-000001-aaaaaa")
    human = BEFORE.replace("def count(items):\n", 'def count(items):\n    """Number of items."""\n')
    log.feedback(5, corrected=git_diff("shop/calc.py", BEFORE, human))
    _, out = export(data, tmp_path / "out", kinds=("sft", "preference"))
    (sft,) = read_rows(out, "sft")
    assert json.loads(sft["messages"][-1]["content"]) == {"docstring": "Number of items."}
    (pref,) = read_rows(out, "preference")
    assert json.loads(pref["rejected"][0]["content"]) == {"docstring": "Return how many items count sees."}  # fmt: skip


def test_corrected_diff_that_cannot_be_mapped_drops_the_answer(data: Path, tmp_path: Path) -> None:
    log = repaired_run(data, "20261123-000002-bbbbbb")
    log.feedback(5, corrected=git_diff("shop/other.py", "x = 1\n", "x = 2\n"))  # total() gone
    docstring_run(data, "20261123-000001-aaaaaa")
    manifest, out = export(data, tmp_path / "out", kinds=("sft", "spec"))
    assert GOOD not in json.dumps(read_rows(out, "sft"))
    assert manifest["kinds"]["sft"]["skipped"] == {
        "answer the corrected diff changes in a way that cannot be mapped": 1
    }
    assert manifest["kinds"]["spec"]["train"] == 2  # the plan itself still stands


# -- split, manifest, sources ----------------------------------------------------------------
def many_runs(data: Path, n: int) -> list[str]:
    ids = [f"20261123-0001{i:02d}-{i:06x}" for i in range(n)]
    for i, run_id in enumerate(ids):
        docstring_run(data, run_id, doc=f"Docstring number {i}.")
    return ids


def test_split_is_by_run_deterministic_and_leak_free(data: Path, tmp_path: Path) -> None:
    ids = many_runs(data, 10)
    m1, out = export(data, tmp_path / "a", val_fraction=0.3, seed=7)
    m2, _ = export(data, tmp_path / "b", val_fraction=0.3, seed=7)
    assert m1["splits"] == m2["splits"]
    train, val = set(m1["splits"]["train"]), set(m1["splits"]["validation"])
    assert len(val) == 3 and train | val == set(ids) and not train & val
    for kind in ("sft", "spec"):
        for split, runs in (("train", train), ("validation", val)):
            rows = read_rows(out, kind, split)
            prov = m1["provenance"][kind][split]
            assert len(rows) == len(prov) == m1["kinds"][kind][split]
            assert {p["run_id"] for p in prov} <= runs
            if kind == "sft":  # (the spec rows are all alike: de-duplicated into one)
                for row, p in zip(rows, prov, strict=True):
                    number = ids.index(p["run_id"])
                    assert f"Docstring number {number}." in json.dumps(row)
    assert split_runs(ids, 0.3, 7) == split_runs(list(reversed(ids)), 0.3, 7)
    assert split_runs(ids, 0.3, 7) != split_runs(ids, 0.3, 8)


def test_a_single_run_goes_to_train(data: Path, tmp_path: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")
    manifest, _ = export(data, tmp_path / "out", val_fraction=0.5)
    assert manifest["splits"] == {"train": ["20261123-000001-aaaaaa"], "validation": []}


def test_manifest_hashes_sources_and_torn_lines(data: Path, tmp_path: Path) -> None:
    repaired_run(data, "20261123-000002-bbbbbb")
    fail = RunLog(data, "20261123-000011-kkkkkk")
    fail.draft("01_edit", EDIT, [llm_call("slot", code_prompt(), fenced(BAD), BAD)], "failed", 1, None, TEST_FAIL)  # fmt: skip
    fail.failure(ISSUE, "phase 01_edit failed")
    with (data / "memory" / "attempts.jsonl").open("a") as fh:
        fh.write('{"run_id": "torn", "mess')  # a writer killed mid-line
    manifest, out = export(data, tmp_path / "out")
    assert manifest["schema_version"] == 1 and manifest["created_utc"].endswith("Z")
    assert manifest["options"] == {"kinds": ["sft", "repair", "spec", "style", "preference"], "fmt": "messages", "min_rating": 4, "val_fraction": 0.0, "seed": 0}  # fmt: skip
    assert manifest == json.loads((out / "manifest.json").read_text())
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["manifest.json", *manifest["files"]])
    for name, info in manifest["files"].items():
        data_bytes = (out / name).read_bytes()
        assert info["sha256"] == hashlib.sha256(data_bytes).hexdigest()
        assert info["rows"] == len(data_bytes.splitlines())
    (source,) = manifest["sources"]
    assert source["dir"] == str((data / "memory").resolve())
    assert set(source["files"]) == {"success_memory.jsonl", "attempts.jsonl", "failures.jsonl"}
    attempts = source["files"]["attempts.jsonl"]
    raw = (data / "memory" / "attempts.jsonl").read_bytes()
    assert attempts["sha256"] == hashlib.sha256(raw).hexdigest()
    assert (attempts["records"], attempts["torn_lines"]) == (4, 1)
    assert manifest["torn_lines"] == 1
    assert manifest["runs"]["successful"] == 1 and manifest["runs"]["failed"] == 1
    assert fenced(BAD) not in (out / "sft.train.jsonl").read_text()


def test_memory_folders_are_pooled_and_read_once(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / ".agent_data", tmp_path / "b" / ".agent_data"
    docstring_run(a, "20261123-000001-aaaaaa")
    repaired_run(b, "20261123-000002-bbbbbb")
    manifest, out = export([a, b, a], tmp_path / "out", kinds=("sft",))
    assert len(manifest["sources"]) == 2
    assert manifest["kinds"]["sft"]["train"] == 2


# -- secrets -----------------------------------------------------------------------------------
SECRETS = {
    "aws": "AKIAQWERTYUIOPASDFGH",
    "github": "ghp_" + "a1B2c3D4e5" * 4,
    "openai": "sk-proj-" + "Zx9Yw8Vu7T" * 3,
    "hf": "hf_" + "Qm3Nb4Vc5X" * 4,
    "slack": "xoxb-2048-4096-" + "abcdEFGH12",
    "gitlab": "glpat-" + "Kj7Hg6Fd5S" * 2,
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "pem": "MIIEowIBAAKCAQEAvTopSecretKeyMaterial0123456789",
    "db": "Sup3rS3cretDbPw",
    "assign": "k3y-VALUE-123456",
    "bearer": "abcDEF0123456789xyzTOKEN",
    "env": "p4ssw0rdFromEnv",
}
LEAKY_CODE = f'''def connect():
    client = Client(api_key="{SECRETS["assign"]}", region="eu-west-1")
    url = "postgres://admin:{SECRETS["db"]}@db.internal:5432/shop"
    headers = {{"Authorization": "Bearer {SECRETS["bearer"]}"}}
    return client, url, headers, "{SECRETS["aws"]}"'''


def test_planted_secrets_never_reach_any_output_file(data: Path, tmp_path: Path) -> None:
    StyleProfiler.save(StyleProfile(), data)
    log = RunLog(data, "20261123-000012-llllll")
    issue = (
        f"Fix connect\n\nIt fails with token {SECRETS['github']} and {SECRETS['openai']}; "
        f"HF {SECRETS['hf']}, slack {SECRETS['slack']}, gitlab {SECRETS['gitlab']}, "
        f"jwt {SECRETS['jwt']}\n-----BEGIN RSA PRIVATE KEY-----\n{SECRETS['pem']}\n"
        f"-----END RSA PRIVATE KEY-----\nPASSWORD={SECRETS['env']}"
    )
    op = Operation("edit", "shop.net.connect", {"instruction": "Fix connect"})
    prompt = code_prompt("connect", issue)
    first = llm_call("slot", prompt, fenced(LEAKY_CODE + "\n    x"), LEAKY_CODE, error="no parse")
    parent = log.draft("01_edit", op, [first], "invalid slot", 1, None)
    again = [*prompt, {"role": "assistant", "content": fenced(LEAKY_CODE)}, {"role": "user", "content": f"That failed: {SECRETS['aws']}"}]  # fmt: skip
    second = llm_call("repair", again, fenced(LEAKY_CODE), LEAKY_CODE)
    log.draft("01_edit", op, [second], "validated", 2, parent)
    after = BEFORE + "\n\n" + LEAKY_CODE + "\n"
    log.success(issue, [op], git_diff("shop/net.py", BEFORE, after), style_profile_hash=StyleProfile().profile_hash())  # fmt: skip
    for fmt in ("messages", "prompt-completion", "alpaca", "sharegpt"):
        manifest, out = export(data, tmp_path / fmt, fmt=fmt)
        assert all(manifest["kinds"][k]["train"] for k in ("sft", "repair", "spec", "style", "preference"))  # fmt: skip
        blob = b"".join(p.read_bytes() for p in out.iterdir())
        for name, secret in SECRETS.items():
            assert secret.encode() not in blob, f"{name} secret leaked in {fmt}"
            assert secret[4:20].encode() not in blob, f"part of the {name} secret leaked in {fmt}"
        assert b"<REDACTED:" in blob
        assert manifest["redactions"]["private_key"] >= 1
        # the code around the secrets survives
        (sft,) = all_rows(out, "sft")
        text = json.dumps(sft)
        assert 'region=\\"eu-west-1\\"' in text and "db.internal:5432/shop" in text


def test_normal_code_is_exported_unchanged(data: Path, tmp_path: Path) -> None:
    normal = (
        "def total(items, tax=TAX):\n    token = next_token(items)\n    password = args.password\n"
        '    max_tokens = 300\n    key = "name"\n    return sum(items) * (1 + tax)'
    )
    log = RunLog(data, "20261123-000013-mmmmmm")
    log.draft("01_edit", EDIT, [llm_call("slot", code_prompt(), fenced(normal), normal)], "validated", 1, None)  # fmt: skip
    log.success(ISSUE, [EDIT], git_diff("shop/calc.py", BEFORE, with_total(normal)))
    manifest, out = export(data, tmp_path / "out", kinds=("sft",))
    (row,) = read_rows(out, "sft")
    assert row["messages"][-1]["content"] == fenced(normal)
    assert manifest["redactions"] == {}


# -- refusals and atomicity -----------------------------------------------------------------------
def test_refuses_a_non_empty_output_folder(data: Path, tmp_path: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")
    out = tmp_path / "out"
    out.mkdir()
    export(data, out)  # an empty folder is fine: it is replaced
    with pytest.raises(ValueError, match="exists and is not empty"):
        export(data, out)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_refuses_a_folder_without_memory_files(tmp_path: Path) -> None:
    (tmp_path / "empty" / "memory").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds none of success_memory.jsonl"):
        export(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ValueError, match="does not exist"):
        export(tmp_path / "missing", tmp_path / "out")


def test_refuses_when_nothing_is_exportable(data: Path, tmp_path: Path) -> None:
    fail = RunLog(data, "20261123-000011-kkkkkk")
    fail.failure(ISSUE, "phase 01_edit failed")
    with pytest.raises(ValueError, match=r"no successful runs .*run `autopatch fix` first"):
        export(data, tmp_path / "out")
    low = docstring_run(data, "20261123-000001-aaaaaa")
    low.feedback(1)
    with pytest.raises(ValueError, match="rated below --min-rating"):
        export(data, tmp_path / "out")
    codemod_run(data, "20261123-000005-eeeeee")
    with pytest.raises(ValueError, match="none gives a sft example"):
        export(data, tmp_path / "out", kinds=("sft",))
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kinds": ("sft", "poems")}, "unknown kind"),
        ({"fmt": "csv"}, "unknown format"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"min_rating": 6}, "min_rating"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExportOptions(**options)


def test_default_out_is_a_utc_timestamp_under_datasets(tmp_path: Path) -> None:
    out = default_out(tmp_path)
    assert out.parent == tmp_path / "datasets"
    assert len(out.name) == 15 and out.name[8] == "-" and out.name.replace("-", "").isdigit()


# -- the command line ------------------------------------------------------------------------------
def autopatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autopatch")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_export_end_to_end(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    data = repo / ".agent_data"
    docstring_run(data, "20261123-000001-aaaaaa")
    repaired_run(data, "20261123-000002-bbbbbb")
    other = tmp_path / "other" / ".agent_data"
    docstring_run(other, "20261123-000009-iiiiii", doc="From another repository.")
    out = tmp_path / "datasets"
    done = autopatch(
        "export", "--repo", str(repo), "--data-dir", str(data), "--memory", str(other / "memory"),
        "--out", str(out), "--kind", "all", "--format", "sharegpt", "--val-fraction", "0.34",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["fmt"] == "sharegpt"
    assert manifest["kinds"]["sft"]["train"] + manifest["kinds"]["sft"]["validation"] == 3
    assert len(manifest["splits"]["validation"]) == 1
    assert "conversations" in json.loads((out / "spec.train.jsonl").read_text().splitlines()[0])
    again = autopatch("export", "--repo", str(repo), "--data-dir", str(data), "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert again.returncode == 2 and "not empty" in again.stderr
    plain = autopatch("export", "--repo", str(repo), "--data-dir", str(data), cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    lines = [" ".join(ln.split()) for ln in plain.stderr.splitlines()]
    assert "sft: 1 train, 1 validation" in lines  # two runs: one held out
    (made,) = (data / "datasets").iterdir()
    assert (made / "manifest.json").is_file() and str(made) in plain.stderr.replace("\n", "")


# -- reading diffs -----------------------------------------------------------------------------------
def test_a_definition_is_taken_from_a_diff_only_when_it_is_all_there() -> None:
    from memory.export_diff import added_blocks, definition, docstring

    long_before = "def f(x):\n" + "".join(f"    x += {i}\n" for i in range(12)) + "    return x\n"
    long_after = long_before.replace("x += 1\n", "x += 100\n")
    cut = git_diff("m.py", long_before, long_after)  # the hunk stops before f() ends
    assert definition(cut, "f") is None
    whole = git_diff("shop/calc.py", BEFORE, with_total(FIXED))
    assert definition(whole, "total") == FIXED
    assert docstring(whole, "total") == "Items plus tax, rounded to cents."
    assert docstring(whole, "count") is None and definition(whole, "nothing") is None
    at_end = git_diff("m.py", "x = 1\n", "x = 1\n\n\n@cache\ndef g():\n    return 2\n")
    assert definition(at_end, "g") == "@cache\ndef g():\n    return 2"
    notes = git_diff("README.md", "a\n", "a\nb\nc\nd\ne\n")
    assert added_blocks(notes) == [] and added_blocks(at_end) == ["@cache\ndef g():\n    return 2"]
