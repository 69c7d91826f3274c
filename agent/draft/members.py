"""An ``edit`` of a class, one method at a time.

A small model asked for "the methods that change" of a 150-line class still rewrites the
whole class and runs out of tokens. So the drafter first asks which methods must change
(a JSON array constrained to the class's method names), then asks for each chosen method's
new version on its own — short prompts, short answers. The answers (plus any import or
module-level line, such as a logger, that they start with) are joined into one ``source``
slot that ``edit_members`` merges into the class by name.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import replace

from agent.draft.code import check_definition, drop_unused_imports, extract_code
from agent.draft.script import LLMCall
from agent.draft.slots import DraftContext, SlotRequest
from cores.types import GenerationParams, Message

MAX_METHODS = 4


def methods_of(class_source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    try:
        tree = ast.parse(textwrap.dedent(class_source))
    except SyntaxError:
        return []
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [n for n in cls.body if isinstance(n, funcs)] if cls else []


def outline(class_source: str) -> str:
    """The class with each method reduced to its signature and docstring's first line."""
    text = textwrap.dedent(class_source)
    lines = text.splitlines()
    out = [lines[0]] if lines else []
    for fn in methods_of(text):
        start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        body = fn.body[0].lineno if fn.body else fn.lineno + 1
        out += lines[start - 1 : body - 1]
        doc = ast.get_docstring(fn)
        indent = " " * (fn.col_offset + 4)
        out.append(f'{indent}"""{doc.splitlines()[0]}"""' if doc else f"{indent}...")
    return "\n".join(out)


def join_replies(codes: list[str]) -> str:
    """One snippet: imports first, then module-level lines, then the defs (no repeats)."""
    head: list[str] = []
    defs: list[str] = []
    for code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            defs.append(code)
            continue
        for node in tree.body:
            piece = ast.get_source_segment(code, node) or ""
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                piece = "\n".join(code.splitlines()[start - 1 : node.end_lineno])
                defs.append(piece)
            elif (
                isinstance(node, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign)
                and piece not in head
            ):
                head.append(piece)
            # anything else (a demo `if __name__ == "__main__":`, a print) was not asked for
    return "\n".join(head) + ("\n\n\n" if head else "") + "\n\n\n".join(defs)


def draft_members(
    ctx: DraftContext, request: SlotRequest, class_source: str, name: str
) -> tuple[str, list[LLMCall]]:
    """(the joined ``source`` slot, the calls made); the last call carries any problem."""
    methods = [fn.name for fn in methods_of(class_source)]
    calls: list[LLMCall] = []
    if not methods:
        return "", calls
    chosen, call = _pick_methods(ctx, request, class_source, methods)
    calls.append(call)
    if not chosen:
        calls[-1] = replace(call, error=call.error or "no method was chosen")
        return "", calls
    sources = {fn.name: fn for fn in methods_of(class_source)}
    text = textwrap.dedent(class_source)
    codes: list[str] = []
    problems: list[str] = []
    for method in chosen:
        fn = sources[method]
        start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        current = textwrap.dedent("\n".join(text.splitlines()[start - 1 : fn.end_lineno]))
        code, method_call = _rewrite_method(ctx, request, name, method, current)
        problem = check_definition(code, method)
        calls.append(replace(method_call, parsed=code, error=None))
        if problem:
            problems.append(f"{method}: {problem}")
        else:
            codes.append(code)
    joined = join_replies(codes)
    if problems:
        calls[-1] = replace(calls[-1], error="; ".join(problems))
    return joined, calls


def _pick_methods(
    ctx: DraftContext, request: SlotRequest, class_source: str, methods: list[str]
) -> tuple[list[str], LLMCall]:
    """The methods the model says must change (at most ``MAX_METHODS``), and the call."""
    feedback = request.feedback
    schema = {
        "type": "object",
        "properties": {
            "methods": {
                "type": "array",
                "items": {"type": "string", "enum": methods},
                "minItems": 1,
                "maxItems": MAX_METHODS,
            }
        },
        "required": ["methods"],
    }
    pick = [
        Message(
            "system",
            'You read a class and an issue. Reply with JSON: {"methods": [names]}: the '
            "methods whose code must change to resolve the issue (as few as possible).",
        ),
        Message(
            "user",
            f"```python\n{outline(class_source)[:2500]}\n```\n\nIssue:\n{ctx.issue[:1500]}"
            + (f"\n\nThe previous change failed: {feedback}" if feedback else ""),
        ),
    ]
    value, _, call = ctx.ask_json(request.role, pick, schema, 80, request.sample)
    chosen = value.get("methods") if isinstance(value, dict) else None
    chosen = [m for m in methods if isinstance(chosen, list) and m in chosen][:MAX_METHODS]
    return chosen, call


def _rewrite_method(
    ctx: DraftContext, request: SlotRequest, name: str, method: str, current: str
) -> tuple[str, LLMCall]:
    """The new version of one method (with any import or module-level line it needs)."""
    feedback = request.feedback
    messages = [
        Message(
            "system",
            "You change one Python method. Reply with only one ```python code block: the "
            "complete new method, unindented; if it needs a new import or module-level line "
            "(such as `log = logging.getLogger(__name__)`), put it before the def. "
            + ctx.style_hint(),
        ),
        Message(
            "user",
            f"Issue:\n{ctx.issue[:1500]}\n\nCurrent `{name}.{method}`:\n```python\n{current[:3000]}\n```\n"
            f"Write the new `{method}`."
            + (f"\n\nThe previous change failed: {feedback}" if feedback else ""),
        ),
    ]
    params = GenerationParams(
        max_tokens=ctx.max_tokens,
        temperature=0.0 if not request.sample else 0.7,
        seed=request.sample,
        stop=("\n```\n",),
    )
    raw, call = ctx.chat(request.role, messages, params)
    return drop_unused_imports(extract_code(raw)), call
