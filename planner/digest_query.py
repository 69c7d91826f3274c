"""The questions the planner asks a ``RepositoryDigest`` (a mixin over its ``files``).

Name lookup (``find``, ``fuzzy``), cross-file resolution (``resolve`` follows
re-exports, star imports and base classes), ``references_to``, the import and
call graphs (networkx) and ``tests_importing``. Indexes are built lazily on first
use and memoised on the digest.
"""

from __future__ import annotations

import ast
import difflib
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from planner.digest_types import Definition, FileDigest, Reference

if TYPE_CHECKING:
    import networkx as nx

    from planner.digest import BuildStats
    from planner.digest_embed import EmbedState
    from planner.digest_store import FileTable
    from planner.files import Skipped

MAX_RESOLVE_DEPTH = 12


def is_test_path(path: str) -> bool:
    """A test file: in a ``test``/``tests`` folder (or ``test_*``, ``*_tests``), or named
    ``test_*.py``, ``*_test.py``, ``test.py``, ``tests.py`` or ``conftest.py``.

    A library module about testing (``click/testing.py``, ``numpy/testing/``) is not
    test code: users import it, and an issue may ask to change it."""
    *folders, name = path.split("/")
    if any(
        f in ("test", "tests") or f.startswith("test_") or f.endswith(("_test", "_tests"))
        for f in folders
    ):
        return True
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("test.py", "tests.py", "conftest.py")
    )


class DigestQueries:
    """Read-only queries; expects ``files``, ``skipped``, ``build_stats`` and ``_memo``."""

    files: FileTable
    skipped: tuple[Skipped, ...]
    build_stats: BuildStats
    embeddings: EmbedState | None
    _memo: dict[str, Any]

    # -- lookup -----------------------------------------------------------------------

    def definitions(self) -> Iterator[Definition]:
        """Every definition, file by file in path order."""
        for path in self.files:
            yield from self.files.definitions(path)

    def references(self) -> Iterator[Reference]:
        """Every reference, file by file in path order."""
        for digest in self.files.values():
            yield from digest.references

    def find(self, name: str) -> list[Definition]:
        """Definitions called ``name``: bare name, qualname, dotted suffix or re-exported name."""
        by_qualname, by_name = self._def_indexes()
        if name in by_qualname:
            return list(by_qualname[name])
        if "." not in name:
            return list(by_name.get(name, ()))
        suffix = "." + name
        hits = [d for d in by_name.get(name.rpartition(".")[2], ()) if d.qualname.endswith(suffix)]
        return hits or list(by_qualname.get(self.resolve(name), ()))

    def fuzzy(self, name: str, n: int = 5) -> list[str]:
        """Up to ``n`` known names / qualnames / ``Class.member`` suffixes close to ``name``."""
        if "candidates" not in self._memo:
            pool: set[str] = set()
            for d in self.definitions():
                pool.update((d.name, d.qualname, ".".join(d.qualname.split(".")[-2:])))
            pool.update(self._modules())
            self._memo["candidates"] = sorted(pool)
        return difflib.get_close_matches(name, self._memo["candidates"], n=n, cutoff=0.6)

    def modules(self) -> dict[str, str]:
        """Every module of the repository (dotted name → posix relpath), also one that
        defines nothing (a package ``__init__`` that only imports and re-exports)."""
        return dict(self._modules())

    def module_path(self, module: str) -> str | None:
        """The file (posix relpath) that defines ``module``, if it is in the repository."""
        return self._modules().get(module)

    # -- resolution and references ----------------------------------------------------

    def resolve(self, dotted: str) -> str:
        """The qualname of the definition or module ``dotted`` stands for (itself if unknown).

        Follows ``from x import y`` re-exports, ``import *`` and, for ``Class.member``,
        the class's bases (so ``self.m()`` of an inherited ``m`` resolves).
        """
        memo: dict[str, str] = self._memo.setdefault("resolved", {})
        if dotted not in memo:
            memo[dotted] = self._resolve(dotted, 0)
        return memo[dotted]

    def references_to(self, name: str) -> list[Reference]:
        """References to a definition or module, sorted by (path, line).

        A dotted name (or module) matches the references whose target resolves to it;
        a bare name also matches every reference spelled that way, resolved or not.
        """
        by_target = self._refs_by_target()
        modules = self._modules()
        targets = {d.qualname for d in self.find(name)}
        if name in modules:
            targets.add(name)
        found = {id(r): r for t in targets for r in by_target.get(t, ())}
        if "." not in name and name not in modules:
            found.update({id(r): r for r in self._refs_by_name().get(name, ())})
        return sorted(found.values(), key=lambda r: (r.path, r.line, r.name))

    def importers_of(self, module: str) -> list[str]:
        """Paths of the files that import ``module`` (or something inside it), sorted."""
        out = set()
        for digest in self.files.values():
            for imp in digest.imports:
                base = imp.absolute(digest.module, digest.is_package)
                if base == module or base.startswith(module + "."):
                    out.add(digest.path)
        return sorted(out)

    # -- graphs -----------------------------------------------------------------------

    def import_graph(self) -> nx.DiGraph:
        """Module → imported module, for modules inside the repository (node attr ``path``)."""
        if "import_graph" not in self._memo:
            import networkx as nx

            graph = nx.DiGraph()
            modules = self._modules()
            for module, path in modules.items():
                graph.add_node(module, path=path)
            for digest in self.files.values():
                for target in self._imported_modules(digest, modules):
                    if target != digest.module:
                        graph.add_edge(digest.module, target)
            self._memo["import_graph"] = graph
        return self._memo["import_graph"]

    def call_graph(self) -> nx.DiGraph:
        """Caller qualname → callee qualname, for calls that resolve to repository definitions."""
        if "call_graph" not in self._memo:
            import networkx as nx

            graph = nx.DiGraph()
            by_qualname, _ = self._def_indexes()
            for ref in self.references():
                if ref.kind == "call" and ref.target:
                    callee = self.resolve(ref.target)
                    if callee in by_qualname:
                        graph.add_edge(ref.scope, callee)
            self._memo["call_graph"] = graph
        return self._memo["call_graph"]

    def tests_importing(self, module: str) -> list[str]:
        """Test files that import ``module`` (name or path), directly or transitively."""
        import networkx as nx

        if module in self.files:
            module = self.files.module_of(module)
        graph = self.import_graph()
        if module not in graph:
            return []
        paths = (graph.nodes[m]["path"] for m in nx.ancestors(graph, module))
        return sorted(p for p in paths if is_test_path(p))

    def stats(self) -> dict[str, Any]:
        """Counts for summaries: files, skipped reasons, definitions by kind, references, build."""
        build = self.build_stats
        summary = self.files.summary()
        return {
            "files": len(self.files),
            "parsed": len(build.parsed),
            "reused": build.reused,
            "removed": len(build.removed),
            "skipped": len(self.skipped),
            "skipped_reasons": dict(Counter(s.category for s in self.skipped)),
            "parse_errors": summary["parse_errors"],
            "modules": len(self._modules()),
            "definitions": summary["definitions"],
            "definitions_by_kind": summary["definitions_by_kind"],
            "references": summary["references"],
            "embedded_files": len(self.embeddings.files) if self.embeddings else 0,
            "embedded_chunks": build.embedded_chunks,
            "cache": build.cache,
            "seconds": round(build.seconds, 3),
        }

    # -- lazily built indexes ---------------------------------------------------------

    def _modules(self) -> dict[str, str]:
        if "modules" not in self._memo:
            modules: dict[str, str] = {}
            for path in self.files:
                modules.setdefault(self.files.module_of(path), path)
            self._memo["modules"] = modules
        return self._memo["modules"]

    def _def_indexes(self) -> tuple[dict[str, list[Definition]], dict[str, list[Definition]]]:
        if "by_qualname" not in self._memo:
            by_qualname: dict[str, list[Definition]] = defaultdict(list)
            by_name: dict[str, list[Definition]] = defaultdict(list)
            for d in self.definitions():
                by_qualname[d.qualname].append(d)
                by_name[d.name].append(d)
            self._memo["by_qualname"] = dict(by_qualname)
            self._memo["by_name"] = dict(by_name)
        return self._memo["by_qualname"], self._memo["by_name"]

    def _refs_by_target(self) -> dict[str, list[Reference]]:
        if "refs_by_target" not in self._memo:
            index: dict[str, list[Reference]] = defaultdict(list)
            for ref in self.references():
                if ref.target:
                    index[self.resolve(ref.target)].append(ref)
            self._memo["refs_by_target"] = dict(index)
        return self._memo["refs_by_target"]

    def _refs_by_name(self) -> dict[str, list[Reference]]:
        if "refs_by_name" not in self._memo:
            index: dict[str, list[Reference]] = defaultdict(list)
            for ref in self.references():
                index[ref.name].append(ref)
            self._memo["refs_by_name"] = dict(index)
        return self._memo["refs_by_name"]

    def _bindings(self, module: str) -> tuple[dict[str, str], list[str]]:
        """Names a module binds by importing (→ dotted target), and its ``import *`` sources."""
        memo: dict[str, tuple[dict[str, str], list[str]]] = self._memo.setdefault("bindings", {})
        if module not in memo:
            names: dict[str, str] = {}
            stars: list[str] = []
            path = self._modules().get(module)
            digest = self.files[path] if path else None
            for imp in digest.imports if digest else ():
                if imp.name is None:
                    top = imp.module.split(".")[0]
                    names.setdefault(imp.alias or top, imp.module if imp.alias else top)
                    continue
                base = imp.absolute(module, digest.is_package) if digest else imp.module
                if imp.name == "*":
                    stars.append(base)
                else:
                    names.setdefault(
                        imp.alias or imp.name, f"{base}.{imp.name}" if base else imp.name
                    )
            memo[module] = (names, stars)
        return memo[module]

    def _resolve(self, dotted: str, depth: int) -> str:
        by_qualname, _ = self._def_indexes()
        modules = self._modules()
        if depth > MAX_RESOLVE_DEPTH or dotted in by_qualname or dotted in modules:
            return dotted
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:cut])
            if head in by_qualname and by_qualname[head][0].kind == "class":
                for base in self._class_bases(by_qualname[head][0]):
                    found = self._resolve(".".join([base, *parts[cut:]]), depth + 1)
                    if found in by_qualname:
                        return found
                return dotted
            if head not in modules:
                continue
            rest = parts[cut:]
            names, stars = self._bindings(head)
            if rest[0] in names and names[rest[0]] != ".".join(parts[: cut + 1]):
                return self._resolve(".".join([names[rest[0]], *rest[1:]]), depth + 1)
            for star in stars:
                found = self._resolve(".".join([star, *rest]), depth + 1)
                if found in by_qualname or found in modules:
                    return found
            return dotted
        return dotted

    def class_ancestors(self, qualname: str) -> list[str]:
        """Qualnames of the repository classes ``qualname`` inherits from, nearest first."""
        by_qualname, _ = self._def_indexes()
        out: list[str] = []
        todo = [qualname]
        while todo and len(out) < 50:
            found = by_qualname.get(self.resolve(todo.pop(0)))
            if not found or found[0].kind != "class":
                continue
            for base in self._class_bases(found[0]):
                resolved = self.resolve(base)
                if resolved in by_qualname and resolved not in out and resolved != qualname:
                    out.append(resolved)
                    todo.append(resolved)
        return out

    def _class_bases(self, cls: Definition) -> list[str]:
        """Dotted names of a class's bases, resolved through its module's names."""
        memo: dict[str, list[str]] = self._memo.setdefault("bases", {})
        if cls.qualname not in memo:
            bases: list[str] = []
            try:
                node = ast.parse(cls.signature.removeprefix("class ").strip() or "x", mode="eval")
            except SyntaxError:
                node = None
            call = node.body if node is not None else None
            names, _ = self._bindings(cls.module)
            for expr in call.args if isinstance(call, ast.Call) else ():
                if isinstance(expr, ast.Subscript):  # `Serializer[str]`: a generic base
                    expr = expr.value
                text = ast.unparse(expr)
                first, _, rest = text.partition(".")
                if first in names:
                    bases.append(names[first] + ("." + rest if rest else ""))
                else:
                    scope = cls.parent or cls.module
                    bases.append(f"{scope}.{text}")
            memo[cls.qualname] = bases
        return memo[cls.qualname]

    def _imported_modules(self, digest: FileDigest, modules: dict[str, str]) -> set[str]:
        """Repository modules that one file imports."""
        found: set[str] = set()
        for imp in digest.imports:
            base = imp.absolute(digest.module, digest.is_package)
            if imp.name not in (None, "*") and f"{base}.{imp.name}" in modules:
                found.add(f"{base}.{imp.name}")
            parts = base.split(".")
            for cut in range(len(parts), 0, -1):
                prefix = ".".join(parts[:cut])
                if prefix in modules:
                    found.add(prefix)
                    break
        return found
