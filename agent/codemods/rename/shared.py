"""Shared pieces of the symbol operations: the per-symbol plan, the base command
that finds a symbol's references in one file, and result helpers."""

from __future__ import annotations

import ast
import keyword
from collections.abc import Collection, Sequence
from typing import Any

from libcst.codemod import CodemodContext
from libcst.metadata import MetadataWrapper, ScopeProvider

from agent.codemods.base import Applied, Failed, Result, Skipped
from agent.codemods.index import RepoIndex
from agent.codemods.index.bindings import Family
from agent.codemods.rename.refs import Collector, FileScopes, Refs, find_member, find_symbol
from agent.codemods.rename.target import Target
from agent.codemods.rename.view import FocusedCommand, RunOutcome, run_over_files


def check_identifier(value: Any, what: str) -> str | None:
    """An error message when ``value`` cannot be a Python name."""
    if not isinstance(value, str) or not value.isidentifier() or keyword.iskeyword(value):
        return f"{what} must be a valid Python identifier, got {value!r}"
    return None


def rename_name(new: str) -> Any:
    """An edit that gives a ``Name`` the value ``new``."""
    return lambda node: node.with_changes(value=new)


class SymbolCommand(FocusedCommand):
    """Finds the references to one symbol (module-level or class member) in a file."""

    DESCRIPTION = "Find the references to one symbol, scope-aware."
    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self, context: CodemodContext, *, plan: SymbolPlan, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.plan = plan

    def find_refs(
        self, wrapper: MetadataWrapper, words: Collection[str]
    ) -> tuple[Refs, Collector, FileScopes]:
        """Collect the view's nodes for ``words`` and find the symbol's references."""
        col = Collector(words)
        wrapper.module.visit(col)
        self.parents = col.parents
        fs = FileScopes(
            self.metadata[ScopeProvider],
            self.module_name,
            self.is_package,
            self.plan.repo_modules,
        )
        plan = self.plan
        if plan.family is None:
            refs = find_symbol(col, fs, plan.name, plan.module, plan.pairs)
        else:
            refs = find_member(col, fs, plan.name, plan.family, plan.instance_ok)
        return refs, col, fs


class SymbolPlan:
    """What every file's command needs to know about the symbol (shared, read-only)."""

    def __init__(self, index: RepoIndex, target: Target) -> None:
        self.target = target
        self.name = target.name
        self.module = target.module
        self.repo_modules = frozenset(index.by_module)
        self.family: Family | None = None
        self.instance_ok = False
        self.why_not_instances: list[str] = []
        self.pairs: frozenset[tuple[str, str]] = frozenset()
        self.alias_modules: frozenset[str] = frozenset()
        if len(target.parts) == 1:
            self.pairs = frozenset(index.aliases(target.module, target.name))
            self.alias_modules = frozenset(m for m, n in self.pairs if n == target.name)
            self.words = frozenset({target.name})
        else:
            self.family = index.family(target.module, target.container)
            self.why_not_instances = index.other_definers(target.name, self.family)
            self.instance_ok = not self.why_not_instances
            self.words = frozenset({target.name, *self.family.names})


def outcome_result(outcome: RunOutcome, what: str, notes: list[str]) -> Result:
    """``Failed`` on any error (nothing applied), ``Skipped`` without changes, else ``Applied``."""
    if outcome.errors:
        return Failed(
            f"{what} stopped, nothing was changed: {'; '.join(outcome.errors[:5])}"
            + (f" (and {len(outcome.errors) - 5} more)" if len(outcome.errors) > 5 else "")
            + ". Pick another name, or fix those files first, and send the operation again."
        )
    if not outcome.changes:
        return Skipped(f"{what}: nothing to change" + (f" ({'; '.join(notes)})" if notes else ""))
    if outcome.unparsable:
        notes.append(f"left alone (not valid Python): {', '.join(outcome.unparsable)}")
    notes = [*notes, f"{len(outcome.changes)} file(s) changed", *sorted(set(outcome.notes))]
    return Applied(dict(sorted(outcome.changes.items())), tuple(n for n in notes if n))


def run_on(index: RepoIndex, paths: Sequence[str], command: FocusedCommand) -> RunOutcome:
    """Run ``command`` on ``paths`` with the ``ast`` trees the index already parsed."""

    def syntax_of(path: str) -> ast.Module | None:
        info = index.bindings(path)
        return info.tree if info is not None else None

    return run_over_files(index.files, paths, command, syntax_of)
