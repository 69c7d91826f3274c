"""Read the key/value header of a GGUF file without loading tensors.

llama-cpp-python 0.3.36 segfaults on a bad ``lora_path`` instead of raising, so
every model and adapter is checked here first: magic, version, ``general.type``
and ``general.architecture``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cores.errors import ModelCorruptError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 1 << 20


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    tensor_count: int
    metadata: dict[str, Any]

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return str(value) if value is not None else None

    @property
    def file_type(self) -> str:
        """``model`` or ``adapter`` (GGUF files without the key are models)."""
        return str(self.metadata.get("general.type", "model"))


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    raw = fh.read(size)
    if len(raw) != size:
        raise EOFError("truncated header")
    return struct.unpack(fmt, raw)[0]


def _read_string(fh: BinaryIO) -> str:
    length = _read(fh, "<Q")
    if length > _MAX_STRING:
        raise ValueError(f"implausible string length {length}")
    raw = fh.read(length)
    if len(raw) != length:
        raise EOFError("truncated string")
    return raw.decode("utf-8", "replace")


def _skip_or_read(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        return _read(fh, _SCALARS[vtype])
    if vtype == _STRING:
        return _read_string(fh)
    if vtype == _ARRAY:
        itype = _read(fh, "<I")
        count = _read(fh, "<Q")
        if itype in _SCALARS:
            # Large arrays (vocabularies) are skipped, not materialised.
            fh.seek(struct.calcsize(_SCALARS[itype]) * count, 1)
            return f"<array of {count}>"
        items = [_skip_or_read(fh, itype, keep) for _ in range(count)]
        return items if keep and count <= 64 else f"<array of {count}>"
    raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Parse the metadata of a GGUF file; raise a clear error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"GGUF file not found: {path}")
    try:
        with path.open("rb") as fh:
            if fh.read(4) != GGUF_MAGIC:
                raise ModelCorruptError(f"{path} is not a GGUF file (bad magic bytes)")
            version = _read(fh, "<I")
            if version not in (2, 3):
                raise ModelCorruptError(f"{path}: unsupported GGUF version {version}")
            tensor_count = _read(fh, "<Q")
            kv_count = _read(fh, "<Q")
            if kv_count > 100_000:
                raise ModelCorruptError(f"{path}: implausible metadata count {kv_count}")
            metadata: dict[str, Any] = {}
            for _ in range(kv_count):
                key = _read_string(fh)
                vtype = _read(fh, "<I")
                metadata[key] = _skip_or_read(fh, vtype, keep=not key.startswith("tokenizer."))
    except (EOFError, ValueError, struct.error, UnicodeError) as exc:
        raise ModelCorruptError(f"{path}: corrupt GGUF header ({exc})") from None
    return GGUFHeader(version=version, tensor_count=tensor_count, metadata=metadata)


def check_adapter(adapter: str | Path, base: str | Path) -> GGUFHeader:
    """Validate a LoRA adapter against its base model before llama.cpp sees it."""
    head = read_gguf_header(adapter)
    if head.file_type != "adapter":
        raise ModelCorruptError(
            f"{adapter} is a GGUF {head.file_type!r}, not a LoRA adapter "
            "(general.type must be 'adapter'); convert a PEFT adapter with `autopatch finetune`"
        )
    base_arch = read_gguf_header(base).architecture
    if head.architecture != base_arch:
        raise ModelCorruptError(
            f"adapter {adapter} was made for architecture {head.architecture!r}, "
            f"but the base model is {base_arch!r}"
        )
    return head
