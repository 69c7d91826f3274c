"""What a moved top-level definition needs from its module, found through LibCST scopes.

``analyse`` wraps a module with ``ScopeProvider`` and ``ParentNodeProvider``; ``find_definition``
locates the statements that define a top-level name; ``collect_needs`` walks the module's
global assignments referenced from those statements and sorts them into imports to carry
along, definitions to copy (TypeVars, loggers) and names that stay in the source module.
"""

from __future__ import annotations

import io
import logging
import re
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Access,
    BaseAssignment,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    ScopeProvider,
)

from agent.codemods.nodes import close_hint, is_docstring
from agent.codemods.structure.imports import (
    is_type_checking_test,
)
from agent.codemods.structure.shared import (
    CodemodError,
    ModuleRef,
    parse_module,
)

logger = logging.getLogger(__name__)

FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", -1)
COPYABLE_CALLS = frozenset({"TypeVar", "ParamSpec", "TypeVarTuple", "getLogger"})


@dataclass
class Analysed:
    """A module wrapped with the metadata the structure codemods use."""

    ref: ModuleRef
    module: cst.Module
    scope: GlobalScope
    parents: Mapping[cst.CSTNode, cst.CSTNode]


def analyse(ref: ModuleRef, text: str) -> Analysed:
    wrapper = MetadataWrapper(parse_module(text, ref.path))
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    scope = scopes[wrapper.module]
    assert isinstance(scope, GlobalScope)
    return Analysed(ref, wrapper.module, scope, parents)


class _Collect(cst.CSTVisitor):
    def __init__(self) -> None:
        self.ids: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ids.add(id(node))
        return True


def node_ids(nodes: Sequence[cst.CSTNode]) -> set[int]:
    """ids of every node inside ``nodes`` (themselves included)."""
    visitor = _Collect()
    for node in nodes:
        node.visit(visitor)
    return visitor.ids


def top_names(module: cst.Module) -> list[str]:
    """Names of the module's top-level defs, classes and simple assignments."""
    names: list[str] = []
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            names.append(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = (
                    [t.target for t in small.targets]
                    if isinstance(small, cst.Assign)
                    else [small.target]
                    if isinstance(small, cst.AnnAssign)
                    else []
                )
                names += [t.value for t in targets if isinstance(t, cst.Name)]
    return names


def _defines(stmt: cst.BaseStatement, name: str) -> bool:
    if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
        return stmt.name.value == name
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign):
            return any(
                isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
            )
        if isinstance(small, cst.AnnAssign):
            return isinstance(small.target, cst.Name) and small.target.value == name
    return False


def find_definition(src: Analysed, name: str) -> list[int]:
    """Top-level indices of the statements defining ``name`` (overloads, attribute docstring)."""
    body = src.module.body
    found = [i for i, stmt in enumerate(body) if _defines(stmt, name)]
    if not found:
        bound = src.scope.assignments[name] if name in src.scope else set()
        if bound:
            raise CodemodError(
                f"`{name}` in {src.ref.name} is bound {len(bound)} time(s) but not by a plain "
                "top-level def, class or `NAME = value` line (imported, conditional or "
                "unpacked?); move_symbol moves only those. Use `change_import` or `edit`."
            )
        raise CodemodError(
            f"{src.ref.name} has no top-level function, class or constant `{name}`"
            + close_hint(name, top_names(src.module))
        )
    stmts = [body[i] for i in found]
    if len(found) > 1 and not all(isinstance(s, cst.FunctionDef) for s in stmts):
        raise CodemodError(
            f"`{name}` is defined {len(found)} times at the top of {src.ref.name}; "
            "move_symbol cannot tell which definition to move"
        )
    last = stmts[-1]
    if isinstance(last, cst.SimpleStatementLine):
        small = last.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) > 1:
            raise CodemodError(
                f"`{name}` is assigned in a chained assignment ({src.module.code_for_node(last).strip()}); "
                "split it into one line per name, then move it"
            )
        if found[-1] + 1 < len(body) and is_docstring(body[found[-1] + 1]):
            found.append(found[-1] + 1)  # the attribute docstring travels with its constant
    return found


def node_of(binding: BaseAssignment) -> cst.CSTNode:
    """The node that makes a binding (an import, a def, a class, an assignment target)."""
    node = getattr(binding, "node", None)
    assert isinstance(node, cst.CSTNode), f"unexpected binding {binding!r}"
    return node


@dataclass(frozen=True)
class Carried:
    """One import alias of the source that the moved code needs."""

    name: str  # the name it binds
    alias: cst.ImportAlias
    node: cst.Import | cst.ImportFrom
    guarded: bool  # under ``if TYPE_CHECKING:``


@dataclass
class Needs:
    """What the moved statements need, sorted by how the destination gets it."""

    carried: list[Carried] = field(default_factory=list)  # imports to repeat in the destination
    copies: list[int] = field(default_factory=list)  # top-level indices to copy
    local: dict[str, bool] = field(default_factory=dict)  # source-defined: annotation only?
    removable: list[Carried] = field(default_factory=list)  # source imports only the move used


def _top_index(src: Analysed, node: cst.CSTNode) -> tuple[int, bool]:
    """(top-level index, whether under a top-level ``if TYPE_CHECKING:``) of a node."""
    chain: list[cst.CSTNode] = [node]
    while chain[-1] in src.parents:
        chain.append(src.parents[chain[-1]])
    top = chain[-2] if len(chain) >= 2 else node
    index = next(i for i, stmt in enumerate(src.module.body) if stmt is top)
    guarded = isinstance(top, cst.If) and is_type_checking_test(top.test)
    return index, guarded


def alias_for(node: cst.Import | cst.ImportFrom, name: str) -> cst.ImportAlias | None:
    """The alias of an import statement that binds ``name``."""
    if isinstance(node.names, cst.ImportStar):
        return None
    for alias in node.names:
        bound = get_full_name_for_node(alias.asname.name) if alias.asname else None
        full = get_full_name_for_node(alias.name) or ""
        if bound == name or (bound is None and (full == name or full.startswith(name + "."))):
            return alias
    return None


def _copyable(stmt: cst.BaseStatement) -> bool:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    small = stmt.body[0]
    value = small.value if isinstance(small, cst.Assign | cst.AnnAssign) else None
    if not isinstance(value, cst.Call):
        return False
    return (get_full_name_for_node(value.func) or "").rpartition(".")[2] in COPYABLE_CALLS


def _mentions(name: str, code: str) -> int:
    """How often ``name`` appears as a bare name or inside a string (comments ignored)."""
    word = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
    count, previous = 0, ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if (
                tok.type == tokenize.NAME
                and tok.string == name
                and previous != "."
                or tok.type in (tokenize.STRING, FSTRING_MIDDLE)
                and word.search(tok.string)
            ):
                count += 1
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                previous = tok.string
    except (tokenize.TokenError, SyntaxError):
        return len(word.findall(code))
    return count


def collect_needs(src: Analysed, moved: list[int], sym: str) -> Needs:
    """Sort every module-level name the moved statements use; raise for what cannot travel."""
    body = src.module.body
    moved_ids = node_ids([body[i] for i in moved])
    scan_ids = set(moved_ids)
    needs = Needs()
    seen: set[str] = {sym}
    changed = True
    while changed:
        changed = False
        refs: dict[str, list[Access]] = {}
        for assignment in src.scope.assignments:
            if assignment.name in seen or id(node_of(assignment)) in moved_ids:
                continue
            inside = [a for a in assignment.references if id(a.node) in scan_ids]
            if inside:
                refs.setdefault(assignment.name, []).extend(inside)
        for name in sorted(refs):
            seen.add(name)
            bindings = [b for b in src.scope.assignments[name] if id(node_of(b)) not in moved_ids]
            if _classify(src, needs, name, bindings, refs[name]):
                scan_ids |= node_ids([body[needs.copies[-1]]])
                changed = True
    needs.copies.sort()
    needs.removable = _removable(src, needs, moved)
    return needs


def _classify(
    src: Analysed, needs: Needs, name: str, bindings: list[BaseAssignment], refs: list[Access]
) -> bool:
    """Record how ``name`` reaches the destination; True when a statement is to be copied."""
    lines = sorted({_top_index(src, node_of(b))[0] + 1 for b in bindings})
    imports = [b for b in bindings if isinstance(b, ImportAssignment)]
    # one import, or `import a` + `import a.b`: carry them all, in source order
    if len(imports) == len(bindings) == 1 or (
        len(imports) == len(bindings) and all(isinstance(node_of(b), cst.Import) for b in imports)
    ):
        imports.sort(key=lambda b: _top_index(src, node_of(b))[0])
        needs.carried += [_carry(src, name, b) for b in imports]
        return False
    if len(bindings) != 1:
        raise CodemodError(
            f"`{name}` is bound {len(bindings)} times at module level in {src.ref.name} "
            f"(top-level statements {lines}); the moved code uses it, and move_symbol cannot "
            "tell which binding it needs. Make it a single binding first."
        )
    index, _ = _top_index(src, node_of(bindings[0]))
    top = src.module.body[index]
    if _copyable(top):
        if index not in needs.copies:
            needs.copies.append(index)
            return True
        return False
    needs.local[name] = all(a.is_annotation for a in refs)
    return False


def _carry(src: Analysed, name: str, binding: BaseAssignment) -> Carried:
    node = node_of(binding)
    assert isinstance(node, cst.Import | cst.ImportFrom)
    index, guarded = _top_index(src, node)
    top = src.module.body[index]
    alias = alias_for(node, name)
    plain = isinstance(top, cst.SimpleStatementLine) and src.parents.get(node) is top
    if alias is None or not (plain or guarded):
        raise CodemodError(
            f"`{name}` is imported conditionally in {src.ref.name} (top-level statement "
            f"{index + 1}); move_symbol carries only plain top-level imports. Add that "
            "import to the destination module first (change_import / edit), then retry."
        )
    return Carried(name, alias, node, guarded)


def _removable(src: Analysed, needs: Needs, moved: list[int]) -> list[Carried]:
    """Plain imports of the source that nothing but the moved statements uses."""
    body = src.module.body
    moved_ids = node_ids([body[i] for i in moved])
    rest = src.module.with_changes(body=[s for i, s in enumerate(body) if i not in moved]).code
    out: list[Carried] = []
    for name in dict.fromkeys(c.name for c in needs.carried if not c.guarded):
        if "." in name:
            continue
        bindings = src.scope.assignments[name]
        if any(id(a.node) not in moved_ids for b in bindings for a in b.references):
            continue
        mine = [c for c in needs.carried if c.name == name]
        own = sum(_mentions(name, src.module.code_for_node(c.node)) for c in mine)
        if _mentions(name, rest) <= own:
            out += mine
    return out
