"""One module's definitions, classes and imports, read with ``ast`` (fast enough to run
on every file that might matter; the LibCST codemods then rewrite only those that do),
and the parameter lists (``Signature``) the signature codemods work with.

Local qualified names follow ``QualifiedNameProvider``'s scheme (``C.m``,
``f.<locals>.g``) so that the codemod, which tracks the same nesting, finds the same
definitions. Class bases are resolved through the module's own imports.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass, field

from planner.digest_types import absolute_module

log = logging.getLogger(__name__)

POSONLY, NORMAL, VARARGS, KWONLY, VARKW = "posonly", "normal", "varargs", "kwonly", "varkw"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ParamInfo:
    """One parameter: its name, kind, default and annotation as source text."""

    name: str
    kind: str
    default: str | None = None
    annotation: str | None = None

    def describe(self) -> str:
        star = {VARARGS: "*", VARKW: "**"}.get(self.kind, "")
        text = f"{star}{self.name}"
        if self.annotation:
            text += f": {self.annotation}"
        if self.default is not None:
            text += f" = {self.default}" if self.annotation else f"={self.default}"
        return text


@dataclass(frozen=True)
class Signature:
    """A function's parameters in order."""

    params: tuple[ParamInfo, ...]

    @property
    def positional(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.kind in (POSONLY, NORMAL))

    @property
    def varargs(self) -> str | None:
        return next((p.name for p in self.params if p.kind == VARARGS), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def get(self, name: str) -> ParamInfo | None:
        return next((p for p in self.params if p.name == name), None)

    def describe(self) -> str:
        parts: list[str] = []
        for param in self.params:
            bare = not any(p.kind == VARARGS for p in self.params)
            if param.kind == KWONLY and bare and "*" not in parts:
                parts.append("*")
            parts.append(param.describe())
            if param.kind == POSONLY and not any(
                p.kind == POSONLY for p in self.params[self.params.index(param) + 1 :]
            ):
                parts.append("/")
        return f"({', '.join(parts)})"


@dataclass(frozen=True)
class DefInfo:
    """One function or method definition (the last one when a name is defined twice)."""

    path: str
    module: str
    local: str  # qualname inside the module: f, C.m, f.<locals>.g
    name: str
    kind: str  # function | method | staticmethod | classmethod | property
    owner: str | None  # absolute qualname of the class a method is defined in
    line: int
    signature: Signature
    count: int = 1  # definitions under this name (overloads, conditional defs)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.local}"

    @property
    def is_method(self) -> bool:
        return self.owner is not None

    def bound_offset(self, access: str) -> int:
        """Leading positional parameters filled implicitly: ``instance``, ``class`` or ``plain``."""
        if self.owner is None or self.kind == "staticmethod" or access == "plain":
            return 0
        if self.kind == "classmethod":
            return 1
        return 1 if access == "instance" else 0

    def describe(self) -> str:
        return f"{self.qualname}{self.signature.describe()} ({self.path}:{self.line})"


@dataclass
class ClassInfo:
    """One class: its bases (absolute where the module's imports tell) and body attributes."""

    qualname: str
    local: str
    bases: list[str] = field(default_factory=list)
    attrs: set[str] = field(default_factory=set)


@dataclass
class ModuleInfo:
    """Top-level names, imports, classes and functions of one file."""

    path: str
    module: str
    defined: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> absolute name
    classes: dict[str, ClassInfo] = field(default_factory=dict)  # local qualname -> info
    functions: dict[str, DefInfo] = field(default_factory=dict)  # local qualname -> info


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain (a subscript ``G[T]`` counts as ``G``)."""
    if isinstance(node, ast.Subscript):
        return dotted(node.value)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def ast_decorator_kind(node: FunctionNode) -> str:
    """``staticmethod`` / ``classmethod`` / ``property`` / ``method`` from the decorators."""
    for deco in node.decorator_list:
        name = (dotted(deco) or "").rsplit(".", 1)[-1]
        if name in ("staticmethod", "classmethod"):
            return name
        if name in ("property", "cached_property", "setter", "getter", "deleter"):
            return "property"
    return "method"


def ast_signature(node: FunctionNode) -> Signature:
    """The ``Signature`` of a definition (defaults and annotations unparsed)."""
    args = node.args

    def info(arg: ast.arg, kind: str, default: ast.expr | None = None) -> ParamInfo:
        return ParamInfo(
            name=arg.arg,
            kind=kind,
            default=ast.unparse(default) if default is not None else None,
            annotation=ast.unparse(arg.annotation) if arg.annotation is not None else None,
        )

    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    params = [
        info(a, POSONLY if i < len(args.posonlyargs) else NORMAL, d)
        for i, (a, d) in enumerate(zip(positional, defaults, strict=True))
    ]
    if args.vararg:
        params.append(info(args.vararg, VARARGS))
    params += [info(a, KWONLY, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        params.append(info(args.kwarg, VARKW))
    return Signature(tuple(params))


class _Scanner(ast.NodeVisitor):
    def __init__(self, info: ModuleInfo, is_package: bool) -> None:
        self.info = info
        self.is_package = is_package
        self.stack: list[tuple[str, str]] = []  # (kind, local qualname)
        self.raw_bases: dict[str, list[str]] = {}

    def _local(self, name: str) -> str:
        if not self.stack:
            return name
        kind, parent = self.stack[-1]
        return f"{parent}.<locals>.{name}" if kind == "function" else f"{parent}.{name}"

    def _declare(self, name: str) -> None:
        if not self.stack:
            self.info.defined.add(name)
        elif self.stack[-1][0] == "class":
            self.info.classes[self.stack[-1][1]].attrs.add(name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        local = self._local(node.name)
        self._declare(node.name)
        self.info.classes[local] = ClassInfo(qualname=f"{self.info.module}.{local}", local=local)
        self.raw_bases[local] = [b for b in map(dotted, node.bases) if b]
        self.stack.append(("class", local))
        self.generic_visit(node)
        self.stack.pop()

    def _function(self, node: FunctionNode) -> None:
        local = self._local(node.name)
        owner: str | None = None
        kind = "function"
        if self.stack and self.stack[-1][0] == "class":
            owner = self.info.classes[self.stack[-1][1]].qualname
            kind = ast_decorator_kind(node)
        self._declare(node.name)
        previous = self.info.functions.get(local)
        self.info.functions[local] = DefInfo(
            path=self.info.path,
            module=self.info.module,
            local=local,
            name=node.name,
            kind=kind,
            owner=owner,
            line=node.lineno,
            signature=ast_signature(node),
            count=previous.count + 1 if previous else 1,
        )
        self.stack.append(("function", local))
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _targets(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._declare(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._targets(element)

    def visit_Assign(self, node: ast.Assign) -> None:
        if not self.stack or self.stack[-1][0] == "class":
            for target in node.targets:
                self._targets(target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not self.stack or self.stack[-1][0] == "class":
            self._targets(node.target)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        if self.stack:
            return
        for alias in node.names:
            if alias.asname:
                self.info.imports[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                self.info.imports[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.stack:
            return
        base = absolute_module(node.module or "", node.level, self.info.module, self.is_package)
        for alias in node.names:
            if alias.name != "*":
                full = f"{base}.{alias.name}" if base else alias.name
                self.info.imports[alias.asname or alias.name] = full

    def resolve_bases(self) -> None:
        """Bases made absolute through the module's imports and top-level names."""
        for local, raw in self.raw_bases.items():
            resolved = []
            for base in raw:
                head, _, rest = base.partition(".")
                if head in self.info.imports:
                    base = ".".join(p for p in (self.info.imports[head], rest) if p)
                elif head in self.info.defined:
                    base = f"{self.info.module}.{base}"
                resolved.append(base)
            self.info.classes[local].bases = resolved


def scan_module(path: str, module: str, is_package: bool, text: str) -> ModuleInfo | None:
    """The ``ModuleInfo`` of one file, or None when it does not parse."""
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        log.debug("signature scan: %s does not parse: %s", path, exc)
        return None
    info = ModuleInfo(path=path, module=module)
    scanner = _Scanner(info, is_package)
    scanner.visit(tree)
    scanner.resolve_bases()
    return info
