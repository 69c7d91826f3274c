"""Tidy a model-written docstring before it goes into the code.

Small models ramble: they repeat a sentence until the token cap, copy the issue text instead of
describing the function, or write one 600-character line. ``tidy_docstring`` trims repeats,
caps the length at a sentence boundary and wraps prose (doctest and indented lines are kept
as written); ``copies_issue`` spots a docstring that parrots the request.
"""

from __future__ import annotations

import ast
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


_CLAIMED = (
    re.compile(r":param\s+(?:[\w\[\], .|]+\s+)?\*{0,2}(\w+)\s*:"),  # reST / Sphinx
    re.compile(r"^\s*\*{0,2}(\w+)\s*(?:\([^)\n]*\))?\s*:\s+\S", re.M),  # Google, in a section
    re.compile(r"^\s*\*{0,2}(\w+)\s+:\s*\S", re.M),  # numpy: ``name : type``
)
_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters)"
    r"\s*:?\s*$(.*?)(?=^\s*[A-Z][A-Za-z ]+:?\s*$|\Z)",
    re.M | re.S,
)


def claimed_parameters(docstring: str) -> set[str]:
    """Names the docstring describes as parameters (reST ``:param x:``, a Google or numpy
    ``Args``/``Parameters`` section)."""
    names = set(_CLAIMED[0].findall(docstring))
    for section in _SECTION.finditer(docstring):
        body = section.group(2)
        for regex in _CLAIMED[1:]:
            names |= {n for n in regex.findall(body) if not n.startswith("-")}
    return names


def docstring_problem(docstring: str, code: str, issue: str) -> str | None:
    """Why a model-written docstring for ``code`` (one def or class) cannot be used, or None:
    it is empty, repeats the request (the issue's title or a run of its words) instead of
    describing the code, or describes a parameter the code does not have."""
    title = " ".join(_WORD.findall((issue.strip().splitlines() or [""])[0].lower()))
    summary = " ".join(_WORD.findall(_sentences(docstring)[0].lower())) if docstring else ""
    if not summary:
        return "the docstring is empty"
    if summary == title or copies_issue(docstring, issue):
        return "the docstring repeats the request instead of describing the code"
    node = _definition(code)
    if node is None:
        return None
    invented = sorted(claimed_parameters(docstring) - set(_parameters(node)) - {"self", "cls"})
    if invented:
        shown = ", ".join(f"`{n}`" for n in invented)
        return f"the docstring describes parameter(s) {shown} that `{node.name}` does not have"
    return None


def lists_neighbours(docstring: str, code: str, module: str) -> str | None:
    """A soft gap: the summary is a list of the module's definitions ("Cart methods: add,
    total") instead of saying what ``code`` does — two or more defined names joined by commas,
    "and", "or" or "/", one of them neither this definition nor anything its code uses."""
    node = _definition(code)
    first = _sentences(docstring)[0] if docstring.strip() else ""
    try:
        tree = ast.parse(module) if module.strip() and node is not None else None
    except SyntaxError:
        tree = None
    if tree is None or node is None:
        return None
    defined = {
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not n.name.startswith("__")
    }
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    used |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)} | {node.name}
    names = "|".join(re.escape(n) for n in sorted(defined, key=len, reverse=True))
    if not names:
        return None
    item = rf"`?\b(?:{names})\b(?:\(\))?`?"
    for m in re.finditer(rf"{item}(?:\s*(?:,|/|\band\b|\bor\b)\s*{item})+", first):
        listed = re.findall(rf"\b(?:{names})\b", m.group())
        if any(n not in used for n in listed):
            return (
                f"the summary lists definitions ({', '.join(listed)}) instead of saying what "
                f"`{node.name}` does"
            )
    return None


def docstring_gaps(docstring: str, code: str) -> list[str]:
    """What a docstring leaves out when the issue asks for the parameters: each parameter
    it does not name, and the return value of a function that returns one."""
    node = _definition(code)
    if node is None:
        return []
    words = set(_WORD.findall(docstring))
    gaps = [f"`{p}`" for p in _parameters(node) if p not in ("self", "cls") and p not in words]
    says = re.search(r"\b(return|returns|returned|yield|yields)\b", docstring, re.I)
    function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    if function and _returns_value(node) and not says:  # type: ignore[arg-type,unused-ignore]
        gaps.append("the return value")
    return gaps


def described_parameters(code: str) -> list[str]:
    """The parameters a docstring of ``code`` should describe (no ``self``/``cls``)."""
    node = _definition(code)
    return [p for p in _parameters(node) if p not in ("self", "cls")] if node else []


def _definition(code: str) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return node
    return None


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[str]:
    if isinstance(node, ast.ClassDef):
        init = next(
            (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
            None,
        )
        if init is None:
            return []
        node = init
    a = node.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return names


def _returns_value(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    own = [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Return)
        and n.value is not None
        and not (isinstance(n.value, ast.Constant) and n.value.value is None)
    ]
    return bool(own)


def with_fields(text: str, fields: list[tuple[str, str]], style: str, width: int = 72) -> str:
    """``text`` with a field per (parameter, phrase) — ``""`` for the return value — in the
    project's docstring style: reST ``:param p:`` (also where it has none), Google ``Args:``
    or numpy ``Parameters``; each phrase wrapped to ``width``."""

    def wrapped(first: str, phrase: str, indent: str) -> str:
        return textwrap.fill(
            phrase,
            width=width,
            initial_indent=first,
            subsequent_indent=indent,
            break_long_words=False,
        )

    params = [(p, phrase) for p, phrase in fields if p]
    returns = [phrase for p, phrase in fields if not p]
    blocks: list[str] = []
    if style == "google":
        if params:
            blocks.append(
                "Args:\n" + "\n".join(wrapped(f"    {p}: ", x, " " * 8) for p, x in params)
            )
        if returns:
            blocks.append("Returns:\n" + wrapped("    ", returns[0], "    "))
    elif style == "numpy":
        if params:
            lines = [f"{p}\n" + wrapped("    ", x, "    ") for p, x in params]
            blocks.append("Parameters\n----------\n" + "\n".join(lines))
        if returns:
            blocks.append("Returns\n-------\n" + wrapped("    ", returns[0], "    "))
    else:
        lines = [wrapped(f":param {p}: ", x, "    ") for p, x in params]
        lines += [wrapped(":return: ", returns[0], "    ")] if returns else []
        blocks.append("\n".join(lines))
    return "\n\n".join([text.rstrip(), *blocks])
