"""``modernize idiom=pathlib``: ``os.path`` calls in one function become ``pathlib``, locally.

Each call is rewritten where it stands and the function keeps its contract: a path-valued
result (``join``, ``expanduser``, ``realpath``) is wrapped in ``str(...)`` unless it feeds
another converted call directly (as a ``Path(...)`` argument or the receiver), so
``os.path.join(os.path.expanduser("~/.c"), n)`` becomes
``str(Path(Path("~/.c").expanduser(), n))`` and still returns the same ``str``.

- ``join(a, b, ...)`` -> ``Path(a, b, ...)``; ``expanduser(x)`` -> ``Path(x).expanduser()``;
  ``realpath(x)`` -> ``Path(x).resolve()``
- ``exists/isfile/isdir/islink/isabs(x)`` -> ``Path(x).exists()/.is_file()/.is_dir()/
  .is_symlink()/.is_absolute()``
- ``getsize(x)`` / ``getmtime(x)`` -> ``Path(x).stat().st_size`` / ``.st_mtime``;
  ``basename(x)`` -> ``Path(x).name``

Everything else (``abspath``, ``dirname``, ``splitext``, ...) is kept and named in the
notes, and so is a call whose string literal ``Path`` would normalize (``""``, ``"."``,
``"./x"``, ``"a//b"``, a trailing ``/``) or whose arguments have no ``Path`` form (bytes,
keywords). Callees resolve through ``QualifiedNameProvider`` (``import os``, ``from os
import path``, ``import os.path as osp``, ``from os.path import join``); a local ``os`` or
``path`` that shadows the import is left alone. ``Path`` comes from the module's own
pathlib import when it has one, else ``from pathlib import Path`` is added (``import
pathlib`` and ``pathlib.Path`` when ``Path`` is bound to something else); an ``os``
import left unused is removed. A module that already imports inside its functions cares
about its import time (a CLI, a library with a light-import test), so there the new import
goes at the top of the converted function instead of the module.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.codemod import (
    CodemodContext,
    TransformFailure,
    TransformSuccess,
    VisitorBasedCodemodCommand,
    transform_module,
)
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import (
    BuiltinAssignment,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from agent.codemods.base import Failed, RepoFiles, Result, Skipped
from agent.codemods.imports import import_bindings
from agent.codemods.modernize.paths_nodes import (
    code_of,
    head_name,
    imports_in_functions,
    local_name,
    normalize_hazard,
    only_imports_of,
)
from agent.codemods.nodes import finish, is_docstring, locate

__all__ = ["PathlibCommand", "to_pathlib"]

_PATH_VALUED = {"join": "", "expanduser": "expanduser", "realpath": "resolve"}
_PREDICATES = {
    "exists": "exists", "isfile": "is_file", "isdir": "is_dir", "islink": "is_symlink",
    "isabs": "is_absolute",
}  # fmt: skip
_STAT = {"getsize": "st_size", "getmtime": "st_mtime"}
_ATTRS = {"basename": "name"}
CONVERTIBLE = frozenset((*_PATH_VALUED, *_PREDICATES, *_STAT, *_ATTRS))
NORMALIZE_NOTE = (
    "Path(...) drops '.' segments, doubled and trailing slashes; os.path kept them in "
    "run-time values (string literals that would change were left as os.path)"
)


@dataclass(frozen=True)
class _Plan:
    """What to do with one call: ``fn`` is its ``os.path`` name ('' if it is not one),
    ``ok`` whether it converts, ``why`` the reason it does not."""

    fn: str = ""
    ok: bool = False
    why: str = ""


class PathlibCommand(VisitorBasedCodemodCommand):
    """Rewrite the ``os.path`` calls in the body of one function (found by name and position)."""

    DESCRIPTION = "Replace os.path calls in one function with pathlib, keeping its return values."
    METADATA_DEPENDENCIES = (
        ParentNodeProvider,
        PositionProvider,
        QualifiedNameProvider,
        ScopeProvider,
    )

    def __init__(self, context: CodemodContext, name: str, start: tuple[int, int]) -> None:
        super().__init__(context)
        self.name, self.start = name, start
        self.target_body: cst.BaseSuite | None = None
        self.inside = 0
        self.converted = 0
        self.skipped: list[str] = []
        self.path_ref: tuple[str, ...] | None = None  # ("Path",) or ("pathlib", "Path")
        self.path_import: tuple[str, str | None] | None = None  # what to add, if anything
        self.global_scope: GlobalScope | None = None
        self.lazy_imports = False  # the module imports inside functions: keep new ones local
        self._plans: dict[cst.Call, _Plan] = {}

    # ------------------------------------------------------------------ setup

    def visit_Module(self, node: cst.Module) -> None:
        scope = self.get_metadata(ScopeProvider, node, None)
        assert isinstance(scope, GlobalScope)
        self.global_scope = scope
        self.lazy_imports = imports_in_functions(node)
        direct: dict[str, str] = {}
        for stmt in node.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Import | cst.ImportFrom):
                        direct.update(import_bindings(small))
        for local, target in direct.items():
            if target == "pathlib.Path" and only_imports_of(scope, local, target):
                self.path_ref = (local,)
                return
        for local, target in direct.items():
            if target == "pathlib" and only_imports_of(scope, local, target):
                self.path_ref = (local, "Path")
                return
        # A name bound anywhere else at module level (a class, an import under ``if
        # TYPE_CHECKING:`` or in a ``try``) is not reused, and not imported a second time.
        if not scope.assignments["Path"]:
            self.path_ref, self.path_import = ("Path",), ("pathlib", "Path")
        elif not scope.assignments["pathlib"]:
            self.path_ref, self.path_import = ("pathlib", "Path"), ("pathlib", None)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self.converted and self.path_import is not None and not self.lazy_imports:
            AddImportsVisitor.add_needed_import(self.context, *self.path_import)
        return updated_node

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        body = updated_node.body
        local = self.converted and self.path_import is not None and self.lazy_imports
        if original_node.body is not self.target_body or not local:
            return updated_node
        assert self.path_import is not None
        module, name = self.path_import
        stmt = cst.parse_statement(
            f"from {module} import {name}\n" if name else f"import {module}\n"
        )
        if not isinstance(body, cst.IndentedBlock):  # ``def f(): return ...`` on one line
            return updated_node
        lines = list(body.body)
        at = 1 if lines and is_docstring(lines[0]) else 0
        return updated_node.with_changes(
            body=body.with_changes(body=[*lines[:at], stmt, *lines[at:]])
        )

    # ------------------------------------------------------------------ the target's body

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.target_body is None and node.name.value == self.name:
            pos = self.get_metadata(PositionProvider, node, None)
            if pos is not None and (pos.start.line, pos.start.column) == self.start:
                self.target_body = node.body

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.inside += node is self.target_body

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.inside -= original_node is self.target_body
        return updated_node

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.inside += node is self.target_body

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        self.inside -= original_node is self.target_body
        return updated_node

    # ------------------------------------------------------------------ planning

    def _line(self, node: cst.CSTNode) -> int:
        pos = self.get_metadata(PositionProvider, node, None)
        return pos.start.line if pos is not None else 0

    def _os_path_name(self, func: cst.BaseExpression) -> str:
        """``join`` when ``func`` is ``os.path.join`` however it was imported, else ''."""
        names = self.get_metadata(QualifiedNameProvider, func, set())
        found = {
            q.name.removeprefix("os.path.")
            for q in names
            if q.source is QualifiedNameSource.IMPORT and q.name.startswith("os.path.")
        }
        if len(found) != 1 or len(names) != 1:
            return ""
        (fn,) = found
        return fn if fn.isidentifier() else ""

    def _bound_to_global(self, scope: Scope | None, name: str) -> bool:
        return scope is not None and all(a.scope is self.global_scope for a in scope[name])

    def _plan(self, call: cst.Call) -> _Plan:
        if call not in self._plans:
            self._plans[call] = self._make_plan(call)
        return self._plans[call]

    def _make_plan(self, call: cst.Call) -> _Plan:
        fn = self._os_path_name(call.func)
        if not fn:
            return _Plan()
        if fn not in CONVERTIBLE:
            return _Plan(fn, why="no exact pathlib equivalent")
        args = call.args
        if any(a.keyword is not None or a.star == "**" for a in args):
            return _Plan(fn, why="keyword arguments have no pathlib form")
        if not args or args[0].star:
            return _Plan(fn, why="needs a first positional argument")
        if fn != "join" and (len(args) != 1):
            return _Plan(fn, why=f"takes one argument, got {len(args)}")
        for i, arg in enumerate(args):
            # the last literal, or one followed only by *args that may be empty
            last = all(a.star for a in args[i + 1 :])
            why = "" if arg.star else normalize_hazard(arg.value, last=last)
            if why:
                return _Plan(fn, why=why)
        if self.path_ref is None:
            return _Plan(fn, why="both `Path` and `pathlib` name other things in this module")
        scope = self.get_metadata(ScopeProvider, call, None)
        if not self._bound_to_global(scope, self.path_ref[0]):
            return _Plan(fn, why=f"`{self.path_ref[0]}` is rebound in this function")
        if fn in _PATH_VALUED and (
            scope is None or not all(isinstance(a, BuiltinAssignment) for a in scope["str"])
        ):
            return _Plan(fn, why="`str` is rebound here, so the result cannot be kept a str")
        return _Plan(fn, ok=True)

    def _feeds_conversion(self, call: cst.Call) -> bool:
        """``call`` is a plain positional argument of another call that converts."""
        arg = self.get_metadata(ParentNodeProvider, call, None)
        if not isinstance(arg, cst.Arg) or arg.keyword is not None or arg.star:
            return False
        outer = self.get_metadata(ParentNodeProvider, arg, None)
        return isinstance(outer, cst.Call) and outer.func is not call and self._plan(outer).ok

    def _is_raw_path(self, expr: cst.BaseExpression) -> bool:
        """``expr`` (original node) converts to a bare ``Path`` (not wrapped in ``str``)."""
        if not isinstance(expr, cst.Call):
            return False
        plan = self._plan(expr)
        return plan.ok and plan.fn in _PATH_VALUED

    # ------------------------------------------------------------------ rewriting

    def _path(self) -> cst.BaseExpression:
        assert self.path_ref is not None
        head, *rest = self.path_ref
        node: cst.BaseExpression = cst.Name(head)
        for attr in rest:
            node = cst.Attribute(node, cst.Name(attr))
        return node

    def _schedule_import_removal(self, func: cst.BaseExpression) -> None:
        """Drop the import the callee came through, if the change leaves it unused."""
        head = head_name(func)
        scope = self.get_metadata(ScopeProvider, head, None) if head is not None else None
        if head is None or scope is None:
            return
        for assignment in scope[head.value]:
            node = assignment.node if isinstance(assignment, ImportAssignment) else None
            if isinstance(node, cst.Import):
                for alias in node.names:
                    if local_name(alias, False) == head.value:
                        asname = alias.asname.name if alias.asname else None
                        RemoveImportsVisitor.remove_unused_import(
                            self.context,
                            code_of(alias.name),
                            asname=asname.value if isinstance(asname, cst.Name) else None,
                        )
            elif (
                isinstance(node, cst.ImportFrom)
                and node.module is not None
                and not node.relative
                and not isinstance(node.names, cst.ImportStar)
            ):
                for alias in node.names:
                    if local_name(alias, True) == head.value:
                        asname = alias.asname.name if alias.asname else None
                        RemoveImportsVisitor.remove_unused_import(
                            self.context,
                            code_of(node.module),
                            code_of(alias.name),
                            asname.value if isinstance(asname, cst.Name) else None,
                        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.inside:
            return updated_node
        plan = self._plan(original_node)
        if not plan.fn:
            return updated_node
        if not plan.ok:
            note = f"kept os.path.{plan.fn}: {plan.why} (line {self._line(original_node)})"
            if note not in self.skipped:
                self.skipped.append(note)
            return updated_node
        bare = updated_node.with_changes(func=self._path(), lpar=(), rpar=())
        first_raw = self._is_raw_path(original_node.args[0].value)
        value: cst.BaseExpression
        if plan.fn == "join":
            lone = len(updated_node.args) == 1
            value = updated_node.args[0].value if lone and first_raw else bare
        else:
            recv = updated_node.args[0].value if first_raw else bare
            if plan.fn in _PATH_VALUED or plan.fn in _PREDICATES:
                method = _PATH_VALUED.get(plan.fn) or _PREDICATES[plan.fn]
                value = cst.Call(cst.Attribute(recv, cst.Name(method)))
            elif plan.fn in _STAT:
                stat = cst.Call(cst.Attribute(recv, cst.Name("stat")))
                value = cst.Attribute(stat, cst.Name(_STAT[plan.fn]))
            else:
                value = cst.Attribute(recv, cst.Name(_ATTRS[plan.fn]))
        if plan.fn in _PATH_VALUED and not self._feeds_conversion(original_node):
            value = cst.Call(cst.Name("str"), [cst.Arg(value)])
        self.converted += 1
        self._schedule_import_removal(original_node.func)
        return value.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def _note_reference(self, node: cst.Name | cst.Attribute) -> None:
        """An ``os.path`` function used other than by calling it stays as it is."""
        if not self.inside:
            return
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.Call) and parent.func is node:
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return
        fn = self._os_path_name(node)
        if fn and not isinstance(parent, cst.ImportAlias):
            note = f"kept os.path.{fn}: not called here (line {self._line(node)})"
            if note not in self.skipped:
                self.skipped.append(note)

    def visit_Name(self, node: cst.Name) -> None:
        self._note_reference(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._note_reference(node)


def to_pathlib(files: RepoFiles, target: str) -> Result:
    """Convert the ``os.path`` calls of one function or method to ``pathlib``."""
    loc = locate(files, target)
    if isinstance(loc, Failed):
        return loc
    if not isinstance(loc.node, cst.FunctionDef):
        what = "a module" if loc.node is None else "a class"
        return Failed(
            f"modernize idiom=pathlib rewrites one function or method; {loc.qualname} is "
            f"{what}. Name the function (package.module.function or package.module.Class.method)."
        )
    positions = MetadataWrapper(loc.module, unsafe_skip_copy=True).resolve(PositionProvider)
    start = positions[loc.node].start
    context = CodemodContext(filename=loc.path, full_module_name=loc.module_name)
    command = PathlibCommand(context, loc.node.name.value, (start.line, start.column))
    result = transform_module(command, files.sources[loc.path])
    if isinstance(result, TransformFailure):
        return Failed(f"modernize pathlib on {loc.qualname} crashed: {result.error}")
    if not isinstance(result, TransformSuccess) or command.converted == 0:
        why = "; ".join(command.skipped) or "it calls no os.path function"
        return Skipped(f"no pathlib conversion in {loc.qualname}: {why}")
    notes = [
        f"pathlib: converted {command.converted} os.path call(s) in {loc.qualname}",
        *command.skipped,
        NORMALIZE_NOTE,
        loc.note,
    ]
    return finish(files, loc.path, result.code, notes)
