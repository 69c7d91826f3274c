"""The LLM calls a model version is evaluated on, chosen from memory.

A held-out call is an LLM call of a successful run in the validation split: a
``spec`` call (its reference is the run's final spec operations), or a ``slot`` /
``repair`` call whose answer was validated without a slot error (its reference is
that answer: the JSON the model sent, or the code it wrote).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cores.types import GenerationParams
from memory.jsonl import JsonlLog

CODE_ROLES = ("slot", "repair")


@dataclass(frozen=True)
class HeldOutCall:
    """One LLM call to replay, with the answer that is known to be right."""

    run_id: str
    attempt_id: str
    role: str  # spec | slot | repair
    answer: str  # json | code | spec
    messages: tuple[Mapping[str, str], ...]
    params: Mapping[str, Any]
    reference: Any
    name: str = ""  # the definition a code answer must hold ("" = any)
    op: Mapping[str, Any] = field(default_factory=dict)
    phase: str = ""

    def generation_params(self) -> GenerationParams:
        known = {f.name for f in fields(GenerationParams)}
        values = {k: v for k, v in self.params.items() if k in known}
        values.update(temperature=0.0, n=1, seed=0)
        values["stop"] = tuple(values.get("stop") or ())
        return GenerationParams(**values)


def success_records(memory_dirs: Sequence[Path]) -> dict[str, dict[str, Any]]:
    """Run id → success record, across the memory folders (a later folder wins)."""
    runs: dict[str, dict[str, Any]] = {}
    for root in memory_dirs:
        for record in JsonlLog(Path(root) / "success_memory.jsonl"):
            if record.get("run_id"):
                runs[str(record["run_id"])] = record
    return runs


def _code_name(op: Mapping[str, Any]) -> str:
    if op.get("op") == "extract_helper":
        return ""
    params = op.get("params") or {}
    return str(params.get("name") or str(op.get("target", "")).rsplit(".", 1)[-1])


def _held_out(
    record: Mapping[str, Any],
    success: Mapping[str, Any],
    defaults: Mapping[str, Mapping[str, Any]],
) -> HeldOutCall | None:
    role = str(record.get("role") or "")
    messages = record.get("messages")
    if role not in ("spec", *CODE_ROLES) or not messages:
        return None
    params = dict(defaults.get(role, {}))
    params.update(record.get("params") or {})
    common: dict[str, Any] = {
        "run_id": str(record["run_id"]),
        "attempt_id": str(record.get("attempt_id") or f"{record['run_id']}:{role}"),
        "role": role,
        "messages": tuple(dict(m) for m in messages),
        "params": params,
        "op": dict(record.get("op") or {}),
        "phase": str(record.get("phase") or ""),
    }
    if role == "spec":
        spec_ops = (success.get("spec") or {}).get("operations")
        if not spec_ops or not params.get("json_schema"):
            return None
        return HeldOutCall(answer="spec", reference=list(spec_ops), **common)
    if record.get("outcome") != "validated" or record.get("error"):
        return None
    raw = record.get("raw", record.get("raw_output"))
    if params.get("json_schema"):
        try:
            return HeldOutCall(answer="json", reference=json.loads(str(raw)), **common)
        except ValueError:
            return None
    code = record.get("parsed")
    if not isinstance(code, str) or not code.strip():
        return None
    return HeldOutCall(answer="code", reference=code, name=_code_name(common["op"]), **common)


def held_out_calls(
    memory_dirs: Sequence[Path],
    run_ids: Collection[str] | None,
    *,
    limit: int | None = None,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[HeldOutCall]:
    """The replayable calls of successful runs in ``run_ids`` (all successful runs when None).

    ``defaults`` fills parameters a record lacks, per role (spec records keep no JSON
    schema). Calls are de-duplicated by prompt and taken round-robin across roles, so a
    small ``limit`` still sees every role.
    """
    successes = success_records(memory_dirs)
    wanted = set(successes) if run_ids is None else set(run_ids) & set(successes)
    by_role: dict[str, list[HeldOutCall]] = {}
    seen: set[str] = set()
    for root in memory_dirs:
        for record in JsonlLog(Path(root) / "attempts.jsonl"):
            run_id = str(record.get("run_id") or "")
            if run_id not in wanted:
                continue
            call = _held_out(record, successes[run_id], defaults or {})
            if call is None:
                continue
            key = json.dumps([call.role, call.messages], sort_keys=True)
            if key not in seen:
                seen.add(key)
                by_role.setdefault(call.role, []).append(call)
    return round_robin([c for role in sorted(by_role) for c in by_role[role]], limit)


def round_robin(calls: Sequence[HeldOutCall], limit: int | None) -> list[HeldOutCall]:
    """At most ``limit`` calls, taken in turn from each role (roles in name order)."""
    by_role: dict[str, list[HeldOutCall]] = {}
    for call in calls:
        by_role.setdefault(call.role, []).append(call)
    queues = [by_role[r] for r in sorted(by_role)]
    ordered: list[HeldOutCall] = []
    while any(queues) and (limit is None or len(ordered) < limit):
        for queue in queues:
            if queue and (limit is None or len(ordered) < limit):
                ordered.append(queue.pop(0))
    return ordered
