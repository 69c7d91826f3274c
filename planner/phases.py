"""PhasePlanner: a Spec's operations → phases in a dependency DAG, topologically ordered.

A phase is one operation with its scope (the files it may touch) and the tests
related to it (through the import graph). Ordering rules:
- phases touching the same file run in spec order (codemods on one file are sequential);
- work on a symbol (or its members) runs before that symbol is renamed or moved,
  so every phase's target still exists when it runs;
- an extracted constant or helper exists before edits of the same module;
- a new parameter exists before it is made keyword-only.
Cycles are rejected with the phases involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from planner.spec import Operation, Spec

SCHEMA_VERSION = 1
WIDE_OPS = {
    "rename",
    "rename_parameter",
    "add_parameter",
    "remove_parameter",
    "make_keyword_only",
    "replace_calls",
    "change_import",
    "move_symbol",
}
RELOCATING = {"rename", "move_symbol"}
PROVIDERS = {"extract_constant", "extract_helper", "add_function", "add_parameter"}


class PlanError(ValueError):
    """A plan that cannot be ordered; the message names the phases."""


@dataclass(frozen=True)
class Phase:
    id: str
    operation: Operation
    files: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    related_tests: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation.to_dict(),
            "files": list(self.files),
            "depends_on": list(self.depends_on),
            "related_tests": list(self.related_tests),
        }


@dataclass(frozen=True)
class Plan:
    spec: Spec
    phases: tuple[Phase, ...]  # in execution order
    schema_version: int = SCHEMA_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "issue_id": self.spec.issue_id,
            "phases": [p.to_dict() for p in self.phases],
            "notes": list(self.notes),
        }

    @property
    def related_tests(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for p in self.phases for t in p.related_tests))


def order_phases(ids: list[str], edges: list[tuple[str, str]]) -> tuple[list[str], nx.DiGraph]:
    """Topological order of phase ids (ties keep spec order); a cycle is a ``PlanError``."""
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from(edges)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise PlanError(
            "the operations depend on each other in a cycle: "
            + " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
        )
    position = {pid: i for i, pid in enumerate(ids)}
    return list(nx.lexicographical_topological_sort(graph, key=lambda n: position[n])), graph


def _owner_module(target: str, digest: Any) -> str | None:
    if digest.module_path(target):
        return str(target)
    defs = digest.find(target)
    return str(defs[0].module) if defs else None


def _scope(op: Operation, digest: Any) -> tuple[str, ...]:
    files: set[str] = set()
    if path := digest.module_path(op.target):
        files.add(path)
    defs = digest.find(op.target)
    files |= {d.path for d in defs}
    if op.op == "replace_calls" and not defs and not files:
        # another package's callable (``time.time``): the files importing that package
        files |= set(digest.importers_of(op.target.split(".", 1)[0]))
    if op.op in WIDE_OPS:
        for d in defs:
            files |= {r.path for r in digest.references_to(d.qualname)}
        if op.op == "move_symbol" and (
            dest := digest.module_path(str(op.params.get("to_module", "")))
        ):
            files.add(dest)
    return tuple(sorted(files))


def _inside(target: str, symbol: str) -> bool:
    return target == symbol or target.startswith(symbol + ".")


class PhasePlanner:
    """Expand a Spec into an ordered Plan using the repository digest."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest

    def plan(self, spec: Spec) -> Plan:
        phases = []
        for i, op in enumerate(spec.operations, 1):
            module = _owner_module(op.target, self.digest)
            tests = tuple(self.digest.tests_importing(module)) if module else ()
            phases.append(
                Phase(f"{i:02d}_{op.op}", op, _scope(op, self.digest), related_tests=tests)
            )
        edges = [
            e for i, a in enumerate(phases) for b in phases[i + 1 :] for e in self._edges(a, b)
        ]
        ordered_ids, graph = order_phases([p.id for p in phases], edges)
        by_id = {p.id: p for p in phases}
        result = tuple(
            Phase(
                pid,
                by_id[pid].operation,
                by_id[pid].files,
                tuple(sorted(graph.predecessors(pid))),
                by_id[pid].related_tests,
            )
            for pid in ordered_ids
        )
        return Plan(spec=spec, phases=result)

    def _edges(self, a: Phase, b: Phase) -> list[tuple[str, str]]:
        """Dependencies between two phases, ``a`` before ``b`` in the spec."""
        edges: list[tuple[str, str]] = []
        oa, ob = a.operation, b.operation
        for first, second in ((a, b), (b, a)):
            o1, o2 = first.operation, second.operation
            # work on a symbol before it moves or changes name
            if o2.op in RELOCATING and o1.op not in RELOCATING and _inside(o1.target, o2.target):
                edges.append((first.id, second.id))
            # providers before users in the same module
            if o1.op in PROVIDERS and o2.op not in PROVIDERS:
                same = _owner_module(o1.target, self.digest) == _owner_module(
                    o2.target, self.digest
                )
                if same and (
                    o1.op != "add_parameter"
                    or (o2.op == "make_keyword_only" and o1.target == o2.target)
                ):
                    edges.append((first.id, second.id))
        if (
            not edges
            and set(a.files) & set(b.files)
            and not (oa.op in RELOCATING and _inside(ob.target, oa.target))
        ):
            edges.append((a.id, b.id))
        return edges
