"""Find, in one file, the nodes that refer to a symbol — with LibCST scope metadata.

``FileScopes`` wraps the ``ScopeProvider`` result of a (focused) module and resolves
expressions to fully qualified names (relative imports made absolute). ``find_symbol``
handles a module-level symbol (its definition, ``from``-imports and their local
bindings, ``mod.symbol`` attributes, star imports, ``__all__``, string annotations);
``find_member`` handles a class attribute or method (its definitions in the class
family, ``self``/``cls``/``type(self)``, ``ClassName.attr``, ``super().attr`` in
subclasses, and ``obj.attr`` when the name is unambiguous). Shadowing locals and
parameters never match: a name is only taken when its scope binding is the symbol's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Assignment,
    ClassScope,
    GlobalScope,
    QualifiedNameSource,
)

from agent.codemods.index.bindings import Family
from planner.digest_types import absolute_module

BindingKind = str  # "name": rename the imported name; "asname": rename the alias; "as": add one


@dataclass
class Refs:
    """The nodes of one file that are, or refer to, the symbol."""

    names: set[cst.Name] = field(default_factory=set)  # definitions and uses to rename
    attributes: set[cst.Attribute] = field(default_factory=set)  # ``x.symbol`` forms
    uses: set[cst.CSTNode] = field(default_factory=set)  # expressions evaluating to the symbol
    strings: set[cst.SimpleString] = field(default_factory=set)  # string annotations
    all_strings: set[cst.SimpleString] = field(default_factory=set)  # ``__all__`` entries
    imports: dict[cst.ImportAlias, set[BindingKind]] = field(default_factory=dict)
    definitions: list[cst.CSTNode] = field(default_factory=list)  # def / class / target nodes


class Collector(cst.CSTVisitor):
    """One pass over a view: the nodes the finders need, their class context, parents."""

    def __init__(self, words: Collection[str]) -> None:
        super().__init__()
        self.words = words
        self.attributes: list[tuple[cst.Attribute, str | None]] = []
        self.calls: list[cst.Call] = []
        self.import_froms: list[cst.ImportFrom] = []
        self.global_names: list[cst.Name] = []
        self.classes: list[tuple[cst.ClassDef, str]] = []
        self.methods: list[tuple[cst.FunctionDef, str]] = []
        self.all_strings: list[cst.SimpleString] = []
        self.star_modules: list[cst.ImportFrom] = []
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._stack: list[tuple[str, str]] = []  # ("class" | "def", name)
        self._nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._nodes:
            self.parents[node] = self._nodes[-1]
        self._nodes.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self._nodes.pop()

    def _class_path(self) -> str | None:
        if any(kind != "class" for kind, _ in self._stack):
            return None
        return ".".join(name for _, name in self._stack)

    def _method_class(self) -> str | None:
        """The class whose method body we are in (for ``super()``)."""
        for i in range(len(self._stack) - 1, 0, -1):
            if self._stack[i][0] == "def" and self._stack[i - 1][0] == "class":
                prefix = self._stack[:i]
                if all(kind == "class" for kind, _ in prefix):
                    return ".".join(name for _, name in prefix)
                return None
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._stack.append(("class", node.name.value))
        path = self._class_path()
        if path is not None:
            self.classes.append((node, path))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owner = self._class_path() if self._stack and self._stack[-1][0] == "class" else None
        if owner is not None:
            self.methods.append((node, owner))
        self._stack.append(("def", node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self.words:
            self.attributes.append((node, self._method_class()))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = func.attr if isinstance(func, cst.Attribute) else func
        if isinstance(last, cst.Name) and last.value in self.words:
            self.calls.append(node)
        if (
            not self._stack
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "__all__"
            and func.attr.value in ("append", "extend")
        ):
            self.all_strings.extend(_strings_in(node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(node)
        else:
            self.import_froms.append(node)

    def visit_Global(self, node: cst.Global) -> None:
        self.global_names.extend(i.name for i in node.names if i.name.value in self.words)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._stack and any(_is_all(t.target) for t in node.targets):
            self.all_strings.extend(_strings_in(node.value))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self._stack and _is_all(node.target):
            self.all_strings.extend(_strings_in(node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self._stack and _is_all(node.target) and node.value is not None:
            self.all_strings.extend(_strings_in(node.value))


def _is_all(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "__all__"


class _Strings(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.SimpleString] = []

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.found.append(node)


def _strings_in(node: cst.CSTNode) -> list[cst.SimpleString]:
    visitor = _Strings()
    node.visit(visitor)
    return visitor.found


def import_module_of(node: cst.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from`` import reads from."""
    dotted = get_full_name_for_node(node.module) if node.module else ""
    return absolute_module(dotted or "", len(node.relative), module, is_package)


def alias_binding(alias: cst.ImportAlias) -> str | None:
    """The local name an import alias binds (``None`` for ``import a.b`` without ``as``)."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return alias.name.value if isinstance(alias.name, cst.Name) else None


class FileScopes:
    """Scope metadata of one module, and qualified-name resolution on it."""

    def __init__(
        self,
        scopes: Mapping[cst.CSTNode, Any],
        module: str,
        is_package: bool,
        repo_modules: Collection[str],
    ) -> None:
        self.scopes = scopes
        self.module = module
        self.is_package = is_package
        self.repo_modules = repo_modules
        self.all_scopes = {s for s in scopes.values() if s is not None}
        self.class_scopes = {s.node: s for s in self.all_scopes if isinstance(s, ClassScope)}
        self.top_packages = {m.split(".")[0] for m in repo_modules}

    def qualified(self, node: cst.CSTNode) -> set[tuple[str, QualifiedNameSource]]:
        """Fully qualified names ``node`` may stand for, with where each came from."""
        scope = self.scopes.get(node)
        out: set[tuple[str, QualifiedNameSource]] = set()
        for q in scope.get_qualified_names_for(node) if scope else ():
            name = q.name
            if q.source is QualifiedNameSource.IMPORT and name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                name = absolute_module(name[level:], level, self.module, self.is_package)
            elif q.source is QualifiedNameSource.LOCAL:
                name = f"{self.module}.{name}"
            out.add((name, q.source))
        return out

    def fq_names(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names of ``node``, builtins left out."""
        return {n for n, src in self.qualified(node) if src is not QualifiedNameSource.BUILTIN}

    def is_objectish(self, node: cst.BaseExpression) -> bool:
        """Not a module, not an external library's object, not a builtin."""
        tops = self.top_packages
        for name, source in self.qualified(node):
            if source is QualifiedNameSource.BUILTIN or name in self.repo_modules:
                return False
            if source is QualifiedNameSource.IMPORT and name.split(".")[0] not in tops:
                return False
        return True


def _binding_nodes(assignment: Assignment, name: str) -> Iterator[cst.CSTNode]:
    """The nodes that carry the bound name: a Name, or an ImportAlias."""
    node = assignment.node
    if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Param):
        yield node.name
    elif isinstance(node, cst.Name):
        yield node
    elif isinstance(node, cst.Import | cst.ImportFrom) and not isinstance(
        node.names, cst.ImportStar
    ):
        yield from (a for a in node.names if alias_binding(a) == name)
    elif isinstance(getattr(node, "name", None), cst.Name):
        yield node.name  # type: ignore[attr-defined]


def _add_group(refs: Refs, group: list[Assignment], name: str, *, rename: bool) -> None:
    """Every binding and use of ``name`` in one scope (renamed only when ``rename``)."""
    for assignment in group:
        if rename:
            refs.definitions.append(assignment.node)
            refs.names.update(
                b for b in _binding_nodes(assignment, name) if isinstance(b, cst.Name)
            )
        for access in assignment.references:
            if isinstance(access.node, cst.Name):
                refs.uses.add(access.node)
                if rename:
                    refs.names.add(access.node)
            elif isinstance(access.node, cst.SimpleString) and rename:
                refs.strings.add(access.node)


def find_symbol(
    col: Collector, fs: FileScopes, name: str, module: str, pairs: Collection[tuple[str, str]]
) -> Refs:
    """References to the module-level symbol ``module.name`` in one file.

    ``pairs`` are the ``(module, local name)`` bindings of the symbol across the
    repository. Only bindings called ``name`` are renamed (``names``, ``attributes``,
    ``imports``, ``all_strings``); ``uses`` holds every expression evaluating to the
    symbol, aliases included.
    """
    refs = Refs()
    fqs = {f"{m}.{n}" for m, n in pairs}
    importing: dict[cst.ImportAlias, str] = {}
    for node in col.import_froms:
        src = import_module_of(node, fs.module, fs.is_package)
        for alias in node.names if not isinstance(node.names, cst.ImportStar) else ():
            binding = alias_binding(alias)
            if isinstance(alias.name, cst.Name) and (src, alias.name.value) in pairs and binding:
                importing[alias] = binding
                if alias.name.value == name:
                    refs.imports.setdefault(alias, set()).add("name")
    for scope in fs.all_scopes:
        for local in {name, *importing.values()}:
            group = [a for a in scope.assignments[local] if isinstance(a, Assignment)]
            own = local == name and isinstance(scope, GlobalScope) and fs.module == module
            if not group or not (
                own or any(b in importing for a in group for b in _binding_nodes(a, local))
            ):
                continue
            _add_group(refs, group, local, rename=local == name)
            if local != name:
                continue
            for assignment in group:
                for bound in _binding_nodes(assignment, name):
                    if isinstance(bound, cst.ImportAlias):
                        kinds = refs.imports.setdefault(bound, set())
                        if bound.asname is not None:
                            kinds.add("asname")
                        elif not kinds:
                            kinds.add("as")
            if isinstance(scope, GlobalScope):
                refs.names.update(n for n in col.global_names if n.value == name)
    for star in col.star_modules:
        src = import_module_of(star, fs.module, fs.is_package)
        for local in {n for m, n in pairs if m == src}:
            for scope in fs.all_scopes:
                for access in scope.accesses[local]:
                    if not access.referents and isinstance(access.node, cst.Name):
                        refs.uses.add(access.node)
                        if local == name:
                            refs.names.add(access.node)
    for attr, _ in col.attributes:
        if fs.fq_names(attr) & fqs:
            refs.uses.add(attr)
            if attr.attr.value == name:
                refs.attributes.add(attr)
    if (fs.module, name) in pairs:
        refs.all_strings.update(s for s in col.all_strings if s.evaluated_value == name)
    return refs


def _is_self(fs: FileScopes, node: cst.BaseExpression, self_params: set[cst.Param]) -> bool:
    if not isinstance(node, cst.Name):
        return False
    scope = fs.scopes.get(node)
    return scope is not None and any(
        isinstance(a, Assignment) and a.node in self_params for a in scope[node.value]
    )


def _receiver_is_family(
    fs: FileScopes,
    value: cst.BaseExpression,
    self_params: set[cst.Param],
    family: Family,
    method_class: str | None,
) -> bool:
    if _is_self(fs, value, self_params):
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        if value.func.value == "super":
            key = (fs.module, method_class or "")
            return key in family.members and key != family.root
        if value.func.value == "type" and len(value.args) == 1:
            return _is_self(fs, value.args[0].value, self_params)
    if isinstance(value, cst.Attribute) and value.attr.value == "__class__":
        return _is_self(fs, value.value, self_params)
    return bool(fs.fq_names(value) & family.fqs)


def find_member(
    col: Collector, fs: FileScopes, name: str, family: Family, instance_ok: bool
) -> Refs:
    """References to attribute ``name`` of the classes in ``family`` in one file."""
    refs = Refs()
    here = {path for module, path in family.members if module == fs.module}
    for node, path in col.classes:
        scope = fs.class_scopes.get(node)
        if path in here and scope is not None:
            group = [a for a in scope.assignments[name] if isinstance(a, Assignment)]
            _add_group(refs, group, name, rename=True)
    self_params: set[cst.Param] = set()
    for func, owner in col.methods:
        static = any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
            for d in func.decorators
        )
        params = [*func.params.posonly_params, *func.params.params]
        if owner in here and params and not static:
            self_params.add(params[0])
    for attr, method_class in col.attributes:
        if attr.attr.value != name:
            continue
        if _receiver_is_family(fs, attr.value, self_params, family, method_class) or (
            instance_ok and fs.is_objectish(attr.value)
        ):
            refs.attributes.add(attr)
            refs.uses.add(attr)
    return refs
