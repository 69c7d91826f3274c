"""Read the datasets ``autopatch export`` wrote, for the LLM and T5 fine-tunes.

The LLM trains on the ``messages`` rows of ``sft``, ``repair`` and ``spec``; each row
becomes (prompt messages, final assistant message) so the loss covers the answer
only. The T5 spec normalizer trains on the ``input``/``target`` fields of ``spec``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LLM_KINDS = ("sft", "repair", "spec")
_ROLES = {"system", "user", "assistant", "tool"}


@dataclass(frozen=True)
class ChatExample:
    """One training example: the conversation so far and the answer to learn."""

    prompt: tuple[Mapping[str, str], ...]
    answer: str
    kind: str


@dataclass(frozen=True)
class Dataset:
    """Rows read from one export folder, with the provenance of what was read."""

    folder: Path
    sha256: str  # the manifest's hash, or a hash of the files read
    files: tuple[str, ...]
    train: tuple[Any, ...]
    validation: tuple[Any, ...]


def _check_folder(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(
            f"dataset folder {folder} does not exist; create one with "
            "`autopatch export --out DIR` and pass it with --data DIR"
        )
    return folder


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number} is not valid JSON ({exc})") from None
            if isinstance(row, dict):
                yield row


def _provenance(folder: Path, files: Sequence[Path]) -> str:
    """The manifest's ``hash`` when it has one, else sha256 over the files read."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text())
        except ValueError:
            data = {}
        if isinstance(data, dict) and isinstance(data.get("hash"), str) and data["hash"]:
            return str(data["hash"])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _chat_example(row: Mapping[str, Any], kind: str) -> ChatExample | None:
    messages = row.get("messages")
    if not isinstance(messages, list):
        return None
    clean = [
        {"role": str(m["role"]), "content": str(m["content"])}
        for m in messages
        if isinstance(m, dict) and m.get("role") in _ROLES and isinstance(m.get("content"), str)
    ]
    last = max((i for i, m in enumerate(clean) if m["role"] == "assistant"), default=-1)
    if last < 1 or not clean[last]["content"].strip():
        return None  # nothing to learn, or no prompt before the answer
    return ChatExample(tuple(clean[:last]), clean[last]["content"], kind)


def load_chat(folder: Path) -> Dataset:
    """The ``messages`` examples of sft + repair + spec; ``ValueError`` when there are none."""
    folder = _check_folder(folder)
    train_files = [folder / f"{k}.train.jsonl" for k in LLM_KINDS]
    present = [p for p in train_files if p.is_file()]
    if not present:
        names = ", ".join(p.name for p in train_files)
        raise ValueError(
            f"{folder} has none of {names}; export them with `autopatch export --format messages`"
        )
    train: list[ChatExample] = []
    validation: list[ChatExample] = []
    read: list[Path] = []
    for kind in LLM_KINDS:
        for split, sink in (("train", train), ("validation", validation)):
            path = folder / f"{kind}.{split}.jsonl"
            if not path.is_file():
                continue
            read.append(path)
            sink.extend(e for e in (_chat_example(r, kind) for r in _rows(path)) if e)
    if not train:
        raise ValueError(
            f"the training files in {folder} ({', '.join(p.name for p in present)}) hold no "
            "chat examples with an assistant answer; run more tasks, then export again "
            "(with --format messages)"
        )
    return Dataset(
        folder,
        _provenance(folder, read),
        tuple(p.name for p in read),
        tuple(train),
        tuple(validation),
    )


def _pairs(path: Path) -> list[tuple[str, str]]:
    out = []
    for row in _rows(path):
        src, tgt = row.get("input"), row.get("target")
        if isinstance(src, str) and isinstance(tgt, str) and src.strip() and tgt.strip():
            out.append((src, tgt))
    return out


def load_pairs(folder: Path) -> Dataset:
    """The spec ``input``/``target`` pairs for the T5 normalizer."""
    folder = _check_folder(folder)
    train_file = folder / "spec.train.jsonl"
    if not train_file.is_file():
        raise ValueError(
            f"{folder} has no spec.train.jsonl; export it with `autopatch export --kind spec`"
        )
    val_file = folder / "spec.validation.jsonl"
    read = [train_file] + ([val_file] if val_file.is_file() else [])
    train = _pairs(train_file)
    if not train:
        raise ValueError(f"{train_file} holds no rows with non-empty `input` and `target` fields")
    validation = _pairs(val_file) if val_file.is_file() else []
    return Dataset(
        folder,
        _provenance(folder, read),
        tuple(p.name for p in read),
        tuple(train),
        tuple(validation),
    )
