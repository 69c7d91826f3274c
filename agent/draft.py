"""Drafting: for each phase, the slot values the codemod needs and a standalone script.

Built-in operations need nothing from the model. Content the library cannot know
comes from the LLM in typed slots: a docstring's text (JSON-schema constrained),
or one complete Python definition (a fenced code block that must parse, with the
right name). The LLM never writes LibCST plumbing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pprint
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent import dunders
from agent.acceptance_issue import Statements
from agent.codemods.modernize.namedtuple import namedtuple_fields
from agent.docstrings import (
    described_parameters,
    docstring_gaps,
    docstring_problem,
    lists_neighbours,
    tidy_docstring,
)
from agent.draft_code import (
    annotation_targets,
    check_definition,
    current_span,
    drop_unused_imports,
    extract_code,
    needed_imports,
    pick_definition,
    unannotated,
)
from agent.draft_members import draft_members
from cores.errors import CoreError
from cores.protocols import LLM
from cores.types import GenerationParams, Message
from planner.phases import Phase
from planner.spec import Operation

DOCSTRING_SCHEMA = {
    "type": "object",
    "properties": {"docstring": {"type": "string", "maxLength": 900}},
    "required": ["docstring"],
    "additionalProperties": False,
}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMCall:
    """One model call made while drafting, kept for memory."""

    role: str
    messages: tuple[dict[str, str], ...]
    raw: str
    parsed: Any
    model_id: str
    params: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    error: str | None = None
    finish_reason: str = "stop"  # "length" when the reply hit max_tokens

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Draft:
    phase_id: str
    operation: Operation
    slots: Mapping[str, Any]
    script_name: str
    script: str
    calls: tuple[LLMCall, ...] = field(default_factory=tuple)

    @property
    def problem(self) -> str | None:
        """Why the slots are unusable: the last call's error (earlier calls may have been
        re-asked successfully), or None."""
        return self.calls[-1].error if self.calls else None

    @property
    def script_hash(self) -> str:
        return hashlib.sha256(self.script.encode("utf-8")).hexdigest()


REWRITES = frozenset({"edit", "add_parameter", "modernize", "add_annotations"})


@dataclass(frozen=True)
class SourceRequest:
    """How one code slot is asked for: seed, role, temperature (None: greedy first, then
    0.7) and the wording variant."""

    sample: int = 0
    role: str = "slot"
    temperature: float | None = None
    variant: str = "issue"
    alternate: bool = False


def string_fields_schema(names: list[str], max_length: int = 60) -> dict[str, Any]:
    """A JSON schema: an object with one short string per name, all required."""
    return {
        "type": "object",
        "properties": {n: {"type": "string", "maxLength": max_length} for n in names},
        "required": list(names),
    }


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


def render_script(phase_id: str, op: Operation, slots: Mapping[str, Any]) -> str:
    """A standalone, runnable codemod script for one phase (the artifact we keep)."""
    return (
        "#!/usr/bin/env python\n"
        f'"""autopatch phase {phase_id}: {op.summary()}.\n\n'
        "Run from anywhere: python THIS_FILE.py [REPO_ROOT]  (default: the current folder).\n"
        'Needs autopatch installed (it provides the codemod library)."""\n\n'
        "import sys\n\n"
        "from agent.codemods.run import main\n\n"
        f"OPERATION = {pprint.pformat(op.to_dict(), width=100, sort_dicts=False)}\n\n"
        f"SLOTS = {pprint.pformat(dict(slots), width=100, sort_dicts=False)}\n\n"
        'if __name__ == "__main__":\n'
        "    sys.exit(main(OPERATION, SLOTS, sys.argv[1:]))\n"
    )


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

    def slots_for(self, op: Operation) -> tuple[str, ...]:
        return needed_slots(op, module_target=self.digest.module_path(op.target) is not None)

    def _style_hint(self) -> str:
        if self.style is None:
            return ""
        s = self.style.formatter_settings()
        return (
            f"Style: {s.get('docstring_style', 'plain')} docstrings, line length {s.get('line_length', 88)}, "
            f"{'type annotations' if s.get('use_annotations') else 'no annotations'}, "
            f"{'f-strings' if s.get('fstrings') else 'format strings'}."
        )

    def _chat(
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
        slots: dict[str, Any] = {}
        calls: list[LLMCall] = []
        if needs and self.llm is None:
            raise ValueError(f"{op.op} on {op.target} needs an LLM for {', '.join(needs)}")
        role = "repair" if feedback else "slot"
        if "docstring" in needs:
            text, doc_calls = self._draft_docstring(op, files, feedback, sample, role)
            calls.extend(doc_calls)
            if text is not None:
                slots["docstring"] = text
        if "signatures" in needs:
            sigs, sig_calls = self._draft_signatures(op, files, feedback, sample, role)
            calls.extend(sig_calls)
            slots["signatures"] = sigs
        if "field_types" in needs:
            types, typed = self._draft_field_types(op, files, feedback, sample, role)
            if typed is not None:
                calls.append(typed)
            if types is not None:
                slots["field_types"] = types
            elif typed is None:
                needs = ("source",)  # not a literal namedtuple: the model rewrites the class
        templated = (
            self._draft_dunder(op, files, feedback, sample, role)
            if "source" in needs and op.op == "add_method"
            else None
        )
        if templated is not None:
            code, call = templated
            calls.append(call)
            if code:
                slots["source"] = code
        elif "source" in needs and self._is_class_edit(op):
            node, _ = self.node_source(op.target, files)
            code, member_calls = draft_members(
                self._chat,
                self._ask_json,
                class_source=node,
                name=op.target.rsplit(".", 1)[-1],
                issue=self.issue,
                style=self._style_hint(),
                feedback=feedback,
                sample=sample,
                role=role,
                max_tokens=self.max_tokens,
            )
            if not member_calls:  # a class without methods: the model rewrites it whole
                how = SourceRequest(sample, role, temperature, variant, alternate)
                code, call = self._draft_source(op, files, feedback, previous, how)
                member_calls = [call]
            calls.extend(member_calls)
            slots["source"] = code
            _, module = self.node_source(op.target, files)
            imports = needed_imports(code, module)
            if imports:
                slots["imports"] = imports
        elif "source" in needs or "body" in needs:
            slot = "body" if "body" in needs else "source"
            earlier = {"source": previous.get(slot)} if previous else None
            how = SourceRequest(sample, role, temperature, variant, alternate)
            code, call = self._draft_source(op, files, feedback, earlier, how)
            calls.append(call)
            slots[slot] = code
            _, module = self.node_source(op.target, files)
            imports = needed_imports(code, module)
            if imports:
                slots["imports"] = imports
        script = render_script(phase.id, op, slots)
        return Draft(phase.id, op, slots, f"{phase.id}.py", script, tuple(calls))

    def _ask_json(
        self,
        role: str,
        messages: list[Message],
        schema: Mapping[str, Any],
        max_tokens: int,
        sample: int,
    ) -> tuple[Any, str, LLMCall]:
        """One JSON-schema constrained call: (decoded value or None, raw text, the call)."""
        params = GenerationParams(max_tokens=max_tokens, json_schema=dict(schema), seed=sample)
        raw, call = self._chat(role, messages, params)
        try:
            return json.loads(raw, strict=False), raw, call  # raw newlines in strings are fine
        except ValueError as exc:
            return None, raw, replace(call, error=f"unusable JSON: {exc}")

    @staticmethod
    def _ask(system: str, user: str, feedback: str | None, label: str) -> list[Message]:
        return [
            Message("system", system),
            Message("user", user + (f"\n\n{label} failed: {feedback}" if feedback else "")),
        ]

    def _draft_docstring(
        self, op: Operation, files: Mapping[str, str], feedback: str | None, sample: int, role: str
    ) -> tuple[str | None, list[LLMCall]]:
        """The docstring slot: JSON-constrained text, tidied; one re-ask if it parrots the issue."""
        node, module = self.node_source(op.target, files)
        name = op.target.rsplit(".", 1)[-1]
        system = (
            'You write Python docstrings. Reply with JSON: {"docstring": text}. '
            "The text is the docstring body only, no quotes: a one-line summary of what the "
            "code below does, returns or accepts, then at most three short sentences. "
            "Describe the code, do not repeat the request. " + self._style_hint()
        )
        code = f"Code of `{name}`:\n```python\n{node[:3000]}\n```\n\n"
        request = f"Request (context only):\n{self.issue[:600]}\n\n"
        ask = f"Write the docstring of `{name}`."
        calls: list[LLMCall] = []
        wants_params = Statements.of(self.issue).docstring_params()
        params = described_parameters(node) if wants_params else []
        if params:
            ask += f" Describe each parameter ({', '.join(params)}) and what it returns."
        # Later tries leave the request out: a small model that parrots it once will parrot
        # it again, but describes plain code well enough. When the issue wants the
        # parameters, a docstring that leaves some out is asked again (at most twice) with
        # the names it missed, and the one that misses fewest is kept.
        best: tuple[int, str] | None = None
        extra = feedback
        for attempt in range(3):
            context = request if attempt == 0 else ""
            messages = self._ask(system, code + context + ask, extra, "Your previous docstring")
            try:
                value, _, call = self._ask_json(role, messages, DOCSTRING_SCHEMA, 300, sample)
            except CoreError:
                if best is None:
                    raise
                break  # a follow-up could not be asked: the best answer so far stands
            if not isinstance(value, dict) or not isinstance(value.get("docstring"), str):
                calls.append(replace(call, error=call.error or "no `docstring` string"))
                break
            text = tidy_docstring(value["docstring"], width=self._docstring_width(node))
            problem = docstring_problem(text, node, self.issue)
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

    def _docstring_width(self, node: str) -> int:
        """Prose width: 72 (PEP 8), less where the project's lines are shorter."""
        length = int(self.style.formatter_settings().get("line_length", 88)) if self.style else 88
        indent = len(node) - len(node.lstrip()) + 4
        return max(40, min(72, length - indent))

    def _draft_signatures(
        self, op: Operation, files: Mapping[str, str], feedback: str | None, sample: int, role: str
    ) -> tuple[dict[str, dict[str, str]], list[LLMCall]]:
        """One JSON-constrained call per function: {parameter: type, "return": type}."""
        _, module = self.node_source(op.target, files)
        module_name = self.digest.module_path(op.target) and op.target
        sigs: dict[str, dict[str, str]] = {}
        calls: list[LLMCall] = []
        for qual, fn, code in annotation_targets(module, op.target, module_name):
            params = unannotated(fn)
            if not params:
                continue
            messages = self._ask(
                "You give Python type annotations. Reply with JSON mapping each parameter "
                'name and "return" to a truthful type that works at runtime, such as int, '
                "str, bool, dict, list, Callable, Mapping, Iterable, Optional[int], Any, or "
                "one of the module's own classes.",
                f"```python\n{code[:1500]}\n```\n\nRequest:\n{self.issue[:600]}\n\n"
                f"Annotate `{fn.name}`: " + ", ".join(params),
                feedback,
                "The previous annotations",
            )
            schema = string_fields_schema(params)
            value, _, call = self._ask_json(role, messages, schema, 48 + 32 * len(params), sample)
            if isinstance(value, dict) and all(k in value for k in params):
                sigs[qual] = {k: str(value[k]) for k in params}
                calls.append(replace(call, parsed=sigs[qual]))
            else:  # that function gets Any; not an error that needs a repair
                log.info("annotations for %s unusable: %s", qual, call.error)
                calls.append(replace(call, error=None))
        return sigs, calls

    def _draft_field_types(
        self, op: Operation, files: Mapping[str, str], feedback: str | None, sample: int, role: str
    ) -> tuple[dict[str, str] | None, LLMCall | None]:
        """The ``field_types`` slot of a namedtuple: field → annotation, JSON-constrained."""
        node, module = self.node_source(op.target, files)
        fields = namedtuple_fields(module, op.target.rsplit(".", 1)[-1])
        if not fields:
            return None, None
        messages = self._ask(
            "You give Python type annotations. Reply with JSON mapping each field name to "
            "its annotation, such as int, str, float | None or list[str].",
            f"Code:\n```python\n{node[:2000]}\n```\n\nRequest:\n{self.issue[:1200]}\n\n"
            f"Fields: {', '.join(fields)}. What is the type of each?",
            feedback,
            "Your previous answer",
        )
        value, _, call = self._ask_json(role, messages, string_fields_schema(fields), 200, sample)
        if not isinstance(value, dict) or not all(f in value for f in fields):
            return None, replace(call, error=call.error or "a field is missing")
        types = {f: str(value[f]).strip() for f in fields}
        return types, replace(call, parsed=types)

    def _draft_dunder(
        self, op: Operation, files: Mapping[str, str], feedback: str | None, sample: int, role: str
    ) -> tuple[str | None, LLMCall] | None:
        """``__repr__``/``__eq__``/``__hash__``: the model picks the attributes, a template writes it."""
        method = str(op.params.get("name") or "")
        if method not in dunders.TEMPLATED:
            return None
        node, _ = self.node_source(op.target, files)
        choices = dunders.offered(method, dunders.instance_attributes(textwrap.dedent(node)))
        if not choices:
            return None
        names = [a.name for a in choices]
        messages = self._ask(
            'You choose instance attributes. Reply with JSON: {"fields": [names]}, using '
            "only the listed names.",
            f"Class:\n```python\n{node[:3000]}\n```\n\nRequest:\n{self.issue[:800]}\n\n"
            f"Which of these attributes should be {dunders.PURPOSE[method]} in `{method}`? "
            + ", ".join(names),
            feedback,
            "Your previous choice",
        )
        value, _, call = self._ask_json(role, messages, dunders.fields_schema(names), 120, sample)
        picked = value.get("fields") if isinstance(value, dict) else None
        picked = [str(n) for n in picked if n in names] if isinstance(picked, list) else []
        if not picked:
            return None, replace(call, error=call.error or "no attribute was chosen")
        code = dunders.render(method, [a for a in choices if a.name in picked]).rstrip("\n")
        return code, replace(call, parsed={"fields": picked, "source": code})

    def _is_class_edit(self, op: Operation) -> bool:
        found = self.digest.find(op.target)
        return op.op == "edit" and bool(found) and found[0].kind == "class"

    def _draft_source(
        self,
        op: Operation,
        files: Mapping[str, str],
        feedback: str | None,
        previous: Mapping[str, Any] | None,
        how: SourceRequest,
    ) -> tuple[str, LLMCall]:
        node, _ = self.node_source(op.target, files)
        name = str(op.params.get("name") or op.target.rsplit(".", 1)[-1])
        if op.op == "add_parameter":
            name = op.target.rsplit(".", 1)[-1]
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
        facts = f"\n{self.facts}\n" if self.facts and op.op in ("edit", "add_parameter") else ""
        if how.variant == "minimal":
            what += (
                "; change only the lines that must change for the issue and copy every "
                "other line exactly"
            )
        messages = [
            Message(
                "system",
                "You change Python code. Reply with only one ```python code block holding "
                "the complete code asked for; keep the existing behaviour unless the issue asks to "
                "change it; keep names, signatures and docstrings. " + self._style_hint(),
            ),
            Message("user", f"Issue:\n{self.issue}\n\n{context}{facts}\nWrite {what}."),
        ]
        if feedback and previous and previous.get("source"):
            messages += [
                Message("assistant", f"```python\n{previous['source']}\n```"),
                Message("user", f"That failed: {feedback}\nSend the corrected complete code."),
            ]
        # a helper plus every rewritten caller is several definitions long
        budget = self.max_tokens * (2 if op.op == "extract_helper" else 1)
        rewrite = bool(node) and op.op in REWRITES
        if rewrite:  # a rewrite is about as long as the node: a cap near that ends a ramble
            budget = min(2 * self.max_tokens, max(256, len(node) // 3 + 200))
        temperature = how.temperature
        if temperature is None:
            temperature = 0.0 if not how.sample else 0.7
        params = GenerationParams(
            max_tokens=budget,
            temperature=temperature,
            seed=how.sample,
            stop=("\n```\n",),
            copies_input=rewrite,
        )
        llm = self.alternate if how.alternate and self.alternate is not None else None
        raw, call = self._chat(how.role, messages, params, llm)
        wanted = "" if op.op == "extract_helper" else name
        code = pick_definition(drop_unused_imports(extract_code(raw)), wanted)
        problem = check_definition(code, wanted)
        if problem and call.finish_reason == "length":
            problem = (
                f"the reply was cut off at the {budget}-token limit ({problem}); send "
                "less code: only the definitions that change, without unchanged parts"
            )
        return code, replace(call, parsed=code, error=problem)
