"""One repository index for every codemod family: a lazily read view of a ``RepoFiles`` snapshot.

Shared: the module maps and the text pre-filters (which files mention a word, which match a
pattern, which star-import), so that a codemod parses only the files that can matter. Two
readers, each cached per file:

- ``bindings(path)`` (``index.bindings``): module-level bindings, ``__all__``, class members —
  what the symbol codemods (rename and friends) ask: ``aliases``, ``family``,
  ``other_definers``;
- ``definitions(path)`` (``index.definitions``): functions with their signatures, classes with
  resolved bases, imports — what the signature codemods ask: ``canonical`` (follow
  re-exports), ``lookup`` (which class of the MRO defines an attribute), ``subclasses``,
  ``call_pattern``.

The codemods get qualified names from LibCST's ``QualifiedNameProvider``; ``canonical``
follows them home through the repository's imports and re-exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.codemods.base import RepoFiles
from agent.codemods.index.bindings import (
    BUILTIN_ATTRS,
    STAR_RE,
    Family,
    ModuleInfo,
    read_module,
    word_re,
)
from agent.codemods.index.definitions import ClassInfo as DefClass
from agent.codemods.index.definitions import DefInfo, scan_module
from agent.codemods.index.definitions import ModuleInfo as DefModule

MAX_ALIAS_HOPS = 8


class RepoIndex:
    """Lazy, cached ``ast`` view of a ``RepoFiles`` snapshot, shared by one operation's codemods."""

    def __init__(self, files: RepoFiles) -> None:
        self.files = files
        # Two paths can name one module (``m.py`` and ``m/__init__.py``): the symbol
        # codemods keep the first path in sorted order, the signature codemods the last.
        self.by_module: dict[str, str] = {}
        for path, module in sorted(files.modules.items()):
            self.by_module.setdefault(module, path)
        self.path_by_module = {m: p for p, m in sorted(files.modules.items())}
        self._bindings: dict[str, ModuleInfo | None] = {}
        self._definitions: dict[str, DefModule | None] = {}
        self._words: dict[str, list[str]] = {}
        self._stars: list[str] | None = None

    # -- files and modules -------------------------------------------------------------

    def is_package(self, path: str) -> bool:
        return path == "__init__.py" or path.endswith("/__init__.py")

    def module_of(self, path: str) -> str:
        return self.files.modules.get(path) or path.removesuffix(".py").replace("/", ".")

    def definitions(self, path: str) -> DefModule | None:
        """The parsed module at ``path`` (None when it does not parse)."""
        if path not in self._definitions:
            self._definitions[path] = self._scan(path)
        return self._definitions[path]

    def _scan(self, path: str) -> DefModule | None:
        return scan_module(
            path, self.module_of(path), self.is_package(path), self.files.sources[path]
        )

    def paths_matching(self, patterns: Iterable[str]) -> list[str]:
        """Files whose text matches any of the regular expressions (cheap pre-filter)."""
        wanted = [re.compile(p) for p in set(patterns) if p]
        return sorted(
            p for p, text in self.files.sources.items() if any(w.search(text) for w in wanted)
        )

    def paths_mentioning(self, names: Iterable[str]) -> list[str]:
        """Files that contain any of ``names`` as a word."""
        return self.paths_matching(rf"\b{re.escape(n)}\b" for n in names if n)

    def split_module(self, name: str) -> tuple[str, list[str]] | None:
        """``pkg.mod.C.m`` → (``pkg.mod``, [``C``, ``m``]) for the longest known module prefix."""
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module in self.path_by_module:
                return module, parts[cut:]
        return None

    def module_definitions(self, module: str) -> DefModule | None:
        path = self.path_by_module.get(module)
        return self.definitions(path) if path is not None else None

    def bindings(self, path: str) -> ModuleInfo | None:
        """The module-level bindings of ``path`` (None when it does not parse)."""
        if path not in self._bindings:
            self._bindings[path] = read_module(
                path, self.files.modules[path], self.files.sources[path]
            )
        return self._bindings[path]

    def module_bindings(self, module: str) -> ModuleInfo | None:
        """``bindings`` of the file that defines ``module``, if the repository has it."""
        path = self.by_module.get(module)
        return self.bindings(path) if path else None

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
        info = self.module_bindings(module)
        if info is None:
            return False
        if info.all_dynamic or info.all_names is None:
            return info.all_dynamic or not name.startswith("_")
        return name in info.all_names

    # -- names: the symbol codemods ----------------------------------------------------

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
                info = self.bindings(path)
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
                info = self.bindings(path)
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
            info = self.module_bindings(module)
            cls = info.classes.get(qualpath) if info else None
            for base in cls.bases if info and cls else ():
                target = info.resolve(base) if info else None
                if target and target.split(".")[0] not in tops:
                    found.append(f"{module}.{qualpath}'s base {target} (outside the repository)")
        for path in self.files_with(attr):
            other = self.bindings(path)
            if other is None:
                continue
            for cls in other.classes.values():
                if (other.module, cls.qualpath) not in family.members and (
                    attr in cls.members or attr in cls.self_attrs
                ):
                    found.append(f"{other.module}.{cls.qualpath}")
        return found

    # -- names: the signature codemods -------------------------------------------------

    def canonical(self, name: str) -> str:
        """Follow imports and re-exports to where ``name`` is defined (unchanged if unknown)."""
        for _ in range(MAX_ALIAS_HOPS):
            split = self.split_module(name)
            if split is None or not split[1]:
                return name
            module, rest = split
            info = self.module_definitions(module)
            if info is None or rest[0] in info.defined:
                return name
            target = info.imports.get(rest[0])
            if target is None or target == name:
                return name
            name = ".".join([target, *rest[1:]])
        return name

    def class_info(self, name: str) -> DefClass | None:
        split = self.split_module(self.canonical(name))
        if split is None or not split[1]:
            return None
        info = self.module_definitions(split[0])
        return info.classes.get(".".join(split[1])) if info else None

    def def_info(self, qualname: str) -> DefInfo | None:
        split = self.split_module(qualname)
        if split is None or not split[1]:
            return None
        info = self.module_definitions(split[0])
        return info.functions.get(".".join(split[1])) if info else None

    def lookup(self, cls: str, attr: str) -> str | None:
        """The class (absolute qualname) whose body defines ``attr`` first in ``cls``'s MRO."""
        seen: set[str] = set()

        def walk(name: str) -> str | None:
            info = self.class_info(name)
            if info is None or info.qualname in seen:
                return None
            seen.add(info.qualname)
            if attr in info.attrs:
                return info.qualname
            for base in info.bases:
                found = walk(base)
                if found is not None:
                    return found
            return None

        return walk(cls)

    def lookup_after(self, cls: str, attr: str) -> str | None:
        """Like ``lookup`` but starting after ``cls`` (what ``super().attr`` finds)."""
        info = self.class_info(cls)
        if info is None:
            return None
        for base in info.bases:
            found = self.lookup(base, attr)
            if found is not None:
                return found
        return None

    def subclasses(self, cls: str) -> set[str]:
        """``cls`` and its subclasses in the repository (absolute qualnames)."""
        info = self.class_info(cls)
        if info is None:
            return set()
        members = {info.qualname}
        scanned: set[str] = set()
        while True:
            names = sorted({re.escape(m.rsplit(".", 1)[-1]) for m in members})
            subclassing = rf"class\s+\w+\s*\([^)]*\b({'|'.join(names)})\b"
            todo = [p for p in self.paths_matching([subclassing]) if p not in scanned]
            if not todo:
                return members
            for path in todo:
                scanned.add(path)
                module_info = self.definitions(path)
                for klass in module_info.classes.values() if module_info else ():
                    if any(self.canonical(b) in members for b in klass.bases):
                        members.add(klass.qualname)

    def call_pattern(self, target: DefInfo) -> str:
        """A regular expression that every file calling ``target`` matches.

        A function is called through its name or an alias of it (the import names it); a
        method through an attribute (``.m(``); ``__init__`` through the class or a
        subclass (``C(...)``, ``C.__init__``, ``super()`` inside ``class D(C)``)."""
        if target.name == "__init__" and target.owner is not None:
            names = sorted({re.escape(c.rsplit(".", 1)[-1]) for c in self.subclasses(target.owner)})
            return rf"\b({'|'.join(names)})\b"
        if target.owner is not None:
            return rf"\.\s*{re.escape(target.name)}\s*\("
        return rf"\b{re.escape(target.name)}\b"
