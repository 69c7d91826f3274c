"""Built-in operations ``rename`` and ``rename_parameter`` (``change_import`` and
``replace_calls`` live in ``rename.calls``).

Importing this module registers the two handlers. Each resolves its target with the
repository's ``RepoIndex`` (``ast``, repository-wide), then runs a LibCST codemod with
``ScopeProvider`` metadata on the files whose text contains the words involved —
and on nothing else, which keeps a repository-wide rename on a large project quick.
Only the renamed tokens change; strings, comments and unrelated attributes stay.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Mapping
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.metadata import BuiltinScope, FunctionScope, GlobalScope, MetadataWrapper

from agent.codemods.base import REGISTRY, Applied, Failed, RepoFiles, Result, Skipped
from agent.codemods.index import RepoIndex
from agent.codemods.index.bindings import iter_top, word_re
from agent.codemods.rename.alias import keep_reexports, with_alias
from agent.codemods.rename.shared import (
    SymbolCommand,
    SymbolPlan,
    check_identifier,
    outcome_result,
    rename_name,
    run_on,
)
from agent.codemods.rename.target import Target, resolve_target
from planner.spec import Operation

log = logging.getLogger(__name__)


class RenameCommand(SymbolCommand):
    """Rename a symbol's definition and every reference to it in one file."""

    DESCRIPTION = "Rename a function, class, method, constant or variable everywhere."

    def __init__(self, context: CodemodContext, *, new: str, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.new = new

    def find_edits(self, wrapper: MetadataWrapper) -> None:
        """Rename every binding and reference; refuse when a local ``new`` would shadow one."""
        refs, _, fs = self.find_refs(wrapper, self.plan.words)
        old, new = self.plan.name, self.new
        rename = rename_name(new)
        names = set(refs.names) | {a.attr for a in refs.attributes}
        for use in refs.uses & refs.names:
            scope = fs.scopes.get(use)
            shadows = scope[new] if scope is not None and new in scope else set()
            if any(not isinstance(a.scope, GlobalScope | BuiltinScope) for a in shadows):
                self.problems.append(
                    f"{self.context.filename}: a local name {new} would shadow the renamed "
                    f"{old} used there"
                )
                return
        for alias, kinds in refs.imports.items():
            if "name" in kinds and isinstance(alias.name, cst.Name):
                names.add(alias.name)
            if "asname" in kinds and alias.asname and isinstance(alias.asname.name, cst.Name):
                names.add(alias.asname.name)
            if kinds == {"as"}:
                self.edits[alias] = lambda n: n.with_changes(asname=cst.AsName(name=cst.Name(new)))
        self.edits.update(dict.fromkeys(names, rename))
        rx = word_re(old)
        for string in refs.strings:
            self.edits[string] = lambda n: n.with_changes(value=rx.sub(new, n.value))
        for string in refs.all_strings:
            self.edits[string] = lambda n: n.with_changes(
                value=f"{n.prefix}{n.quote}{new}{n.quote}"
            )


def _conflicts(index: RepoIndex, plan: SymbolPlan, new: str) -> list[str]:
    if plan.family is not None:
        found = []
        for module, path in sorted(plan.family.members):
            info = index.module_bindings(module)
            cls = info.classes.get(path) if info else None
            if cls and (new in cls.members or new in cls.self_attrs):
                found.append(f"class {module}.{path}")
        return found
    found = []
    for module in sorted(plan.alias_modules):
        info = index.module_bindings(module)
        if info is not None and new in info.bound():
            found.append(f"module {module} ({info.path})")
    return found


@REGISTRY.register("rename")
def rename(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Rename a function, class, method, constant or variable, and every use of it."""
    new = op.params.get("new_name")
    problem = check_identifier(new, "rename: param new_name")
    if problem:
        return Failed(problem)
    index = RepoIndex(files)
    target = resolve_target(index, op.target)
    if isinstance(target, str):
        return Failed(target)
    if target.name == new:
        return Skipped(f"{target.qualname} is already called {new}")
    plan = SymbolPlan(index, target)
    clashes = _conflicts(index, plan, str(new))
    if clashes:
        return Failed(
            f"cannot rename {target.qualname} to {new}: {new} is already defined in "
            f"{', '.join(clashes)}. Pick another name, or rename that one first."
        )
    paths = index.files_with(target.name)
    notes = [target.note]
    if plan.family is not None and not plan.instance_ok:
        why = "; ".join(plan.why_not_instances[:3])
        notes.append(
            f"obj.{target.name} on objects of unknown type was left alone ({why}); only "
            f"self/cls/ClassName/super() forms were renamed"
        )

    words = {*plan.words, str(new)}  # statements naming ``new`` too: shadowing is checked
    command = RenameCommand(CodemodContext(), new=str(new), plan=plan, words=words)
    outcome = run_on(index, paths, command)
    result = outcome_result(outcome, f"rename {target.qualname} → {new}", notes)
    keep = op.params.get("keep_alias")
    if keep and isinstance(result, Applied) and target.path in result.changes:
        text, problem = with_alias(result.changes[target.path], target, str(new), str(keep))
        if text is None:
            return Failed(problem)
        changes = {**result.changes, target.path: text}
        reexporters = {
            p: m for m in plan.alias_modules if (p := files.path_of(m)) and m != target.module
        }
        changes = keep_reexports(changes, reexporters, target, str(new), str(keep))
        return Applied(changes, (*result.notes, f"{target.name} kept as {keep} alias"))
    return result


DOC_PREFIX = r"(?<![\w.])"


class ParamRenameCommand(SymbolCommand):
    """Rename one parameter: signature, body (scope-aware), docstring, keyword call sites."""

    DESCRIPTION = "Rename a parameter of a function or method and its keyword uses."

    def __init__(self, context: CodemodContext, *, old: str, new: str, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.old, self.new = old, new

    def find_edits(self, wrapper: MetadataWrapper) -> None:
        """Signature, body and docstring of each definition; keywords at call sites."""
        refs, col, fs = self.find_refs(wrapper, self.plan.words)
        old, new = self.old, self.new
        rename = rename_name(new)
        function_scopes = {s.node: s for s in fs.all_scopes if isinstance(s, FunctionScope)}
        for node in refs.definitions:
            if not isinstance(node, cst.FunctionDef) or node.name.value != self.plan.name:
                continue
            params = node.params
            every = [*params.posonly_params, *params.params, *params.kwonly_params]
            if not any(p.name.value == old for p in every):
                continue
            scope = function_scopes.get(node)
            if scope is not None:
                for assignment in scope.assignments[old]:
                    bound = getattr(assignment, "node", None)
                    if isinstance(bound, cst.Param):
                        self.edits[bound.name] = rename
                    elif isinstance(bound, cst.Name):
                        self.edits[bound] = rename
                    for access in assignment.references:
                        if isinstance(access.node, cst.Name):
                            self.edits[access.node] = rename
            docstring = _docstring_node(node)
            if docstring is not None:
                self.edits[docstring] = self._docstring_edit
        family = self.plan.family
        for call in col.calls:
            direct = call.func in refs.uses
            constructs = (
                family is not None
                and self.plan.name == "__init__"
                and bool(fs.fq_names(call.func) & family.fqs)
            )
            if direct or constructs:
                for arg in call.args:
                    if arg.keyword is not None and arg.keyword.value == old:
                        self.edits[arg.keyword] = rename

    def _docstring_edit(self, node: cst.SimpleString) -> cst.SimpleString:
        return node.with_changes(value=param_in_docstring(node.value, self.old, self.new))


def param_in_docstring(text: str, old: str, new: str) -> str:
    """``text`` with the parameter ``old`` called ``new``. A name that reads as code
    (``max_age``, ``maxBytes``) is renamed wherever it stands; a plain word (``format``,
    ``key``) only where the docstring uses it as the parameter: in code markup (`` `format` ``,
    ``*format*``), as a field (``:param format:``, ``format (str):``, ``format : str``) and as
    a keyword (``format=``). "the general format of the number" stays prose."""
    word = re.escape(old)
    if not re.fullmatch(r"[a-z]+", old):
        return re.sub(DOC_PREFIX + word + r"(?![\w])", new, text)
    as_parameter = re.compile(
        rf"(?<=[`*]){word}(?=[`*])"  # `format`, ``format``, *format*
        rf"|(?<=:)(?P<field>(?:param|type|arg|argument|key|keyword)\s+(?:[^:\n]*\s)?){word}(?=\s*:)"
        rf"|(?m:^(?P<indent>[ \t]*){word}(?=[ \t]*(?:\(|:)))"  # Google `format (str):`, numpy
        rf"|(?<![\w.]){word}(?=[ \t]*=(?!=))"  # a keyword: format="%.3f"
    )

    def swap(m: re.Match[str]) -> str:
        return (m.group("field") or m.group("indent") or "") + new

    return as_parameter.sub(swap, text)


def _docstring_node(func: cst.FunctionDef) -> cst.SimpleString | None:
    body = func.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    first = body.body[0]
    if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, cst.SimpleString):
            return value
    return None


def _function_params(index: RepoIndex, target: Target) -> list[str] | str:
    """The parameter names of the target function (or an error message)."""
    info = index.bindings(target.path)
    body: list[ast.stmt] = info.tree.body if info else []
    for part in target.parts[:-1]:
        found = [s for s in iter_top(body) if isinstance(s, ast.ClassDef) and s.name == part]
        body = found[0].body if found else []
    funcs = [
        s
        for s in iter_top(body)
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == target.name
    ]
    if not funcs:
        return f"{target.qualname} is a {target.kind}, not a function or method; name the function."
    names: list[str] = []
    for func in funcs:
        args = func.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        names += [a.arg for a in every if a.arg not in names]
    return names


@REGISTRY.register("rename_parameter")
def rename_parameter(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Rename a parameter in the signature, body, docstring and keyword call sites."""
    old, new = op.params.get("old"), op.params.get("new")
    problem = check_identifier(old, "rename_parameter: param old") or check_identifier(
        new, "rename_parameter: param new"
    )
    if problem:
        return Failed(problem)
    index = RepoIndex(files)
    target = resolve_target(index, op.target)
    if isinstance(target, str):
        return Failed(target)
    if target.kind == "class":
        target = resolve_target(index, f"{target.qualname}.__init__")
        if isinstance(target, str):
            return Failed(f"{op.target} is a class without __init__; name the method to change")
    params = _function_params(index, target)
    if isinstance(params, str):
        return Failed(params)
    if old not in params:
        return Failed(
            f"{target.qualname} has no parameter {old}; its parameters: {', '.join(params)}. "
            "Send one of those as `old`."
        )
    if new in params:
        return Failed(f"{target.qualname} already has a parameter {new}; pick another name")
    if old == new:
        return Skipped(f"parameter {old} of {target.qualname} already has that name")
    plan = SymbolPlan(index, target)
    callee_words = {target.name} | (set(plan.family.names) if plan.family else set())
    paths = sorted(
        set(index.files_with(str(old))) & {p for w in callee_words for p in index.files_with(w)}
    )

    command = ParamRenameCommand(
        CodemodContext(), old=str(old), new=str(new), plan=plan, words={str(old), *plan.words}
    )
    outcome = run_on(index, paths, command)
    notes = [target.note]
    if plan.family is not None and not plan.instance_ok:
        notes.append(
            f"calls obj.{target.name}({old}=...) on objects of unknown type were left alone"
        )
    return outcome_result(outcome, f"rename_parameter {target.qualname}({old} → {new})", notes)
