"""Read an issue's text: the code it mentions, the files, the literals, the sentences.

Pure text analysis (no repository knowledge); the rules backend and the LLM's
"bag of symbols" build on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"```.*?```", re.S)
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = re.compile(rf"{_IDENT}(?:\.{_IDENT})*")
_GLOB = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*|\*[A-Za-z0-9_]+")
_PATH = re.compile(r"(?:[\w.-]+/)*[\w.-]+\.pyi?\b")
_CALL = re.compile(rf"\b({_IDENT}(?:\.{_IDENT})*)\(([^()]*)\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\"'])|\n\s*\n|\n\s*[*-]\s+")
_BARE_IDENT = re.compile(rf"\b({_IDENT})\b")
_LITERAL = re.compile(r"""(?<![\w"'])b?(?:"[^"\n]*"|'[^'\n]*')""")
_STOP = {
    "None",
    "True",
    "False",
    "self",
    "cls",
    "str",
    "int",
    "bool",
    "list",
    "dict",
    "tuple",
    "set",
    "bytes",
    "float",
    "object",
    "type",
    "print",
    "import",
    "from",
    "return",
    "def",
    "class",
    "lambda",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "for",
    "while",
}


@dataclass(frozen=True)
class Mention:
    """A piece of code the issue names: a (dotted) identifier, a glob or a file path."""

    text: str  # as written, minus call parentheses: "Cache.get", "as_*", "toolz/utils.py"
    kind: str  # "name" | "glob" | "path"
    position: int  # character offset in the issue text
    in_code: bool  # inside backticks (strong) or bare (weak)
    call_args: tuple[str, ...] | None = None  # `f(a, b=1)` → ("a", "b=1")

    @property
    def last(self) -> str:
        return self.text.rsplit(".", 1)[-1] if self.kind == "name" else self.text


@dataclass(frozen=True)
class IssueText:
    """An issue split into what the rules need."""

    raw: str
    title: str
    sentences: tuple[str, ...]
    mentions: tuple[Mention, ...]
    literals: tuple[tuple[str, int], ...]  # (literal source, position)

    @property
    def lower(self) -> str:
        return self.raw.lower()

    def code_names(self) -> list[Mention]:
        return [m for m in self.mentions if m.kind == "name" and m.in_code]

    def names(self) -> list[Mention]:
        return [m for m in self.mentions if m.kind == "name"]

    def paths(self) -> list[Mention]:
        return [m for m in self.mentions if m.kind == "path"]

    def globs(self) -> list[Mention]:
        return [m for m in self.mentions if m.kind == "glob"]

    def sentence_at(self, position: int) -> str:
        offset = 0
        for sentence in self.sentences:
            start = self.raw.find(sentence, offset)
            if start <= position < start + len(sentence):
                return sentence
            offset = max(offset, start)
        return ""


def _split_args(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(",") if a.strip())


def _mentions_in_span(span: str, position: int) -> list[Mention]:
    span = span.strip()
    found: list[Mention] = []
    if _PATH.fullmatch(span):
        return [Mention(span, "path", position, True)]
    call = _CALL.match(span)
    if call and call.start() == 0:
        found.append(Mention(call.group(1), "name", position, True, _split_args(call.group(2))))
        return found
    if _GLOB.fullmatch(span):
        return [Mention(span, "glob", position, True)]
    head = span.split("=")[0].strip() if "=" in span and "==" not in span else span
    if _DOTTED.fullmatch(head) and head not in _STOP:
        return [Mention(head, "name", position, True)]
    for match in _PATH.finditer(span):
        found.append(Mention(match.group(0), "path", position + match.start(), True))
    return found


def parse_issue(text: str) -> IssueText:
    """Split an issue into title, sentences, code mentions and literals."""
    raw = text.strip()
    title = raw.splitlines()[0].strip() if raw else ""
    mentions: list[Mention] = []
    prose = _FENCE.sub(lambda m: " " * len(m.group(0)), raw)
    covered: list[tuple[int, int]] = []
    for match in _CODE_SPAN.finditer(prose):
        covered.append(match.span())
        mentions.extend(_mentions_in_span(match.group(1), match.start(1)))
    outside = "".join(
        " " if any(a <= i < b for a, b in covered) else ch for i, ch in enumerate(prose)
    )
    for match in _PATH.finditer(outside):
        mentions.append(Mention(match.group(0), "path", match.start(), False))
    for match in _CALL.finditer(outside):
        if match.group(1) not in _STOP:
            mentions.append(
                Mention(match.group(1), "name", match.start(), False, _split_args(match.group(2)))
            )
    taken = {(m.position, m.text) for m in mentions}
    for match in _BARE_IDENT.finditer(outside):
        word = match.group(1)
        looks_like_code = "_" in word.strip("_") or any(c.isupper() for c in word[1:])
        if looks_like_code and word not in _STOP and (match.start(), word) not in taken:
            mentions.append(Mention(word, "name", match.start(), False))
    mentions.sort(key=lambda m: m.position)
    sentences = tuple(s.strip() for s in _SENTENCE.split(raw) if s.strip())
    literals = tuple((m.group(0), m.start()) for m in _LITERAL.finditer(raw))
    return IssueText(
        raw=raw, title=title, sentences=sentences, mentions=tuple(mentions), literals=literals
    )


_EXCEPTION_LINE = re.compile(
    r"^\s*((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Iteration)\b(?::.*)?)$",
    re.M,
)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\):")


def quoted_failure(text: str) -> str | None:
    """The exception an issue quotes as the result of running code (the last line of a
    traceback, or an ``XError: ...`` line right after a ``>>>`` call); None when it quotes
    none. Issues quote failures they want gone far more often than ones they want, and the
    planner asks the judge which it is."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _TRACEBACK.search(line):
            for later in lines[i + 1 :]:
                m = _EXCEPTION_LINE.match(later)
                if m:
                    return m.group(1).strip()
                if later.strip().startswith(">>>"):
                    break
    for i, line in enumerate(lines[:-1]):
        if line.strip().startswith(">>>"):
            m = _EXCEPTION_LINE.match(lines[i + 1])
            if m:
                return m.group(1).strip()
    return None
