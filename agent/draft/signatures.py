"""The type slots: ``signatures`` of ``add_annotations`` (one JSON-constrained call per
function) and ``field_types`` of a namedtuple turned into a ``typing.NamedTuple``."""

from __future__ import annotations

import logging
from dataclasses import replace

from agent.codemods.modernize.namedtuple import namedtuple_fields
from agent.draft.code import annotation_targets, unannotated
from agent.draft.script import LLMCall
from agent.draft.slots import (
    SLOTS,
    DraftContext,
    SlotAnswer,
    SlotRequest,
    ask,
    string_fields_schema,
)
from planner.spec import Operation

log = logging.getLogger(__name__)


@SLOTS.register("signatures")
def signatures_slot(ctx: DraftContext, op: Operation, request: SlotRequest) -> SlotAnswer:
    sigs, calls = draft_signatures(ctx, op, request)
    return SlotAnswer({"signatures": sigs}, tuple(calls))


@SLOTS.register("field_types")
def field_types_slot(ctx: DraftContext, op: Operation, request: SlotRequest) -> SlotAnswer:
    """Not a literal namedtuple (no fields, no call): the model rewrites the class instead."""
    types, typed = draft_field_types(ctx, op, request)
    if types is None and typed is None:
        return SlotAnswer(instead=("source",))
    return SlotAnswer(
        {"field_types": types} if types is not None else {},
        (typed,) if typed is not None else (),
    )


def draft_signatures(
    ctx: DraftContext, op: Operation, request: SlotRequest
) -> tuple[dict[str, dict[str, str]], list[LLMCall]]:
    """One JSON-constrained call per function: {parameter: type, "return": type}."""
    _, module = ctx.node_source(op.target, request.files)
    module_name = ctx.digest.module_path(op.target) and op.target
    sigs: dict[str, dict[str, str]] = {}
    calls: list[LLMCall] = []
    for qual, fn, code in annotation_targets(module, op.target, module_name):
        params = unannotated(fn)
        if not params:
            continue
        messages = ask(
            "You give Python type annotations. Reply with JSON mapping each parameter "
            'name and "return" to a truthful type that works at runtime, such as int, '
            "str, bool, dict, list, Callable, Mapping, Iterable, Optional[int], Any, or "
            "one of the module's own classes.",
            f"```python\n{code[:1500]}\n```\n\nRequest:\n{ctx.issue[:600]}\n\n"
            f"Annotate `{fn.name}`: " + ", ".join(params),
            request.feedback,
            "The previous annotations",
        )
        schema = string_fields_schema(params)
        value, _, call = ctx.ask_json(
            request.role, messages, schema, 48 + 32 * len(params), request.sample
        )
        if isinstance(value, dict) and all(k in value for k in params):
            sigs[qual] = {k: str(value[k]) for k in params}
            calls.append(replace(call, parsed=sigs[qual]))
        else:  # that function gets Any; not an error that needs a repair
            log.info("annotations for %s unusable: %s", qual, call.error)
            calls.append(replace(call, error=None))
    return sigs, calls


def draft_field_types(
    ctx: DraftContext, op: Operation, request: SlotRequest
) -> tuple[dict[str, str] | None, LLMCall | None]:
    """The ``field_types`` slot of a namedtuple: field → annotation, JSON-constrained."""
    node, module = ctx.node_source(op.target, request.files)
    fields = namedtuple_fields(module, op.target.rsplit(".", 1)[-1])
    if not fields:
        return None, None
    messages = ask(
        "You give Python type annotations. Reply with JSON mapping each field name to "
        "its annotation, such as int, str, float | None or list[str].",
        f"Code:\n```python\n{node[:2000]}\n```\n\nRequest:\n{ctx.issue[:1200]}\n\n"
        f"Fields: {', '.join(fields)}. What is the type of each?",
        request.feedback,
        "Your previous answer",
    )
    schema = string_fields_schema(fields)
    value, _, call = ctx.ask_json(request.role, messages, schema, 200, request.sample)
    if not isinstance(value, dict) or not all(f in value for f in fields):
        return None, replace(call, error=call.error or "a field is missing")
    types = {f: str(value[f]).strip() for f in fields}
    return types, replace(call, parsed=types)
