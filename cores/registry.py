"""The model registry: named model versions kept in the data dir.

``registry.json`` maps names to entries (base GGUF, optional adapter, chat template,
default params, provenance, SHA256) and records which entry is active per kind.
The embedded defaults register themselves the first time a registry is opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from cores import embedded
from cores.errors import ModelNotFoundError

SCHEMA_VERSION = 1
KINDS = ("llm", "embedder", "seq2seq")
DEFAULT_ACTIVE = {"llm": "default", "embedder": "minilm"}


@dataclass(frozen=True)
class ModelEntry:
    """One named model version."""

    name: str
    kind: str
    path: str
    adapter: str | None = None
    base: str | None = None
    chat_template: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    embedded: bool = False
    created_utc: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"model kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.name or "/" in self.name or self.name.strip() != self.name:
            raise ValueError(f"invalid model name {self.name!r}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["params"] = dict(self.params)
        data["provenance"] = dict(self.provenance)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelEntry:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def resolved_path(self) -> Path:
        """The verified file or folder to load; embedded models are hash-checked."""
        if self.embedded:
            return embedded.locate(self.name)
        path = Path(self.path).expanduser()
        if not path.exists():
            raise ModelNotFoundError(
                f"model {self.name!r} points at {path}, which does not exist; "
                f"re-register it with `autopatch models add {self.name} --path FILE`"
            )
        return path


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _embedded_entries() -> dict[str, ModelEntry]:
    entries = {}
    for spec in embedded.CATALOG.values():
        entries[spec.name] = ModelEntry(
            name=spec.name,
            kind=spec.kind,
            path=str(embedded.model_dir(spec.name) / spec.entry_file),
            chat_template=spec.chat_template,
            provenance={
                "source": "pypi",
                "packages": sorted({m.package for m in spec.members}),
                "description": spec.description,
                "licence": spec.licence,
            },
            sha256=spec.assembled_sha256
            or (spec.members[0].sha256 if spec.kind == "llm" else None),
            embedded=True,
        )
    return entries


class ModelRegistry:
    """Named model versions in ``<data_dir>/models/registry.json``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "models"
        self.file = self.root / "registry.json"

    # -- storage -----------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".registry.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data, on_disk = self._read()
            yield data
            if json.dumps(data, sort_keys=True) != on_disk:
                self._write(data)

    def _read(self) -> tuple[dict[str, Any], str]:
        """The registry with the embedded defaults filled in, and the canonical on-disk text."""
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "active": {}, "entries": {}}
        on_disk = ""
        if self.file.exists():
            try:
                loaded = json.loads(self.file.read_text())
            except ValueError as exc:
                raise ModelNotFoundError(
                    f"model registry {self.file} is unreadable ({exc}); move it away and "
                    "re-run to recreate the embedded entries"
                ) from None
            data.update(loaded)
            on_disk = json.dumps(data, sort_keys=True)
        for name, entry in _embedded_entries().items():
            data["entries"].setdefault(name, entry.to_dict())
        for kind, name in DEFAULT_ACTIVE.items():
            data["active"].setdefault(kind, name)
        return data, on_disk

    def _write(self, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".registry-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.file)

    # -- queries -----------------------------------------------------------------
    def entries(self) -> list[ModelEntry]:
        with self._locked() as data:
            return [ModelEntry.from_dict(e) for e in data["entries"].values()]

    def active_names(self) -> dict[str, str]:
        with self._locked() as data:
            return dict(data["active"])

    def get(self, name: str) -> ModelEntry:
        with self._locked() as data:
            raw = data["entries"].get(name)
            if raw is None:
                known = ", ".join(sorted(data["entries"]))
                raise ModelNotFoundError(f"no model named {name!r} in the registry; known: {known}")
            return ModelEntry.from_dict(raw)

    def active(self, kind: str) -> ModelEntry:
        with self._locked() as data:
            name = data["active"].get(kind)
        if not name:
            raise ModelNotFoundError(
                f"no active {kind} model; register one with `autopatch models add NAME --kind {kind} --path PATH`"
            )
        return self.get(name)

    # -- updates -----------------------------------------------------------------
    def add(self, entry: ModelEntry, *, overwrite: bool = False) -> ModelEntry:
        if entry.embedded:
            raise ValueError("embedded models register themselves")
        stamped = entry if entry.created_utc else replace(entry, created_utc=_now())
        with self._locked() as data:
            existing = data["entries"].get(entry.name)
            if existing is not None and (existing.get("embedded") or not overwrite):
                raise ValueError(
                    f"a model named {entry.name!r} already exists; pick another name"
                    + ("" if existing.get("embedded") else " or pass --overwrite")
                )
            data["entries"][entry.name] = stamped.to_dict()
        return stamped

    def use(self, name: str) -> ModelEntry:
        entry = self.get(name)
        with self._locked() as data:
            data["active"][entry.kind] = name
        return entry
