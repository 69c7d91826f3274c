"""Pure helpers for model-written code: fences, definitions, imports, annotation targets."""

from __future__ import annotations

import ast
import re
import sys
import textwrap

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)
# Names the model commonly uses without importing, and where they come from.
KNOWN_IMPORTS = {
    "Any": "from typing import Any",
    "Optional": "from typing import Optional",
    "Union": "from typing import Union",
    "Callable": "from collections.abc import Callable",
    "Iterable": "from collections.abc import Iterable",
    "Iterator": "from collections.abc import Iterator",
    "Mapping": "from collections.abc import Mapping",
    "Sequence": "from collections.abc import Sequence",
    "Path": "from pathlib import Path",
    "timedelta": "from datetime import timedelta",
    "datetime": "import datetime",
    "NamedTuple": "from typing import NamedTuple",
}


def extract_code(text: str) -> str:
    """The code of the first fenced block, or the whole reply when there is no fence."""
    match = _FENCE.search(text)
    return (match.group(1) if match else text).strip("\n")


def _segment(code: str, node: ast.stmt) -> str:
    """A top-level statement's source, decorators included."""
    lines = code.splitlines()
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[start - 1 : node.end_lineno])


def check_definition(code: str, name: str) -> str | None:
    """A problem with an LLM-written definition, or None when it is one def/class named ``name``."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"the code does not parse: {exc.msg} at line {exc.lineno}"
    defs = [
        n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    if not defs:
        return f"the reply holds no def or class; send the complete definition of `{name}`"
    if name and not any(d.name == name for d in defs):
        return f"the reply defines {', '.join(d.name for d in defs)}, not `{name}`"
    return None


def drop_unused_imports(code: str) -> str:
    """Remove top-level import statements none of whose names the code uses.

    Small models often open a reply with imports they never use (``from typing import
    List``); the lint check would reject the change for them.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {
        n.value.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    # names in string annotations count as used too
    used |= {
        w
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
        for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", n.value)
    }
    drop: set[int] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom) and stmt.end_lineno is not None:
            names = {(a.asname or a.name).split(".")[0] for a in stmt.names}
            if "*" not in names and not names & used:
                drop |= set(range(stmt.lineno, stmt.end_lineno + 1))
    if not drop:
        return code
    lines = code.splitlines()
    return "\n".join(line for i, line in enumerate(lines, 1) if i not in drop).strip("\n")


def annotation_targets(
    module: str, target: str, module_name: str | None
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """(qualname, def, source) of the functions an ``add_annotations`` on ``target`` covers.

    A module target covers the functions named in a literal ``__all__`` (else the public
    top-level functions); a class covers its methods; a function covers itself.
    """
    try:
        tree = ast.parse(module)
    except SyntaxError:
        return []
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)

    def src(node: ast.AST) -> str:
        return ast.get_source_segment(module, node) or ""

    if module_name is not None:  # the target is the module itself
        exported: set[str] | None = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
            ):
                try:
                    exported = set(ast.literal_eval(stmt.value))
                except ValueError:
                    exported = None
        return [
            (f"{target}.{n.name}", n, src(n))
            for n in tree.body
            if isinstance(n, funcs)
            and (n.name in exported if exported is not None else not n.name.startswith("_"))
        ]
    parts = target.split(".")
    for cut in range(1, len(parts)):
        scope: list[ast.stmt] = tree.body
        node: ast.AST | None = None
        for name in parts[cut:]:
            node = next(
                (n for n in scope if isinstance(n, (*funcs, ast.ClassDef)) and n.name == name),
                None,
            )
            if node is None:
                break
            scope = getattr(node, "body", [])
        if node is None:
            continue
        if isinstance(node, funcs):
            return [(target, node, src(node))]
        if isinstance(node, ast.ClassDef):
            return [(f"{target}.{n.name}", n, src(n)) for n in node.body if isinstance(n, funcs)]
    return []


def unannotated(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameter names lacking an annotation (``self``/``cls`` skipped), plus "return"."""
    a = fn.args
    params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    params += [x for x in (a.vararg, a.kwarg) if x is not None]
    names = [
        p.arg
        for i, p in enumerate(params)
        if p.annotation is None and not (i == 0 and p.arg in ("self", "cls"))
    ]
    return names + (["return"] if fn.returns is None else [])


def needed_imports(code: str, module_source: str) -> list[str]:
    """Import lines for names the new code uses that the module neither defines nor imports."""
    try:
        new, old = ast.parse(code), ast.parse(module_source)
    except SyntaxError:
        return []
    bound = {
        n.id for n in ast.walk(old) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    for node in ast.walk(old):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
    local = {
        n.id for n in ast.walk(new) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    local |= {
        a.arg
        for n in ast.walk(new)
        if isinstance(n, ast.arguments)
        for a in (*n.args, *n.kwonlyargs)
    }
    used = {n.id for n in ast.walk(new) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    lines = []
    for name in sorted(
        used - bound - local - set(dir(__builtins__)) - set(sys.builtin_module_names)
    ):
        if name in KNOWN_IMPORTS:
            lines.append(KNOWN_IMPORTS[name])
        elif name in sys.stdlib_module_names:
            lines.append(f"import {name}")
    return lines


def current_span(source: str, qualname: str, module: str) -> tuple[int, int] | None:
    """(first, last) line of def/class ``qualname`` in ``source`` (decorators included)."""
    if not module or not qualname.startswith(module + "."):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    body: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for name in qualname[len(module) + 1 :].split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == name
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, node.end_lineno or node.lineno


def pick_definition(code: str, name: str) -> str:
    """``code`` itself (dedented: a method sent at its class's indentation), or the wanted
    definition alone with the reply's imports when the reply adds statements around it
    (example calls, prints) or wraps it in a class it was not asked for."""
    code = textwrap.dedent(code)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    top = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    wanted = [n for n in tree.body if isinstance(n, top) and n.name == name] if name else []
    if not name or (wanted and len(tree.body) == 1):
        return code
    if len(wanted) == 1:
        keep = [
            n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom) or n is wanted[0]
        ]
        if len(keep) < len(tree.body):
            return "\n\n".join(_segment(code, n) for n in keep)
        return code
    lines = code.splitlines()
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in cls.body:
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.name == name:
                start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
                body = textwrap.dedent("\n".join(lines[start - 1 : fn.end_lineno]))
                head = [
                    ast.get_source_segment(code, n) or ""
                    for n in tree.body
                    if isinstance(n, ast.Import | ast.ImportFrom)
                ]
                return "\n".join([*head, "", body] if head else [body])
    return code
