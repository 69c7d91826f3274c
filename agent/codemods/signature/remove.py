"""``remove_parameter``: drop a parameter (or every one matching a glob) and its arguments.

The target is a function or method, or a class or module (then every function and
method in it that has a matching parameter). Where the body uses a removed
parameter that has a default, each use becomes the default expression (so
``def f(self, key, get=Cache.get): return get(self, key)`` becomes
``def f(self, key): return Cache.get(self, key)``). A used parameter without a
default, a default that would mean something else inside the body, or a default
evaluated once that must not be re-evaluated per use (a call, a list...) stops the
operation with a message naming the uses. Calls that pass the parameter lose that
argument, by keyword or by its position.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.metadata import ScopeProvider
from libcst.metadata.scope_provider import Assignment

from agent.codemods.base import REGISTRY, Applied, Failed, RepoFiles, Result
from agent.codemods.index import RepoIndex
from agent.codemods.index.definitions import DefInfo
from agent.codemods.signature.codemod import (
    Report,
    SignatureCommand,
    SignatureEdit,
    Site,
    apply_edits,
)
from agent.codemods.signature.params import (
    KWONLY,
    NORMAL,
    POSONLY,
    ParamParts,
    as_operand,
    bind,
    code,
    rebuild_args,
    rebuild_parameters,
)
from agent.codemods.signature.targets import functions_in, resolve_target
from planner.spec import Operation

log = logging.getLogger(__name__)

EVALUATED_ONCE = (
    cst.Call,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.Await,
    cst.Yield,
)


class _Names(cst.CSTVisitor):
    """The free ``Name`` nodes of an expression (not attribute names or keywords)."""

    def __init__(self) -> None:
        self.names: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


class RemoveEdit(SignatureEdit):
    """Remove ``removed`` from one definition, substitute defaults, drop call arguments."""

    def __init__(
        self, target: DefInfo, report: Report, removed: tuple[str, ...], pattern: str
    ) -> None:
        super().__init__(target, report)
        self.removed = removed
        self.pattern = pattern
        self.subst: dict[cst.CSTNode, cst.BaseExpression] = {}
        self.calls_changed = 0
        self.uses_replaced = 0

    def call_pattern(self) -> str | None:
        return self.pattern

    def prepare_def(self, command: SignatureCommand, node: cst.FunctionDef) -> None:
        for param in ParamParts.of(node.params).all_params():
            if param.name.value in self.removed:
                self._substitute(command, param)

    def _substitute(self, command: SignatureCommand, param: cst.Param) -> None:
        name = param.name.value
        label = f"parameter `{name}` of {self.target.qualname}"
        scope = command.get_metadata(ScopeProvider, param, None)
        if scope is None:
            return
        assignments = list(scope.assignments[name])
        own = [a for a in assignments if isinstance(a, Assignment) and a.node is param]
        uses = [r.node for a in own for r in a.references]
        if not uses:
            return
        lines = ", ".join(command.where(u) for u in uses)
        if len(assignments) > 1:
            self._problem(f"{label} is reassigned in the body (uses at {lines})")
            return
        if param.default is None:
            self._problem(
                f"{label} has no default and the body uses it at {lines}; decide what each "
                f"use becomes (send an `edit` of {self.target.qualname} that stops using it, "
                "then remove_parameter again)"
            )
            return
        default = param.default
        if isinstance(default, EVALUATED_ONCE):
            self._problem(
                f"{label} defaults to `{code(default)}`, evaluated once at definition time; "
                f"substituting it at each use ({lines}) would change behaviour. Send an `edit` "
                f"of {self.target.qualname} that hoists it (e.g. a module constant) first"
            )
            return
        collector = _Names()
        default.visit(collector)
        for use in uses:
            if not isinstance(use, cst.Name):
                self._problem(
                    f"{label} is used at {command.where(use)} in a form that cannot be substituted"
                )
                return
            use_scope = command.get_metadata(ScopeProvider, use, None)
            for free in collector.names:
                def_scope = command.get_metadata(ScopeProvider, free, None)
                if def_scope is None or use_scope is None:
                    continue
                if set(def_scope[free.value]) != set(use_scope[free.value]):
                    self._problem(
                        f"{label} defaults to `{code(default)}`, but `{free.value}` means "
                        f"something else at {command.where(use)} (a class attribute or a local "
                        "name); send an `edit` that spells the default out in the body first"
                    )
                    return
        for use in uses:
            self.subst[use] = as_operand(default)

    def _problem(self, text: str) -> None:
        self.report.problems.append(text)

    def replace_name(self, node: cst.Name) -> cst.BaseExpression | None:
        replacement = self.subst.get(node)
        if replacement is not None:
            self.uses_replaced += 1
        return replacement

    def edit_def(self, node: cst.FunctionDef) -> cst.FunctionDef:
        parts = ParamParts.of(node.params)
        if not any(p.name.value in self.removed for p in parts.all_params()):
            return node
        keep = lambda params: [p for p in params if p.name.value not in self.removed]  # noqa: E731
        parts.posonly, parts.normal, parts.kwonly = (
            keep(parts.posonly),
            keep(parts.normal),
            keep(parts.kwonly),
        )
        return node.with_changes(params=rebuild_parameters(node.params, parts))

    def edit_call(self, call: cst.Call, offset: int, site: Site) -> cst.Call:
        binding = bind(call.args, self.target.signature, offset)
        drop: set[int] = set()
        for name in self.removed:
            passed = binding.keyword_for(name) or binding.positional_for(name)
            if passed is not None:
                drop.add(passed.index)
            elif binding.splat_may_fill(name):
                if site.forwards(call):
                    self.report.note(
                        f"{site.where}: `{site.snippet}` forwards *args; its callers must "
                        f"stop passing {name}"
                    )
                else:
                    self._problem(
                        f"{site.where}: `{site.snippet}` passes a `*` argument that may fill "
                        f"{name} of {self.target.qualname}; rewrite this call by hand first"
                    )
            elif binding.has_starstar:
                self.report.note(
                    f"{site.where}: `{site.snippet}` passes `**` arguments; make sure they no "
                    f"longer contain {name!r}"
                )
        if not drop:
            return call
        self.calls_changed += 1
        return rebuild_args(call, [a for i, a in enumerate(call.args) if i not in drop])

    def would_change(self, call: cst.Call, offset: int) -> bool:
        binding = bind(call.args, self.target.signature, offset)
        return any(
            binding.keyword_for(n) or binding.positional_for(n) or binding.splat_may_fill(n)
            for n in self.removed
        )


def _matching(target: DefInfo, pattern: str) -> tuple[str, ...]:
    implicit = target.signature.positional[: target.bound_offset("instance")]
    return tuple(
        p.name
        for p in target.signature.params
        if p.kind in (POSONLY, NORMAL, KWONLY)
        and p.name not in implicit
        and fnmatch.fnmatchcase(p.name, pattern)
    )


@REGISTRY.register("remove_parameter")
def remove_parameter(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Remove a parameter (or a glob of them) from a function, or from every function of a
    class or module, and drop the arguments that callers pass for it."""
    index = RepoIndex(files)
    pattern = str(op.params.get("name") or "").strip()
    if not pattern:
        return Failed(
            f"remove_parameter on {op.target}: send `name` (a parameter or a glob like cache_*)"
        )
    found = resolve_target(index, op.target)
    if isinstance(found, str):
        return Failed(f"remove_parameter: {found}")
    if found.kind == "function":
        info = index.def_info(found.qualname)
        assert info is not None
        defs = [info]
    else:
        defs = functions_in(index, found)
    chosen = [(d, _matching(d, pattern)) for d in defs]
    chosen = [(d, names) for d, names in chosen if names]
    if not chosen:
        if found.kind == "function":
            d = defs[0]
            return Failed(
                f"remove_parameter: {d.qualname}{d.signature.describe()} has no removable "
                f"parameter matching {pattern!r}; its parameters are {', '.join(d.signature.names)}"
            )
        return Failed(
            f"remove_parameter: no function or method in {found.kind} {found.qualname} has a "
            f"parameter matching {pattern!r}"
        )
    report = Report()
    edits = [RemoveEdit(d, report, names, index.call_pattern(d)) for d, names in chosen]
    what = f"remove_parameter {pattern} from {found.qualname}"
    result = apply_edits(index, edits, report, what=what)
    if not isinstance(result, Applied):
        return result
    removed = "; ".join(f"{e.target.local}: {', '.join(e.removed)}" for e in edits)
    summary = (
        f"{what}: removed {removed}; {sum(e.uses_replaced for e in edits)} use(s) replaced by "
        f"the default, {sum(e.calls_changed for e in edits)} call(s) updated"
    )
    log.info(summary)
    return Applied(changes=result.changes, notes=(summary, *result.notes))
