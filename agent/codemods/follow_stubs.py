"""Operations keep a ``.pyi`` stub beside the module in step with the code.

``follow_stubs(files, op, changes)`` mirrors ``rename``, ``rename_parameter``,
``make_keyword_only``, ``add_parameter`` and ``remove_parameter`` into the stub of the
target's module (``pkg/mod.pyi`` beside ``pkg/mod.py``, ``__init__.pyi`` beside
``__init__.py``); a rename also follows ``from mod import old`` and ``__all__`` in the
other stubs. Stubs are read from disk under ``files.root`` (the digest does not read
them); a stub that does not parse is left alone.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path

import libcst as cst

from agent.codemods.base import RepoFiles
from agent.codemods.index import RepoIndex
from agent.codemods.rename.target import Target, resolve_target
from agent.codemods.signature.params import ParamParts, rebuild_parameters
from agent.codemods.signature.shared import as_names
from planner.spec import Operation

STUB_OPS = frozenset(
    {"rename", "rename_parameter", "make_keyword_only", "add_parameter", "remove_parameter"}
)


def stub_of(path: str) -> str:
    return path[:-3] + ".pyi" if path.endswith(".py") else path


def _stubs(root: Path) -> list[str]:
    skip = {".git", ".venv", "venv", "node_modules", ".tox", ".agent_data", ".autopatches"}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.pyi")
        if not skip & set(p.relative_to(root).parts)
    )


def follow_stubs(files: RepoFiles, op: Operation, changes: Mapping[str, str]) -> dict[str, str]:
    """``changes`` plus the stubs the operation changes too."""
    out = dict(changes)
    if op.op not in STUB_OPS:
        return out
    stubs = _stubs(files.root)
    if not stubs:
        return out
    target = resolve_target(RepoIndex(files), op.target)
    if isinstance(target, str):
        return out
    if op.op != "rename" and target.kind == "class":
        target = Target(
            f"{target.qualname}.__init__",
            target.module,
            target.path,
            (*target.parts, "__init__"),
            "method",
        )
    own = stub_of(target.path)
    for rel in stubs:
        if rel != own and op.op != "rename":
            continue
        try:
            text = out.get(rel) or (files.root / rel).read_text(encoding="utf-8")
            module = cst.parse_module(text)
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            continue
        edit = _StubEdit(op, target, own=rel == own, module_name=target.module)
        new = module.visit(edit).code
        if edit.changed and rel == own and op.params.get("keep_alias") and not target.container:
            new = new.rstrip("\n") + f"\n\n{target.name} = {op.params['new_name']}\n"
        if edit.changed and new != text:
            out[rel] = new
    return out


class _StubEdit(cst.CSTTransformer):
    """One operation, applied to the declarations of one stub."""

    def __init__(self, op: Operation, target: Target, *, own: bool, module_name: str) -> None:
        super().__init__()
        self.op, self.target, self.own = op, target, own
        self.module_name = module_name
        self.classes: list[str] = []
        self.changed = False
        self.imported = False  # another stub imports the renamed name

    # -- where we are ----------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.classes.append(node.name.value)
        return True

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        if self._is_target(original.name.value) and self.op.op == "rename":
            return updated.with_changes(name=self._renamed(updated.name))
        return updated

    def _is_target(self, name: str) -> bool:
        return (
            self.own
            and name == self.target.name
            and ".".join(self.classes) == self.target.container
        )

    def _renamed(self, name: cst.Name) -> cst.Name:
        self.changed = True
        return name.with_changes(value=str(self.op.params["new_name"]))

    # -- rename ---------------------------------------------------------------------
    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        if self.op.op != "rename" or self.target.container or original.module is None:
            return updated
        module = cst.helpers.get_full_name_for_node(original.module) or ""
        relative = len(original.relative) > 0
        if module != self.module_name and not (
            relative and module.endswith(self.target.module.rsplit(".", 1)[-1])
        ):
            return updated
        if isinstance(updated.names, cst.ImportStar):
            return updated
        names = []
        for alias in updated.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == self.target.name:
                asname = alias.asname.name if alias.asname else None
                same = isinstance(asname, cst.Name) and asname.value == self.target.name
                self.imported = alias.asname is None or same
                alias = alias.with_changes(name=self._renamed(alias.name))
                if same and alias.asname is not None and isinstance(asname, cst.Name):
                    renamed = alias.asname.with_changes(name=self._renamed(asname))
                    alias = alias.with_changes(asname=renamed)
                if self.op.params.get("keep_alias") and self.imported:
                    old = cst.Name(self.target.name)
                    kept = cst.ImportAlias(old, cst.AsName(old) if same else None)
                    names.append(
                        alias.with_changes(
                            comma=cst.Comma(cst.SimpleWhitespace(""), cst.SimpleWhitespace(" "))
                        )
                    )
                    alias = kept
            names.append(alias)
        return updated.with_changes(names=names)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if self.op.op != "rename" or self.target.container or original.value != self.target.name:
            return updated
        if self.own or self.imported:
            return self._renamed(updated)
        return updated

    def leave_SimpleString(
        self, original: cst.SimpleString, updated: cst.SimpleString
    ) -> cst.SimpleString:
        if self.op.op != "rename" or self.target.container:
            return updated
        if (self.own or self.imported) and original.evaluated_value == self.target.name:
            self.changed = True
            new = str(self.op.params["new_name"])
            return updated.with_changes(
                value=f"{updated.prefix}{updated.quote}{new}{updated.quote}"
            )
        return updated

    # -- functions ------------------------------------------------------------------
    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        if not self._is_target(original.name.value):
            return updated
        if self.op.op == "rename":
            return updated.with_changes(name=self._renamed(updated.name))
        parts = ParamParts.of(updated.params)
        if not _edit_parts(parts, self.op):
            return updated
        self.changed = True
        return updated.with_changes(params=rebuild_parameters(updated.params, parts))


def _edit_parts(parts: ParamParts, op: Operation) -> bool:
    """Apply a signature operation to a stub's parameters; False when nothing applies."""
    p = op.params
    if op.op == "rename_parameter":
        for param in parts.all_params():
            if param.name.value == p.get("old"):
                _replace(parts, param, param.with_changes(name=cst.Name(str(p["new"]))))
                return True
        return False
    if op.op == "remove_parameter":
        pattern = str(p.get("name", ""))
        gone = [x for x in parts.all_params() if fnmatch.fnmatchcase(x.name.value, pattern)]
        for x in gone:
            _drop(parts, x)
        return bool(gone)
    if op.op == "make_keyword_only":
        return _keyword_only(parts, p.get("after"), as_names(p.get("names")))
    if op.op == "add_parameter":
        return _add(parts, p)
    return False


def _keyword_only(parts: ParamParts, after: object, names: Sequence[str]) -> bool:
    positional = [*parts.posonly, *parts.normal]
    order = [x.name.value for x in positional]
    if isinstance(after, str) and after in order:
        moving = [x for x in positional[order.index(after) + 1 :]]
    else:
        moving = [x for x in positional if x.name.value in names]
    if not moving:
        return False
    parts.posonly = [x for x in parts.posonly if x not in moving]
    parts.normal = [x for x in parts.normal if x not in moving]
    if parts.star is None:
        parts.star = cst.ParamStar()
    parts.kwonly = [*moving, *parts.kwonly]
    return True


def _add(parts: ParamParts, p: Mapping[str, object]) -> bool:
    name = str(p.get("name", ""))
    if not name.isidentifier() or any(x.name.value == name for x in parts.all_params()):
        return False
    annotation = p.get("annotation")
    param = cst.Param(
        name=cst.Name(name),
        annotation=cst.Annotation(cst.parse_expression(str(annotation))) if annotation else None,
        default=cst.Ellipsis(),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(" " if annotation else ""),
            whitespace_after=cst.SimpleWhitespace(" " if annotation else ""),
        ),
    )
    if p.get("keyword_only") or parts.kwonly and not parts.normal:
        if parts.star is None:
            parts.star = cst.ParamStar()
        parts.kwonly = [*parts.kwonly, param]
        return True
    after = p.get("after")
    order = [x.name.value for x in parts.normal]
    at = order.index(str(after)) + 1 if after in order else len(parts.normal)
    parts.normal = [*parts.normal[:at], param, *parts.normal[at:]]
    return True


def _replace(parts: ParamParts, old: cst.Param, new: cst.Param) -> None:
    for group in ("posonly", "normal", "kwonly"):
        items = getattr(parts, group)
        if old in items:
            setattr(parts, group, [new if x is old else x for x in items])
    if parts.star is old:
        parts.star = new
    if parts.varkw is old:
        parts.varkw = new


def _drop(parts: ParamParts, old: cst.Param) -> None:
    for group in ("posonly", "normal", "kwonly"):
        setattr(parts, group, [x for x in getattr(parts, group) if x is not old])
    if parts.star is old:
        parts.star = None
    if parts.varkw is old:
        parts.varkw = None
