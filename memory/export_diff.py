"""Reading unified diffs for the exporter: added code, and definitions as a diff leaves them.

Only what a diff shows is used: the new side of each hunk (context + added lines).
A definition counts as found only when the hunk holds all of it (it ends before
the hunk does, or the hunk reaches the end of the file), so a corrected diff is
mapped onto an LLM answer only where that mapping is unambiguous.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_DEF = r"^(?P<indent>[ \t]*)(?:async[ \t]+def|def|class)[ \t]+{name}\b"
GIT_CONTEXT = 3  # git's default context lines; fewer after a hunk means it reached EOF


@dataclass(frozen=True)
class Hunk:
    path: str
    lines: tuple[tuple[str, str], ...]  # (tag, text) with tag in " ", "+", "-"

    def new_side(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "-"]

    def reaches_eof(self) -> bool:
        trailing = 0
        for tag, _ in reversed(self.lines):
            if tag != " ":
                break
            trailing += 1
        return trailing < GIT_CONTEXT


def hunks(diff: str) -> list[Hunk]:
    """Every hunk of a unified (git) diff, with the path of its new file."""
    out: list[Hunk] = []
    path = ""
    current: list[tuple[str, str]] | None = None

    def close() -> None:
        if current:
            out.append(Hunk(path, tuple(current)))

    for line in diff.splitlines():
        if line.startswith("diff --git ") or line.startswith("--- "):
            close()
            current = None
            continue
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = target[2:] if target.startswith("b/") else target
            continue
        if _HUNK.match(line):
            close()
            current = []
            continue
        if current is None or line.startswith("\\"):
            continue
        tag = line[:1] if line[:1] in ("+", "-", " ") else " "
        current.append((tag, line[1:]))
    close()
    return out


def normalized(diff: str) -> str:
    """A diff without headers and index lines, for "is this the same change" comparisons."""
    return "\n".join(
        f"{h.path}\n" + "\n".join(tag + text.rstrip() for tag, text in h.lines) for h in hunks(diff)
    )


def added_blocks(diff: str, *, min_lines: int = 3, max_lines: int = 40) -> list[str]:
    """Runs of added lines in Python files, dedented; short runs are dropped, long ones cut."""
    blocks: list[str] = []
    for hunk in hunks(diff):
        if not hunk.path.endswith(".py"):
            continue
        run: list[str] = []
        for tag, text in [*hunk.lines, (" ", "")]:
            if tag == "+":
                run.append(text)
                continue
            if sum(1 for ln in run if ln.strip()) >= min_lines:
                block = textwrap.dedent("\n".join(run[:max_lines])).strip("\n")
                blocks.append(block)
            run = []
    return blocks


def _block_at(lines: list[str], start: int, complete_at_end: bool) -> list[str] | None:
    """The definition starting at ``lines[start]`` (with decorators above it), if it ends in view."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    first = start
    while first > 0 and lines[first - 1].strip().startswith("@"):
        if len(lines[first - 1]) - len(lines[first - 1].lstrip()) != indent:
            break
        first -= 1
    end = None
    for i in range(start + 1, len(lines)):
        text = lines[i]
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            if text.strip().startswith((")", "]", "}")):  # a signature still closing
                continue
            end = i
            break
    if end is None:
        if not complete_at_end:
            return None
        end = len(lines)
    block = lines[first:end]
    while block and not block[-1].strip():
        block.pop()
    return block


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _parse_def(source: str, name: str) -> Definition | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1:
        return None
    node = tree.body[0]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node if node.name == name else None
    return None


def definition(diff: str, name: str) -> str | None:
    """The full new text of the def/class ``name`` when one hunk shows all of it, else None.

    ``None`` also when two different versions are shown (the name is ambiguous).
    """
    found: set[str] = set()
    pattern = re.compile(_DEF.format(name=re.escape(name)))
    for hunk in hunks(diff):
        lines = hunk.new_side()
        for i, text in enumerate(lines):
            if not pattern.match(text):
                continue
            block = _block_at(lines, i, hunk.reaches_eof())
            if block is None:
                continue
            source = textwrap.dedent("\n".join(block))
            if _parse_def(source, name) is not None:
                found.add(source)
    return found.pop() if len(found) == 1 else None


def docstring(diff: str, name: str) -> str | None:
    """The new docstring of ``name`` when a hunk shows its header and docstring, else None."""
    found: set[str] = set()
    pattern = re.compile(_DEF.format(name=re.escape(name)))
    for hunk in hunks(diff):
        lines = hunk.new_side()
        for i, text in enumerate(lines):
            if not pattern.match(text):
                continue
            # A header followed by only its docstring is valid Python: grow until it parses.
            for end in range(i + 1, min(len(lines), i + 80) + 1):
                node = _parse_def(textwrap.dedent("\n".join(lines[i:end])), name)
                if node is not None:
                    doc = ast.get_docstring(node)
                    if doc is not None:
                        found.add(doc)
                    break
    return found.pop() if len(found) == 1 else None
