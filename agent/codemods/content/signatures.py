"""``add_annotations`` from the ``signatures`` slot: qualname → {parameter: type, "return": type}.

The model answers one small JSON object per function (constrained to that function's
parameter names), so a whole module can be annotated without asking a small model to
reproduce it. Types are checked here: each must be a Python expression; names from
``typing`` are imported; a name the module neither defines nor imports makes that one
annotation fall back to ``Any`` (reported in the notes). Parameters the slot leaves out get
``Any`` too, so every parameter and return of the targets ends up annotated and
``typing.get_type_hints`` works at runtime.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
import typing
from collections.abc import Mapping
from typing import Any

import libcst as cst

from agent.codemods.base import Failed, RepoFiles, Result, Skipped
from agent.codemods.imports import add_import_lines, bound_names
from agent.codemods.nodes import Found, Located, finish, walk_defs

STDLIB = frozenset(sys.stdlib_module_names)


def targets(loc: Located) -> list[tuple[str, cst.FunctionDef, bool]]:
    """(qualname, def, is_method) of every function the operation annotates."""
    founds = [loc.found] if loc.found else list(walk_defs(loc.module.body))
    if loc.found and isinstance(loc.found.node, cst.ClassDef):
        body = loc.found.node.body
        inner = walk_defs(body.body) if isinstance(body, cst.IndentedBlock) else iter(())
        founds = [Found(f.parts, f.node, (), (loc.found.node, *f.parents)) for f in inner]
        prefix = loc.qualname
    else:
        prefix = loc.qualname if loc.found else loc.module_name
    out = []
    for found in founds:
        if not isinstance(found.node, cst.FunctionDef):
            continue
        decorators = {cst.Module([]).code_for_node(d.decorator) for d in found.node.decorators}
        in_class = bool(found.parents) and isinstance(found.parents[-1], cst.ClassDef)
        parts = found.parts if not loc.found or loc.found.node is not found.node else ()
        qual = ".".join((prefix, *parts)) if parts else prefix
        out.append((qual, found.node, in_class and "staticmethod" not in decorators))
    return out


def _params(fn: cst.FunctionDef) -> list[tuple[str, cst.Param]]:
    p = fn.params
    out = [(x.name.value, x) for x in (*p.posonly_params, *p.params, *p.kwonly_params)]
    out += [(x.name.value, x) for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param)]
    return out


# How people (and small models) write types in prose, and the typing name each means.
_INFORMAL = {
    "function": "Callable", "func": "Callable", "callable": "Callable", "lambda": "Callable",
    "method": "Callable", "any": "Any", "string": "str", "integer": "int", "number": "float",
    "numeric": "float", "boolean": "bool", "dictionary": "dict", "mapping": "Mapping",
    "sequence": "Sequence", "iterable": "Iterable", "iterator": "Iterator", "none": "None",
    "generator": "Iterator", "hashable": "Hashable",
}  # fmt: skip


def informal_type(text: str) -> str:
    """An annotation written in words, as Python: ``function`` -> ``Callable``, ``list or
    tuple`` -> ``Union[list, tuple]``, ``list of str`` -> ``list``; anything else unchanged."""
    text = text.strip().strip("`'\"").strip()
    words = [w.strip() for w in re.split(r"\s+or\s+|\s*,\s*or\s+", text) if w.strip()]
    if len(words) > 1:
        parts = [informal_type(w) for w in words]
        return f"Union[{', '.join(dict.fromkeys(parts))}]" if len(set(parts)) > 1 else parts[0]
    of = re.fullmatch(r"(?:an?\s+)?(\w+)\s+of\s+.+", text)
    if of:
        text = of.group(1)
    text = re.sub(r"^(?:an?|the)\s+", "", text)
    return _INFORMAL.get(text.lower(), text) if re.fullmatch(r"\w+", text) else text


def _annotation(text: object, known: set[str], wanted: set[str]) -> cst.Annotation | None:
    text = informal_type(str(text))
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
        expr = cst.parse_expression(str(text).strip())
    except (SyntaxError, cst.ParserSyntaxError):
        return None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if names - known - set(typing.__all__) - STDLIB:
        return None
    if isinstance(tree.body, ast.Name) and tree.body.id in STDLIB:
        return None  # a bare module (`builtins`, `typing`) is not a type
    # typing names go in as themselves, stdlib modules (``numbers.Number``) as "import x"
    wanted |= {n if n in typing.__all__ else f"import {n}" for n in names - known}
    return cst.Annotation(expr)


def _annotated(
    fn: cst.FunctionDef,
    sig: Mapping[str, object],
    is_method: bool,
    known: set[str],
    wanted: set[str],
    dropped: list[str],
    qual: str,
) -> cst.FunctionDef:
    any_ann = cst.Annotation(cst.Name("Any"))
    by_name: dict[str, cst.Param] = {}
    for i, (name, param) in enumerate(_params(fn)):
        ann = param.annotation
        if ann is None and not (is_method and i == 0):
            given = sig.get(name)
            if isinstance(given, str) and informal_type(given) == "None":
                given = "Any"  # a parameter that can only be None says nothing: default None
            typed = _annotation(given, known, wanted) if name in sig else None
            if typed is None:
                dropped.append(f"{qual}({name})")
                wanted.add("Any")
            ann = typed or any_ann
        new = param.with_changes(annotation=ann)
        if ann is not None and param.annotation is None and param.default is not None:
            new = new.with_changes(equal=cst.MaybeSentinel.DEFAULT)
        by_name[name] = new
    returns = fn.returns
    if returns is None:
        typed = _annotation(sig["return"], known, wanted) if "return" in sig else None
        if typed is None and fn.name.value == "__init__":
            typed = cst.Annotation(cst.Name("None"))
        elif typed is None:
            dropped.append(f"{qual}(return)")
            wanted.add("Any")
        returns = (typed or any_ann).with_changes(
            whitespace_before_indicator=cst.SimpleWhitespace(" ")
        )
    p = fn.params

    def swap(x: Any) -> Any:
        return by_name.get(x.name.value, x) if isinstance(x, cst.Param) else x

    params = p.with_changes(
        posonly_params=[swap(x) for x in p.posonly_params],
        params=[swap(x) for x in p.params],
        kwonly_params=[swap(x) for x in p.kwonly_params],
        star_arg=swap(p.star_arg),
        star_kwarg=swap(p.star_kwarg),
    )
    return fn.with_changes(params=params, returns=returns)


class _Swap(cst.CSTTransformer):
    def __init__(self, mapping: Mapping[int, cst.FunctionDef]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        new = self.mapping.get(id(original_node))
        if new is None:
            return updated_node
        return updated_node.with_changes(params=new.params, returns=new.returns)


def apply_signatures(files: RepoFiles, loc: Located, signatures: object) -> Result:
    if not isinstance(signatures, Mapping):
        return Failed("the `signatures` slot must map qualnames to {parameter: type} objects")
    known = set(dir(builtins)) | bound_names(loc.module.body)
    wanted: set[str] = set()
    dropped: list[str] = []
    mapping: dict[int, cst.FunctionDef] = {}
    for qual, fn, is_method in targets(loc):
        sig = signatures.get(qual) or {}
        if not isinstance(sig, Mapping):
            sig = {}
        new = _annotated(fn, sig, is_method, known, wanted, dropped, qual)
        if not new.deep_equals(fn):
            mapping[id(fn)] = new
    if not mapping:
        return Skipped(f"every parameter and return in {loc.qualname} is already annotated")
    module = loc.module.visit(_Swap(mapping))
    if wanted:
        names = sorted(w for w in wanted if not w.startswith("import "))
        lines = sorted(w for w in wanted if w.startswith("import "))
        lines += [f"from typing import {', '.join(names)}"] if names else []
        added = add_import_lines(module, lines)
        if isinstance(added, Failed):
            return added
        module = added
    notes = [loc.note, f"annotated {len(mapping)} function(s) in {loc.qualname}"]
    if dropped:
        notes.append(f"Any where no usable type was given: {', '.join(dropped[:20])}")
    return finish(files, loc.path, module, notes)
