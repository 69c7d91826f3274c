"""extract_helper: swap in an LLM-written helper and the rewritten functions that call it.

The ``source`` slot holds one Python snippet: the new helper def (or defs) and one def per
listed function, with unchanged signatures (parameter names, kinds, order and defaults).
The helper goes right before the first listed function; each listed function keeps its
decorators, signature and — when the new def has none — its docstring; only its body is
replaced. Imports at the top of the snippet are added to the module when missing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.codemod import Codemod, CodemodContext
from libcst.helpers import get_full_name_for_node

from agent.codemods.base import Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.nodes import close_hint, is_docstring
from agent.codemods.structure.helper_snippet import (
    Snippet,
    defs_of,
    is_method_like,
    show_signature,
    signature_parts,
)
from agent.codemods.structure.imports import (
    BLANK,
    insert_imports,
    is_import_line,
)
from agent.codemods.structure.shared import (
    CodemodError,
    ModuleRef,
    split_target,
    transform_or_raise,
)
from planner.spec import Operation

logger = logging.getLogger(__name__)


def default_helper_name(functions: Sequence[str]) -> str:
    """``_<common stem>`` of the functions' names (``load_user``, ``load_group`` → ``_load``)."""
    names = [f.rpartition(".")[2].strip("_") for f in functions if f]
    if not names:
        return "_helper"
    tokens = [t for t in names[0].split("_") if t]
    common = [t for t in tokens if all(t in n.split("_") for n in names[1:])]
    if common and len(names) > 1:
        return "_" + "_".join(common)
    prefix = names[0]
    for other in names[1:]:
        while prefix and not other.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.rstrip("_")
    if len(prefix) >= 3 and len(names) > 1:
        return f"_{prefix}"
    return f"_{names[0]}_common"


class ExtractHelperCommand(Codemod):
    """One module: insert the helper defs, swap the bodies of the listed functions."""

    DESCRIPTION = "Extract duplicated logic into a helper that the original functions call."

    def __init__(
        self,
        context: CodemodContext,
        *,
        snippet: Snippet,
        functions: Sequence[str],
        helper: str | None,
        owner: str | None,
        first_party: frozenset[str],
    ) -> None:
        super().__init__(context)
        self.snippet = snippet
        self.functions = list(functions)
        self.helper = helper
        self.owner = owner
        self.first_party = first_party
        self.notes: list[str] = []

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = list(tree.body)
        owner_index = None
        container: Sequence[cst.BaseStatement] = body
        if self.owner is not None:
            classes = {s.name.value: i for i, s in enumerate(body) if isinstance(s, cst.ClassDef)}
            if self.owner not in classes:
                raise CodemodError(
                    f"no top-level class `{self.owner}`" + close_hint(self.owner, classes)
                )
            owner_index = classes[self.owner]
            owner = body[owner_index]
            assert isinstance(owner, cst.ClassDef)
            container = list(owner.body.body)  # type: ignore[arg-type]
        helpers = self._check(container, body)
        new_container, outer = self._rewrite(container, helpers)
        if owner_index is None:
            body = new_container
        else:
            owner = body[owner_index]
            assert isinstance(owner, cst.ClassDef)
            body[owner_index] = owner.with_changes(body=owner.body.with_changes(body=new_container))
            if outer:
                outer[0] = outer[0].with_changes(leading_lines=(BLANK, BLANK))
                body[owner_index:owner_index] = outer
        return self._add_imports(tree.with_changes(body=body))

    def _check(
        self, container: Sequence[cst.BaseStatement], body: Sequence[cst.BaseStatement]
    ) -> list[cst.FunctionDef]:
        originals = defs_of(container)
        where = f"class {self.owner}" if self.owner else "the module"
        for name in self.functions:
            if name not in originals:
                raise CodemodError(
                    f"{where} has no function `{name}`" + close_hint(name, originals)
                )
            if name not in self.snippet.defs:
                raise CodemodError(
                    f"slot `source` lacks `def {name}`: it must hold the helper def and one def "
                    f"per listed function ({', '.join(self.functions)})"
                )
            old, new = originals[name], self.snippet.defs[name]
            if signature_parts(old) != signature_parts(new) or bool(old.asynchronous) != bool(
                new.asynchronous
            ):
                raise CodemodError(
                    f"the rewritten `{name}` changed its signature: it was ({show_signature(old)}), "
                    f"the snippet has ({show_signature(new)}). Keep parameter names, order, kinds "
                    "and defaults exactly; only the body may change."
                )
        extra = [d for n, d in self.snippet.defs.items() if n not in self.functions]
        wanted = self.helper or default_helper_name(self.functions)
        if not extra:
            raise CodemodError(
                f"slot `source` holds no helper def; add `def {wanted}(...)` next to the "
                f"rewritten {', '.join(self.functions)}"
            )
        if self.helper is not None and self.helper not in {d.name.value for d in extra}:
            raise CodemodError(
                f"slot `source` has no `def {self.helper}` (it defines "
                f"{', '.join(d.name.value for d in extra)}); name the helper {self.helper}"
            )
        bound = set(defs_of(container)) | set(defs_of(body)) | _assigned(body)
        for fn in extra:
            if fn.name.value in bound:
                raise CodemodError(
                    f"`{fn.name.value}` already exists in {where}; name the helper differently "
                    f"(e.g. {fn.name.value}_impl)"
                )
        names = [d.name.value for d in extra]
        callers = [f for f in self.functions if _calls(self.snippet.defs[f], names)]
        if not callers:
            raise CodemodError(
                f"none of the rewritten functions ({', '.join(self.functions)}) calls the helper "
                f"{', '.join(names)}; rewrite them to call it"
            )
        missing = [f for f in self.functions if f not in callers]
        if missing:
            self.notes.append(f"{', '.join(missing)} do(es) not call the helper")
        return extra

    def _rewrite(
        self, container: Sequence[cst.BaseStatement], helpers: list[cst.FunctionDef]
    ) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
        """(new container body, helpers that go to module level before the class)."""
        blank = (BLANK,) if self.owner else (BLANK, BLANK)
        inner = [h for h in helpers if self.owner is None or is_method_like(h)]
        outer: list[cst.BaseStatement] = [h for h in helpers if h not in inner]
        inner = [h.with_changes(leading_lines=blank if i else ()) for i, h in enumerate(inner)]
        out: list[cst.BaseStatement] = []
        first = True
        for stmt in container:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value in self.functions:
                if first and inner:
                    lead = tuple(stmt.leading_lines)
                    blanks = tuple(ln for ln in lead if ln.comment is None)[:2]
                    out.append(inner[0].with_changes(leading_lines=blanks))
                    out.extend(inner[1:])
                    stmt = stmt.with_changes(
                        leading_lines=blank + tuple(ln for ln in lead if ln.comment)
                    )
                first = False
                stmt = self._swap_body(stmt, self.snippet.defs[stmt.name.value])
            out.append(stmt)
        self.notes.append(
            f"added helper(s) {', '.join(h.name.value for h in helpers)}; rewrote "
            f"{', '.join(self.functions)}"
        )
        return out, [h.with_changes(leading_lines=()) for h in outer]

    def _swap_body(self, old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
        stmts: list[cst.BaseStatement] = []
        if isinstance(new.body, cst.IndentedBlock):
            stmts = list(new.body.body)
        elif isinstance(new.body, cst.SimpleStatementSuite):
            stmts = [cst.SimpleStatementLine(body=new.body.body)]
        old_stmts = list(old.body.body) if isinstance(old.body, cst.IndentedBlock) else []
        if old_stmts and is_docstring(old_stmts[0]) and not (stmts and is_docstring(stmts[0])):
            stmts.insert(0, old_stmts[0])
        if new.decorators and not all(
            any(n.decorator.deep_equals(o.decorator) for o in old.decorators)
            for n in new.decorators
        ):
            self.notes.append(f"kept the original decorators of `{old.name.value}`")
        if isinstance(old.body, cst.IndentedBlock):
            return old.with_changes(body=old.body.with_changes(body=stmts))
        return old.with_changes(body=cst.IndentedBlock(body=stmts))

    def _add_imports(self, tree: cst.Module) -> cst.Module:
        have = {tree.code_for_node(s).strip() for s in tree.body if is_import_line(s)}
        new = [
            s.with_changes(leading_lines=())
            for s in self.snippet.imports
            if self.snippet.module.code_for_node(s).strip() not in have
        ]
        if new:
            self.notes.append(
                "added imports: " + "; ".join(tree.code_for_node(s).strip() for s in new)
            )
        return insert_imports(tree, new, self.first_party)  # type: ignore[arg-type]


def _assigned(body: Sequence[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, cst.ClassDef):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    names |= {get_full_name_for_node(t.target) or "" for t in small.targets}
                elif isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    names |= {
                        get_full_name_for_node(a.asname.name if a.asname else a.name) or ""
                        for a in small.names
                    }
    return names


def _calls(fn: cst.FunctionDef, names: list[str]) -> bool:
    code = cst.Module(body=[]).code_for_node(fn.body)
    return any(re.search(rf"(?<![\w]){re.escape(n)}\s*\(", code) for n in names)


def _functions_param(raw: object) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else re.split(r"[,\s]+", str(raw))
    return [str(i).strip() for i in items if str(i).strip()]


def _scope(
    ref: ModuleRef, rest: str, functions: list[str], classes: set[str]
) -> tuple[str | None, list[str]]:
    """(owning class or None, plain function names) from the target and ``functions``."""
    owner: str | None = None
    names: list[str] = []
    parts = rest.split(".") if rest else []
    if len(parts) == 2:
        owner, names = parts[0], [parts[1]]
    elif len(parts) == 1 and parts[0] in classes:
        owner = parts[0]
    elif len(parts) == 1:
        names = [parts[0]]
    elif len(parts) > 2:
        raise CodemodError(f"extract_helper: cannot handle nested target {rest!r} in {ref.name}")
    for entry in functions:
        entry = entry.removeprefix(ref.name + ".")
        cls, _, fn = entry.rpartition(".")
        if cls:
            if owner not in (None, cls):
                raise CodemodError(
                    f"extract_helper: the functions must share one owner; got {owner} and {cls}"
                )
            owner = cls
        if fn not in names:
            names.append(fn)
    return owner, names


def extract_helper(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Handler of ``extract_helper`` (see the module docstring)."""
    source = slots.get("source")
    if not isinstance(source, str) or not source.strip():
        return Failed(
            "extract_helper needs slot `source`: one Python snippet with the helper def and the "
            "rewritten defs of the listed functions (same signatures)"
        )
    split = split_target(files, op.target)
    if isinstance(split, str):
        return Failed(f"extract_helper: {split}")
    ref, rest = split
    text = files.sources[ref.path]
    classes = set(re.findall(r"^class\s+(\w+)", text, re.MULTILINE))
    try:
        owner, functions = _scope(ref, rest, _functions_param(op.params.get("functions")), classes)
        if not functions:
            raise CodemodError(
                "extract_helper needs params.functions: the names of the functions that share "
                f"the logic (in {owner or ref.name})"
            )
        name = str(op.params.get("name") or "").strip() or None
        command = ExtractHelperCommand(
            CodemodContext(),
            snippet=Snippet(source, text),
            functions=functions,
            helper=name,
            owner=owner,
            first_party=frozenset(m.split(".")[0] for m in files.modules.values()),
        )
        new = transform_or_raise(command, text, ref.path)
    except CodemodError as exc:
        return Failed(f"{exc} (module {ref.name}, nothing changed)")
    if new == text:
        return Skipped(f"extract_helper changed nothing in {ref.name}")
    return Applied(changes={ref.path: new}, notes=tuple(command.notes))
