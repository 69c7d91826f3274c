"""The digest's record types: ``Import``, ``Definition``, ``Reference``, ``FileDigest``.

Each is a frozen dataclass with ``to_dict`` / ``from_dict``. ``FileDigest.to_dict``
is compact (rows instead of dicts, path and module implied) because the cache of a
large repository holds hundreds of thousands of references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1
DefinitionKind = Literal["function", "method", "class", "constant", "variable"]
ReferenceKind = Literal["call", "import", "attribute", "name", "all"]


@dataclass(frozen=True, slots=True)
class Import:
    """One imported name (``name`` is None for ``import module``); ``module`` as written."""

    module: str
    name: str | None
    alias: str | None
    line: int
    level: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "name": self.name,
            "alias": self.alias,
            "line": self.line,
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Import:
        return cls(data["module"], data["name"], data["alias"], data["line"], data["level"])

    def absolute(self, importer: str, is_package: bool) -> str:
        """The absolute module this import reads from, seen from module ``importer``."""
        return absolute_module(self.module, self.level, importer, is_package)


@dataclass(frozen=True, slots=True)
class Definition:
    """A function, method, class, or module/class-level constant or variable."""

    qualname: str  # module-qualified: ``pkg.mod.Class.method``
    name: str
    kind: DefinitionKind
    module: str
    path: str
    line: int
    end_line: int
    signature: str  # ``def f(a, b=1, *, c) -> int``, ``class C(Base)``, ``X = 3``
    params: tuple[str, ...] = ()  # in order; ``*args`` / ``**kwargs`` keep their stars
    docstring: str | None = None
    decorators: tuple[str, ...] = ()
    parent: str | None = None  # qualname of the enclosing class or function
    in_all: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "qualname": self.qualname,
            "name": self.name,
            "kind": self.kind,
            "module": self.module,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "signature": self.signature,
            "params": list(self.params),
            "docstring": self.docstring,
            "decorators": list(self.decorators),
            "parent": self.parent,
            "in_all": self.in_all,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Definition:
        return cls(
            **{
                **data,
                "params": tuple(data.get("params", ())),
                "decorators": tuple(data.get("decorators", ())),
            }
        )


@dataclass(frozen=True, slots=True)
class Reference:
    """A use of a name. ``scope``: qualname of the enclosing def/class, or the module."""

    name: str
    kind: ReferenceKind
    path: str
    line: int
    scope: str
    target: str | None = None  # dotted name through imports / own definitions / self

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "scope": self.scope,
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        return cls(**data)


@dataclass(frozen=True)
class FileDigest:
    """Everything the digest knows about one file; ``parse_error`` set when it did not parse."""

    path: str
    module: str
    sha256: str
    definitions: tuple[Definition, ...] = ()
    references: tuple[Reference, ...] = ()
    imports: tuple[Import, ...] = ()
    all_names: tuple[str, ...] | None = None
    parse_error: str | None = None

    @property
    def is_package(self) -> bool:
        """True for a package's ``__init__.py``."""
        return self.path == "__init__.py" or self.path.endswith("/__init__.py")

    def to_dict(self) -> dict[str, Any]:
        """Compact form: definitions and imports as rows, path and module implied.

        References are one flat list of integers, five per reference (name, kind,
        line, scope, target), the strings given as indexes into ``strings``
        (index 0 is None).
        """
        table: dict[str | None, int] = {None: 0}
        flat: list[int] = []
        for r in self.references:
            flat.extend(
                (
                    table.setdefault(r.name, len(table)),
                    table.setdefault(r.kind, len(table)),
                    r.line,
                    table.setdefault(r.scope, len(table)),
                    table.setdefault(r.target, len(table)),
                )
            )
        return {
            "schema_version": SCHEMA_VERSION,
            "path": self.path,
            "module": self.module,
            "sha256": self.sha256,
            "definitions": [
                [
                    d.qualname,
                    d.name,
                    d.kind,
                    d.line,
                    d.end_line,
                    d.signature,
                    list(d.params),
                    d.docstring,
                    list(d.decorators),
                    d.parent,
                    d.in_all,
                ]
                for d in self.definitions
            ],
            "strings": list(table),
            "references": flat,
            "imports": [[i.module, i.name, i.alias, i.line, i.level] for i in self.imports],
            "all_names": None if self.all_names is None else list(self.all_names),
            "parse_error": self.parse_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileDigest:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"FileDigest schema_version {data.get('schema_version')!r}")
        path, module = data["path"], data["module"]
        all_names = data.get("all_names")
        return cls(
            path=path,
            module=module,
            sha256=data["sha256"],
            definitions=definitions_from_rows(data["definitions"], module, path),
            references=_references(data["strings"], data["references"], path),
            imports=tuple(Import(*row) for row in data["imports"]),
            all_names=None if all_names is None else tuple(all_names),
            parse_error=data.get("parse_error"),
        )


def definitions_from_rows(rows: list[Any], module: str, path: str) -> tuple[Definition, ...]:
    """Definitions from the rows of ``FileDigest.to_dict()["definitions"]``."""
    return tuple(
        Definition(q, n, k, module, path, ln, e, s, tuple(p), doc, tuple(dec), par, ia)
        for q, n, k, ln, e, s, p, doc, dec, par, ia in rows
    )


def _references(strings: list[Any], flat: list[int], path: str) -> tuple[Reference, ...]:
    if len(flat) % 5:
        raise ValueError("references list length is not a multiple of 5")
    s = strings
    return tuple(
        Reference(s[flat[i]], s[flat[i + 1]], path, flat[i + 2], s[flat[i + 3]], s[flat[i + 4]])
        for i in range(0, len(flat), 5)
    )


def module_name(relpath: str, *, strip_src: bool = False) -> str:
    """``pkg/a.py`` → ``pkg.a``; ``pkg/__init__.py`` → ``pkg``; ``src/`` dropped if asked."""
    stem = relpath[:-3] if relpath.endswith(".py") else relpath
    if strip_src and stem.startswith("src/"):
        stem = stem[4:]
    parts = stem.split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def absolute_module(module: str, level: int, importer: str, is_package: bool) -> str:
    """Resolve a (possibly relative) ``from`` import's module against the importing module."""
    if level == 0:
        return module
    package = importer if is_package else importer.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return module  # beyond the top: leave it as written
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{module}" if base and module else (base or module)
