"""A renamed module-level symbol keeps its old name when the issue asks (``keep_alias``).

``keep_alias: alias``       ``old = new`` after the definition: the very same object.
``keep_alias: deprecated``  the old name warns with ``DeprecationWarning`` when used:
    a function becomes a wrapper that warns, then calls the new one; a class a subclass
    whose ``__init__`` warns; anything else a module ``__getattr__`` (PEP 562) that warns
    and returns the new object.

The alias goes at the end of the defining module, with ``import warnings`` added where
needed. Methods and modules cannot keep an alias this way (``Failed`` says so).
"""

from __future__ import annotations

import ast

from agent.codemods.rename.target import Target

MODES = ("alias", "deprecated")


def _message(old: str, new: str) -> str:
    return f"{old} is deprecated; use {new} instead"


def alias_source(target: Target, new: str, mode: str, text: str) -> str:
    """The lines that keep ``target``'s old name working (appended to the module)."""
    old = target.name
    if mode == "alias":
        return f"\n\n{old} = {new}  # the old name, kept working\n"
    msg = _message(old, new)
    if target.kind == "function":
        return (
            f"\n\ndef {old}(*args, **kwargs):\n"
            f'    """Deprecated: use ``{new}``."""\n'
            f'    warnings.warn("{msg}", DeprecationWarning, stacklevel=2)\n'
            f"    return {new}(*args, **kwargs)\n"
        )
    if target.kind == "class":
        return (
            f"\n\nclass {old}({new}):\n"
            f'    """Deprecated: use ``{new}``."""\n\n'
            "    def __init__(self, *args, **kwargs):\n"
            f'        warnings.warn("{msg}", DeprecationWarning, stacklevel=2)\n'
            "        super().__init__(*args, **kwargs)\n"
        )
    return (
        "\n\ndef __getattr__(name):\n"
        f"    if name == {old!r}:\n"
        f'        warnings.warn("{msg}", DeprecationWarning, stacklevel=2)\n'
        f"        return {new}\n"
        '    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
    )


def with_alias(text: str, target: Target, new: str, mode: str) -> tuple[str | None, str]:
    """(``text`` — the renamed module — with the alias appended, "") or (None, the error)."""
    if mode not in MODES:
        return None, f"keep_alias must be one of {', '.join(MODES)}, got {mode!r}"
    if target.parts != (target.name,) or target.kind == "module":
        return None, (
            f"keep_alias works for module-level functions, classes and constants; "
            f"{target.qualname} is a {target.kind}. Send the rename without keep_alias."
        )
    tree = ast.parse(text)
    defines_getattr = any(
        isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body
    )
    extra = alias_source(target, new, mode, text)
    if "def __getattr__" in extra and defines_getattr:
        return None, (
            f"{target.module} already defines __getattr__; keep {target.name} with "
            "keep_alias: alias instead"
        )
    body = text.rstrip("\n") + "\n" + extra
    if mode == "deprecated" and not _imports_warnings(tree):
        body = _add_import(body, tree)
    return body, ""


def _imports_warnings(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.Import) and any(a.name == "warnings" and not a.asname for a in n.names)
        for n in tree.body
    )


def _add_import(text: str, tree: ast.Module) -> str:
    """``import warnings`` after the docstring and ``__future__`` imports."""
    after = 0
    for i, node in enumerate(tree.body):
        docstring = (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if docstring or future:
            after = node.end_lineno or node.lineno
            continue
        break
    lines = text.splitlines(keepends=True)
    rest = lines[after:]
    gap = "\n\n" if rest and rest[0].startswith(("def ", "class ", "@", "async ")) else ""
    lead = "\n" if after and lines[after - 1].strip() else ""
    return "".join([*lines[:after], lead, "import warnings\n", gap, *rest])


def keep_reexports(
    changes: dict[str, str], reexporters: dict[str, str], target: Target, new: str, mode: str
) -> dict[str, str]:
    """Package ``__init__`` modules that re-exported the old name keep re-exporting it.

    ``reexporters``: relpath → module name of the modules that bound the old name by
    import. After each ``from X import new`` the rename left there, ``from X import old``
    is added (the alias of the defining module), so ``from pkg import old`` keeps working.
    """
    out = dict(changes)
    if target.kind not in ("function", "class") and mode == "deprecated":
        return out  # a module __getattr__ alias: re-importing it would warn on every import
    for path in reexporters:
        if not path.endswith("__init__.py") or path not in out or path == target.path:
            continue
        text = out[path]
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        found = [
            n
            for n in tree.body
            if isinstance(n, ast.ImportFrom)
            and any(a.name == new and a.asname is None for a in n.names)
            and (n.module or "").split(".")[-1] == target.module.split(".")[-1]
        ]
        if not found:
            continue
        node = found[0]
        line = f"from {'.' * node.level}{node.module or ''} import {target.name}\n"
        lines = text.splitlines(keepends=True)
        at = node.end_lineno or node.lineno
        out[path] = "".join([*lines[:at], line, *lines[at:]])
    return out
