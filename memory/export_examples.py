"""Turn one successful run into training examples of each kind (format-neutral).

A phase's LLM history is a list of drafts (the calls of one ``Drafter.draft``), in file
order; attempt ids restart when the final-validation repair loop redrafts a phase, so
drafts are told apart by attempt id, role and slot, not by id alone. The *accepted*
draft is the phase's last validated one; its error-free calls are the accepted answers.

- ``sft``: the phase's first prompt for that slot → the accepted answer (so the model
  learns to get it right the first time);
- ``repair``: an accepted answer that came from a repair prompt (failing output + error
  as recorded) → that answer;
- ``preference``: each earlier answer for the same slot (failed, invalid, unchanged,
  superseded) → rejected, against the accepted answer, under the rejected one's prompt;
  and the agent's answer against the human's corrected version.

Docstring answers are the validated (tidied) text in the reply format, ``{"docstring": …}``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from memory.export_diff import definition, docstring, normalized
from memory.export_load import Run

LLM_ROLES = ("slot", "repair")
Messages = tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Example:
    run_id: str
    prompt: Messages
    answer: str
    rejected: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # e.g. ("input", …), ("target", …) for seq2seq
    attempts: tuple[str, ...] = ()


def messages(value: Any) -> Messages | None:
    """Chat messages as recorded, or None when the record holds none usable."""
    if not isinstance(value, list) or not value:
        return None
    out = []
    for m in value:
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            return None
        if m.get("role") not in ("system", "user", "assistant"):
            return None
        out.append({"role": str(m["role"]), "content": m["content"]})
    return tuple(out) if out[-1]["role"] == "user" else None


def slot_kind(record: dict[str, Any]) -> str:
    params = record.get("params")
    schema = params.get("json_schema") if isinstance(params, dict) else None
    if schema and "docstring" in json.dumps(schema):
        return "docstring"
    return "source"


def answer_of(record: dict[str, Any]) -> str:
    """The answer as the model should give it: docstrings as validated, code as written."""
    parsed = record.get("parsed")
    if slot_kind(record) == "docstring" and isinstance(parsed, str) and parsed.strip():
        return json.dumps({"docstring": parsed}, ensure_ascii=False)
    return str(record.get("raw") or "")


def _drafts(run: Run) -> dict[str, list[list[dict[str, Any]]]]:
    """Per phase, its drafts (lists of call records), oldest first."""
    phases: dict[str, list[list[dict[str, Any]]]] = {}
    for rec in run.attempts:
        if rec.get("role") not in LLM_ROLES or not rec.get("phase"):
            continue
        if messages(rec.get("messages")) is None or not isinstance(rec.get("raw"), str):
            continue
        drafts = phases.setdefault(str(rec["phase"]), [])
        last = drafts[-1][-1] if drafts else None
        same = last is not None and all(
            last.get(k) == rec.get(k) for k in ("attempt_id", "role", "outcome")
        )
        # One draft asks each slot once, or again only after that slot's call failed.
        if (
            same
            and last is not None
            and slot_kind(last) == slot_kind(rec)
            and not last.get("error")
        ):
            same = False
        if same:
            drafts[-1].append(rec)
        else:
            drafts.append([rec])
    return phases


def _name(record: dict[str, Any], kind: str) -> str | None:
    op = record.get("op") if isinstance(record.get("op"), dict) else {}
    assert isinstance(op, dict)
    target = str(op.get("target") or "")
    params = op.get("params") if isinstance(op.get("params"), dict) else {}
    assert isinstance(params, dict)
    if kind == "source" and op.get("op") == "extract_helper":
        return None  # several definitions: no one-to-one mapping
    name = params.get("name") if kind == "source" else None
    return str(name or target.rsplit(".", 1)[-1]) or None


def corrected_answer(record: dict[str, Any], run: Run) -> str | None:
    """The answer as the human's corrected diff has it; None when that is not clear."""
    answer = answer_of(record)
    corrected = run.corrected_diff
    if not corrected or normalized(corrected) == normalized(str(run.success.get("diff") or "")):
        return answer
    kind = slot_kind(record)
    name = _name(record, kind)
    if name is None:
        return None
    parsed = record.get("parsed")
    if kind == "docstring":
        doc = docstring(corrected, name)
        if doc is None:
            return None
        same = isinstance(parsed, str) and doc.strip() == parsed.strip()
        return answer if same else json.dumps({"docstring": doc}, ensure_ascii=False)
    code = definition(corrected, name)
    if code is None:
        return None
    if isinstance(parsed, str) and code.strip() == parsed.strip():
        return answer
    raw = str(record.get("raw") or "")
    if isinstance(parsed, str) and parsed.strip() and parsed in raw:
        return raw.replace(parsed, code, 1)
    return f"```python\n{code}\n```"


def _prompt(record: dict[str, Any]) -> Messages:
    found = messages(record.get("messages"))
    assert found is not None
    return found


def _is_repair(record: dict[str, Any]) -> bool:
    prompt = _prompt(record)
    return record.get("role") == "repair" or any(m["role"] == "assistant" for m in prompt)


def _blamed(draft: list[dict[str, Any]], call: dict[str, Any]) -> bool:
    """Whether ``call``'s answer is known to be bad (not merely in a draft that failed)."""
    if draft[0].get("outcome") == "invalid slot":
        return bool(call.get("error"))
    return len({slot_kind(c) for c in draft}) == 1


def chat_examples(run: Run, skips: Counter[str]) -> dict[str, list[Example]]:
    """The ``sft``, ``repair`` and ``preference`` examples of one run."""
    out: dict[str, list[Example]] = {"sft": [], "repair": [], "preference": []}
    for phase, drafts in _drafts(run).items():
        accepted = [i for i, d in enumerate(drafts) if d[0].get("outcome") == "validated"]
        if not accepted:
            skips[f"phase without a validated draft ({phase})"] += 1
            continue
        at = accepted[-1]
        calls = [c for d in drafts for c in d]
        for call in (c for c in drafts[at] if not c.get("error")):
            kind = slot_kind(call)
            root = next(c for c in calls if slot_kind(c) == kind)
            agent = answer_of(call)
            answer = corrected_answer(call, run)
            if answer is None:
                skips["answer the corrected diff changes in a way that cannot be mapped"] += 1
                continue
            ids = tuple(dict.fromkeys([str(root.get("attempt_id")), str(call.get("attempt_id"))]))
            if answer != agent:
                out["preference"].append(Example(run.run_id, _prompt(root), answer, agent, (), ids))
            out["sft"].append(Example(run.run_id, _prompt(root), answer, attempts=ids))
            if call is not root and _is_repair(call):
                parent = str(call.get("parent_attempt") or ids[0])
                pair = tuple(dict.fromkeys([parent, ids[-1]]))
                out["repair"].append(Example(run.run_id, _prompt(call), answer, attempts=pair))
            earlier = [c for d in drafts[:at] for c in d if _blamed(d, c)]
            earlier += [c for c in drafts[at] if c.get("error")]
            for bad in earlier:
                rejected = answer_of(bad)
                if slot_kind(bad) != kind or not rejected.strip() or rejected == answer:
                    continue
                ids2 = tuple(dict.fromkeys([str(bad.get("attempt_id")), ids[-1]]))
                out["preference"].append(
                    Example(run.run_id, _prompt(bad), answer, rejected, (), ids2)
                )
    return out
