"""The ``docstring`` slot: JSON-constrained text, tidied, re-asked when it parrots the issue
or, when the issue asks for the parameters, leaves some out."""

from __future__ import annotations

from dataclasses import replace

from agent.acceptance.issue import Statements
from agent.draft.docstring_text import (
    described_parameters,
    docstring_gaps,
    docstring_problem,
    lists_neighbours,
    tidy_docstring,
)
from agent.draft.script import LLMCall
from agent.draft.slots import SLOTS, DraftContext, SlotAnswer, SlotRequest, ask
from cores.errors import CoreError
from planner.spec import Operation

DOCSTRING_SCHEMA = {
    "type": "object",
    "properties": {"docstring": {"type": "string", "maxLength": 900}},
    "required": ["docstring"],
    "additionalProperties": False,
}


@SLOTS.register("docstring")
def docstring_slot(ctx: DraftContext, op: Operation, request: SlotRequest) -> SlotAnswer:
    text, calls = draft_docstring(ctx, op, request)
    return SlotAnswer({"docstring": text} if text is not None else {}, tuple(calls))


def draft_docstring(
    ctx: DraftContext, op: Operation, request: SlotRequest
) -> tuple[str | None, list[LLMCall]]:
    """The docstring slot: JSON-constrained text, tidied; one re-ask if it parrots the issue."""
    node, module = ctx.node_source(op.target, request.files)
    name = op.target.rsplit(".", 1)[-1]
    system = (
        'You write Python docstrings. Reply with JSON: {"docstring": text}. '
        "The text is the docstring body only, no quotes: a one-line summary of what the "
        "code below does, returns or accepts, then at most three short sentences. "
        "Describe the code, do not repeat the request. " + ctx.style_hint()
    )
    code = f"Code of `{name}`:\n```python\n{node[:3000]}\n```\n\n"
    context_request = f"Request (context only):\n{ctx.issue[:600]}\n\n"
    question = f"Write the docstring of `{name}`."
    calls: list[LLMCall] = []
    wants_params = Statements.of(ctx.issue).docstring_params()
    params = described_parameters(node) if wants_params else []
    if params:
        question += f" Describe each parameter ({', '.join(params)}) and what it returns."
    # Later tries leave the request out: a small model that parrots it once will parrot
    # it again, but describes plain code well enough. When the issue wants the
    # parameters, a docstring that leaves some out is asked again (at most twice) with
    # the names it missed, and the one that misses fewest is kept.
    best: tuple[int, str] | None = None
    extra = request.feedback
    for attempt in range(3):
        context = context_request if attempt == 0 else ""
        messages = ask(system, code + context + question, extra, "Your previous docstring")
        try:
            value, _, call = ctx.ask_json(
                request.role, messages, DOCSTRING_SCHEMA, 300, request.sample
            )
        except CoreError:
            if best is None:
                raise
            break  # a follow-up could not be asked: the best answer so far stands
        if not isinstance(value, dict) or not isinstance(value.get("docstring"), str):
            calls.append(replace(call, error=call.error or "no `docstring` string"))
            break
        text = tidy_docstring(value["docstring"], width=docstring_width(ctx, node))
        problem = docstring_problem(text, node, ctx.issue)
        if problem is not None:
            calls.append(replace(call, parsed=text, error=problem))
            if "repeats the request" not in problem:
                break  # the sampler asks again with this feedback
            extra = problem
            continue
        gaps = docstring_gaps(text, node) if wants_params else []
        listing = lists_neighbours(text, node, module)
        flaws = len(gaps) + bool(listing)
        calls.append(replace(call, parsed=text))
        if best is None or flaws < best[0]:
            best = (flaws, text)
        if not flaws:
            break
        notes = [f"it does not describe {', '.join(gaps)}; describe each of them"] * bool(gaps)
        extra = "; ".join([*notes, *([f"{listing}: say what it does"] if listing else [])])
    if best is None:
        return None, calls
    if calls[-1].error:  # a later try was worse than the one kept
        calls[-1] = replace(calls[-1], error=None, parsed={"rejected": calls[-1].error})
    return best[1], calls


def docstring_width(ctx: DraftContext, node: str) -> int:
    """Prose width: 72 (PEP 8), less where the project's lines are shorter."""
    length = int(ctx.style.formatter_settings().get("line_length", 88)) if ctx.style else 88
    indent = len(node) - len(node.lstrip()) + 4
    return max(40, min(72, length - indent))
