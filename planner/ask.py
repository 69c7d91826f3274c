"""Answer a question about a repository from retrieved code, every sentence cited.

``answer`` retrieves spans (``planner.retrieval``), shows the model the best ones
as numbered sources (``[1] path:start-end`` + the code), and asks for JSON through
constrained decoding: ``{"sentences": [{"text": ..., "source": N}]}``. Each
sentence is rendered with the citation of its source, ``(path:start-end)``; a
sentence naming a source that was not shown is dropped and listed in
``Answer.dropped``. When retrieval finds nothing the model is not called.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cores.protocols import LLM
from cores.types import GenerationParams, Message
from planner.retrieval import Retriever, Span

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_SENTENCES = 4
MAX_SENTENCE_CHARS = 240
MAX_TOKENS = 320
SNIPPET_LINES = 40
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")

SYSTEM = (
    "You answer a question about a Python repository using only the numbered sources "
    "([1], [2], ...) of its code that you are given. Reply with one JSON object.\n"
    "Fields:\n"
    "- sentences: 1 to 4 short sentences that answer the question. Each item has:\n"
    "  - text: one sentence in plain English; name functions and classes exactly as in "
    "the sources.\n"
    "  - source: the number N of the source [N] whose code supports that sentence.\n"
    "Only state what the sources show."
)


@dataclass(frozen=True)
class Sentence:
    """One claim of the answer, tied to source number ``source`` (1-based) and its ``ref``."""

    text: str
    source: int
    ref: str | None = None  # "path:start-end" of the cited source; None when out of range

    def render(self) -> str:
        """``text (path:start-end).`` with the sentence's final punctuation after the citation."""
        body = self.text.strip()
        end = body[-1] if body and body[-1] in ".!?" else "."
        body = body.rstrip(".!? ")
        return f"{body} ({self.ref}){end}" if self.ref else f"{body}{end}"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "ref": self.ref}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sentence:
        return cls(str(data["text"]), int(data["source"]), data.get("ref"))


@dataclass(frozen=True)
class Answer:
    """The rendered answer, its cited sentences, the sources shown to the model, and costs."""

    question: str
    text: str
    sentences: tuple[Sentence, ...] = ()
    sources: tuple[Span, ...] = ()
    model_id: str | None = None  # None when the model was not called
    latency_s: float = 0.0
    dropped: tuple[Sentence, ...] = ()  # sentences whose source number was out of range
    prompt_tokens: int = 0
    completion_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "question": self.question,
            "text": self.text,
            "sentences": [s.to_dict() for s in self.sentences],
            "sources": [s.to_dict() for s in self.sources],
            "model_id": self.model_id,
            "latency_s": self.latency_s,
            "dropped": [s.to_dict() for s in self.dropped],
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "timings": dict(self.timings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        return cls(
            question=str(data["question"]),
            text=str(data["text"]),
            sentences=tuple(Sentence.from_dict(s) for s in data.get("sentences", ())),
            sources=tuple(Span.from_dict(s) for s in data.get("sources", ())),
            model_id=data.get("model_id"),
            latency_s=float(data.get("latency_s", 0.0)),
            dropped=tuple(Sentence.from_dict(s) for s in data.get("dropped", ())),
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            timings=dict(data.get("timings", {})),
        )


def answer_schema(n_sources: int) -> dict[str, Any]:
    """The constrained-decoding schema; ``source`` is limited to 1..n where the backend can."""
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 1, "maxLength": MAX_SENTENCE_CHARS},
                        "source": {"type": "integer", "enum": list(range(1, n_sources + 1))},
                    },
                    "required": ["text", "source"],
                    "additionalProperties": False,
                },
                "minItems": 1,
                "maxItems": MAX_SENTENCES,
            }
        },
        "required": ["sentences"],
        "additionalProperties": False,
    }


def select_sources(
    spans: Sequence[Span], repo_root: str | Path, max_chars: int
) -> list[tuple[Span, str]]:
    """The spans to show, best first, with their snippets, within ``max_chars`` of code.

    No line is shown twice: a span inside one already shown (a method of a short
    class) is skipped, and a span that would show earlier ones whole takes the place
    of the first of them. The last snippet is cut to fit; the first is always kept.
    """
    chosen: list[tuple[Span, str, int]] = []  # span, snippet, last line shown
    for span in spans:
        budget = max_chars - sum(len(text) for _, text, _ in chosen)
        if budget <= 0:
            break
        if any(c.path == span.path and c.start_line <= span.start_line and span.end_line <= last
               for c, _, last in chosen):  # fmt: skip
            continue
        text = span.snippet(repo_root, max_lines=SNIPPET_LINES)
        if not text:
            continue
        last = min(span.end_line, span.start_line + SNIPPET_LINES - 1)
        inner = [
            i
            for i, (c, _, _) in enumerate(chosen)
            if c.path == span.path and span.start_line <= c.start_line and c.end_line <= last
        ]
        budget += sum(len(chosen[i][1]) for i in inner)
        if len(text) > budget:
            if inner or (chosen and budget < 200):
                continue
            text = text[: max(budget, 200)].rsplit("\n", 1)[0]
            last = span.start_line + text.count("\n")
            text += "\n# ... (cut)"
        if inner:
            chosen[inner[0]] = (span, text, last)
            for i in reversed(inner[1:]):
                del chosen[i]
        else:
            chosen.append((span, text, last))
    return [(span, text) for span, text, _ in chosen]


def build_messages(question: str, sources: Sequence[tuple[Span, str]]) -> list[Message]:
    """System instructions first (a stable, cacheable prefix), then the sources and question."""
    blocks = []
    for n, (span, text) in enumerate(sources, 1):
        what = f" ({span.kind} {span.qualname})" if span.qualname else ""
        blocks.append(f"[{n}] {span.ref}{what}\n```python\n{text}\n```")
    user = "Sources:\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"
    return [Message("system", SYSTEM), Message("user", user)]


def parse_sentences(raw: str) -> list[tuple[str, int]]:
    """(text, source) pairs from the model's JSON; salvages whole items of a cut-off reply."""
    try:
        value = json.loads(raw)
        items = value.get("sentences", []) if isinstance(value, dict) else []
    except ValueError:
        pattern = r'\{\s*"text"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"source"\s*:\s*(-?\d+)\s*\}'
        items = [{"text": json.loads(t), "source": int(s)} for t, s in re.findall(pattern, raw)]
        log.info("model reply was not complete JSON; salvaged %d sentence(s)", len(items))
    pairs: list[tuple[str, int]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text, source = item.get("text"), item.get("source")
        if isinstance(text, str) and isinstance(source, int) and not isinstance(source, bool):
            pairs.append((" ".join(text.split()), source))
    return pairs


def split(text: str) -> list[str]:
    """A model "sentence" that holds several sentences, as separate ones (each gets cited)."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece.strip()]


def answer(
    question: str,
    retriever: Retriever,
    llm: LLM,
    repo_root: str | Path,
    *,
    k: int = 5,
    max_context_chars: int = 6000,
) -> Answer:
    """Answer ``question`` from the repository's code; every kept sentence cites a source."""
    started = time.perf_counter()
    spans = retriever.search(question, k=k)
    sources = select_sources(spans, repo_root, max_context_chars)
    retrieved_s = time.perf_counter() - started
    if not sources:
        log.info("no code matches %r; the model is not called", question)
        return Answer(
            question=question,
            text=f"Nothing in this repository matches {question.strip()!r}.",
            latency_s=round(retrieved_s, 3),
            timings={"retrieve": round(retrieved_s, 3)},
        )
    shown = tuple(span for span, _ in sources)
    messages = build_messages(question, sources)
    params = GenerationParams(max_tokens=MAX_TOKENS, json_schema=answer_schema(len(shown)))
    completion = llm.chat(messages, params)
    kept: list[Sentence] = []
    dropped: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    pairs = [(piece, n) for text, n in parse_sentences(completion.text) for piece in split(text)]
    for text, source in pairs:
        if not text or (text, source) in seen:
            continue
        seen.add((text, source))
        if 1 <= source <= len(shown):
            kept.append(Sentence(text, source, shown[source - 1].ref))
        else:
            dropped.append(Sentence(text, source))
    if dropped:
        log.info("dropped %d sentence(s) citing a source outside 1..%d", len(dropped), len(shown))
    if kept:
        rendered = " ".join(s.render() for s in kept)
    else:
        refs = ", ".join(s.ref for s in shown[:3])
        rendered = f"The model gave no answer tied to the sources; the closest code is {refs}."
    total = time.perf_counter() - started
    return Answer(
        question=question,
        text=rendered,
        sentences=tuple(kept),
        sources=shown,
        model_id=completion.model_id,
        latency_s=round(total, 3),
        dropped=tuple(dropped),
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        timings={"retrieve": round(retrieved_s, 3), "llm": round(completion.latency_s, 3)},
    )
