"""Run one operation on a repository on disk: what a drafted phase script calls.

    python 01_rename.py [ROOT]

Loads the repository's sources, applies the operation with its slot values,
writes the changed files (each atomically: temp file + rename) and prints a
one-line JSON summary. Exit 0 when applied or skipped, 1 when the codemod failed
(its message on stderr), 2 on bad usage.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import sys
import tempfile
import tokenize
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, Failed, RepoFiles
from planner.spec import Operation

CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def source_encoding(text: str) -> str:
    """The encoding a Python source declares in its first two lines (PEP 263), else UTF-8."""
    for line in text.split("\n", 2)[:2]:
        match = CODING.match(line)
        if match:
            return codecs.lookup(match.group(1)).name
        if line.strip() and not line.lstrip().startswith("#"):
            break
    return "utf-8"


def decode_source(data: bytes) -> str:
    """A source file's text, decoded in its declared encoding (undecodable bytes escaped)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, "surrogateescape")


def encode_source(rel: str, text: str) -> bytes:
    """``text`` in the encoding its coding line declares; ``ValueError`` if it cannot be."""
    try:
        encoding = source_encoding(text)
    except LookupError:
        encoding = "utf-8"
    try:
        return text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(
            f"{rel} declares the {encoding} encoding, which cannot hold {bad!r}; "
            "use characters that encoding has, or convert the file to UTF-8 first"
        ) from None


def write_changes(root: Path, changes: Mapping[str, str]) -> None:
    """Write each changed file atomically in its declared encoding, keeping its permissions."""
    encoded = {rel: encode_source(rel, text) for rel, text in changes.items()}  # all, first
    for rel, data in encoded.items():
        path = root / rel
        if not path.resolve().is_relative_to(root.resolve()):
            raise ValueError(f"refusing to write outside the repository: {rel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)


def main(operation: Mapping[str, Any], slots: Mapping[str, Any], argv: Sequence[str]) -> int:
    import agent.codemods  # noqa: F401  (registers every codemod family)

    if len(argv) > 1:
        sys.stderr.write("usage: python SCRIPT.py [REPO_ROOT]\n")
        return 2
    root = Path(argv[0] if argv else ".").resolve()
    if not root.is_dir():
        sys.stderr.write(f"repository root {root} does not exist\n")
        return 2
    op = Operation.from_dict(operation)
    result = apply_operation(RepoFiles.load(root), op, slots)
    if isinstance(result, Failed):
        sys.stderr.write(result.error + "\n")
        if result.traceback:
            sys.stderr.write(result.traceback[-2000:] + "\n")
        sys.stdout.write(json.dumps({"status": "failed", "op": op.op, "target": op.target}) + "\n")
        return 1
    if isinstance(result, Applied):
        try:
            write_changes(root, result.changes)
        except ValueError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        summary = {
            "status": "applied",
            "op": op.op,
            "target": op.target,
            "files": sorted(result.changes),
            "notes": list(result.notes),
        }
        sys.stdout.write(json.dumps(summary) + "\n")
        return 0
    skipped = {"status": "skipped", "op": op.op, "target": op.target, "reason": result.reason}
    sys.stdout.write(json.dumps(skipped) + "\n")
    return 0
