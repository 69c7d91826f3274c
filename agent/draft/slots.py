"""Slot kinds: the content a model writes for an operation, drafted by kind from ``SLOTS``.

``needed_slots(op)`` says which slot kinds an operation needs; ``SLOTS[kind]`` drafts one:
``(context, op, request) -> SlotAnswer``. A kind registers itself with
``@SLOTS.register("kind")`` in its module (``docstring``, ``signatures`` for
``signatures`` and ``field_types``, ``source`` for ``source`` and ``body``); importing
``agent.draft`` registers them all. The context is the ``Drafter``: the issue, the current
code and the model, behind the small ``DraftContext`` protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.draft.script import LLMCall
from cores.protocols import LLM
from cores.types import GenerationParams, Message
from planner.spec import Operation


@dataclass(frozen=True)
class SlotRequest:
    """How the slots of one draft are asked for: the current files, the feedback of a repair
    (with the previous draft's slots), the seed, the role recorded in memory, the temperature
    of a code slot (None: greedy first, then 0.7), its wording variant and whether the
    alternate model writes it."""

    files: Mapping[str, str]
    feedback: str | None = None
    previous: Mapping[str, Any] | None = None
    sample: int = 0
    role: str = "slot"
    temperature: float | None = None
    variant: str = "issue"
    alternate: bool = False


@dataclass(frozen=True)
class SlotAnswer:
    """What drafting one slot kind gave: slot values, the calls made, and the slot kinds to
    draft instead when this one does not apply (a namedtuple that is not a literal one)."""

    slots: Mapping[str, Any] = field(default_factory=dict)
    calls: tuple[LLMCall, ...] = ()
    instead: tuple[str, ...] = ()


class DraftContext(Protocol):
    """What a slot kind asks of the drafter."""

    issue: str
    facts: str
    style: Any
    digest: Any
    max_tokens: int
    alternate: LLM | None

    def node_source(self, qualname: str, files: Mapping[str, str]) -> tuple[str, str]: ...

    def style_hint(self) -> str: ...

    def chat(
        self,
        role: str,
        messages: list[Message],
        params: GenerationParams,
        llm: LLM | None = None,
    ) -> tuple[str, LLMCall]: ...

    def ask_json(
        self,
        role: str,
        messages: list[Message],
        schema: Mapping[str, Any],
        max_tokens: int,
        sample: int,
    ) -> tuple[Any, str, LLMCall]: ...


SlotDrafter = Callable[[DraftContext, Operation, SlotRequest], SlotAnswer]


@dataclass
class SlotRegistry:
    """slot kind -> the function that drafts it."""

    drafters: dict[str, SlotDrafter] = field(default_factory=dict)

    def register(self, kind: str) -> Callable[[SlotDrafter], SlotDrafter]:
        def deco(fn: SlotDrafter) -> SlotDrafter:
            self.drafters[kind] = fn
            return fn

        return deco

    def __getitem__(self, kind: str) -> SlotDrafter:
        if kind not in self.drafters:
            raise KeyError(f"no slot kind {kind!r}; known: {', '.join(sorted(self.drafters))}")
        return self.drafters[kind]


SLOTS = SlotRegistry()


def needed_slots(op: Operation, *, module_target: bool = False) -> tuple[str, ...]:
    """Which slots this operation needs from the LLM.

    A whole-module ``add_annotations`` uses the codemod's deterministic fallback
    (``typing.Any`` everywhere it is missing): a module is too long for a small
    model to rewrite in one reply.
    """
    if op.op == "add_docstring" and not op.params.get("text"):
        return ("docstring",)
    if op.op in ("edit", "add_method", "add_function", "extract_helper"):
        return ("source",)
    if op.op == "add_parameter" and op.params.get("body") is not False:
        return ("body",)  # the new parameter threaded into the function (False: signature only)
    if op.op == "modernize" and op.params.get("idiom") == "typing_namedtuple":
        return ("field_types",)
    if op.op == "add_annotations":
        return ("signatures",)
    return ()


def ask(system: str, user: str, feedback: str | None, label: str) -> list[Message]:
    """A system and a user message; a repair adds what failed to the user's."""
    return [
        Message("system", system),
        Message("user", user + (f"\n\n{label} failed: {feedback}" if feedback else "")),
    ]


def string_fields_schema(names: list[str], max_length: int = 60) -> dict[str, Any]:
    """A JSON schema: an object with one short string per name, all required."""
    return {
        "type": "object",
        "properties": {n: {"type": "string", "maxLength": max_length} for n in names},
        "required": list(names),
    }
