"""Repository-level name resolution for the symbol codemods (rename and friends).

LibCST metadata answers "what does this name mean *in this file*"; the questions
here span files and are answered with Python's ``ast`` (fast, C-implemented) on the
few files whose text contains the words involved:

- which ``(module, name)`` pairs refer to one symbol (re-exports, ``from x import *``);
- which classes belong to a class's family (its subclasses, transitively, anywhere);
- whether an attribute name is defined by any other class (for ``obj.attr`` renames).

``rename.target`` says what a target qualname points at.
"""

from __future__ import annotations

import ast
import builtins
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agent.codemods.base import RepoFiles
from planner.digest_types import absolute_module

log = logging.getLogger(__name__)

STAR_RE = re.compile(r"\bimport\s*\(?\s*\*")
BUILTIN_ATTRS: frozenset[str] = frozenset(
    attr for obj in vars(builtins).values() if isinstance(obj, type) for attr in dir(obj)
)


def word_re(word: str) -> re.Pattern[str]:
    """A regex matching ``word`` as a whole identifier."""
    return re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")


@dataclass
class ClassInfo:
    """A class defined at module level or nested in a class (not inside a function)."""

    qualpath: str  # ``Outer.Inner``
    bases: list[ast.expr]
    members: dict[str, str]  # name bound in the body -> kind (method / class / attribute)
    self_attrs: set[str]  # ``self.x = ...`` in its methods


@dataclass
class ModuleInfo:
    """The module-level bindings of one file, read with ``ast``."""

    path: str
    module: str
    is_package: bool
    tree: ast.Module
    defs: dict[str, str] = field(default_factory=dict)  # name -> function / class / variable
    from_imports: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (mod, name)
    module_imports: dict[str, str] = field(default_factory=dict)  # local -> module
    stars: list[str] = field(default_factory=list)
    all_names: list[str] | None = None  # None: no ``__all__``
    all_dynamic: bool = False
    classes: dict[str, ClassInfo] = field(default_factory=dict)

    def bound(self) -> set[str]:
        """Every name bound at module level."""
        return set(self.defs) | set(self.from_imports) | set(self.module_imports)

    def resolve(self, expr: ast.expr) -> str | None:
        """The dotted qualname an expression of module-level names stands for, if known."""
        if isinstance(expr, ast.Name):
            if expr.id in self.from_imports:
                mod, name = self.from_imports[expr.id]
                return f"{mod}.{name}"
            if expr.id in self.module_imports:
                return self.module_imports[expr.id]
            if expr.id in self.defs:
                return f"{self.module}.{expr.id}"
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None


def iter_top(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at module (or class body) level, through if/try/with/for."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While):
            yield from iter_top(stmt.body)
            yield from iter_top(stmt.orelse)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            yield from iter_top(stmt.body)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            yield from iter_top(stmt.body)
            for handler in stmt.handlers:
                yield from iter_top(handler.body)
            yield from iter_top(stmt.orelse)
            yield from iter_top(stmt.finalbody)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from _target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _str_list(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [str(e.value) for e in node.elts if isinstance(e, ast.Constant)]
    return None


def _read_all(info: ModuleInfo, stmt: ast.stmt) -> None:
    """Fold one ``__all__`` statement into ``info.all_names``."""
    value: ast.expr | None = None
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
    ):
        info.all_names, value = [], stmt.value
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and (
        isinstance(stmt.target, ast.Name) and stmt.target.id == "__all__"
    ):
        value = stmt.value
        if isinstance(stmt, ast.AnnAssign):
            info.all_names = []
    elif (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and isinstance(stmt.value.func.value, ast.Name)
        and stmt.value.func.value.id == "__all__"
        and stmt.value.args
    ):
        arg = stmt.value.args[0]
        value = ast.List(elts=[arg]) if stmt.value.func.attr == "append" else arg
    if value is None:
        return
    names = _str_list(value)
    if names is None:
        info.all_dynamic = True
    else:
        info.all_names = (info.all_names or []) + names


def _class_info(qualpath: str, node: ast.ClassDef) -> ClassInfo:
    members: dict[str, str] = {}
    self_attrs: set[str] = set()
    for stmt in iter_top(node.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            members[stmt.name] = "method"
            args = stmt.args.posonlyargs + stmt.args.args
            if args:
                me = args[0].arg
                for sub in ast.walk(stmt):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.ctx, ast.Store)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == me
                    ):
                        self_attrs.add(sub.attr)
        elif isinstance(stmt, ast.ClassDef):
            members[stmt.name] = "class"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                members.update(dict.fromkeys(_target_names(target), "attribute"))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            members.update(dict.fromkeys(_target_names(stmt.target), "attribute"))
    return ClassInfo(qualpath, list(node.bases), members, self_attrs)


def _collect_classes(info: ModuleInfo, body: list[ast.stmt], prefix: str) -> None:
    for stmt in iter_top(body):
        if isinstance(stmt, ast.ClassDef):
            qualpath = f"{prefix}{stmt.name}"
            info.classes[qualpath] = _class_info(qualpath, stmt)
            _collect_classes(info, stmt.body, qualpath + ".")


def read_module(path: str, module: str, text: str) -> ModuleInfo | None:
    """Parse one file's module-level bindings; None when it is not valid Python."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        log.debug("%s does not parse: %s", path, exc)
        return None
    is_package = path.endswith("__init__.py")
    info = ModuleInfo(path, module, is_package, tree)
    for stmt in iter_top(tree.body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            info.defs[stmt.name] = "function"
        elif isinstance(stmt, ast.ClassDef):
            info.defs[stmt.name] = "class"
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                info.defs.update(dict.fromkeys(_target_names(target), "variable"))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            info.defs.update(dict.fromkeys(_target_names(stmt.target), "variable"))
        elif isinstance(stmt, ast.ImportFrom):
            src = absolute_module(stmt.module or "", stmt.level, module, is_package)
            for alias in stmt.names:
                if alias.name == "*":
                    info.stars.append(src)
                else:
                    info.from_imports[alias.asname or alias.name] = (src, alias.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    info.module_imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    info.module_imports[top] = top
        _read_all(info, stmt)
    _collect_classes(info, tree.body, "")
    return info


@dataclass(frozen=True)
class Family:
    """A class and every class deriving from it in the repository."""

    root: tuple[str, str]  # (module, class qualpath)
    members: frozenset[tuple[str, str]]
    fqs: frozenset[str]  # every dotted name any member is reachable by
    root_fqs: frozenset[str]
    names: frozenset[str]  # the local names the members go by


class RepoIndex:
    """Lazy, cached ``ast`` view of a ``RepoFiles`` snapshot."""

    def __init__(self, files: RepoFiles) -> None:
        self.files = files
        self.by_module: dict[str, str] = {}
        for path, module in sorted(files.modules.items()):
            self.by_module.setdefault(module, path)
        self._infos: dict[str, ModuleInfo | None] = {}
        self._words: dict[str, list[str]] = {}
        self._stars: list[str] | None = None

    def info(self, path: str) -> ModuleInfo | None:
        """The module-level bindings of ``path`` (None when it does not parse)."""
        if path not in self._infos:
            self._infos[path] = read_module(
                path, self.files.modules[path], self.files.sources[path]
            )
        return self._infos[path]

    def module_info(self, module: str) -> ModuleInfo | None:
        """``info`` of the file that defines ``module``, if the repository has it."""
        path = self.by_module.get(module)
        return self.info(path) if path else None

    def files_with(self, word: str) -> list[str]:
        """Paths whose text contains ``word`` as a whole identifier (sorted)."""
        if word not in self._words:
            rx = word_re(word)
            self._words[word] = [
                p
                for p, text in sorted(self.files.sources.items())
                if word in text and rx.search(text)
            ]
        return self._words[word]

    def files_with_all(self, words: Iterable[str]) -> list[str]:
        """Paths containing every one of ``words``."""
        found: set[str] | None = None
        for word in words:
            paths = set(self.files_with(word))
            found = paths if found is None else found & paths
        return sorted(found or ())

    def star_files(self) -> list[str]:
        """Paths with a ``from x import *``."""
        if self._stars is None:
            self._stars = [
                p
                for p, text in sorted(self.files.sources.items())
                if "*" in text and STAR_RE.search(text)
            ]
        return self._stars

    def star_exports(self, module: str, name: str) -> bool:
        """Whether ``from module import *`` brings ``name`` in."""
        info = self.module_info(module)
        if info is None:
            return False
        if info.all_dynamic or info.all_names is None:
            return info.all_dynamic or not name.startswith("_")
        return name in info.all_names

    def aliases(self, module: str, name: str) -> set[tuple[str, str]]:
        """Every ``(module, local name)`` bound at module level to ``module.name``."""
        found = {(module, name)}
        scanned: set[str] = set()
        paths: set[str] = set(self.star_files())
        changed = True
        while changed:
            changed = False
            for word in {n for _, n in found} - scanned:
                scanned.add(word)
                paths.update(self.files_with(word))
            for path in sorted(paths):
                info = self.info(path)
                if info is None:
                    continue
                new = {
                    (info.module, local)
                    for local, origin in info.from_imports.items()
                    if origin in found
                }
                new |= {
                    (info.module, n)
                    for star in info.stars
                    for m, n in list(found)
                    if m == star and self.star_exports(m, n)
                }
                if new - found:
                    found |= new
                    changed = True
        return found

    def family(self, module: str, classpath: str) -> Family:
        """The class ``module.classpath`` and its subclasses anywhere in the repository."""
        outer, _, inner = classpath.partition(".")
        suffix = f".{inner}" if inner else ""
        root_aliases = self.aliases(module, outer)
        root_fqs = {f"{m}.{n}{suffix}" for m, n in root_aliases}
        fqs, names = set(root_fqs), {n for _, n in root_aliases} | {classpath.split(".")[-1]}
        members = {(module, classpath)}
        scanned: set[str] = set()
        paths: set[str] = set()
        changed = True
        while changed:
            changed = False
            for word in names - scanned:
                scanned.add(word)
                paths.update(self.files_with(word))
            for path in sorted(paths):
                info = self.info(path)
                if info is None:
                    continue
                for cls in info.classes.values():
                    key = (info.module, cls.qualpath)
                    if key in members or not any(info.resolve(b) in fqs for b in cls.bases):
                        continue
                    members.add(key)
                    changed = True
                    top, _, rest = cls.qualpath.partition(".")
                    tail = f".{rest}" if rest else ""
                    for m, n in self.aliases(info.module, top):
                        fqs.add(f"{m}.{n}{tail}")
                        names.add(n)
                    names.add(cls.qualpath.split(".")[-1])
        return Family(
            (module, classpath),
            frozenset(members),
            frozenset(fqs),
            frozenset(root_fqs),
            frozenset(names),
        )

    def other_definers(self, attr: str, family: Family) -> list[str]:
        """Why ``obj.attr`` cannot be assumed to mean the family's attribute (empty: it can)."""
        if attr in BUILTIN_ATTRS:
            return [f"builtin types define {attr!r}"]
        found: list[str] = []
        tops = {m.split(".")[0] for m in self.by_module}
        for module, qualpath in sorted(family.members):
            info = self.module_info(module)
            cls = info.classes.get(qualpath) if info else None
            for base in cls.bases if info and cls else ():
                target = info.resolve(base) if info else None
                if target and target.split(".")[0] not in tops:
                    found.append(f"{module}.{qualpath}'s base {target} (outside the repository)")
        for path in self.files_with(attr):
            other = self.info(path)
            if other is None:
                continue
            for cls in other.classes.values():
                if (other.module, cls.qualpath) not in family.members and (
                    attr in cls.members or attr in cls.self_attrs
                ):
                    found.append(f"{other.module}.{cls.qualpath}")
        return found
