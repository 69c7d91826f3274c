"""Tidy a model-written docstring before it goes into the code.

Small models ramble: they repeat a sentence until the token cap, copy the issue text instead of
describing the function, or write one 600-character line. ``tidy_docstring`` trims repeats,
caps the length at a sentence boundary and wraps prose (doctest and indented lines are kept
as written); ``copies_issue`` spots a docstring that parrots the request.
"""

from __future__ import annotations

import re
import textwrap

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`'\"(])")
_WORD = re.compile(r"[A-Za-z0-9_]+")
MAX_SENTENCES = 5
MAX_CHARS = 700


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(paragraph.split())) if s.strip()]


def _is_prose(block: list[str]) -> bool:
    return not any(
        line.lstrip().startswith((">>>", "...", "-", "*", ":")) or line.startswith((" ", "\t"))
        for line in block
    )


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in text.strip().splitlines():
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def tidy_docstring(text: str, width: int = 72) -> str:
    """Drop repeated sentences, cap the prose, wrap it to ``width``; keep doctests verbatim."""
    seen: set[str] = set()
    budget_sentences, budget_chars = MAX_SENTENCES, MAX_CHARS
    out: list[str] = []
    for block in _blocks(text):
        if not _is_prose(block):
            out.append("\n".join(block))
            continue
        kept: list[str] = []
        for sentence in _sentences(" ".join(block)):
            key = " ".join(_WORD.findall(sentence.lower()))
            if key in seen or budget_sentences <= 0 or budget_chars - len(sentence) < 0:
                continue
            seen.add(key)
            kept.append(sentence)
            budget_sentences -= 1
            budget_chars -= len(sentence)
        if kept:
            out.append(textwrap.fill(" ".join(kept), width=width, break_long_words=False))
    if not out:  # nothing fitted the budget: keep the first sentence, wrapped
        first = _sentences(text)[:1] or [text.strip()]
        out.append(textwrap.fill(first[0][:MAX_CHARS], width=width, break_long_words=False))
    return "\n\n".join(out)


def copies_issue(docstring: str, issue: str, span: int = 8) -> bool:
    """True when the docstring repeats a run of ``span`` words from the issue verbatim."""
    issue_words = _WORD.findall(issue.lower())
    doc_words = _WORD.findall(docstring.lower())
    if len(issue_words) < span or len(doc_words) < span:
        return False
    shingles = {tuple(issue_words[i : i + span]) for i in range(len(issue_words) - span + 1)}
    return any(tuple(doc_words[i : i + span]) in shingles for i in range(len(doc_words) - span + 1))
