#!/usr/bin/env python
"""Report what makes the house hard to walk: long modules, long functions, wide constructors
and import cycles between the project's modules.

    python scripts/check_house.py [PACKAGE_DIR ...] [--max-module 400] [--max-function 80]
                                  [--max-params 6] [--deferred]

Everything is read from the AST, nothing is imported. The checks (STYLE.md, "Shape"):
- a module over ``--max-module`` lines;
- a function or method (each nested one on its own) over ``--max-function`` lines, decorators
  included;
- an ``__init__`` with more than ``--max-params`` parameters besides ``self`` (``*args`` and
  ``**kwargs`` count one each; dataclass fields are not constructors and are not counted);
- a cycle among the project modules' top-level imports (module body, also inside a top-level
  ``try``/``if``, but not under ``if TYPE_CHECKING``): ``from a import b`` is an edge to the
  module ``a.b`` when there is one, else to ``a``. ``--deferred`` counts the imports inside
  functions too (the loops that only bite at run time).

Prints one line per finding, grouped by check, and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "planner", "cores", "memory")


def modules(root: Path, packages: list[str]) -> dict[str, Path]:
    """Dotted module name -> path, for every ``.py`` file under the given package folders."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def long_functions(tree: ast.Module, limit: int) -> Iterator[tuple[str, int, int]]:
    """(qualname, first line, length) of every function longer than ``limit`` lines."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    length = (child.end_lineno or child.lineno) - first + 1
                    if length > limit:
                        yield name, first, length
                yield from walk(child, f"{name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def wide_constructors(tree: ast.Module, limit: int) -> Iterator[tuple[str, int, int]]:
    """(class name, line, parameter count) of every ``__init__`` over ``limit`` parameters."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                a = item.args
                count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                count += (a.vararg is not None) + (a.kwarg is not None) - 1  # self
                if count > limit:
                    yield node.name, item.lineno, count


def _top_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield stmt
        elif isinstance(stmt, ast.If):
            test = ast.unparse(stmt.test)
            if "TYPE_CHECKING" not in test:
                yield from _top_level_imports(stmt.body)
            yield from _top_level_imports(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody):
                yield from _top_level_imports(block)
            for handler in stmt.handlers:
                yield from _top_level_imports(handler.body)


def import_edges(
    name: str, path: Path, tree: ast.Module, known: set[str], deferred: bool = False
) -> set[str]:
    """The project modules that ``name`` imports at its top level (``deferred``: anywhere)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges: set[str] = set()
    stmts = (
        [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        if deferred
        else _top_level_imports(tree.body)
    )
    for stmt in stmts:
        if isinstance(stmt, ast.Import):
            targets = [alias.name for alias in stmt.names]
        else:
            base = stmt.module or ""
            if stmt.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (stmt.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in stmt.names
            ]
        edges |= {t for t in targets if t in known and t != name}
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("packages", nargs="*", default=list(PACKAGES))
    p.add_argument("--max-module", type=int, default=400)
    p.add_argument("--max-function", type=int, default=80)
    p.add_argument("--max-params", type=int, default=6)
    p.add_argument("--deferred", action="store_true", help="count imports inside functions too")
    args = p.parse_args(argv)

    found = modules(ROOT, args.packages)
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in found.items()}
    rel = {name: path.relative_to(ROOT).as_posix() for name, path in found.items()}
    big, long, wide = [], [], []
    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        lines = len(found[name].read_text().splitlines())
        if lines > args.max_module:
            big.append(f"{rel[name]}: {lines} lines")
        for qual, line, length in long_functions(tree, args.max_function):
            long.append(f"{rel[name]}:{line} {qual}: {length} lines")
        for cls, line, count in wide_constructors(tree, args.max_params):
            wide.append(f"{rel[name]}:{line} {cls}.__init__: {count} parameters")
        graph[name] = import_edges(name, found[name], tree, set(found), args.deferred)
    loops = [" <-> ".join(c) for c in cycles(graph)]

    sections = [
        (f"modules over {args.max_module} lines", big),
        (f"functions over {args.max_function} lines", long),
        (f"constructors over {args.max_params} parameters", wide),
        (
            "import cycles (modules that reach each other)"
            + (" (deferred imports too)" if args.deferred else ""),
            loops,
        ),
    ]
    for title, items in sections:
        print(f"{title}: {len(items)}")
        for item in items:
            print(f"  {item}")
    return 1 if any(items for _, items in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
