"""``modernize``: deterministic idiom upgrades, and LLM-written ones through ``edit``.

- ``fstring``: ``'...' % args`` and ``'...'.format(...)`` on literals (also on
  ``textwrap.dedent(<literal>)``) become f-strings with byte-identical output; every
  conversion is proven on probe values (``fstring*``); what is left alone is
  listed in ``Applied.notes`` with the reason (a bare name may hold a tuple, ``%d`` of
  a value that may be a float, ...).
- ``builtin_generics``: ``typing.List[int]`` / ``List[int]`` -> ``list[int]`` (also Dict,
  Set, FrozenSet, Tuple, Type), dropping typing imports that become unused.
- ``pathlib``: the ``os.path`` calls of one function become ``pathlib`` calls with the same
  results (``paths``); given a ``source`` slot (an LLM's rewrite) it runs as
  ``edit`` instead.
- ``typing_namedtuple``: from the ``field_types`` slot, or the LLM's ``source`` as ``edit``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.codemod import (
    CodemodContext,
    TransformFailure,
    TransformSuccess,
    VisitorBasedCodemodCommand,
    transform_module,
)
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.metadata import (
    BuiltinAssignment,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from agent.codemods.apply import apply_operation
from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.modernize.fstring import FStringCommand
from agent.codemods.modernize.namedtuple import to_typing_namedtuple
from agent.codemods.modernize.paths import to_pathlib
from agent.codemods.nodes import Located, finish, locate
from planner.spec import Operation

log = logging.getLogger(__name__)

__all__ = ["BuiltinGenericsCommand", "FStringCommand", "modernize"]

_GENERICS = {
    "List": "list", "Dict": "dict", "Set": "set", "FrozenSet": "frozenset",
    "Tuple": "tuple", "Type": "type",
}  # fmt: skip


class BuiltinGenericsCommand(VisitorBasedCodemodCommand):
    """``typing.List[int]`` -> ``list[int]`` and friends; drops typing imports left unused."""

    DESCRIPTION = "Replace typing.List/Dict/Set/FrozenSet/Tuple/Type with the builtin generics."
    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(
        self, context: CodemodContext, lines: tuple[int, int] | None, annotations_only: bool
    ) -> None:
        super().__init__(context)
        self.lines, self.annotations_only = lines, annotations_only
        self.in_annotation = 0
        self.converted = 0
        self.skipped: list[str] = []

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.in_annotation += 1

    def leave_Annotation(
        self, original_node: cst.Annotation, updated_node: cst.Annotation
    ) -> cst.Annotation:
        self.in_annotation -= 1
        return updated_node

    def _replace(self, node: cst.Name | cst.Attribute) -> str | None:
        if self.annotations_only and not self.in_annotation:
            return None
        pos = self.get_metadata(PositionProvider, node, None)
        if self.lines and pos and not self.lines[0] <= pos.start.line <= self.lines[1]:
            return None
        for q in self.get_metadata(QualifiedNameProvider, node, set()):
            short = q.name.removeprefix("typing.")
            if q.name.startswith("typing.") and short in _GENERICS:
                builtin = _GENERICS[short]
                scope = self.get_metadata(ScopeProvider, node, None)
                shadow = scope is not None and any(
                    not isinstance(a, BuiltinAssignment) for a in scope[builtin]
                )
                if shadow:
                    line = pos.start.line if pos else 0
                    self.skipped.append(f"line {line}: `{builtin}` is rebound here, kept {short}")
                    return None
                RemoveImportsVisitor.remove_unused_import(self.context, "typing", short)
                RemoveImportsVisitor.remove_unused_import(self.context, "typing")
                self.converted += 1
                return builtin
        return None

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        new = self._replace(original_node)
        return cst.Name(new) if new else updated_node

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        new = self._replace(original_node)
        return (
            cst.Name(new, lpar=updated_node.lpar, rpar=updated_node.rpar) if new else updated_node
        )


def _min_python(root: Any) -> tuple[int, int] | None:
    """The lowest Python the repository declares (``requires-python``), if it says."""
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, TypeError):
        return None
    m = re.search(r"requires-python\s*=\s*[\"'][^\"']*?>=?\s*(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _lines(loc: Located) -> tuple[int, int] | None:
    if loc.node is None:
        return None
    positions = MetadataWrapper(loc.module, unsafe_skip_copy=True).resolve(PositionProvider)
    first = loc.node.decorators[0] if loc.node.decorators else loc.node
    return (positions[first].start.line, positions[loc.node].end.line)


def _run(
    files: RepoFiles, loc: Located, command: FStringCommand | BuiltinGenericsCommand, label: str
) -> Result:
    result = transform_module(command, files.sources[loc.path])
    if isinstance(result, TransformFailure):
        return Failed(f"modernize {label} on {loc.qualname} crashed: {result.error}")
    if not isinstance(result, TransformSuccess) or command.converted == 0:
        why = "; ".join(command.skipped) or "nothing to convert"
        return Skipped(f"no {label} conversion in {loc.qualname}: {why}")
    notes = [
        f"{label}: converted {command.converted} in {loc.qualname}",
        *command.skipped,
        loc.note,
    ]
    return finish(files, loc.path, result.code, notes)


@REGISTRY.register("modernize", slots=("source", "field_types"))
def modernize(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Apply one idiom upgrade to a module, class or function."""
    idiom = op.params.get("idiom")
    if idiom == "typing_namedtuple" and "field_types" in slots:
        return to_typing_namedtuple(files, op.target, slots["field_types"])
    if idiom == "pathlib" and not slots.get("source"):
        return to_pathlib(files, op.target)
    if idiom in ("pathlib", "typing_namedtuple"):
        if not slots.get("source"):
            return Failed(
                f"modernize idiom={idiom} needs the `source` slot: the complete new source of "
                f"{op.target} (one function or class) rewritten to use {idiom}"
            )
        return apply_operation(files, Operation("edit", op.target, {}), slots)
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    context = CodemodContext(filename=loc.path, full_module_name=loc.module_name)
    if idiom == "fstring":
        return _run(files, loc, FStringCommand(context, _lines(loc)), "fstring")
    if idiom == "builtin_generics":
        future = "from __future__ import annotations" in files.sources[loc.path]
        low = _min_python(files.root)
        if low is not None and low < (3, 9) and not future:
            return Failed(
                f"builtin generics need Python 3.9 or `from __future__ import annotations`; "
                f"the repository supports {low[0]}.{low[1]} and {loc.path} has no such import"
            )
        old = low is not None and low < (3, 9)
        return _run(
            files, loc, BuiltinGenericsCommand(context, _lines(loc), old), "builtin_generics"
        )
    return Failed(
        f"modernize: unknown idiom {idiom!r}; use fstring, builtin_generics, pathlib or "
        "typing_namedtuple"
    )
