"""Append-only JSONL logs that survive crashes.

Each append is one ``write`` of one line under an exclusive ``flock``, followed by
``fsync``: a crash (even ``kill -9``) loses at most the record being written, and
two processes never interleave lines. Readers skip a torn last line and report it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReadReport:
    records: int
    torn_lines: int


class JsonlLog:
    """One append-only JSONL file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, record: Mapping[str, Any]) -> None:
        data = {"schema_version": SCHEMA_VERSION, **record}
        try:
            line = (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (a latin-1 file's bytes): \\u escapes
            line = (json.dumps(data, default=str) + "\n").encode("ascii")
        # the records hold source code and issue text: only their owner may read them
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_mode & 0o077:  # made by an older version: tighten it
                os.fchmod(fd, 0o600)
            # A previous writer killed mid-line leaves no newline: start a fresh line.
            size = os.fstat(fd).st_size
            if size:
                with open(self.path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self.read()[0]

    def read(self) -> tuple[list[dict[str, Any]], ReadReport]:
        """All intact records, and how many torn lines were skipped."""
        if not self.path.exists():
            return [], ReadReport(0, 0)
        records: list[dict[str, Any]] = []
        torn = 0
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    torn += 1
                    continue
                if isinstance(value, dict):
                    records.append(value)
        if torn:
            log.warning("%s: skipped %d torn line(s)", self.path, torn)
        return records, ReadReport(len(records), torn)
