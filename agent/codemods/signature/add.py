"""``add_parameter``: a new parameter with a default, optionally with a new body.

The parameter goes after ``after``, or (by default) last among the
positional-or-keyword parameters, or last among the keyword-only ones when
``keyword_only`` is set. Callers keep working through the default; a parameter
put in the middle of the positional ones would shift the arguments of calls that
pass later parameters by position, so those calls are rewritten to pass them by
keyword. The optional ``body`` slot is the full new function (from the LLM) that
uses the parameter: it replaces the definition once it parses, has the same name
and keeps every parameter.
"""

from __future__ import annotations

import keyword
import logging
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.content.spelling import used_imports
from agent.codemods.imports import add_import_lines
from agent.codemods.index import RepoIndex
from agent.codemods.index.definitions import DefInfo
from agent.codemods.signature.codemod import (
    Report,
    SignatureEdit,
    Site,
    apply_edits,
)
from agent.codemods.signature.params import (
    KWONLY,
    POSONLY,
    VARARGS,
    ParamParts,
    bind,
    rebuild_parameters,
    signature_of,
    to_keywords,
)
from agent.codemods.signature.targets import function_target
from planner.spec import Operation

log = logging.getLogger(__name__)

FENCE = re.compile(r"^\s*```[\w-]*\n(.*?)\n\s*```\s*$", re.S)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _expression(text: Any, what: str) -> cst.BaseExpression | str:
    source = text if isinstance(text, str) else repr(text)
    try:
        return cst.parse_expression(source.strip())
    except cst.ParserSyntaxError:
        return f"{what} {source!r} is not a Python expression; send it as source text"


def new_param(
    name: str, default: cst.BaseExpression, annotation: cst.BaseExpression | None
) -> cst.Param:
    """``name=default`` or ``name: annotation = default`` (PEP 8 spacing)."""
    space = cst.SimpleWhitespace(" " if annotation is not None else "")
    return cst.Param(
        name=cst.Name(name),
        annotation=cst.Annotation(annotation) if annotation is not None else None,
        equal=cst.AssignEqual(whitespace_before=space, whitespace_after=space),
        default=default,
    )


def place(parts: ParamParts, param: cst.Param, *, keyword_only: bool, after: str) -> str | None:
    """Insert ``param`` into ``parts``; an error message when the place is not possible."""
    names = lambda params: [p.name.value for p in params]  # noqa: E731
    star_name = parts.star.name.value if isinstance(parts.star, cst.Param) else None
    if after and after in names(parts.kwonly):
        keyword_only = True
    if after and after == star_name:
        parts.kwonly.insert(0, param)
        return None
    if keyword_only:
        if after and after not in names(parts.kwonly):
            return (
                f"keyword_only is set but `after` ({after}) is not a keyword-only parameter; "
                "drop `after` or name a keyword-only one"
            )
        at = names(parts.kwonly).index(after) + 1 if after else len(parts.kwonly)
        parts.kwonly.insert(at, param)
        if parts.star is None:
            parts.star = cst.ParamStar()
        return None
    if after and after in names(parts.posonly):
        if after != names(parts.posonly)[-1]:
            return f"`after` ({after}) is in the middle of the positional-only parameters"
        at = 0
    elif after:
        at = names(parts.normal).index(after) + 1
    else:
        at = len(parts.normal)
    later = [p.name.value for p in parts.normal[at:] if p.default is None]
    if later:
        return (
            f"a parameter with a default cannot go before {', '.join(later)} (no default); "
            "send keyword_only: true, or `after` naming a later parameter"
        )
    parts.normal.insert(at, param)
    return None


def body_function(
    source: str, target: DefInfo, name: str
) -> tuple[cst.FunctionDef, list[str]] | str:
    """The ``body`` slot as a ``FunctionDef`` with the import lines sent before it (they go
    to the top of the module), or what is wrong with it (for the LLM)."""
    fenced = FENCE.match(source)
    text = textwrap.dedent(fenced[1] if fenced else source).strip("\n") + "\n"
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return f"the body does not parse: {exc}. Send the complete `def {target.name}(...)` source"
    imports = [
        s
        for s in module.body
        if isinstance(s, cst.SimpleStatementLine)
        and all(isinstance(x, cst.Import | cst.ImportFrom) for x in s.body)
    ]
    rest = [s for s in module.body if s not in imports]
    defs = [s for s in rest if isinstance(s, cst.FunctionDef)]
    if len(defs) != 1 or len(rest) != 1:
        return (
            f"the body must be exactly one `def {target.name}(...)` (imports it needs may come "
            f"first), found {len(rest)} other statement(s)"
        )
    fn = defs[0]
    if fn.name.value != target.name:
        return f"the body defines {fn.name.value!r}; it must define {target.name!r}"
    have = signature_of(fn).names
    if name not in have:
        return f"the body's `def {target.name}` has no parameter {name!r}; add it to the signature"
    lost = [n for n in target.signature.names if n not in have]
    if lost:
        return (
            f"the body drops parameter(s) {', '.join(lost)} that callers may pass; keep them "
            "(only the new parameter may be added)"
        )
    return fn, [module.code_for_node(s).strip() for s in imports]


@dataclass(frozen=True)
class Addition:
    """What ``add_parameter`` puts in: the parameter, where it goes, the new body if any, and
    the parameters after it that calls passed positionally (they become keywords)."""

    param: cst.Param
    where: dict[str, Any]
    body: cst.FunctionDef | None
    shifted: tuple[str, ...]


class AddEdit(SignatureEdit):
    """Insert one parameter (and swap in the body); keep calls correct when it goes mid-list."""

    def __init__(
        self, target: DefInfo, report: Report, addition: Addition, pattern: str | None
    ) -> None:
        super().__init__(target, report)
        self.param = addition.param
        self.where = addition.where
        self.body = addition.body
        self.shifted = addition.shifted
        self.pattern = pattern
        self.written: cst.FunctionDef | None = None  # the function with the drafted body

    def call_pattern(self) -> str | None:
        return self.pattern

    def edit_def(self, node: cst.FunctionDef) -> cst.FunctionDef:
        is_impl = self.defs_seen == self.target.count  # the last definition of that name
        if self.body is not None and is_impl:
            # the model writes the body; the signature stays the one the code has, with the
            # new parameter in its place (a model that rewrites `list[Any]` as `List[Any]`
            # on the way changes nothing the issue asked for)
            signed = self._signature(node)
            body = self.body.with_changes(
                leading_lines=node.leading_lines,
                params=signed.params,
                returns=signed.returns,
                asynchronous=node.asynchronous,
            )
            if not body.decorators and node.decorators:
                body = body.with_changes(decorators=node.decorators)
            self.written = body
            return body
        return self._signature(node)

    def _signature(self, node: cst.FunctionDef) -> cst.FunctionDef:
        """``node`` with the new parameter placed (annotated as the model wrote it when the
        plan gives no annotation)."""
        param = self.param
        drafted = [
            p
            for p in (
                (*self.body.params.params, *self.body.params.kwonly_params) if self.body else ()
            )
            if p.name.value == param.name.value
        ]
        if param.annotation is None and drafted and drafted[0].annotation is not None:
            param = param.with_changes(
                annotation=drafted[0].annotation,
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(" "),
                    whitespace_after=cst.SimpleWhitespace(" "),
                ),
            )
        parts = ParamParts.of(node.params)
        if self.param.name.value in [p.name.value for p in parts.all_params()]:
            return node
        error = place(parts, param, **self.where)
        if error is not None:
            self.report.problems.append(f"{self.target.qualname}: {error}")
            return node
        return node.with_changes(params=rebuild_parameters(node.params, parts))

    def edit_call(self, call: cst.Call, offset: int, site: Site) -> cst.Call:
        binding = bind(call.args, self.target.signature, offset)
        convert = {
            b.index: b.param
            for b in binding.args
            if b.kind == "positional" and b.param in self.shifted
        }
        overflow = any(
            b.kind == "positional" and b.param == self.target.signature.varargs
            for b in binding.args
        )
        if binding.splat_slot is not None and any(binding.splat_may_fill(n) for n in self.shifted):
            overflow = True
        if not convert and not overflow:
            return call
        if overflow:
            self.report.problems.append(
                f"{site.where}: `{site.snippet}` passes arguments by position past the new "
                f"parameter's place; send `after` naming the last positional parameter or "
                "keyword_only: true"
            )
            return call
        return to_keywords(call, binding, convert)


@REGISTRY.register("add_parameter", slots=("body",))
def add_parameter(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Add a parameter with a default; optionally replace the function with ``slots['body']``."""
    index = RepoIndex(files)
    target = function_target(index, op.target)
    if isinstance(target, str):
        return Failed(f"add_parameter: {target}")
    sig = target.signature
    existing = f"{target.qualname}{sig.describe()}"
    name = str(op.params.get("name") or "").strip()
    if not name.isidentifier() or keyword.iskeyword(name):
        return Failed(
            f"add_parameter on {existing}: `name` must be a Python identifier, got {name!r}"
        )
    if sig.get(name) is not None:
        return Skipped(f"add_parameter: {existing} already has a parameter {name!r}")
    raw_default = op.params.get("default")
    default = _expression("None" if raw_default is None else raw_default, "default")
    annotation = op.params.get("annotation")
    ann = _expression(annotation, "annotation") if annotation else None
    for parsed in (default, ann):
        if isinstance(parsed, str):
            return Failed(f"add_parameter on {existing}: {parsed}")
    assert isinstance(default, cst.BaseExpression)
    assert ann is None or isinstance(ann, cst.BaseExpression)
    after = str(op.params.get("after") or "").strip()
    if after and sig.get(after.lstrip("*")) is None:
        return Failed(
            f"add_parameter on {existing}: no parameter {after!r} to put it after; the parameters are {', '.join(sig.names)}"
        )
    where = {"keyword_only": _flag(op.params.get("keyword_only")), "after": after.lstrip("*")}
    param = new_param(name, default, ann)
    body: cst.FunctionDef | None = None
    imports: list[str] = []
    if slots.get("body"):
        found = body_function(str(slots["body"]), target, name)
        if isinstance(found, str):
            return Failed(f"add_parameter on {existing}: {found}")
        body, imports = found
    shifted = _shifted(target, where)
    report = Report()
    pattern = index.call_pattern(target) if shifted else None
    edit = AddEdit(target, report, Addition(param, where, body, shifted), pattern)
    what = f"add_parameter {name} to {target.qualname}"
    result = apply_edits(index, [edit], report, what=what)
    if not isinstance(result, Applied):
        return result
    # an import that only a rewritten signature needed goes with the rewrite
    imports = used_imports(imports, edit.written) if edit.written is not None else []
    if imports and target.path in result.changes:
        module = add_import_lines(cst.parse_module(result.changes[target.path]), imports)
        if isinstance(module, Failed):
            return module
        result = Applied({**result.changes, target.path: module.code}, result.notes)
    notes = [
        f"{what}: done in {target.path}:{target.line}" + (" with the new body" if body else "")
    ]
    return Applied(changes=result.changes, notes=(*notes, *result.notes))


def _shifted(target: DefInfo, where: Mapping[str, Any]) -> tuple[str, ...]:
    """Positional parameters that the new one would push one place to the right."""
    sig = target.signature
    after = where["after"]
    info = sig.get(after) if after else None
    if where["keyword_only"] or not after or info is None or info.kind in (KWONLY, VARARGS):
        return ()
    if info.kind == POSONLY:
        return tuple(p.name for p in sig.params if p.kind == "normal")
    position = sig.positional.index(after)
    return sig.positional[position + 1 :]
