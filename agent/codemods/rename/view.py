"""Run a symbol codemod over files: ``FocusedCommand`` and ``run_over_files``.

A ``FocusedCommand`` resolves its metadata (``ScopeProvider``) on the focused view of
a module (``rename.focus``), finds its edits there — keyed by nodes the real tree
also holds — and then transforms the real tree, walking only the statements the view
kept. ``run_over_files`` runs one command through LibCST's ``transform_module`` on each
file and gathers the changed texts.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.codemod import (
    CodemodContext,
    SkipFile,
    TransformFailure,
    TransformSuccess,
    VisitorBasedCodemodCommand,
    transform_module,
)
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

from agent.codemods.base import RepoFiles
from agent.codemods.rename.focus import FocusView, focus

log = logging.getLogger(__name__)

Edit = Callable[[Any], Any]  # updated node -> replacement (a node, a sentinel)


class FocusedCommand(VisitorBasedCodemodCommand):
    """A codemod that finds its edits on a focused view, then applies them.

    Subclasses implement ``find_edits(wrapper)`` (metadata resolved on the view; fill
    ``self.edits``: original node → function of the updated node, and ``self.parents``:
    child → parent for the view, from ``rename.refs.Collector``). The transform then
    walks the real tree, skipping the statements the view left out. A file without
    edits is skipped (no code generation). One instance serves every file of a run,
    as in LibCST's own runner: ``run_over_files`` swaps the context and per-file state.
    """

    DESCRIPTION = "Edit the nodes that refer to one symbol."

    def __init__(self, context: CodemodContext, *, words: Collection[str]) -> None:
        super().__init__(context)
        self.words = words
        self.begin_file("", None)

    def begin_file(self, text: str, syntax: ast.Module | None) -> None:
        """Reset the per-file state."""
        self.text, self.syntax = text, syntax
        self.edits: dict[cst.CSTNode, Edit] = {}
        self.notes: list[str] = []
        self.problems: list[str] = []  # reasons the whole operation must not go ahead
        self._path: set[cst.CSTNode] = set()
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = {}

    @property
    def module_name(self) -> str:
        """Dotted name of the module being transformed."""
        return self.context.full_module_name or ""

    @property
    def is_package(self) -> bool:
        """Whether the file is a package ``__init__.py``."""
        return (self.context.filename or "").endswith("__init__.py")

    def find_edits(self, wrapper: MetadataWrapper) -> None:
        """Fill ``edits`` (and ``parents``) from the view in ``wrapper``."""
        raise NotImplementedError

    def transform_module(self, tree: cst.Module) -> cst.Module:
        """Find edits on the focused view (no deep copy of the tree), apply them, add imports."""
        view = focus(tree, self.text, self.syntax, self.words)
        wrapper = MetadataWrapper(view.module, unsafe_skip_copy=True)
        with self.resolve(wrapper):
            self.find_edits(wrapper)
        if not self.edits or self.problems:
            raise SkipFile("nothing to change here")
        self._path = self._paths_to_edits(view)
        tree = tree.visit(self)
        for key, transform in (
            (AddImportsVisitor.CONTEXT_KEY, AddImportsVisitor),
            (RemoveImportsVisitor.CONTEXT_KEY, RemoveImportsVisitor),
        ):
            if self.context.scratch.get(key):
                tree = transform(self.context).transform_module(tree)
        return tree

    def _paths_to_edits(self, view: FocusView) -> set[cst.CSTNode]:
        """The real-tree nodes on the way from the root to an edited node (the only
        ones the transform has to walk)."""
        parents = self.parents
        path: set[cst.CSTNode] = {view.module, view.origin.get(view.module, view.module)}
        for node in self.edits:
            current: cst.CSTNode | None = node
            while current is not None and current not in path:
                path.add(view.origin.get(current, current))
                current = parents.get(current)
        return path

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        """Apply the edits (kept for the ``Codemod`` interface; see ``transform_module``)."""
        return tree.visit(self)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node not in self._path:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        updated = super().on_leave(original_node, updated_node)
        edit = self.edits.get(original_node)
        return edit(updated) if edit is not None else updated


@dataclass
class RunOutcome:
    """What running one command over several files produced."""

    changes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)


def run_over_files(
    files: RepoFiles,
    paths: Sequence[str],
    command: FocusedCommand,
    syntax_of: Callable[[str], ast.Module | None],
) -> RunOutcome:
    """Run ``command`` through ``transform_module`` on each path; collect changes and notes.

    ``syntax_of(path)`` is the file's ``ast`` tree, ``None`` when it is not valid
    Python (the file is then left alone and listed in ``unparsable``).
    """
    out = RunOutcome()
    for path in paths:
        syntax = syntax_of(path)
        if syntax is None:
            out.unparsable.append(path)
            continue
        module = files.modules[path]
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        command.context = CodemodContext(
            filename=path, full_module_name=module, full_package_name=package
        )
        source = files.sources[path]
        command.begin_file(source, syntax)
        result = transform_module(command, source)
        if isinstance(result, TransformFailure):
            first = str(result.error).strip().splitlines()[:1]
            out.errors.append(
                f"{path}: LibCST failed: {type(result.error).__name__}: {''.join(first)}"
            )
            log.debug("codemod failed on %s:\n%s", path, result.traceback_str)
            continue
        out.notes.extend(command.notes)
        out.errors.extend(command.problems)
        if isinstance(result, TransformSuccess) and result.code != source:
            out.changes[path] = result.code
    return out
