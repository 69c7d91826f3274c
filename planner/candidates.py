"""What a spec backend proposes, before fusion checks it against the digest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from planner.spec import Operation


class DefinitionLike(Protocol):
    """The parts of ``planner.digest.Definition`` the spec backends use."""

    @property
    def qualname(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def params(self) -> tuple[str, ...]: ...
    @property
    def parent(self) -> str | None: ...


class SymbolIndex(Protocol):
    """The parts of ``RepositoryDigest`` the spec backends and fusion use."""

    def definitions(self) -> Iterator[Any]: ...
    def find(self, name: str) -> Sequence[Any]: ...
    def fuzzy(self, name: str, n: int = 5) -> list[str]: ...
    def module_path(self, module: str) -> str | None: ...
    def modules(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Candidate:
    """One backend's proposal: operations plus why."""

    backend: str
    operations: tuple[Operation, ...]
    notes: tuple[str, ...] = ()
    raw: str = ""  # the backend's raw output (LLM text, T5 text), for memory
    meta: dict[str, Any] = field(default_factory=dict)


def ops(items: Iterable[Operation]) -> tuple[Operation, ...]:
    """De-duplicate operations, keeping order."""
    seen: set[str] = set()
    out = []
    for op in items:
        key = repr(op.to_dict())
        if key not in seen:
            seen.add(key)
            out.append(op)
    return tuple(out)
