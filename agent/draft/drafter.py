"""Drafting: for each phase, the slot values the codemod needs and a standalone script.

Built-in operations need nothing from the model. Content the library cannot know
comes from the LLM in typed slots: a docstring's text (JSON-schema constrained),
or one complete Python definition (a fenced code block that must parse, with the
right name). The LLM never writes LibCST plumbing. Each slot kind is drafted by its
entry in ``agent.draft.slots.SLOTS``; the ``Drafter`` is their context (the issue, the
current code, the model) and runs them for one phase.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.draft import docstring, signatures, source  # noqa: F401  (registration)
from agent.draft.code import current_span
from agent.draft.script import Draft, LLMCall, render_script
from agent.draft.slots import SLOTS, SlotRequest, needed_slots
from cores.protocols import LLM
from cores.types import GenerationParams, Message
from planner.phases import Phase
from planner.spec import Operation


class Drafter:
    """Fills each phase's slots with the LLM and renders its script."""

    def __init__(
        self,
        llm: LLM | None,
        repo: Path,
        digest: Any,
        *,
        issue: str,
        style: Any = None,
        max_tokens: int = 900,
    ) -> None:
        self.llm = llm
        self.repo = repo
        self.digest = digest
        self.issue = issue.strip()[:2000]
        self.style = style
        self.max_tokens = max_tokens
        # what the current phase's code does now and what the issue expects of it (the
        # issue's examples run on the scratch copy): the localized facts of a code slot
        self.facts = ""
        # another model for some fresh samples of a code slot (the 1.5B where installed):
        # two models miss in different ways
        self.alternate: LLM | None = None
        self._sent: set[str] = set()  # every prompt sent, so that none is sent twice

    def draft(
        self,
        phase: Phase,
        files: Mapping[str, str],
        *,
        feedback: str | None = None,
        previous: Mapping[str, Any] | None = None,
        sample: int = 0,
        temperature: float | None = None,
        variant: str = "issue",
        alternate: bool = False,
    ) -> Draft:
        """One draft of the phase's slots. ``sample`` seeds it (and, without ``temperature``,
        the first sample is greedy and later ones at 0.7); ``variant`` words a code slot's
        request: ``issue`` (the issue with the localized facts) or ``minimal`` (change only
        the lines that must change); ``alternate`` asks the alternate model for a code slot."""
        op = phase.operation
        needs = self.slots_for(op)
        if needs and self.llm is None:
            raise ValueError(f"{op.op} on {op.target} needs an LLM for {', '.join(needs)}")
        role = "repair" if feedback else "slot"
        request = SlotRequest(
            files, feedback, previous, sample, role, temperature, variant, alternate
        )
        slots: dict[str, Any] = {}
        calls: list[LLMCall] = []
        kinds = list(needs)
        while kinds:
            answer = SLOTS[kinds.pop(0)](self, op, request)
            slots.update(answer.slots)
            calls.extend(answer.calls)
            kinds.extend(answer.instead)
        script = render_script(phase.id, op, slots)
        return Draft(phase.id, op, slots, f"{phase.id}.py", script, tuple(calls))

    def slots_for(self, op: Operation) -> tuple[str, ...]:
        return needed_slots(op, module_target=self.digest.module_path(op.target) is not None)

    # -- what a slot kind asks of the drafter (``DraftContext``) ---------------------------
    def node_source(self, qualname: str, files: Mapping[str, str]) -> tuple[str, str]:
        """(source of the node, source of its module) from the current scratch files."""
        defs = self.digest.find(qualname)
        if defs:
            d = defs[0]
            text = files.get(d.path, "")
            lines = text.splitlines()
            # Earlier phases may have moved the node: find it in the current text first.
            span = current_span(text, qualname, getattr(d, "module", ""))
            start, end = span if span else (d.line, d.end_line)
            return "\n".join(lines[start - 1 : end]), text
        path = self.digest.module_path(qualname)
        text = files.get(path or "", "")
        return text[:4000], text

    def style_hint(self) -> str:
        if self.style is None:
            return ""
        s = self.style.formatter_settings()
        return (
            f"Style: {s.get('docstring_style', 'plain')} docstrings, line length {s.get('line_length', 88)}, "
            f"{'type annotations' if s.get('use_annotations') else 'no annotations'}, "
            f"{'f-strings' if s.get('fstrings') else 'format strings'}."
        )

    def chat(
        self,
        role: str,
        messages: list[Message],
        params: GenerationParams,
        llm: LLM | None = None,
    ) -> tuple[str, LLMCall]:
        llm = llm or self.llm
        assert llm is not None
        key = hashlib.sha256(
            json.dumps(
                [llm.model_id, [m.to_dict() for m in messages], params.to_dict()], sort_keys=True
            ).encode()
        ).hexdigest()
        if key in self._sent:  # the same prompt again would get the same answer: vary it
            params = replace(
                params, temperature=max(params.temperature, 0.8), seed=(params.seed or 0) + 1009
            )
            key += ":resampled"
        self._sent.add(key)
        start = time.perf_counter()
        out = llm.chat(messages, params)
        call = LLMCall(
            role,
            tuple(m.to_dict() for m in messages),
            out.text,
            None,
            out.model_id,
            params.to_dict(),
            out.prompt_tokens,
            out.completion_tokens,
            time.perf_counter() - start,
            finish_reason=(out.finish_reasons or ("stop",))[0],
        )
        return out.text, call

    def ask_json(
        self,
        role: str,
        messages: list[Message],
        schema: Mapping[str, Any],
        max_tokens: int,
        sample: int,
    ) -> tuple[Any, str, LLMCall]:
        """One JSON-schema constrained call: (decoded value or None, raw text, the call)."""
        params = GenerationParams(max_tokens=max_tokens, json_schema=dict(schema), seed=sample)
        raw, call = self.chat(role, messages, params)
        try:
            return json.loads(raw, strict=False), raw, call  # raw newlines in strings are fine
        except ValueError as exc:
            return None, raw, replace(call, error=f"unusable JSON: {exc}")
