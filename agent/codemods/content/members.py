"""``edit`` of a class by members: the LLM sends only the methods that change.

A small model cannot reproduce a 150-line class within its token budget, so for a class
target the drafter asks for the changed or new methods only (plus any module-level line
they need, such as ``log = logging.getLogger(__name__)``). ``edit_members`` swaps each
method in by name, appends new ones at the end of the class, puts new module-level
assignments after the imports, and adds the imports — everything else stays as it was.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import libcst as cst

from agent.codemods.base import Failed, RepoFiles, Result
from agent.codemods.imports import add_import_lines, bound_names
from agent.codemods.nodes import (
    Located,
    finish,
    leading_with_comments,
    parse_def_source,
    strip_fences,
)

ASK = (
    "Send only the methods that change, each complete and unindented (no `class` line), "
    "after any new module-level line they need"
)


def _is_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
    )


def _is_assignment(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Assign | cst.AnnAssign) for s in stmt.body
    )


def members_source(source: object, class_name: str) -> cst.Module | None:
    """The parsed reply when it holds methods rather than the class itself, else ``None``."""
    if not isinstance(source, str):
        return None
    try:
        flat = cst.parse_module(textwrap.dedent(strip_fences(source)).strip("\n") + "\n")
    except cst.ParserSyntaxError:
        return None
    if any(isinstance(s, cst.ClassDef) and s.name.value == class_name for s in flat.body):
        return None
    if not any(isinstance(s, cst.FunctionDef) for s in flat.body):
        return None
    return flat


def _after_imports(body: Sequence[cst.BaseStatement]) -> int:
    at = 0
    for i, stmt in enumerate(body):
        if _is_import(stmt) or (
            i == 0
            and isinstance(stmt, cst.SimpleStatementLine)
            and isinstance(stmt.body[0], cst.Expr)
        ):
            at = i + 1
    return at


def edit_members(
    files: RepoFiles, loc: Located, flat: cst.Module, imports: Sequence[str] = ()
) -> Result:
    """Merge the methods (and module-level lines) of ``flat`` into the class at ``loc``."""
    cls = loc.node
    assert isinstance(cls, cst.ClassDef)
    if not isinstance(cls.body, cst.IndentedBlock):
        return Failed(f"{loc.qualname} is a one-line class; send the complete class instead")
    steps = loc.steps(body=True)
    members = list(cls.body.body)
    index = {m.name.value: i for i, m in enumerate(members) if isinstance(m, cst.FunctionDef)}
    new_imports, module_lines, changed = list(imports), [], []
    for stmt in flat.body:
        code = flat.code_for_node(stmt)
        if _is_import(stmt):
            new_imports.append(code.strip())
        elif _is_assignment(stmt):
            module_lines.append(stmt)
        elif isinstance(stmt, cst.FunctionDef):
            parsed = parse_def_source(
                code, name=stmt.name.value, what=f"a method of {loc.qualname}", steps=steps
            )
            if isinstance(parsed, Failed):
                return parsed
            new_imports += parsed.imports
            node = parsed.node
            name = stmt.name.value
            if name in index:
                old = members[index[name]]
                assert isinstance(old, cst.FunctionDef)
                if not node.decorators and old.decorators:
                    node = node.with_changes(decorators=old.decorators)
                node = node.with_changes(
                    leading_lines=leading_with_comments(old.leading_lines, node.leading_lines)
                )
                if not node.deep_equals(old):
                    members[index[name]] = node
                    changed.append(name)
            else:
                members.append(node.with_changes(leading_lines=[cst.EmptyLine(indent=False)]))
                index[name] = len(members) - 1
                changed.append(f"{name} (new)")
        else:
            return Failed(
                f"the reply for {loc.qualname} holds a statement that is neither a method, an "
                f"import nor a module-level assignment: `{code.strip()[:60]}`. {ASK}."
            )
    if not changed:
        return Failed(
            f"the methods sent for {loc.qualname} are identical to the current ones; "
            "change the behaviour the issue describes"
        )
    module = loc.module.deep_replace(
        cls, cls.with_changes(body=cls.body.with_changes(body=members))
    )
    assert isinstance(module, cst.Module)
    fresh = [s for s in module_lines if not (_targets(s) & bound_names(module.body))]
    if fresh:
        body = list(module.body)
        at = _after_imports(body)
        first = fresh[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        module = module.with_changes(body=[*body[:at], first, *fresh[1:], *body[at:]])
    if new_imports:
        added = add_import_lines(module, new_imports)
        if isinstance(added, Failed):
            return added
        module = added
    return finish(
        files, loc.path, module, [loc.note, f"edited {loc.qualname}: {', '.join(changed)}"]
    )


def _targets(stmt: cst.BaseStatement) -> set[str]:
    names: set[str] = set()
    if isinstance(stmt, cst.SimpleStatementLine):
        for s in stmt.body:
            targets = (
                ([t.target for t in s.targets] if isinstance(s, cst.Assign) else [s.target])
                if isinstance(s, cst.Assign | cst.AnnAssign)
                else []
            )
            names |= {t.value for t in targets if isinstance(t, cst.Name)}
    return names
