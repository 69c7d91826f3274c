"""One Python file → ``FileDigest``: definitions, references and imports, via stdlib ``ast``.

``parse_source`` never raises for bad input: a file that does not parse becomes a
``FileDigest`` with ``parse_error`` set and nothing else. Names are resolved per
file only: a reference's ``target`` is the dotted name its imports (or the
file's own definitions, or ``self``) make it stand for, e.g. ``m.f()`` after
``import pkg.a as m`` targets ``pkg.a.f``. Following re-exports across files is
the repository digest's job.
"""

from __future__ import annotations

import ast
import builtins
import logging
from dataclasses import replace
from typing import Any

from planner.digest_ast import (
    Scope,
    all_strings,
    is_all_extension,
    params_of,
    short,
    target_names,
)
from planner.digest_scopes import _LOCAL, _SELF, ScopeTracker
from planner.digest_types import (
    Definition,
    DefinitionKind,
    FileDigest,
    Import,
    Reference,
    ReferenceKind,
)

log = logging.getLogger(__name__)

_BUILTINS = frozenset(dir(builtins))


def parse_source(path: str, module: str, text: str, sha256: str) -> FileDigest:
    """Digest one file's source; a syntax error gives a digest with ``parse_error`` only."""
    try:
        tree = ast.parse(text, filename=path)
        collector = _Collector(path, module)
        collector.run(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        where = f"line {exc.lineno}: " if isinstance(exc, SyntaxError) and exc.lineno else ""
        message = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        error = f"{type(exc).__name__}: {where}{message}"
        log.warning("could not parse %s (%s); it is indexed without symbols", path, error)
        return FileDigest(path=path, module=module, sha256=sha256, parse_error=error)
    all_names = None if collector.all_names is None else tuple(collector.all_names)
    definitions = collector.defs
    if all_names:
        exported = set(all_names)
        definitions = [
            replace(d, in_all=True) if d.parent is None and d.name in exported else d
            for d in definitions
        ]
    return FileDigest(
        path=path,
        module=module,
        sha256=sha256,
        definitions=tuple(definitions),
        references=tuple(collector.refs),
        imports=tuple(collector.imports),
        all_names=all_names,
    )


class _Collector(ScopeTracker):
    """Walks one module once, tracking scopes so that names resolve to dotted targets."""

    def __init__(self, path: str, module: str) -> None:
        super().__init__(path, module)
        self.defs: list[Definition] = []
        self.refs: list[Reference] = []
        self.imports: list[Import] = []
        self.all_names: list[str] | None = None
        self._defined: set[str] = set()

    # -- scopes and name resolution ---------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self.owner = Scope("module", self.module, self._block_bindings(tree.body, self.module))
        self.scopes.append(self.owner)
        for stmt in tree.body:
            self.visit(stmt)

    def _ref(self, name: str, kind: ReferenceKind, line: int, target: str | None) -> None:
        self.refs.append(Reference(name, kind, self.path, line, self.owner.qualname, target))

    # -- definitions ------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        owner = self.owner
        qualname = f"{owner.qualname}.{node.name}"
        self._bind_local(node.name, qualname)
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        signature = f"{prefix} {node.name}({ast.unparse(node.args)})"
        if node.returns is not None:
            signature += f" -> {ast.unparse(node.returns)}"
        decorators = tuple(ast.unparse(d) for d in node.decorator_list)
        self._add_def(
            node,
            qualname,
            node.name,
            "method" if owner.kind == "class" else "function",
            signature,
            params=params_of(node.args),
            docstring=ast.get_docstring(node),
            decorators=decorators,
        )
        args = node.args
        for expr in (*node.decorator_list, *args.defaults, *args.kw_defaults, node.returns):
            if expr is not None:
                self.visit(expr)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        bindings: dict[str, str] = {}
        for arg in every:
            if arg is not None:
                bindings[arg.arg] = _LOCAL
                if arg.annotation is not None:
                    self.visit(arg.annotation)
                    if arg in (args.vararg, args.kwarg):
                        continue
                    typed = self._annotated_class(arg.annotation)
                    if typed:  # `formatter: HelpFormatter`: `formatter.m()` reaches its `m`
                        bindings[arg.arg] = _SELF + typed
        positional = (*args.posonlyargs, *args.args)
        if owner.kind == "class" and positional and "staticmethod" not in decorators:
            bindings[positional[0].arg] = _SELF + owner.qualname
        previous = self._push(Scope("function", qualname, bindings))
        for stmt in node.body:
            self.visit(stmt)
        self._pop(previous)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = f"{self.owner.qualname}.{node.name}"
        self._bind_local(node.name, qualname)
        bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
        signature = f"class {node.name}({', '.join(bases)})" if bases else f"class {node.name}"
        self._add_def(
            node,
            qualname,
            node.name,
            "class",
            signature,
            docstring=ast.get_docstring(node),
            decorators=tuple(ast.unparse(d) for d in node.decorator_list),
        )
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit(expr)
        previous = self._push(Scope("class", qualname, self._block_bindings(node.body, qualname)))
        for stmt in node.body:
            self.visit(stmt)
        self._pop(previous)

    def _add_def(
        self,
        node: ast.stmt,
        qualname: str,
        name: str,
        kind: DefinitionKind,
        signature: str,
        **extra: Any,
    ) -> None:
        self._defined.add(qualname)
        self.defs.append(
            Definition(
                qualname=qualname,
                name=name,
                kind=kind,
                module=self.module,
                path=self.path,
                line=node.lineno,
                end_line=node.end_lineno or node.lineno,
                signature=signature,
                parent=None if self.owner.kind == "module" else self.owner.qualname,
                **extra,
            )
        )

    def _assignment(self, node: ast.stmt, targets: list[ast.expr], value: ast.expr | None) -> None:
        if self.owner.kind not in ("module", "class"):
            return
        annotation = getattr(node, "annotation", None)
        for target in targets:
            for name_node in target_names(target):
                name = name_node.id
                qualname = f"{self.owner.qualname}.{name}"
                if name == "__all__" or qualname in self._defined:
                    continue
                sig = name if annotation is None else f"{name}: {short(annotation)}"
                if value is not None and len(targets) == 1 and target is name_node:
                    sig += f" = {short(value)}"
                kind: DefinitionKind = "constant" if name.isupper() else "variable"
                self._add_def(node, qualname, name, kind, sig)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assignment(node, node.targets, node.value)
        if self.owner.kind == "module" and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            self.all_names = []
            self._add_all(all_strings(node.value))
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._assignment(node, [node.target], node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name) and target.id == "__all__":
            self._add_all(all_strings(node.value))
        self.generic_visit(node)

    def _add_all(self, strings: list[ast.Constant]) -> None:
        if self.owner.kind != "module":
            return
        if self.all_names is None:
            self.all_names = []
        for const in strings:
            name = str(const.value)
            self.all_names.append(name)
            self._ref(name, "all", const.lineno, f"{self.module}.{name}")

    # -- bindings made inside functions -----------------------------------------------

    def _declare(self, node: ast.Global | ast.Nonlocal) -> None:
        scope = self.scopes[-1]
        scope.declared.update(node.names)
        for name in node.names:
            scope.bindings.pop(name, None)

    visit_Global = _declare
    visit_Nonlocal = _declare

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind_local(node.name)
        self.generic_visit(node)

    def _match_name(self, node: ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self._bind_local(node.name)
        self.generic_visit(node)

    visit_MatchAs = _match_name
    visit_MatchStar = _match_name

    # -- imports and references -------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.imports.append(Import(a.name, None, a.asname, node.lineno, 0))
            self._ref(a.name, "import", node.lineno, a.name)
        for name, target in self._import_bindings(node):
            self._bind_local(name, target)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        base = self._abs(module, node.level)
        for a in node.names:
            self.imports.append(Import(module, a.name, a.asname, node.lineno, node.level))
            if a.name != "*":
                target = f"{base}.{a.name}" if base else a.name
                self._ref(a.name, "import", node.lineno, target)
        for name, target in self._import_bindings(node):
            self._bind_local(name, target)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            found = self._lookup(func.id)
            if found or (found is None and func.id not in _BUILTINS):
                target = found.removeprefix(_SELF) if found else None
                self._ref(func.id, "call", func.lineno, target)
        elif isinstance(func, ast.Attribute):
            self._ref(func.attr, "call", func.lineno, self._dotted(func))
            if is_all_extension(node):
                arg = node.args[0]
                is_str = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                self._add_all([arg] if is_str else all_strings(arg))  # type: ignore[list-item]
            self.visit(func.value)
        else:
            self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._ref(node.attr, "attribute", node.lineno, self._dotted(node))
        self.visit(node.value)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            found = self._lookup(node.id)
            if found and not found.startswith(_SELF):
                self._ref(node.id, "name", node.lineno, found)
        else:
            self._bind_local(node.id)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        bindings = {n.lstrip("*"): _LOCAL for n in params_of(node.args)}
        previous = self._push(Scope("comprehension", "", bindings))
        self.visit(node.body)
        self._pop(previous)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        bindings = {n.id: _LOCAL for gen in node.generators for n in target_names(gen.target)}
        previous = self._push(Scope("comprehension", "", bindings))
        self.generic_visit(node)
        self._pop(previous)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension
