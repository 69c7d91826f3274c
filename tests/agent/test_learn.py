"""The learning loop: due check, evaluation gate, promotion, history, edit re-validation.

Memory comes from real ``autopatch fix`` runs (scripted model) on a real git repository;
the gate is driven by scripted models per registry name; the end-to-end loop trains
SmolLM2 for real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.config import AppConfig
from agent.learn.check import EditChecker
from agent.learn.loop import Loop, learn
from agent.learn.options import LearnOptions
from cores.llm_scripted import ScriptedLLM
from cores.registry import ModelEntry, ModelRegistry
from cores.types import LLMConfig
from memory.held_out import HeldOutCall, held_out_calls, success_records
from memory.store import Memory
from memory.training_runs import TrainingRun, TrainingRunLog

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@x.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@x.invalid",
}
EDIT = (
    "def total(self, tax=TAX_RATE):\n"
    "    prices = [price * quantity for price, quantity in self.items.values()]\n"
    "    return calc_total(prices, tax)"
)
BROKEN_EDIT = "def total(self, tax=TAX_RATE):\n    return 0"
SPEC = {
    "op": "edit",
    "old_names": ["shop.cart.Cart.total"],
    "param": "",
    "new_name": "",
    "detail": "",
}
WRONG_SPEC = {**SPEC, "op": "add_docstring", "old_names": ["shop.cart.Cart.add"]}


def _shop(root: Path) -> Path:
    repo = root / "shop"
    shutil.copytree(EXAMPLE, repo)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo


def _fix(repo: Path, replies: list[str], *args: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agent", "fix", "--repo", str(repo), *args]
        + ["--set", "llm.backend=scripted", "--set", f"llm.replies={json.dumps(replies)}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr


def _edit_run(repo: Path, *args: str) -> None:
    # an expected output the issue states: a model-written edit that nothing checks would
    # end unverified, and only validated runs are memory's successes
    issue = (
        "`Cart.total` is slow: build the price list once. It must still give:\n\n"
        ">>> from shop.cart import Cart\n>>> cart = Cart()\n>>> cart.add('pen', 2.0, 3)\n"
        ">>> cart.total()\n7.2\n"
    )
    replies = [json.dumps(SPEC), f"```python\n{EDIT}\n```"]
    _fix(repo, replies, issue, "--spec-llm", "always", *args)


@pytest.fixture(scope="module")
def shop_with_memory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo repo after two successful scripted runs (an edit and two docstrings)."""
    repo = _shop(tmp_path_factory.mktemp("learn"))
    _edit_run(repo)
    # the issue asks for the arguments: the docstrings name them (the acceptance check holds it)
    docs = [
        json.dumps({"docstring": "Add quantity of item name at price."}),
        json.dumps({"docstring": "The total with tax."}),
    ]
    _fix(repo, docs, "--issue-file", str(repo / "ISSUE.md"))
    return repo


@pytest.fixture()
def config(shop_with_memory: Path, tmp_path: Path, fast_gguf: Path) -> AppConfig:
    """A fresh data dir holding a copy of that memory, and a registered candidate ``cand``."""
    data = tmp_path / "data"
    shutil.copytree(shop_with_memory / ".agent_data" / "memory", data / "memory")
    ModelRegistry(data).add(ModelEntry(name="cand", kind="llm", path=str(fast_gguf)))
    return AppConfig(repo=shop_with_memory, data_dir=data, llm=LLMConfig(model="fast"))


def _run_ids(config: AppConfig) -> list[str]:
    return sorted(success_records([config.data_dir / "memory"]))


def _calls(config: AppConfig) -> list[HeldOutCall]:
    """The calls ``judge`` replays, in its order."""
    return Loop(config, LearnOptions()).held_out_calls(_run_ids(config))


def good(call: HeldOutCall) -> str:
    """The known right answer to a call."""
    if call.answer == "spec":
        ops = call.reference
        flat = {"op": ops[0]["op"], "old_names": [o["target"] for o in ops]}
        return json.dumps({**flat, "param": "", "new_name": "", "detail": ""})
    if call.answer == "code":
        return f"```python\n{call.reference}\n```"
    return json.dumps(call.reference)


def bad(call: HeldOutCall) -> str:
    if call.answer == "spec":
        return json.dumps(WRONG_SPEC)
    if call.answer == "code":
        return f"```python\n{BROKEN_EDIT}\n```"
    return json.dumps({"docstring": "Something else."})


Answer = Callable[[HeldOutCall], str]


def model(config: AppConfig, answer: Answer, **instead: Answer) -> list[str]:
    """One model's replies in replay order; ``instead`` overrides the answer per kind."""
    return [instead.get(c.answer, answer)(c) for c in _calls(config)]


def _judge(
    config: AppConfig, current: list[str], candidate: list[str], **options: Any
) -> TrainingRun:
    replies = {"fast": current, "cand": candidate}
    loop = Loop(
        config,
        LearnOptions(**{"validate_edits": 0, **options}),
        factory=lambda name: ScriptedLLM(replies[name], model_id=name),
    )
    return loop.judge("cand", _run_ids(config))


def test_the_held_out_calls_of_real_runs(config: AppConfig) -> None:
    calls = _calls(config)
    assert [c.answer for c in calls] == ["code", "spec", "json", "spec", "json"]
    code = next(c for c in calls if c.answer == "code")
    assert code.reference == EDIT and code.name == "total" and code.phase == "01_edit"
    recorded, issue = (c for c in calls if c.answer == "spec")
    assert [(o["op"], o["target"]) for o in recorded.reference] == [
        ("edit", "shop.cart.Cart.total")
    ]
    # The docstring run made no spec call (the rules sufficed): its issue is asked anew.
    assert issue.attempt_id.endswith(":issue-spec")
    assert [o["target"] for o in issue.reference] == ["shop.cart.Cart.add", "shop.cart.Cart.total"]
    prompt = issue.messages[-1]["content"]
    assert "Document the cart methods" in prompt and "shop.cart.Cart.add" in prompt
    assert issue.params["json_schema"]["required"][0] == "op"


def test_better_model_is_promoted_and_recorded(config: AppConfig) -> None:
    run = _judge(config, model(config, bad), model(config, good))
    assert run.status == "promoted"
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "cand"
    assert run.before and run.after
    assert run.before["metrics"]["spec_exact"] == 0.0 and run.after["metrics"]["spec_exact"] == 1.0
    assert run.after["metrics"]["slot_exact"] == 1.0
    assert run.after["per_role"]["spec"]["calls"] == 2
    assert "better on" in run.decision and "evaluate_s" in run.timings
    assert TrainingRunLog(config.data_dir).runs() == [run]


def test_worse_model_is_kept_back_with_the_reason(config: AppConfig) -> None:
    run = _judge(config, model(config, good), model(config, good, spec=bad))
    assert run.status == "kept"
    assert "worse on spec_exact 1.00 → 0.00" in run.decision
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"


def test_a_tie_keeps_the_current_model(config: AppConfig) -> None:
    run = _judge(config, model(config, good), model(config, good))
    assert run.status == "kept" and "tie" in run.decision
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"


def test_no_promote_evaluates_but_never_switches(config: AppConfig) -> None:
    run = _judge(config, model(config, bad), model(config, good), promote=False)
    assert run.status == "kept" and "--no-promote" in run.decision
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"


def test_validation_pass_rate_takes_part_in_the_gate(config: AppConfig) -> None:
    current = model(config, good, code=bad)
    run = _judge(config, current, model(config, good), validate_edits=1)
    assert run.before and run.after
    assert run.before["metrics"]["validation_pass"] == 0.0
    assert run.after["metrics"]["validation_pass"] == 1.0
    assert "measured on 1 of 3" in run.after["validation_note"]
    assert run.status == "promoted"


def test_not_due_writes_nothing(config: AppConfig) -> None:
    outcome = learn(config, LearnOptions(every=3))
    assert outcome.status == "not due"
    assert outcome.report() == "not due: 2/3 new successful runs since the last loop"
    assert outcome.to_dict()["training_run"] is None
    assert not TrainingRunLog(config.data_dir).path.exists()


def test_every_counts_from_the_last_completed_loop(config: AppConfig) -> None:
    history = TrainingRunLog(config.data_dir)
    history.append(TrainingRun("a", "2026-01-01T00:00:00Z", "kept", "fast", success_runs=1))
    history.append(TrainingRun("b", "2026-01-02T00:00:00Z", "failed", "fast", success_runs=2))
    outcome = learn(config, LearnOptions(every=2))
    assert (outcome.status, outcome.new_runs) == ("not due", 1)  # the failed loop does not count


def test_edit_checker_rebuilds_the_tree_before_an_applied_run(tmp_path: Path) -> None:
    repo = _shop(tmp_path)
    _edit_run(repo, "--apply")  # the repository now holds the change
    memory = [repo / ".agent_data" / "memory"]
    calls = [c for c in held_out_calls(memory, None) if c.answer == "code"]
    checker = EditChecker(repo, memory, calls, limit=2)
    assert checker.note.startswith("measured on 1 of 1")
    call = calls[0]
    assert checker(call, f"```python\n{EDIT}\n```") is True
    assert checker(call, f"```python\n{BROKEN_EDIT}\n```") is False  # the tests fail
    assert checker(call, "no code at all") is False
    assert "self.items.values()" in (repo / "shop" / "cart.py").read_text()  # untouched
    elsewhere = EditChecker(_shop(tmp_path / "other"), memory, calls, limit=2)
    assert elsewhere(call, EDIT) is None and "not measured" in elsewhere.note


def test_a_failing_export_is_recorded_and_changes_nothing(tmp_path: Path) -> None:
    config = AppConfig(repo=tmp_path, data_dir=tmp_path / "data", llm=LLMConfig(model="fast"))
    Memory(config.data_dir).record_failure({"run_id": "r1", "reason": "validation failed"})
    with pytest.raises(ValueError, match="failed at the export step: .*nothing to export"):
        learn(config, LearnOptions())
    [run] = TrainingRunLog(config.data_dir).runs()
    assert (run.status, run.failed_step, run.current_model) == ("failed", "export", "fast")
    assert run.error and "run `autopatch fix` first" in run.error
    assert "export_s" in run.timings
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"


def test_a_failing_finetune_is_recorded_with_its_dataset(config: AppConfig) -> None:
    options = LearnOptions(finetune={"base": "no-such-model", "steps": 1})
    with pytest.raises(ValueError, match="failed at the finetune step: .*no-such-model"):
        learn(config, options)
    [run] = TrainingRunLog(config.data_dir).runs()
    assert (run.status, run.failed_step, run.candidate_model) == ("failed", "finetune", None)
    assert run.dataset_dir and Path(run.dataset_dir, "manifest.json").is_file()
    assert run.manifest_sha256 and run.dataset_hash and run.held_out_runs == 1
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"
    # A failed loop does not count: both runs are still new to the next one.
    assert learn(config, LearnOptions(every=3)).new_runs == 2


@pytest.mark.slow
def test_the_whole_loop_on_the_real_tiny_model(config: AppConfig) -> None:
    from dataclasses import replace

    config = replace(config, llm=replace(config.llm, n_ctx=2048))
    seen: list[str] = []
    options = LearnOptions(
        eval_limit=4,
        validate_edits=1,
        finetune={"steps": 2, "batch_size": 2, "max_length": 256, "lora_r": 4, "lora_alpha": 8},
    )
    outcome = learn(config, options, progress=seen.append)
    run = outcome.run
    assert run is not None and outcome.status in ("promoted", "kept")
    assert run.candidate_model and run.candidate_model.startswith("learn-")
    assert {"export_s", "dequantize_s", "train_s", "convert_s", "evaluate_s"} <= set(run.timings)
    assert run.adapter_bytes and run.adapter_bytes > 0
    assert run.before and run.after and run.before["calls"] == run.after["calls"] > 0
    assert run.before["model_id"].startswith("fast") and "learn-" in run.after["model_id"]
    active = ModelRegistry(config.data_dir).active_names()["llm"]
    assert (active == run.candidate_model) == (outcome.status == "promoted")
    assert run.decision in outcome.report() and "timings (s):" in outcome.report()
    assert any("evaluating" in line for line in seen)
    assert TrainingRunLog(config.data_dir).last_completed() == run
    again = learn(config, LearnOptions(every=1))
    assert again.status == "not due" and again.new_runs == 0


def test_held_out_spec_calls_of_other_repos_come_from_the_exported_rows(tmp_path: Path) -> None:
    from agent.learn.loop import dataset_spec_calls

    ops = [{"op": "rename", "target": "pkg.mod.old", "params": {"new_name": "new"}}]
    row = {
        "messages": [
            {"role": "system", "content": "spec"},
            {"role": "user", "content": "rename old to new"},
            {"role": "assistant", "content": "{}"},
        ]
    }
    (tmp_path / "spec.validation.jsonl").write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    provenance = {"spec": {"validation": [{"run_id": "r1"}, {"run_id": "r2"}]}}
    (tmp_path / "manifest.json").write_text(json.dumps({"provenance": provenance}))
    successes = {"r1": {"spec": {"operations": ops}}, "r2": {"spec": {"operations": ops}}}
    calls = dataset_spec_calls(tmp_path, successes, ["r1"])
    assert [c.run_id for c in calls] == ["r1"]
    assert [m["role"] for m in calls[0].messages] == ["system", "user"]
    assert calls[0].reference == ops and calls[0].answer == "spec"
    assert dataset_spec_calls(None, successes, ["r1"]) == []
