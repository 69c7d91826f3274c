"""Evaluate a model version by replaying held-out LLM calls from memory.

Each held-out call (``memory.held_out``) is sent
again with the same messages and parameters (temperature 0, one sample) and scored:

* schema-valid: JSON that validates against the call's schema (structured calls),
  or a fenced/plain Python reply that parses and defines the expected name (code);
* exact match: canonical JSON equal (docstring-style slots), AST-equal code (comments
  and layout ignored), or for specs the same set of (op, target) pairs;
* validated (optional): a callback re-renders and validates the produced edit.

``gate`` compares two reports; it never imports ``agent`` (the callback comes in).
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import jsonschema

from cores.protocols import LLM
from memory.held_out import CODE_ROLES, HeldOutCall

SCHEMA_VERSION = 1
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)
# A spec answer → operations ({op, target, params}); default: one per ``old_names`` entry.
SpecMapper = Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]]
# (call, model output) → True/False when the produced edit was validated, None when not measured.
EditValidator = Callable[[HeldOutCall, str], "bool | None"]


@dataclass(frozen=True)
class CallScore:
    attempt_id: str
    role: str
    valid: bool
    exact: bool
    seconds: float
    validated: bool | None = None
    output: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _rate(hits: Iterable[bool]) -> float | None:
    values = list(hits)
    return round(sum(values) / len(values), 4) if values else None


@dataclass(frozen=True)
class EvalReport:
    """One model's scores on the held-out calls. Rates are ``None`` when nothing was measured."""

    model_id: str
    scores: tuple[CallScore, ...]
    seconds: float
    validation_note: str = ""
    schema_version: int = SCHEMA_VERSION

    def _of(self, roles: Collection[str]) -> list[CallScore]:
        return [s for s in self.scores if s.role in roles]

    @property
    def schema_valid(self) -> float | None:
        return _rate(s.valid for s in self.scores)

    @property
    def spec_exact(self) -> float | None:
        return _rate(s.exact for s in self._of(("spec",)))

    @property
    def slot_exact(self) -> float | None:
        return _rate(s.exact for s in self._of(CODE_ROLES))

    @property
    def validation_pass(self) -> float | None:
        return _rate(s.validated for s in self.scores if s.validated is not None)

    def metrics(self) -> dict[str, float | None]:
        """The gated metrics (higher is better)."""
        return {
            "spec_exact": self.spec_exact,
            "slot_exact": self.slot_exact,
            "schema_valid": self.schema_valid,
            "validation_pass": self.validation_pass,
        }

    def per_role(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for role in sorted({s.role for s in self.scores}):
            mine = self._of((role,))
            out[role] = {
                "calls": len(mine),
                "schema_valid": _rate(s.valid for s in mine),
                "exact_match": _rate(s.exact for s in mine),
                "mean_s": round(sum(s.seconds for s in mine) / len(mine), 3),
            }
        return out

    def to_dict(self, *, with_calls: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "model_id": self.model_id,
            "calls": len(self.scores),
            "metrics": self.metrics(),
            "exact_match": _rate(s.exact for s in self.scores),
            "per_role": self.per_role(),
            "seconds": round(self.seconds, 3),
            "mean_s_per_call": round(self.seconds / len(self.scores), 3) if self.scores else None,
            "validation_note": self.validation_note,
        }
        if with_calls:
            data["scores"] = [s.to_dict() for s in self.scores]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        return cls(
            model_id=data["model_id"],
            scores=tuple(CallScore(**s) for s in data.get("scores", ())),
            seconds=float(data.get("seconds", 0.0)),
            validation_note=data.get("validation_note", ""),
        )


# -- scoring -----------------------------------------------------------------------------------
def extract_code(text: str) -> str:
    match = _FENCE.search(text)
    return (match.group(1) if match else text).strip("\n")


def _code_form(code: str) -> str:
    try:
        return ast.dump(ast.parse(code))
    except SyntaxError:
        return "\n".join(" ".join(line.split()) for line in code.splitlines() if line.strip())


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def flat_spec_ops(value: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The spec schema's flat answer as operations: one per ``old_names`` entry."""
    names = value.get("old_names") or []
    return [{"op": value.get("op"), "target": n} for n in names if isinstance(n, str)]


def _name(text: str) -> str:
    return text.strip().strip("`").removesuffix("()")


def _same_target(a: str, b: str) -> bool:
    """Equal, or one is the other qualified further (``Cart.add`` vs ``shop.cart.Cart.add``)."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def spec_match(got: Sequence[Mapping[str, Any]], want: Sequence[Mapping[str, Any]]) -> bool:
    """The same set of (op, target) pairs, targets compared up to qualification."""
    mine = {(str(o.get("op")), _name(str(o.get("target", "")))) for o in got}
    theirs = {(str(o.get("op")), _name(str(o.get("target", "")))) for o in want}

    def covered(xs: set[tuple[str, str]], ys: set[tuple[str, str]]) -> bool:
        return all(any(op == o2 and _same_target(t, t2) for o2, t2 in ys) for op, t in xs)

    return bool(mine) and covered(mine, theirs) and covered(theirs, mine)


def score_output(
    call: HeldOutCall, text: str, spec_mapper: SpecMapper = flat_spec_ops
) -> tuple[bool, bool, str | None]:
    """(schema-valid, exact match, problem) of one output for one call."""
    if call.answer == "code":
        code = extract_code(text)
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            return False, False, f"does not parse: {exc.msg}"
        defined = {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        if not defined or (call.name and call.name not in defined):
            return False, False, f"does not define `{call.name or 'a def or class'}`"
        return True, _code_form(code) == _code_form(str(call.reference)), None
    try:
        value = json.loads(text)
        jsonschema.validate(value, call.params["json_schema"])
    except (ValueError, jsonschema.ValidationError) as exc:
        return False, False, f"not schema-valid JSON: {str(exc).splitlines()[0][:200]}"
    if call.answer == "json":
        return True, _canonical(value) == _canonical(call.reference), None
    return True, spec_match(spec_mapper(value), call.reference), None


def evaluate(
    llm: LLM,
    calls: Sequence[HeldOutCall],
    *,
    spec_mapper: SpecMapper = flat_spec_ops,
    validate_edit: EditValidator | None = None,
    validation_note: str = "",
    progress: Callable[[str], None] | None = None,
) -> EvalReport:
    """Replay every call against ``llm`` and score it; a backend error scores the call 0."""
    scores: list[CallScore] = []
    start = time.perf_counter()
    for i, call in enumerate(calls, 1):
        began = time.perf_counter()
        problem: str | None
        try:
            text = llm.chat(list(call.messages), call.generation_params()).text
        except Exception as exc:  # a backend failure is a failed call, not a crash
            text, problem = "", f"{type(exc).__name__}: {exc}"
            valid = exact = False
        else:
            valid, exact, problem = score_output(call, text, spec_mapper)
        seconds = time.perf_counter() - began
        validated = None
        if validate_edit is not None and call.answer != "spec":
            validated = validate_edit(call, text)
        scores.append(
            CallScore(
                call.attempt_id, call.role, valid, exact, seconds, validated, text[:2000], problem
            )
        )
        if progress is not None:
            progress(f"  {llm.model_id}: call {i}/{len(calls)} ({call.role}) {seconds:.1f}s")
    return EvalReport(llm.model_id, tuple(scores), time.perf_counter() - start, validation_note)


# -- the promotion gate ------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    better: bool
    reason: str
    deltas: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"better": self.better, "reason": self.reason, "deltas": dict(self.deltas)}


def gate(current: EvalReport, candidate: EvalReport) -> Gate:
    """Better = no gated metric worse and at least one strictly better; ties keep the current.

    A metric counts only when both reports measured it (e.g. no held-out spec calls → the
    spec metric is left out).
    """
    if not current.scores or not candidate.scores:
        return Gate(False, "no held-out calls to compare on; the current model stays", {})
    before, after = current.metrics(), candidate.metrics()
    deltas = {
        name: round(after_value - before_value, 4)
        for name, before_value in before.items()
        if before_value is not None and (after_value := after[name]) is not None
    }
    worse = [f"{n} {before[n]:.2f} → {after[n]:.2f}" for n, d in deltas.items() if d < 0]
    if worse:
        return Gate(False, "worse on " + ", ".join(worse), deltas)
    gained = [f"{n} {before[n]:.2f} → {after[n]:.2f}" for n, d in deltas.items() if d > 0]
    if not gained:
        return Gate(False, "a tie on every metric; the current model stays", deltas)
    return Gate(True, "better on " + ", ".join(gained) + "; nothing worse", deltas)
