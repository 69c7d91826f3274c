"""The code slots: ``source`` (one complete definition: a function, a method, a class, a
helper with its callers) and ``body`` (the function with a new parameter threaded in).

``source`` has three forms, tried in order: a templated dunder (``dunders``: the model picks
the attributes), a class edited one method at a time (``members``), else the whole
definition from one fenced reply (``write_source``). The names the new code uses that the
module lacks become the ``imports`` slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from agent.draft import dunders, members
from agent.draft.code import (
    check_definition,
    drop_unused_imports,
    extract_code,
    needed_imports,
    pick_definition,
)
from agent.draft.script import LLMCall
from agent.draft.slots import SLOTS, DraftContext, SlotAnswer, SlotRequest
from cores.types import GenerationParams, Message
from planner.spec import Operation

REWRITES = frozenset({"edit", "add_parameter", "modernize", "add_annotations"})


@SLOTS.register("source")
def source_slot(ctx: DraftContext, op: Operation, request: SlotRequest) -> SlotAnswer:
    templated = dunders.draft_dunder(ctx, op, request) if op.op == "add_method" else None
    if templated is not None:
        code, call = templated
        return SlotAnswer({"source": code} if code else {}, (call,))
    if is_class_edit(ctx, op):
        node, _ = ctx.node_source(op.target, request.files)
        code, calls = members.draft_members(ctx, request, node, op.target.rsplit(".", 1)[-1])
        if not calls:  # a class without methods: the model rewrites it whole
            code, call = write_source(ctx, op, request, request.previous)
            calls = [call]
        return SlotAnswer(_with_imports(ctx, op, request, "source", code), tuple(calls))
    return _plain(ctx, op, request, "source")


@SLOTS.register("body")
def body_slot(ctx: DraftContext, op: Operation, request: SlotRequest) -> SlotAnswer:
    return _plain(ctx, op, request, "body")


def _plain(ctx: DraftContext, op: Operation, request: SlotRequest, slot: str) -> SlotAnswer:
    previous = request.previous
    earlier = {"source": previous.get(slot)} if previous else None
    code, call = write_source(ctx, op, request, earlier)
    return SlotAnswer(_with_imports(ctx, op, request, slot, code), (call,))


def _with_imports(
    ctx: DraftContext, op: Operation, request: SlotRequest, slot: str, code: str
) -> dict[str, Any]:
    slots: dict[str, Any] = {slot: code}
    _, module = ctx.node_source(op.target, request.files)
    imports = needed_imports(code, module)
    if imports:
        slots["imports"] = imports
    return slots


def is_class_edit(ctx: DraftContext, op: Operation) -> bool:
    found = ctx.digest.find(op.target)
    return op.op == "edit" and bool(found) and found[0].kind == "class"


def write_source(
    ctx: DraftContext,
    op: Operation,
    request: SlotRequest,
    previous: Mapping[str, Any] | None,
) -> tuple[str, LLMCall]:
    """One complete definition from one fenced reply (a repair shows the previous code)."""
    node, _ = ctx.node_source(op.target, request.files)
    name = str(op.params.get("name") or op.target.rsplit(".", 1)[-1])
    if op.op == "add_parameter":
        name = op.target.rsplit(".", 1)[-1]
    messages = _source_messages(ctx, op, request, node, name)
    feedback = request.feedback
    if feedback and previous and previous.get("source"):
        messages += [
            Message("assistant", f"```python\n{previous['source']}\n```"),
            Message("user", f"That failed: {feedback}\nSend the corrected complete code."),
        ]
    # a helper plus every rewritten caller is several definitions long
    budget = ctx.max_tokens * (2 if op.op == "extract_helper" else 1)
    rewrite = bool(node) and op.op in REWRITES
    if rewrite:  # a rewrite is about as long as the node: a cap near that ends a ramble
        budget = min(2 * ctx.max_tokens, max(256, len(node) // 3 + 200))
    temperature = request.temperature
    if temperature is None:
        temperature = 0.0 if not request.sample else 0.7
    params = GenerationParams(
        max_tokens=budget,
        temperature=temperature,
        seed=request.sample,
        stop=("\n```\n",),
        copies_input=rewrite,
    )
    llm = ctx.alternate if request.alternate and ctx.alternate is not None else None
    raw, call = ctx.chat(request.role, messages, params, llm)
    wanted = "" if op.op == "extract_helper" else name
    code = pick_definition(drop_unused_imports(extract_code(raw)), wanted)
    problem = check_definition(code, wanted)
    if problem and call.finish_reason == "length":
        problem = (
            f"the reply was cut off at the {budget}-token limit ({problem}); send "
            "less code: only the definitions that change, without unchanged parts"
        )
    return code, replace(call, parsed=code, error=problem)


def _source_messages(
    ctx: DraftContext, op: Operation, request: SlotRequest, node: str, name: str
) -> list[Message]:
    what = {
        "add_parameter": f"the complete new version of `{name}` with the parameter "
        f"`{op.params.get('name')}` (default `{op.params.get('default')}`) added to its "
        "signature and used in its body the way the issue asks; with the default, the "
        "function must behave exactly as before",
        "edit": f"the complete new version of `{name}` that resolves the issue",
        "add_method": f"the new method `{name}` (one def, indented as at module level)",
        "add_function": f"the new function `{name}`",
        "extract_helper": "the helper function and the rewritten functions that call it",
        "modernize": f"the complete new version of `{name}` using {op.params.get('idiom')}",
        "add_annotations": f"`{name}` with type annotations on every parameter and the return value, "
        "body unchanged",
    }[op.op]
    context = f"Current code:\n```python\n{node[:4000]}\n```\n" if node else ""
    facts = f"\n{ctx.facts}\n" if ctx.facts and op.op in ("edit", "add_parameter") else ""
    if request.variant == "minimal":
        what += (
            "; change only the lines that must change for the issue and copy every "
            "other line exactly"
        )
    return [
        Message(
            "system",
            "You change Python code. Reply with only one ```python code block holding "
            "the complete code asked for; keep the existing behaviour unless the issue asks to "
            "change it; keep names, signatures and docstrings. " + ctx.style_hint(),
        ),
        Message("user", f"Issue:\n{ctx.issue}\n\n{context}{facts}\nWrite {what}."),
    ]
