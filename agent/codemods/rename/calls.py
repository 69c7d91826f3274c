"""Built-in operations ``change_import`` and ``replace_calls``.

``change_import`` rewrites every ``from old.module import sym`` (relative forms
included) into ``from new.module import sym``, splitting a multi-name import;
``import old.module`` + ``old.module.sym`` uses are left alone. ``replace_calls``
turns every call of a module-level callable — reached through any import form,
aliases included — into a call of ``new``, renames keyword arguments per
``arg_map`` (a ``None`` value drops the argument), adds the import ``new`` needs and
drops the old import where nothing uses it any more.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import GlobalScope, MetadataWrapper

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.index import RepoIndex
from agent.codemods.rename.refs import Collector, FileScopes, import_module_of
from agent.codemods.rename.shared import (
    SymbolCommand,
    SymbolPlan,
    check_identifier,
    outcome_result,
    run_on,
)
from agent.codemods.rename.target import Target, resolve_target, split_module
from agent.codemods.rename.view import FocusedCommand
from planner.spec import Operation

log = logging.getLogger(__name__)


def dotted_expr(dotted: str) -> cst.Attribute | cst.Name:
    """``a.b.c`` as a LibCST expression."""
    expr: cst.Attribute | cst.Name = cst.Name(dotted.split(".")[0])
    for part in dotted.split(".")[1:]:
        expr = cst.Attribute(value=expr, attr=cst.Name(part))
    return expr


def check_dotted(value: Any, what: str) -> str | None:
    """An error message when ``value`` is not a dotted Python name."""
    if not isinstance(value, str) or not value:
        return f"{what} must be a dotted name such as pkg.module, got {value!r}"
    bad = [p for p in value.split(".") if check_identifier(p, what)]
    return f"{what} must be a dotted name such as pkg.module, got {value!r}" if bad else None


def _split_symbol(index: RepoIndex, qualname: str, op: str) -> tuple[str, str] | str:
    """(module, name) of a module-level symbol, in the repository or outside it."""
    split = split_module(index, qualname)
    if split is not None and not split[1]:
        return f"{op}: {qualname} is a module; name the symbol, e.g. {qualname}.function"
    if split is not None and len(split[1]) > 1:
        return (
            f"{op}: {qualname} is not a module-level name of {split[0]}; {op} handles "
            "functions, classes and constants defined at module level"
        )
    module, _, name = qualname.rpartition(".")
    if not module:
        return f"{op}: target must be module.symbol, got {qualname!r}"
    return module, name


class ChangeImportCommand(FocusedCommand):
    """Point ``from <module> import <name>`` at another module in one file."""

    DESCRIPTION = "Import a symbol from a different module."

    def __init__(
        self, context: CodemodContext, *, module: str, name: str, new_module: str, **kw: Any
    ) -> None:
        super().__init__(context, **kw)
        self.old_module, self.name, self.new_module = module, name, new_module

    def find_edits(self, wrapper: MetadataWrapper) -> None:
        """Repoint single-name imports; split the others (never in ``new_module`` itself)."""
        if self.module_name == self.new_module:
            return
        col = Collector(self.words)
        wrapper.module.visit(col)
        self.parents = col.parents
        for stmt in col.import_froms:
            if self._matches(stmt) and len(stmt.names) == 1:  # type: ignore[arg-type]
                self.edits[stmt] = self._repoint
            elif self._matches(stmt):
                self.edits[col.parents[stmt]] = self._split

    def _matches(self, stmt: cst.BaseSmallStatement) -> bool:
        return (
            isinstance(stmt, cst.ImportFrom)
            and not isinstance(stmt.names, cst.ImportStar)
            and import_module_of(stmt, self.module_name, self.is_package) == self.old_module
            and any(self._is_name(a) for a in stmt.names)
        )

    def _is_name(self, alias: cst.ImportAlias) -> bool:
        return isinstance(alias.name, cst.Name) and alias.name.value == self.name

    def _repoint(self, node: cst.ImportFrom) -> cst.ImportFrom:
        return node.with_changes(module=dotted_expr(self.new_module), relative=())

    def _split(self, line: cst.SimpleStatementLine) -> cst.FlattenSentinel[cst.BaseStatement]:
        body: list[cst.BaseSmallStatement] = []
        added: list[cst.BaseStatement] = []
        for stmt in line.body:
            if not self._matches(stmt):
                body.append(stmt)
                continue
            assert isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar)
            names = list(stmt.names)
            moved = [a for a in names if self._is_name(a)]
            kept = [a for a in names if not self._is_name(a)]
            if self._is_name(names[-1]):  # the last alias goes: its comma (or none) moves up
                kept[-1] = kept[-1].with_changes(comma=names[-1].comma)
            body.append(stmt.with_changes(names=kept))
            for alias in moved:
                new_alias = alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)
                added.append(
                    cst.SimpleStatementLine(
                        [cst.ImportFrom(module=dotted_expr(self.new_module), names=[new_alias])]
                    )
                )
        return cst.FlattenSentinel([line.with_changes(body=body), *added])


@REGISTRY.register("change_import")
def change_import(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Import a symbol from another module everywhere it is imported with ``from``."""
    new_module = op.params.get("new_module")
    problem = check_dotted(new_module, "change_import: param new_module")
    if problem:
        return Failed(problem)
    index = RepoIndex(files)
    split = _split_symbol(index, op.target, "change_import")
    if isinstance(split, str):
        return Failed(split)
    module, name = split
    if module == new_module:
        return Skipped(f"{op.target} is already imported from {new_module}")
    new_info = index.module_bindings(str(new_module))
    if new_info is not None and name not in new_info.bound() and not new_info.stars:
        return Failed(
            f"change_import {op.target}: {new_module} ({new_info.path}) does not define or "
            f"import {name}; move the symbol there first (move_symbol), or pick the module "
            "that defines it."
        )
    paths = index.files_with(name)

    command = ChangeImportCommand(
        CodemodContext(), module=module, name=name, new_module=str(new_module), words={name}
    )
    outcome = run_on(index, paths, command)
    if not outcome.changes and not outcome.errors:
        found = resolve_target(index, op.target) if module in index.by_module else None
        if isinstance(found, str):
            return Failed(found)
        return Skipped(f"no file imports {name} from {module} with `from {module} import {name}`")
    return outcome_result(outcome, f"change_import {op.target} → {new_module}", [])


class ReplaceCallsCommand(SymbolCommand):
    """Turn the calls of one callable into calls of another in one file."""

    DESCRIPTION = "Replace calls of one callable with calls of another, mapping keywords."

    def __init__(
        self, context: CodemodContext, *, new: str, arg_map: Mapping[str, str | None], **kw: Any
    ) -> None:
        super().__init__(context, **kw)
        self.new, self.arg_map = new, arg_map
        self.func: cst.BaseExpression = dotted_expr(new)

    def find_edits(self, wrapper: MetadataWrapper) -> None:
        """Replace the calls, note other uses, drop the old import when nothing uses it."""
        words = {n for _, n in self.plan.pairs}
        refs, col, fs = self.find_refs(wrapper, words)
        calls = [c for c in col.calls if c.func in refs.uses]
        if not calls:
            return
        imported = self._symbol_imports(col)
        self.func = self._new_func(fs, col)
        for call in calls:
            self.edits[call] = self._replace
        left = refs.uses - {c.func for c in calls}
        if left:
            self.notes.append(
                f"{self.context.filename}: {len(left)} non-call use(s) of {self.plan.name} kept"
            )
        elif not self.is_package:
            for src, alias in imported:
                asname = alias.asname.name if alias.asname else None
                RemoveImportsVisitor.remove_unused_import(
                    self.context,
                    src,
                    cst.ensure_type(alias.name, cst.Name).value,
                    cst.ensure_type(asname, cst.Name).value if asname else None,
                )

    def _symbol_imports(self, col: Collector) -> list[tuple[str, cst.ImportAlias]]:
        """The ``from`` imports of this file that bring in the replaced symbol."""
        found = []
        for node in col.import_froms:
            src = import_module_of(node, self.module_name, self.is_package)
            for alias in node.names if not isinstance(node.names, cst.ImportStar) else ():
                if isinstance(alias.name, cst.Name) and (src, alias.name.value) in self.plan.pairs:
                    found.append((src, alias))
        return found

    def _new_func(self, fs: FileScopes, col: Collector) -> cst.BaseExpression:
        """The expression that calls ``new`` here, scheduling the import it needs."""
        module, _, obj = self.new.rpartition(".")
        if not module or module == self.module_name:
            return cst.Name(obj)
        glob = next((s for s in fs.all_scopes if isinstance(s, GlobalScope)), None)
        bound = {getattr(a, "node", None) for a in glob.assignments[obj]} if glob else set()
        own = {
            node
            for node in col.import_froms
            if import_module_of(node, self.module_name, self.is_package) == module
        }
        if bound - own:  # ``obj`` already means something else here: use the dotted name
            AddImportsVisitor.add_needed_import(self.context, module)
            return dotted_expr(self.new)
        AddImportsVisitor.add_needed_import(self.context, module, obj)
        return cst.Name(obj)

    def _replace(self, call: cst.Call) -> cst.Call:
        args: list[cst.Arg] = []
        for arg in call.args:
            key = arg.keyword.value if arg.keyword is not None else None
            if key is not None and key in self.arg_map:
                target = self.arg_map[key]
                if not target:
                    continue
                arg = arg.with_changes(keyword=cst.Name(target))
            args.append(arg)
        if args and call.args and args[-1] is not call.args[-1]:
            args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
        return call.with_changes(func=self.func, args=args)


def _check_arg_map(value: Any) -> Mapping[str, str | None] | str:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        return f"replace_calls: arg_map must map old keyword names to new ones, got {value!r}"
    for key, new in value.items():
        if check_identifier(key, "arg_map key") or (new and check_identifier(new, "arg_map value")):
            return f"replace_calls: arg_map entry {key!r}: {new!r} is not identifier → identifier"
    return dict(value)


@REGISTRY.register("replace_calls")
def replace_calls(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Replace every call of the target callable with a call of ``new``."""
    new = op.params.get("new")
    problem = check_dotted(new, "replace_calls: param new")
    if problem:
        return Failed(problem)
    arg_map = _check_arg_map(op.params.get("arg_map"))
    if isinstance(arg_map, str):
        return Failed(arg_map)
    index = RepoIndex(files)
    split = _split_symbol(index, op.target, "replace_calls")
    if isinstance(split, str):
        return Failed(split)
    module, name = split
    if module in index.by_module:
        found = resolve_target(index, op.target)
        if isinstance(found, str):
            return Failed(found)
        target = found
    else:
        target = Target(op.target, module, "", (name,), "function")
    if op.target == new and not arg_map:
        return Skipped(f"{op.target} would be replaced by itself")
    plan = SymbolPlan(index, target)
    words = sorted({n for _, n in plan.pairs})
    paths = sorted({p for w in words for p in index.files_with(w)})

    # the view keeps statements naming the replacement too: a clash decides its import form
    focus_words = {*words, str(new).rpartition(".")[2]}
    command = ReplaceCallsCommand(
        CodemodContext(), new=str(new), arg_map=arg_map, plan=plan, words=focus_words
    )
    outcome = run_on(index, paths, command)
    if not outcome.changes and not outcome.errors and module not in index.by_module:
        return Failed(
            f"{op.target} was not found: no module {module} in the repository and no file "
            f"calls {name} imported from it. Send the callable's full dotted name."
        )
    return outcome_result(outcome, f"replace_calls {target.qualname} → {new}", [])
