"""``add_annotations``: put the LLM's type annotations on existing functions, nothing else.

The slot ``source`` holds the target rewritten with annotations (a function, a class with
its methods, or for a module target any of its top-level definitions); ``sources`` maps
qualnames to such sources. Each rewritten def must equal the original once annotations
are stripped (same body, defaults, decorators, docstring) — otherwise ``Failed`` says
which function changed and how. Only parameter and return annotations are transferred
onto the original nodes, so comments and formatting of the bodies are kept. Names the
annotations use must be defined in the module or imported through the ``imports`` slot.

Without a slot, a deterministic fallback annotates every unannotated parameter and
return with ``typing.Any`` (``None`` for ``__init__``): honest but weak.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import inspect
import logging
import textwrap
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import libcst as cst

from agent.codemods.base import REGISTRY, Failed, RepoFiles, Result, Skipped
from agent.codemods.content.signatures import apply_signatures
from agent.codemods.imports import add_import_lines, bound_names, top_level_imports
from agent.codemods.nodes import (
    Found,
    Located,
    finish,
    locate,
    parse_def_source,
    strip_fences,
    walk_defs,
)

log = logging.getLogger(__name__)

__all__ = ["add_annotations", "stripped_dump"]

_ABC = {"Callable", "Iterable", "Iterator", "Mapping", "MutableMapping", "Sequence", "Generator"}
Pair = tuple[cst.FunctionDef, cst.FunctionDef]  # (original, annotated)


class _Strip(ast.NodeTransformer):
    """Remove annotations (and docstring indentation) so only behaviour is compared."""

    def _doc(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        first = node.body[0] if node.body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            first.value.value = inspect.cleandoc(first.value.value)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        node.type_comment = None
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                arg.annotation = None
                arg.type_comment = None
        self._doc(node)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._doc(node)
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        return ast.Assign(targets=[node.target], value=node.value, lineno=0)


def stripped_dump(code: str) -> str:
    """``ast.unparse`` of ``code`` with every annotation removed."""
    return ast.unparse(_Strip().visit(ast.parse(code)))


def _defs(node: cst.CSTNode) -> list[cst.FunctionDef]:
    """Every FunctionDef in ``node`` (itself included), in source order."""
    out: list[cst.FunctionDef] = []

    class _V(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            out.append(node)

    node.visit(_V())
    return out


def _pair_defs(old: cst.CSTNode, new: cst.CSTNode, qualname: str) -> list[Pair] | Failed:
    """Match an original definition with its annotated version, refusing other changes."""
    if isinstance(old, cst.ClassDef) and isinstance(new, cst.ClassDef):
        olds = {n.name.value: n for n in _children(old)}
        pairs: list[Pair] = []
        for child in _children(new):
            name = child.name.value
            if name not in olds:
                return Failed(
                    f"the annotated source of {qualname} has `{name}`, which {qualname} does "
                    "not define; send the existing definitions with annotations added only"
                )
            more = _pair_defs(olds[name], child, f"{qualname}.{name}")
            if isinstance(more, Failed):
                return more
            pairs += more
        return pairs
    if not (isinstance(old, cst.FunctionDef) and isinstance(new, cst.FunctionDef)):
        return Failed(f"the annotated source of {qualname} is not the same kind of definition")
    empty = cst.Module([])
    before = stripped_dump(empty.code_for_node(old))
    after = stripped_dump(empty.code_for_node(new.with_changes(leading_lines=())))
    if before != after:
        diff = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "original", "annotated", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[2:16])
        return Failed(
            f"{qualname} changed beyond annotations (with annotations removed it differs from "
            f"the original):\n{shown}\nResend {qualname} with its body, defaults and decorators "
            "exactly as they are, adding only parameter and return annotations. Nothing was changed."
        )
    return list(zip(_defs(old), _defs(new), strict=True))


def _children(cls: cst.ClassDef) -> list[cst.FunctionDef | cst.ClassDef]:
    if not isinstance(cls.body, cst.IndentedBlock):
        return []
    return [f.node for f in walk_defs(cls.body.body) if len(f.parts) == 1]


def _parse_many(source: object, what: str) -> list[cst.FunctionDef | cst.ClassDef] | Failed:
    if not isinstance(source, str) or not source.strip():
        return Failed(f"the `source` slot is empty; send {what}")
    try:
        module = cst.parse_module(textwrap.dedent(strip_fences(source)))
    except cst.ParserSyntaxError as exc:
        return Failed(f"the `source` slot is not valid Python: {exc.message}; send {what}")
    defs = [s for s in module.body if isinstance(s, cst.FunctionDef | cst.ClassDef)]
    return defs or Failed(f"the `source` slot holds no def or class; send {what}")


def _collect(loc: Located, slots: Mapping[str, Any]) -> list[Pair] | Failed:
    """(original, annotated) pairs for every def the slots rewrite."""
    module_defs = {f.parts: f for f in walk_defs(loc.module.body)}
    wanted: list[tuple[Found, object]] = []
    sources = slots.get("sources")
    if isinstance(sources, Mapping) and sources:
        for key, src in sources.items():
            parts = tuple(str(key).removeprefix(loc.module_name + ".").split("."))
            if parts not in module_defs:
                known = ", ".join(".".join(p) for p in list(module_defs)[:12])
                return Failed(
                    f"`sources` key {key!r} is not defined in {loc.module_name}; known: {known}"
                )
            wanted.append((module_defs[parts], src))
    elif loc.found is not None:
        wanted.append((loc.found, slots.get("source")))
    else:
        what = f"annotated definitions of {loc.module_name}"
        parsed = _parse_many(slots.get("source"), what)
        if isinstance(parsed, Failed):
            return parsed
        pairs: list[Pair] = []
        for node in parsed:
            found = module_defs.get((node.name.value,))
            if found is None:
                return Failed(f"`{node.name.value}` is not defined in {loc.module_name}; {what}")
            more = _pair_defs(found.node, node, f"{loc.module_name}.{node.name.value}")
            if isinstance(more, Failed):
                return more
            pairs += more
        return pairs
    pairs = []
    for found, src in wanted:
        qual = ".".join((loc.module_name, *found.parts))
        kind = "class" if isinstance(found.node, cst.ClassDef) else "def"
        parsed_one = parse_def_source(
            src, name=found.node.name.value, what=f"{qual} with annotations added", kind=kind
        )
        if isinstance(parsed_one, Failed):
            return parsed_one
        more = _pair_defs(found.node, parsed_one.node, qual)
        if isinstance(more, Failed):
            return more
        pairs += more
    return pairs


def _annotation_names(pairs: Sequence[Pair]) -> set[str]:
    """Root names the new annotations use (``typing.Optional[x]`` -> typing, x)."""
    names: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    for _, new in pairs:
        for ann in _annotations(new):
            ann.annotation.visit(_V())
    return names


def _annotations(fn: cst.FunctionDef) -> list[cst.Annotation]:
    p = fn.params
    params = [*p.posonly_params, *p.params, *p.kwonly_params]
    params += [x for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param)]
    anns = [x.annotation for x in params if x.annotation is not None]
    return anns + ([fn.returns] if fn.returns is not None else [])


def _with_annotation(old: cst.Param, ann: cst.Annotation | None) -> cst.Param:
    if ann is None:
        return old
    ann = ann.with_changes(whitespace_before_indicator=cst.SimpleWhitespace(""))
    if old.default is not None and old.annotation is None:
        return old.with_changes(annotation=ann, equal=cst.MaybeSentinel.DEFAULT)
    return old.with_changes(annotation=ann)


def _merge(old: cst.Parameters, new: cst.Parameters) -> cst.Parameters:
    changes: dict[str, Any] = {}
    for name in ("posonly_params", "params", "kwonly_params"):
        pairs = zip(getattr(old, name), getattr(new, name), strict=True)
        changes[name] = [_with_annotation(o, n.annotation) for o, n in pairs]
    for name in ("star_arg", "star_kwarg"):
        o, n = getattr(old, name), getattr(new, name)
        if isinstance(o, cst.Param) and isinstance(n, cst.Param):
            changes[name] = _with_annotation(o, n.annotation)
    return old.with_changes(**changes)


class _Apply(cst.CSTTransformer):
    """Replace params/returns of the mapped FunctionDefs (by identity of the original)."""

    def __init__(
        self,
        mapping: Mapping[int, cst.FunctionDef | None],
        any_ann: str = "",
        methods: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__()
        self.mapping, self.any_ann, self.methods, self.count = mapping, any_ann, methods, 0

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        if id(original_node) not in self.mapping:
            return updated_node
        new = self.mapping[id(original_node)]
        if new is None:
            new = _any_version(updated_node, self.any_ann, id(original_node) in self.methods)
        self.count += sum(1 for _ in _annotations(new)) - sum(1 for _ in _annotations(updated_node))
        returns = new.returns or updated_node.returns
        if returns is not None:
            returns = returns.with_changes(whitespace_before_indicator=cst.SimpleWhitespace(" "))
        return updated_node.with_changes(
            params=_merge(updated_node.params, new.params), returns=returns
        )


def _any_version(fn: cst.FunctionDef, ann_name: str, skip_first: bool) -> cst.FunctionDef:
    """``fn`` with every missing annotation set to Any (a method's ``self``/``cls`` left bare)."""
    ann = cst.Annotation(cst.parse_expression(ann_name))
    p = fn.params
    changes: dict[str, Any] = {}
    for name in ("posonly_params", "params", "kwonly_params"):
        out = []
        for i, param in enumerate(getattr(p, name)):
            first = skip_first and i == 0 and (name == "posonly_params" or not p.posonly_params)
            out.append(param if param.annotation or first else _with_annotation(param, ann))
        changes[name] = out
    for name in ("star_arg", "star_kwarg"):
        param = getattr(p, name)
        if isinstance(param, cst.Param) and param.annotation is None:
            changes[name] = _with_annotation(param, ann)
    returns = fn.returns
    if returns is None:
        none = fn.name.value == "__init__"
        returns = cst.Annotation(cst.Name("None") if none else cst.parse_expression(ann_name))
    return fn.with_changes(params=p.with_changes(**changes), returns=returns)


def _fallback(files: RepoFiles, loc: Located) -> Result:
    founds = [loc.found] if loc.found else list(walk_defs(loc.module.body))
    if loc.found and isinstance(loc.found.node, cst.ClassDef):
        body = loc.found.node.body
        inner = walk_defs(body.body) if isinstance(body, cst.IndentedBlock) else iter(())
        founds = [Found(f.parts, f.node, (), (loc.found.node, *f.parents)) for f in inner]
    mapping: dict[int, cst.FunctionDef | None] = {}
    methods: set[int] = set()
    for found in founds:
        if isinstance(found.node, cst.FunctionDef):
            mapping[id(found.node)] = None
            decorators = {cst.Module([]).code_for_node(d.decorator) for d in found.node.decorators}
            in_class = bool(found.parents) and isinstance(found.parents[-1], cst.ClassDef)
            if in_class and "staticmethod" not in decorators:
                methods.add(id(found.node))
    imports = top_level_imports(loc.module)
    if imports.get("Any") == "typing.Any" or "Any" not in bound_names(loc.module.body):
        ann, line = "Any", "from typing import Any"
    else:
        ann, line = "typing.Any", "import typing"
    applier = _Apply(mapping, ann, frozenset(methods))
    module = loc.module.visit(applier)
    if applier.count == 0:
        return Skipped(f"every parameter and return in {loc.qualname} is already annotated")
    added = add_import_lines(module, [line])
    if isinstance(added, Failed):
        return added
    note = (
        f"no `source` slot: annotated {applier.count} parameters/returns in {loc.qualname} with "
        f"{ann} (a weak fallback; send the `source` slot with real types)"
    )
    return finish(files, loc.path, added, [note])


def _missing_names(loc: Located, pairs: Sequence[Pair], lines: Sequence[str]) -> list[str]:
    known = set(dir(builtins)) | bound_names(loc.module.body)
    for parent in loc.found.parents if loc.found else ():
        if isinstance(parent.body, cst.IndentedBlock):
            known |= bound_names(parent.body.body)
    node = loc.node
    if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
        known |= bound_names(node.body.body)
    for line in lines:
        try:
            known |= bound_names(cst.parse_module(line.strip() + "\n").body)
        except cst.ParserSyntaxError:
            continue
    return sorted(_annotation_names(pairs) - known)


def _suggest(name: str) -> str:
    if name in _ABC:
        return f"from collections.abc import {name}"
    if name in getattr(typing, "__all__", ()):
        return f"from typing import {name}"
    return f"import for {name}"


@REGISTRY.register("add_annotations", slots=("signatures", "source", "sources", "imports"))
def add_annotations(files: RepoFiles, op: Any, slots: Mapping[str, Any]) -> Result:
    """Transfer the LLM's annotations onto the target's defs (or annotate with Any)."""
    loc = locate(files, op.target)
    if isinstance(loc, Failed):
        return loc
    if slots.get("signatures"):
        return apply_signatures(files, loc, slots["signatures"])
    if not slots.get("source") and not slots.get("sources"):
        return _fallback(files, loc)
    pairs = _collect(loc, slots)
    if isinstance(pairs, Failed):
        return pairs
    raw_imports = slots.get("imports") or []
    lines = (
        raw_imports.splitlines() if isinstance(raw_imports, str) else [str(x) for x in raw_imports]
    )
    missing = _missing_names(loc, pairs, lines)
    if missing:
        need = "; ".join(_suggest(n) for n in missing)
        return Failed(
            f"the annotations use {', '.join(missing)}, which {loc.module_name} neither defines "
            f"nor imports; resend with the `imports` slot listing the import lines ({need}). "
            "Nothing was changed."
        )
    applier = _Apply({id(old): new for old, new in pairs})
    module = loc.module.visit(applier)
    if lines:
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(files, loc.path, module, [loc.note])
