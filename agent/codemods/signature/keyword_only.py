"""Signature operation ``make_keyword_only`` (``add_parameter`` and ``remove_parameter``
live in ``signature.add`` and ``signature.remove``).

``make_keyword_only`` moves parameters behind a bare ``*`` (or behind an existing
``*args``) and rewrites every call that reaches the function and passes them
positionally into keyword form, ``super().__init__(...)`` chains included.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.index import RepoIndex
from agent.codemods.index.definitions import DefInfo
from agent.codemods.signature.codemod import Report, SignatureEdit, Site, apply_edits
from agent.codemods.signature.params import (
    KWONLY,
    NORMAL,
    POSONLY,
    VARARGS,
    VARKW,
    ParamParts,
    bind,
    rebuild_parameters,
    to_keywords,
)
from agent.codemods.signature.shared import as_names
from agent.codemods.signature.targets import function_target
from planner.spec import Operation

__all__ = ["KeywordOnlyEdit", "make_keyword_only"]

log = logging.getLogger(__name__)


class KeywordOnlyEdit(SignatureEdit):
    """Move ``moving`` behind ``*`` and pass them by keyword at every call."""

    def __init__(
        self, target: DefInfo, report: Report, moving: Sequence[str], pattern: str
    ) -> None:
        super().__init__(target, report)
        self.moving = tuple(moving)
        self.pattern = pattern
        self.calls_changed = 0

    def call_pattern(self) -> str | None:
        return self.pattern

    def edit_def(self, node: cst.FunctionDef) -> cst.FunctionDef:
        parts = ParamParts.of(node.params)
        moved = [p for p in (*parts.posonly, *parts.normal) if p.name.value in self.moving]
        if not moved:
            return node
        parts.posonly = [p for p in parts.posonly if p not in moved]
        parts.normal = [p for p in parts.normal if p not in moved]
        if parts.star is None:
            parts.star = cst.ParamStar()
        parts.kwonly = [*moved, *parts.kwonly]
        return node.with_changes(params=rebuild_parameters(node.params, parts))

    def edit_call(self, call: cst.Call, offset: int, site: Site) -> cst.Call:
        binding = bind(call.args, self.target.signature, offset)
        risky = [n for n in self.moving if binding.splat_may_fill(n)]
        if risky:
            if site.forwards(call):
                self.report.note(
                    f"{site.where}: `{site.snippet}` forwards *args unchanged; its own callers "
                    f"must pass {', '.join(risky)} by keyword"
                )
            else:
                self.report.problems.append(
                    f"{site.where}: `{site.snippet}` passes a `*` argument that may fill "
                    f"{', '.join(risky)} of {self.target.qualname}; this call cannot be "
                    "converted automatically. Rewrite it to pass "
                    f"{', '.join(risky)} by keyword (an `edit` of the calling function), "
                    "then send make_keyword_only again"
                )
            return call
        convert = {
            b.index: b.param
            for b in binding.args
            if b.kind == "positional" and b.param in self.moving
        }
        if not convert:
            return call
        self.calls_changed += 1
        return to_keywords(call, binding, convert)

    def would_change(self, call: cst.Call, offset: int) -> bool:
        binding = bind(call.args, self.target.signature, offset)
        return any(
            (b.kind == "positional" and b.param in self.moving) for b in binding.args
        ) or any(binding.splat_may_fill(n) for n in self.moving)


def _moving(target: DefInfo, params: Mapping[str, Any]) -> list[str] | str:
    """The parameters to move, or an error message."""
    sig = target.signature
    offset = target.bound_offset("instance")
    implicit = sig.positional[:offset]
    existing = f"{target.qualname}{sig.describe()}"
    after = str(params.get("after") or "").strip()
    names = as_names(params.get("names"))
    wanted: list[str] = []
    if after:
        info = sig.get(after.lstrip("*"))
        if info is None:
            return f"make_keyword_only: {existing} has no parameter {after!r}; send `after` as one of {', '.join(sig.names)}"
        if info.kind in (POSONLY, NORMAL):
            position = sig.positional.index(info.name)
            wanted += list(sig.positional[position + 1 :])
    infos = {n: sig.get(n) for n in names}
    unknown = [n for n, info in infos.items() if info is None]
    if unknown:
        return (
            f"make_keyword_only: {existing} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are {', '.join(sig.names)}"
        )
    kinds = {n: info.kind for n, info in infos.items() if info is not None}
    bad = [n for n, kind in kinds.items() if n in implicit or kind in (VARARGS, VARKW)]
    if bad:
        return (
            f"make_keyword_only: {', '.join(bad)} of {existing} cannot become keyword-only "
            "(the bound self/cls or a *args/**kwargs parameter); send other names"
        )
    wanted += [n for n, kind in kinds.items() if kind != KWONLY]
    return [n for n in sig.positional if n in wanted and n not in implicit]


@REGISTRY.register("make_keyword_only")
def make_keyword_only(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Make parameters keyword-only (``after`` one, or the ``names``) and fix every caller."""
    index = RepoIndex(files)
    target = function_target(index, op.target)
    if isinstance(target, str):
        return Failed(f"make_keyword_only: {target}")
    if not (op.params.get("after") or op.params.get("names")):
        return Failed(
            f"make_keyword_only on {target.qualname}: send `after` (a parameter name) or "
            f"`names` (a list); the parameters are {target.signature.describe()}"
        )
    moving = _moving(target, op.params)
    if isinstance(moving, str):
        return Failed(moving)
    if not moving:
        return Skipped(
            f"make_keyword_only: the parameters asked for are already keyword-only in "
            f"{target.qualname}{target.signature.describe()}"
        )
    report = Report()
    edit = KeywordOnlyEdit(target, report, moving, index.call_pattern(target))
    what = f"make_keyword_only {', '.join(moving)} of {target.qualname}"
    result = apply_edits(index, [edit], report, what=what)
    if isinstance(result, Failed | Skipped):
        return result
    summary = (
        f"{what}: definition in {target.path}:{target.line} updated, "
        f"{edit.calls_changed} call(s) now pass them by keyword"
    )
    log.info(summary)
    return type(result)(changes=result.changes, notes=(summary, *result.notes))
