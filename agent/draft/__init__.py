"""Drafting: the slots a model writes for each phase, and the phase's standalone script.

``drafter`` (``Drafter``: one draft of a phase, and the context its slot kinds use),
``slots`` (the slot-kind registry ``SLOTS``, ``needed_slots``, ``SlotRequest`` /
``SlotAnswer``), one module per slot kind — ``docstring`` (with the text rules of
``docstring_text``), ``signatures`` (``signatures``, ``field_types``), ``source``
(``source``, ``body``; its forms in ``dunders`` and ``members``) — ``code`` (fences,
definitions, imports of model-written code) and ``script`` (``Draft``, ``LLMCall``,
``render_script``).
"""

from agent.draft.drafter import Drafter
from agent.draft.script import Draft, LLMCall, render_script
from agent.draft.slots import SLOTS, SlotAnswer, SlotRequest, needed_slots

__all__ = [
    "SLOTS",
    "Draft",
    "Drafter",
    "LLMCall",
    "SlotAnswer",
    "SlotRequest",
    "needed_slots",
    "render_script",
]
