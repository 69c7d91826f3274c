"""The ``docstring`` slot: JSON-constrained text, tidied, re-asked when it parrots the issue
or, when the issue asks for the parameters, leaves some out."""

from __future__ import annotations

import re
from dataclasses import replace

from agent.acceptance.issue import Statements
from agent.draft.docstring_text import (
    described_parameters,
    docstring_gaps,
    docstring_problem,
    lists_neighbours,
    tidy_docstring,
    with_fields,
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
    gaps = docstring_gaps(best[1], node) if wants_params else []
    if gaps and len(gaps) <= MAX_FIELDS:
        # the whole docstring was asked for three times: ask for each missing part alone
        completed, more = _complete(ctx, request, node, name, best[1], gaps)
        if completed is not None:
            return completed, [*calls, *more]
        # a part the model could not put in a short phrase leaves the best whole docstring:
        # it is run, and the acceptance check that wants every parameter says what it misses
        calls += [
            replace(c, error=None, parsed={"rejected": c.error}) if c.error else c for c in more
        ]
    return best[1], calls


MAX_FIELDS = 5
FIELD_WORDS = 25
_RESTATED = (
    r"^(?:the\s+)?(?:parameter|argument|function|method|it)?\s*(?:{p})?\s*(?:of\s+{f}\s+)?"
    r"(?:is|are|returns|gives|yields|specifies|represents)\s+"
)


def _phrase(text: object, param: str, name: str) -> str:
    """The reply's first sentence, without backticks and without restating whose part it
    is ("The parameter rows of pad is a list ..." → "A list ...")."""
    words = " ".join(str(text).replace("`", "").split())
    first = re.split(r"(?<=[.!?])\s+", words, maxsplit=1)[0]
    pattern = _RESTATED.format(p=re.escape(param) if param else "", f=re.escape(name))
    rest = re.sub(pattern, "", first, count=1, flags=re.I)
    return (rest[:1].upper() + rest[1:]) if rest else ""


def _complete(
    ctx: DraftContext, request: SlotRequest, node: str, name: str, text: str, gaps: list[str]
) -> tuple[str | None, list[LLMCall]]:
    """``text`` with a field for each parameter (and the return value) it leaves out, each
    phrase asked for on its own — a small model that drops a parameter from a whole
    docstring describes it well when asked about it alone; None when a phrase fails."""
    system = (
        'You describe one part of a Python function. Reply with JSON: {"docstring": text}. '
        "The text is one short phrase (at most 15 words) that says what it is or means; "
        "do not repeat its name."
    )
    code = f"Code of `{name}`:\n```python\n{node[:3000]}\n```\n\n"
    fields: list[tuple[str, str]] = []
    calls: list[LLMCall] = []
    for gap in gaps:
        param = gap.strip("`") if gap.startswith("`") else ""
        question = (
            f"What is the parameter `{param}` of `{name}`?"
            if param
            else f"What does `{name}` return?"
        )
        try:
            value, _, call = ctx.ask_json(
                request.role,
                ask(system, code + question, None, ""),
                DOCSTRING_SCHEMA,
                60,
                request.sample,
            )
        except CoreError:
            return None, calls
        phrase = _phrase(value.get("docstring", "") if isinstance(value, dict) else "", param, name)
        if not phrase or len(phrase.split()) > FIELD_WORDS:
            calls.append(replace(call, error=f"no short phrase for {gap}"))
            return None, calls
        calls.append(replace(call, parsed=phrase))
        fields.append((param, phrase))
    style = str(ctx.style.formatter_settings().get("docstring_style", "rest")) if ctx.style else ""
    done = with_fields(text, fields, style, width=docstring_width(ctx, node))
    if docstring_problem(done, node, ctx.issue) is not None or docstring_gaps(done, node):
        return None, calls
    return done, calls


def docstring_width(ctx: DraftContext, node: str) -> int:
    """Prose width: 72 (PEP 8), less where the project's lines are shorter."""
    length = int(ctx.style.formatter_settings().get("line_length", 88)) if ctx.style else 88
    indent = len(node) - len(node.lstrip()) + 4
    return max(40, min(72, length - indent))
