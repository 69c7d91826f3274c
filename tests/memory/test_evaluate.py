"""Held-out call selection, scoring, evaluation and the promotion gate.

Records are written in the shape ``agent.run.record.Recorder`` writes them; the
control-flow tests use the scripted backend, the replay test the real SmolLM2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cores.llm_scripted import ScriptedLLM
from memory.evaluate import CallScore, EvalReport, evaluate, gate, score_output, spec_match
from memory.held_out import HeldOutCall, held_out_calls
from memory.store import Memory

DOC_SCHEMA = {
    "type": "object",
    "properties": {"docstring": {"type": "string", "maxLength": 900}},
    "required": ["docstring"],
    "additionalProperties": False,
}
SPEC_SCHEMA = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["rename", "add_docstring", "edit"]},
        "old_names": {
            "type": "array",
            "items": {"type": "string", "maxLength": 40},
            "minItems": 1,
            "maxItems": 3,
        },
    },
    "required": ["op", "old_names"],
}
SPEC_DEFAULTS = {"spec": {"max_tokens": 160, "json_schema": SPEC_SCHEMA}}
EDIT_SOURCE = "def tail(n, seq):\n    if n == 0:\n        return ()\n    return tuple(seq)[-n:]"


def _params(schema: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "max_tokens": 300,
        "temperature": 0.7,
        "top_p": 0.95,
        "seed": 1,
        "stop": [],
        "n": 1,
        "json_schema": schema,
        **extra,
    }


def _slot(run_id: str, phase: str, op: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An attempt record as Recorder.draft (agent.run.record) writes one for an LLMCall."""
    return {
        "run_id": run_id,
        "attempt_id": f"{run_id}:{phase}:1",
        "parent_attempt": None,
        "phase": phase,
        "op": op,
        "role": "slot",
        "model_id": "default@abc",
        "prompt_tokens": 50,
        "completion_tokens": 20,
        "latency_s": 1.0,
        "script_hash": "x",
        "outcome": "validated",
        "error": None,
        **fields,
    }


def write_run(memory: Memory, run_id: str, *, validated: bool = True) -> None:
    """A successful run: one spec call, a docstring slot, an edit slot (and a failed try)."""
    doc_op = {"op": "add_docstring", "target": "pkg.core.greet", "params": {}}
    edit_op = {"op": "edit", "target": "pkg.core.tail", "params": {"instruction": "fix"}}
    memory.record_attempt(
        {
            "run_id": run_id,
            "phase": "spec",
            "role": "spec",
            "messages": [{"role": "user", "content": f"Request {run_id}: document greet"}],
            "raw_output": '{"op": "add_docstring", "old_names": ["pkg.core.greet"]}',
            "parsed": [doc_op],
            "model_id": "default@abc",
            "outcome": "chosen",
        }
    )
    doc_messages = [{"role": "user", "content": f"Write the docstring of greet ({run_id})"}]
    memory.record_attempt(
        _slot(
            run_id,
            "01_add_docstring",
            doc_op,
            messages=doc_messages,
            raw='{"docstring": "Greet someone."}',
            parsed="Greet someone.",
            params=_params(DOC_SCHEMA),
        )
    )
    edit_messages = [{"role": "user", "content": f"Fix tail ({run_id})"}]
    memory.record_attempt(
        _slot(
            run_id,
            "02_edit",
            edit_op,
            messages=edit_messages,
            raw="```python\ndef tail(n, seq): return seq\n```",
            parsed="def tail(n, seq): return seq",
            params=_params(stop=["\n```\n"]),
            outcome="failed",
            error="related tests failed",
        )
    )
    memory.record_attempt(
        _slot(
            run_id,
            "02_edit",
            edit_op,
            role="repair",
            attempt_id=f"{run_id}:02_edit:2",
            messages=[*edit_messages, {"role": "user", "content": "That failed: tests"}],
            raw=f"```python\n{EDIT_SOURCE}\n```",
            parsed=EDIT_SOURCE,
            params=_params(stop=["\n```\n"]),
            outcome="validated" if validated else "failed",
        )
    )
    memory.record_success(
        {
            "run_id": run_id,
            "spec_issue_id": f"issue-{run_id}",
            "spec_issue_description": "document greet",
            "spec_target_files": ["pkg/core.py"],
            "spec_operations_summary": "add_docstring pkg.core.greet",
            "successful_diff_summary": "1 file(s): pkg/core.py",
            "successful_script_hash": "h",
            "patch_source": "llm",
            "spec": {"issue_id": f"issue-{run_id}", "operations": [doc_op, edit_op]},
            "diff": "",
        }
    )


@pytest.fixture()
def memory(tmp_path: Path) -> Memory:
    mem = Memory(tmp_path)
    write_run(mem, "r1")
    write_run(mem, "r2")
    mem.record_attempt(  # a run that never succeeded: never held out
        {**_slot("r3", "01_add_docstring", {}), "messages": [{"role": "user", "content": "x"}]}
    )
    return mem


def test_held_out_calls_pick_validated_and_spec_calls_of_held_out_runs(memory: Memory) -> None:
    calls = held_out_calls([memory.root], ["r2", "r3"], defaults=SPEC_DEFAULTS)
    assert {c.run_id for c in calls} == {"r2"}
    by_role = {c.role: c for c in calls}
    assert sorted(by_role) == ["repair", "slot", "spec"]  # the failed first edit is left out
    assert by_role["slot"].answer == "json"
    assert by_role["slot"].reference == {"docstring": "Greet someone."}
    assert by_role["repair"].answer == "code" and by_role["repair"].name == "tail"
    assert by_role["repair"].reference == EDIT_SOURCE
    spec = by_role["spec"]
    assert spec.answer == "spec" and spec.params["json_schema"] == SPEC_SCHEMA
    assert [o["op"] for o in spec.reference] == ["add_docstring", "edit"]
    # Replays are greedy and single-sample whatever the original call used.
    params = by_role["slot"].generation_params()
    assert (params.temperature, params.n, params.seed) == (0.0, 1, 0)
    assert params.json_schema == DOC_SCHEMA


def test_spec_calls_without_a_schema_are_left_out(memory: Memory) -> None:
    calls = held_out_calls([memory.root], ["r1"])
    assert "spec" not in {c.role for c in calls}


def test_limit_takes_every_role_round_robin(memory: Memory) -> None:
    calls = held_out_calls([memory.root], None, limit=4, defaults=SPEC_DEFAULTS)
    assert len(calls) == 4
    assert [c.role for c in calls[:3]] == ["repair", "slot", "spec"]
    assert len(held_out_calls([memory.root], None, defaults=SPEC_DEFAULTS)) == 6


def _call(answer: str, reference: Any, **kw: Any) -> HeldOutCall:
    schema = {"code": None, "json": DOC_SCHEMA, "spec": SPEC_SCHEMA}[answer]
    return HeldOutCall(
        run_id="r",
        attempt_id=f"r:{answer}",
        role={"code": "slot", "json": "slot", "spec": "spec"}[answer],
        answer=answer,
        messages=({"role": "user", "content": "q"},),
        params={"max_tokens": 50, "json_schema": schema},
        reference=reference,
        **kw,
    )


def test_scores_json_canonically() -> None:
    call = _call("json", {"docstring": "Greet someone."})
    assert score_output(call, '{ "docstring":"Greet someone." }')[:2] == (True, True)
    assert score_output(call, '{"docstring": "Say hi."}')[:2] == (True, False)
    valid, exact, problem = score_output(call, '{"doc": 1}')
    assert (valid, exact) == (False, False) and problem and "schema" in problem
    assert score_output(call, "not json")[:2] == (False, False)


def test_scores_code_by_syntax_tree() -> None:
    call = _call("code", EDIT_SOURCE, name="tail")
    reformatted = "```python\ndef tail(n, seq):  # fixed\n    if n == 0: return ()\n\n    return tuple(seq)[-n:]\n```"
    assert score_output(call, reformatted)[:2] == (True, True)
    assert score_output(call, "def tail(n, seq):\n    return seq")[:2] == (True, False)
    assert score_output(call, "def head(n, seq):\n    return seq")[:2] == (False, False)
    assert score_output(call, "def tail(n, seq) return")[:2] == (False, False)


def test_spec_match_allows_qualification_but_not_other_ops_or_names() -> None:
    want = [
        {"op": "rename", "target": "pkg.core.get_user"},
        {"op": "rename", "target": "pkg.api.get"},
    ]
    assert spec_match(
        [{"op": "rename", "target": "core.get_user"}, {"op": "rename", "target": "pkg.api.get"}],
        want,
    )
    assert not spec_match([{"op": "rename", "target": "pkg.core.get_user"}], want)
    assert not spec_match(
        [{"op": "edit", "target": "pkg.core.get_user"}, {"op": "edit", "target": "pkg.api.get"}],
        want,
    )
    assert not spec_match([], [])


def test_evaluate_replays_each_call_and_scores_it(memory: Memory) -> None:
    calls = held_out_calls([memory.root], ["r1"], defaults=SPEC_DEFAULTS)
    replies = {
        "spec": json.dumps({"op": "add_docstring", "old_names": ["greet"]}),  # only half the spec
        "slot": '{"docstring": "Greet someone."}',
        "repair": f"```python\n{EDIT_SOURCE}\n```",
    }
    llm = ScriptedLLM([replies[c.role] for c in calls], model_id="cand")
    seen: list[str] = []
    report = evaluate(llm, calls, progress=seen.append)
    assert len(llm.calls) == 3 and len(seen) == 3
    sent, params = llm.calls[0]
    assert [m.to_dict() for m in sent] == list(calls[0].messages)
    assert params.temperature == 0.0
    assert report.model_id == "cand"
    assert report.metrics() == {
        "spec_exact": 0.0,
        "slot_exact": 1.0,
        "schema_valid": 1.0,
        "validation_pass": None,
    }
    assert report.per_role()["spec"]["calls"] == 1
    data = report.to_dict()
    assert data["calls"] == 3 and data["exact_match"] == round(2 / 3, 4)
    assert EvalReport.from_dict(json.loads(json.dumps(data))).to_dict() == data


def test_a_backend_error_scores_the_call_zero(memory: Memory) -> None:
    calls = held_out_calls([memory.root], ["r1"], defaults=SPEC_DEFAULTS)
    llm = ScriptedLLM(["not json"], model_id="broken")  # runs out after one call
    handed: list[tuple[str, str]] = []

    def validate(call: HeldOutCall, text: str) -> bool:
        handed.append((call.role, text))
        return False

    report = evaluate(llm, calls, validate_edit=validate)
    assert report.schema_valid == 0.0
    assert all(s.error for s in report.scores)
    assert any("ran out of replies" in (s.error or "") for s in report.scores)
    # Every edit call goes to the validator (a failed call with no text too); spec calls never.
    assert sorted(handed) == [("repair", "not json"), ("slot", "")]
    assert report.validation_pass == 0.0


def _report(model: str, **rates: list[bool]) -> EvalReport:
    """Scores whose valid/exact flags give the wanted rates (spec and slot roles)."""
    scores = []
    for i, (valid, spec, slot) in enumerate(
        zip(rates["valid"], rates["spec"], rates["slot"], strict=True)
    ):
        scores.append(CallScore(f"s{i}", "spec", valid, spec, 0.1))
        scores.append(CallScore(f"c{i}", "slot", valid, slot, 0.1))
    return EvalReport(model, tuple(scores), 1.0)


def test_gate_promotes_only_a_strictly_better_model() -> None:
    base = _report("base", valid=[True, False], spec=[True, False], slot=[False, False])
    better = _report("new", valid=[True, False], spec=[True, False], slot=[True, False])
    verdict = gate(base, better)
    assert verdict.better and "slot_exact 0.00 → 0.50" in verdict.reason
    assert verdict.deltas["slot_exact"] == 0.5 and verdict.deltas["spec_exact"] == 0.0


def test_gate_keeps_the_current_model_when_any_metric_is_worse() -> None:
    base = _report("base", valid=[True, True], spec=[True, False], slot=[False, False])
    mixed = _report("new", valid=[True, True], spec=[False, False], slot=[True, True])
    verdict = gate(base, mixed)
    assert not verdict.better
    assert verdict.reason == "worse on spec_exact 0.50 → 0.00"


def test_gate_keeps_the_current_model_on_a_tie_or_without_calls() -> None:
    base = _report("base", valid=[True], spec=[True], slot=[False])
    assert not gate(base, _report("new", valid=[True], spec=[True], slot=[False])).better
    assert "tie" in gate(base, base).reason
    empty = EvalReport("new", (), 0.0)
    assert "no held-out calls" in gate(empty, empty).reason


def test_gate_leaves_out_metrics_only_one_side_measured() -> None:
    base = _report("base", valid=[True], spec=[True], slot=[False])
    validated = EvalReport(
        "new",
        tuple(
            s if s.role == "spec" else CallScore("c0", "slot", True, True, 0.1, True)
            for s in base.scores
        ),
        1.0,
    )
    verdict = gate(base, validated)
    assert "validation_pass" not in verdict.deltas and verdict.better


@pytest.mark.slow
def test_replay_against_the_real_tiny_model(memory: Memory, fast_gguf: Path) -> None:
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    calls = held_out_calls([memory.root], ["r1"], defaults=SPEC_DEFAULTS)
    llm = LlamaCppLLM(fast_gguf, model_id="fast", settings=LlamaCppSettings(n_ctx=1024))
    try:
        report = evaluate(llm, calls)
    finally:
        llm.close()
    assert report.model_id == "fast" and len(report.scores) == 3
    by_role = {s.role: s for s in report.scores}
    # Constrained decoding always yields schema-valid JSON, even from a 135M model.
    assert by_role["slot"].valid and by_role["spec"].valid
    assert json.loads(by_role["slot"].output)["docstring"] is not None
    assert all(s.seconds > 0 for s in report.scores)
