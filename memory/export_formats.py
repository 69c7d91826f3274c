"""Dataset row formats. Rows hold only what the trainers read; provenance is in the manifest.

========================  ===================================================  ==========================================
format                    SFT row (sft, repair, spec, style)                   preference row
========================  ===================================================  ==========================================
``messages``              ``{"messages": [system?, user, (assistant, user)…,   ``{"prompt": [...], "chosen": [assistant],
                          assistant]}`` — TRL ``SFTTrainer`` conversational    "rejected": [assistant]}`` — TRL DPO
``prompt-completion``     ``{"prompt": [...], "completion": [assistant]}``     same as ``messages``
                          — TRL conversational prompt-completion
``alpaca``                ``{"instruction", "input": "", "output", "system",   ``{"instruction", "input": "", "chosen",
                          "history": [[user, assistant], …]}``                 "rejected", "system", "history"}``
                                                                               (LLaMA-Factory ranking)
``sharegpt``              ``{"conversations": [{"from": "system"|"human"|       ``{"conversations": [...], "chosen":
                          "gpt", "value"}, …]}``                               {"from": "gpt", …}, "rejected": {…}}``
========================  ===================================================  ==========================================

``spec`` and ``style`` rows also carry ``input`` and ``target`` (plain strings) for the
seq2seq trainer (T5 spec normalizer / style refiner). TRL ignores columns it does not
use (tested in ``tests/memory/test_export_trl.py``).
"""

from __future__ import annotations

from typing import Any

from memory.export_examples import Example

FORMATS = ("messages", "prompt-completion", "alpaca", "sharegpt")
_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _alpaca_parts(prompt: tuple[dict[str, str], ...]) -> dict[str, Any]:
    system = "\n\n".join(m["content"] for m in prompt if m["role"] == "system")
    turns = [m for m in prompt if m["role"] != "system"]
    history: list[list[str]] = []
    pending: str | None = None
    for m in turns[:-1]:
        if m["role"] == "user":
            pending = m["content"] if pending is None else f"{pending}\n\n{m['content']}"
        else:
            history.append([pending or "", m["content"]])
            pending = None
    last = turns[-1]["content"] if turns else ""
    instruction = last if pending is None else f"{pending}\n\n{last}"
    return {"instruction": instruction, "input": "", "system": system, "history": history}


def _sharegpt(prompt: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    return [{"from": _SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in prompt]


def to_row(example: Example, fmt: str) -> dict[str, Any]:
    """One dataset row of ``example`` in format ``fmt``."""
    prompt = [dict(m) for m in example.prompt]
    preference = example.rejected is not None
    rejected = example.rejected or ""
    if fmt in ("messages", "prompt-completion"):
        if preference:
            row: dict[str, Any] = {
                "prompt": prompt,
                "chosen": _assistant(example.answer),
                "rejected": _assistant(rejected),
            }
        elif fmt == "messages":
            row = {"messages": [*prompt, *_assistant(example.answer)]}
        else:
            row = {"prompt": prompt, "completion": _assistant(example.answer)}
    elif fmt == "alpaca":
        parts = _alpaca_parts(example.prompt)
        answer = (
            {"chosen": example.answer, "rejected": rejected}
            if preference
            else {"output": example.answer}
        )
        row = {
            "instruction": parts["instruction"],
            "input": "",
            **answer,
            "system": parts["system"],
            "history": parts["history"],
        }
    elif fmt == "sharegpt":
        turns = _sharegpt(example.prompt)
        if preference:
            row = {
                "conversations": turns,
                "chosen": {"from": "gpt", "value": example.answer},
                "rejected": {"from": "gpt", "value": rejected},
            }
        else:
            row = {"conversations": [*turns, {"from": "gpt", "value": example.answer}]}
    else:
        raise ValueError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    row.update(dict(example.extra))
    return row
