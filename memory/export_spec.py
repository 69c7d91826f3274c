"""``spec`` and ``style`` examples: what the planner's models would be trained on.

``spec`` — one example per successful run, matching the planner's two learned backends:

- chat (the ``llm`` backend, ``planner.spec_llm``): the prompt as recorded for the run's
  LLM spec call; when the run made none (the rules were specific, or a spec file was
  given), the prompt the backend would send, with the spec's targets as the symbol list.
  The answer is the flat JSON object that backend decodes under its schema, derived from
  the run's final operations and kept only when ``to_operations`` maps it back to exactly
  those operations (a spec mixing kinds of operation is not one answer: left out, counted).
- ``input``/``target`` (the ``t5`` backend, ``planner.spec_t5``): ``t5_input(issue, symbols)``
  → ``ops_to_text(operations)``, one YAML flow mapping per operation.

A human-corrected diff does not change the spec: it corrects code, not the plan.

``style`` — the repository's measured style decisions (``StyleProfile.fingerprint()``)
for code the run added (the corrected diff when there is one). Memory keeps only the
profile's hash; the profile itself is read from the record's ``style_profile`` field if a
future writer stores it, else from ``<data dir>/style_profile.json`` beside the memory
folder, and used only when its ``profile_hash()`` equals the run's. Runs whose profile is
not available that way give no style example (counted in the manifest). The seq2seq
refiner's own target (overrides) is never recorded, so it cannot be exported.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from memory.export_diff import added_blocks
from memory.export_examples import Example, messages
from memory.export_load import Run
from planner import spec_formats

FORMATS = spec_formats()  # the planner's prompt/answer formats: its one public way in

SYMBOLS_HEADER = "Symbols in the repository:\n"
STYLE_SYSTEM = (
    "You read a sample of a Python repository's code and name its house style. Reply with "
    "one JSON object with the fields docstring_style, formatting, future_annotations, indent, "
    "line_length, naming, quote and use_annotations."
)
STYLE_SAMPLES_PER_RUN = 3

# Which answer field carries which operation parameter (the inverse of ``to_operations``).
_FIELDS: dict[str, dict[str, str]] = {
    "rename": {"new_name": "new_name"},
    "rename_parameter": {"param": "old", "new_name": "new"},
    "add_parameter": {"param": "name", "detail": "default"},
    "remove_parameter": {"param": "name"},
    "make_keyword_only": {"param": "after"},
    "replace_calls": {"new_name": "new"},
    "change_import": {"detail": "new_module"},
    "add_decorator": {"detail": "decorator"},
    "remove_decorator": {"detail": "decorator"},
    "move_symbol": {"detail": "to_module"},
    "extract_constant": {"new_name": "name", "detail": "value"},
    "extract_helper": {"new_name": "name"},
    "add_function": {"new_name": "name"},
    "add_method": {"new_name": "name"},
    "modernize": {"detail": "idiom"},
}


def _fits_schema(value: dict[str, Any]) -> bool:
    props = FORMATS.schema["properties"]
    names = value["old_names"]
    if not 1 <= len(names) <= props["old_names"]["maxItems"]:
        return False
    if any(len(n) > props["old_names"]["items"]["maxLength"] for n in names):
        return False
    return all(len(value[k]) <= props[k]["maxLength"] for k in ("param", "new_name", "detail"))


def llm_answer(operations: list[Any], title: str) -> dict[str, Any] | None:
    """The ``llm`` backend's answer for these operations, or None if no one answer gives them."""
    if not operations or len({o.op for o in operations}) != 1:
        return None
    first = operations[0]
    value: dict[str, Any] = {
        "op": first.op,
        "old_names": [o.target for o in operations],
        "param": "",
        "new_name": "",
        "detail": "",
    }
    for field, param in _FIELDS.get(first.op, {}).items():
        value[field] = str(first.params.get(param) or "")
    if first.op == "extract_helper":
        value["old_names"] = [str(f) for f in first.params.get("functions") or [first.target]]
    if not _fits_schema(value):
        return None
    back = FORMATS.to_operations(value, title)
    return value if [o.to_dict() for o in back] == [o.to_dict() for o in operations] else None


def _spec_call(run: Run) -> dict[str, Any] | None:
    calls = [
        r
        for r in run.attempts
        if r.get("role") == "spec" and messages(r.get("messages")) is not None
    ]
    chosen = [r for r in calls if r.get("outcome") == "chosen"]
    picked = chosen or calls
    return picked[-1] if picked else None


def _symbols(user_text: str) -> list[str]:
    listing = user_text.split(SYMBOLS_HEADER, 1)[1] if SYMBOLS_HEADER in user_text else ""
    lines = [ln[2:].strip() for ln in listing.splitlines() if ln.startswith("- ")]
    return [ln for ln in lines if ln and ln != "(none matched)"]


def spec_example(run: Run, skips: Counter[str]) -> Example | None:
    spec = run.success.get("spec") if isinstance(run.success.get("spec"), dict) else None
    issue = str((spec or {}).get("description") or run.success.get("spec_issue_description") or "")
    try:
        operations = [FORMATS.operation(o) for o in (spec or {}).get("operations") or []]
    except FORMATS.spec_error:
        operations = []
    if not issue.strip() or not operations:
        skips["run without issue text or operations"] += 1
        return None
    answer = llm_answer(operations, FORMATS.issue_title(issue))
    if answer is None:
        skips["operations are not one llm spec answer (mixed kinds or too long)"] += 1
        return None
    call = _spec_call(run)
    recorded = messages(call.get("messages")) if call is not None else None
    attempts: tuple[str, ...] = ()
    if recorded is not None:
        prompt, attempts = recorded, (f"{run.run_id}:spec",)
        symbols = _symbols(recorded[-1]["content"])
    else:
        symbols = list(dict.fromkeys(o.target for o in operations))
        listing = "\n".join(f"- {s}" for s in symbols)
        user = f"Request:\n{issue.strip()[:3000]}\n\n{SYMBOLS_HEADER}{listing}"
        prompt = (
            {"role": "system", "content": FORMATS.system},
            {"role": "user", "content": user},
        )
    extra = (
        ("input", FORMATS.t5_input(issue, symbols)),
        ("target", FORMATS.ops_to_text(operations)),
    )
    return Example(
        run.run_id, prompt, json.dumps(answer, ensure_ascii=False), None, extra, attempts
    )


def profile_path(memory_dir: Path) -> Path:
    """Where the style profile of a memory folder's data dir lives."""
    return memory_dir.parent / FORMATS.profile_file


def style_profile(run: Run) -> Any:
    """The run's style profile when memory (or the data dir beside it) still has it."""
    wanted = run.success.get("style_profile_hash")
    candidates: list[Any] = [run.success.get("style_profile")]
    path = profile_path(run.source) if run.source is not None else None  # None: postgres
    if wanted and path is not None and path.is_file():
        with contextlib.suppress(OSError, ValueError):
            candidates.append(json.loads(path.read_text(encoding="utf-8")))
    for data in candidates:
        if not isinstance(data, dict):
            continue
        try:
            profile = FORMATS.style_profile(data)
        except (TypeError, ValueError):
            continue
        if not wanted or profile.profile_hash() == wanted:
            return profile
    return None


def style_examples(run: Run, skips: Counter[str]) -> list[Example]:
    profile = style_profile(run)
    if profile is None:
        skips["style profile not in memory (only its hash)"] += 1
        return []
    samples = added_blocks(run.diff)[:STYLE_SAMPLES_PER_RUN]
    if not samples:
        skips["no added Python code of 3+ lines"] += 1
        return []
    target = json.dumps(profile.fingerprint(), sort_keys=True, separators=(",", ":"))
    answer = json.dumps(profile.fingerprint(), sort_keys=True)
    out = []
    for sample in samples:
        prompt = (
            {"role": "system", "content": STYLE_SYSTEM},
            {"role": "user", "content": f"Code:\n```python\n{sample}\n```"},
        )
        extra = (("input", f"code: {sample}"), ("target", target))
        out.append(Example(run.run_id, prompt, answer, None, extra))
    return out
