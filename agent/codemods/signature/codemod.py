"""The codemod that changes a function's definition and updates the calls that reach it.

A ``SignatureEdit`` says what happens to one definition and to each call of it;
``SignatureCommand`` (a LibCST ``VisitorBasedCodemodCommand``) finds both in one
file, using ``QualifiedNameProvider`` and ``ScopeProvider`` to decide which calls
reach the definition:

- plain and dotted names through imports and re-exports (``from pkg.mod import f``,
  ``import pkg.mod as m; m.f()``), ``ClassName.method(self, ...)`` and, for
  ``__init__``, ``ClassName(...)`` of the class or a subclass that inherits it;
- ``self.m()`` / ``cls.m()`` inside the class or a subclass that does not override it;
- ``super().m()`` / ``super(Class, self).m()`` when the next class in the MRO is the owner;
- ``x.m()`` where ``x`` is a parameter annotated with the class or bound to ``Class(...)``.

Calls named like a method target whose receiver cannot be told apart are left alone
and reported as notes. ``apply_edits`` runs the command over the relevant files and
turns the outcome into ``Applied``, ``Failed`` or ``Skipped``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst.codemod import (
    CodemodContext,
    TransformFailure,
    TransformSuccess,
    VisitorBasedCodemodCommand,
    transform_module,
)
from libcst.metadata import (
    CodeRange,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from agent.codemods.base import Applied, Failed, Result, Skipped
from agent.codemods.index import RepoIndex
from agent.codemods.index.definitions import DefInfo
from agent.codemods.signature.params import code
from agent.codemods.signature.resolve import CallResolver, attr_name

log = logging.getLogger(__name__)

MAX_SNIPPET = 100


@dataclass
class Report:
    """What one operation's codemods found: blocking problems and informational notes."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


class Site:
    """Where a call is (computed only when a message needs it) and what the enclosing
    function forwards."""

    def __init__(self, command: SignatureCommand, call: cst.Call, forwarded: frozenset[str]):
        self._command = command
        self._call = call
        self.forwarded = forwarded  # names of the enclosing function's *args / **kwargs

    @cached_property
    def where(self) -> str:
        """``path:line``."""
        return self._command.where(self._call)

    @cached_property
    def snippet(self) -> str:
        """The call's source on one line, shortened."""
        text = " ".join(code(self._call).split())
        return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 3] + "..."

    def forwards(self, call: cst.Call) -> bool:
        """Every splat of ``call`` passes the enclosing function's own ``*args``/``**kwargs``."""
        splats = [a for a in call.args if a.star]
        return bool(splats) and all(
            isinstance(a.value, cst.Name) and a.value.value in self.forwarded for a in splats
        )


class SignatureEdit:
    """How one definition changes; subclasses override what they need."""

    def __init__(self, target: DefInfo, report: Report) -> None:
        self.target = target
        self.report = report
        self.defs_seen = 0

    def call_pattern(self) -> str | None:
        """A regex every file calling the target matches (None: calls need no edit)."""
        return None

    def prepare_def(self, command: SignatureCommand, node: cst.FunctionDef) -> None:
        """Look at the original definition (metadata is available) before its body is visited."""

    def replace_name(self, node: cst.Name) -> cst.BaseExpression | None:
        """A replacement for a name inside the definition (None: keep it)."""
        return None

    def edit_def(self, node: cst.FunctionDef) -> cst.FunctionDef:
        return node

    def edit_call(self, call: cst.Call, offset: int, site: Site) -> cst.Call:
        return call

    def would_change(self, call: cst.Call, offset: int) -> bool:
        """The call would be rewritten if it did reach the target (for unresolved receivers)."""
        return False


@dataclass(frozen=True)
class _Frame:
    kind: str  # class | function
    local: str
    node: cst.ClassDef | cst.FunctionDef


class SignatureCommand(VisitorBasedCodemodCommand):
    """Apply ``SignatureEdit``s to definitions and to the calls that reach them in one file."""

    DESCRIPTION = "Change function signatures and update every call site that reaches them."
    METADATA_DEPENDENCIES = (QualifiedNameProvider, ScopeProvider)

    def __init__(
        self,
        context: CodemodContext,
        index: RepoIndex,
        path: str,
        edits: Sequence[SignatureEdit],
    ) -> None:
        super().__init__(context)
        self.index = index
        self.path = path
        self.module_name = index.module_of(path)
        self.is_package = index.is_package(path)
        self.edits = list(edits)
        self.by_local = {e.target.local: e for e in edits if e.target.path == path}
        self.by_name: dict[str, list[SignatureEdit]] = {}
        for edit in edits:
            self.by_name.setdefault(edit.target.name, []).append(edit)
        self.stack: list[_Frame] = []
        self.assigned: dict[cst.CSTNode, cst.BaseExpression] = {}
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self.resolver = CallResolver(self)

    # -- definitions -----------------------------------------------------------------

    def _local(self, name: str) -> str:
        if not self.stack:
            return name
        frame = self.stack[-1]
        return (
            f"{frame.local}.<locals>.{name}"
            if frame.kind == "function"
            else f"{frame.local}.{name}"
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(_Frame("class", self._local(node.name.value), node))

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.stack.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = _Frame("function", self._local(node.name.value), node)
        self.stack.append(frame)
        edit = self.by_local.get(frame.local)
        if edit is not None:
            edit.prepare_def(self, node)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        frame = self.stack.pop()
        edit = self.by_local.get(frame.local)
        if edit is None:
            return updated_node
        edit.defs_seen += 1
        return edit.edit_def(updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        for frame in reversed(self.stack):
            edit = self.by_local.get(frame.local) if frame.kind == "function" else None
            if edit is not None:
                replacement = edit.replace_name(original_node)
                if replacement is not None:
                    return replacement
        return updated_node

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assigned[target.target] = node.value

    # -- calls ------------------------------------------------------------------------

    def where(self, node: cst.CSTNode) -> str:
        """``path:line`` of a node (positions are computed only when a message needs one)."""
        if self._positions is None:
            wrapper = self.context.wrapper
            assert wrapper is not None
            self._positions = wrapper.resolve(PositionProvider)
        return f"{self.path}:{self._positions[node].start.line}"

    def _site(self, call: cst.Call) -> Site:
        forwarded: set[str] = set()
        fn = next((f.node for f in reversed(self.stack) if f.kind == "function"), None)
        if isinstance(fn, cst.FunctionDef):
            for star in (fn.params.star_arg, fn.params.star_kwarg):
                if isinstance(star, cst.Param):
                    forwarded.add(star.name.value)
        return Site(self, call, frozenset(forwarded))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.edits:
            return updated_node
        found = self.resolver.match(original_node)
        if found is None:
            return updated_node
        edit, offset = found
        if edit is None:
            return updated_node
        site = self._site(original_node)
        if offset < 0:  # a method-like call whose receiver is unknown
            for candidate in self.by_name.get(attr_name(original_node.func) or "", []):
                if candidate.target.is_method and candidate.would_change(original_node, 1):
                    self_note = (
                        f"{site.where}: `{site.snippet}` left unchanged: could not tell whether "
                        f"it calls {candidate.target.qualname}; if it does, update it by hand"
                    )
                    candidate.report.note(self_note)
            return updated_node
        return edit.edit_call(updated_node, offset, site)


def apply_edits(
    index: RepoIndex, edits: Sequence[SignatureEdit], report: Report, *, what: str
) -> Result:
    """Run ``SignatureCommand`` over the target files and every file that may call them."""
    files = index.files
    paths = {e.target.path for e in edits}
    patterns = [p for p in (e.call_pattern() for e in edits) if p]
    paths.update(index.paths_matching(patterns))
    changes: dict[str, str] = {}
    for path in sorted(paths):
        context = CodemodContext(filename=path, full_module_name=index.module_of(path))
        command = SignatureCommand(context, index, path, edits)
        result = transform_module(command, files.sources[path])
        if isinstance(result, TransformFailure):
            return Failed(
                f"{what}: the codemod could not process {path}: {result.error}",
                result.traceback_str,
            )
        if isinstance(result, TransformSuccess) and result.code != files.sources[path]:
            changes[path] = result.code
    missing = [e.target.describe() for e in edits if e.defs_seen == 0]
    if missing:
        report.problems.append(f"definition not found while rewriting: {', '.join(missing)}")
    if report.problems:
        done = "nothing was changed"
        return Failed(f"{what}: {done}; fix these first:\n- " + "\n- ".join(report.problems))
    for path, text in changes.items():
        try:
            compile(text, path, "exec")
        except SyntaxError as exc:
            return Failed(
                f"{what}: the rewrite of {path} does not compile ({exc}); nothing applied"
            )
    if not changes:
        return Skipped(f"{what}: nothing to change")
    log.debug("%s: changed %s", what, ", ".join(sorted(changes)))
    return Applied(changes=changes, notes=tuple(report.notes))
