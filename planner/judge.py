"""The model as a judge: yes/no questions about an issue, answered with a probability.

The issue (and the code it mentions) is one fixed prefix, so llama.cpp evaluates it
once and every further question costs only its own few tokens. A question's answer is
P(yes) from the first token's log-probabilities where the backend reports them; a
backend that does not (the scripted one) is read from its text and, with ``samples``
> 1, voted over samples drawn at a higher temperature.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cores.protocols import LLM
from cores.types import GenerationParams, Message

SYSTEM = (
    "You are a senior Python maintainer triaging an issue filed against your repository. "
    "You read the issue carefully and answer each question about it with yes or no only. "
    "Answer yes only when the issue asks for that change; code the issue mentions only as an "
    "example, for comparison or as background is not to be changed."
)


@dataclass
class Judge:
    """Asks ``llm`` questions about one issue; remembers every answer for the record."""

    llm: LLM
    issue: str
    context: str = ""
    examples: str = ""  # worked examples: earlier issues of this repository and their plans
    samples: int = 1
    answers: list[dict[str, Any]] = field(default_factory=list)

    def _prefix(self) -> str:
        parts = []
        if self.examples:
            parts.append(
                f"Earlier issues of this repository and the plans that solved them:\n{self.examples}"
            )
        parts.append(f'Issue:\n"""\n{self.issue.strip()[:4000]}\n"""')
        if self.context:
            parts.append(f"Code the issue refers to:\n{self.context}")
        return "\n\n".join(parts)

    def ask(self, question: str) -> float:
        """P(yes) for ``question`` (a full sentence ending in '?')."""
        messages = [
            Message("system", SYSTEM),
            Message("user", f"{self._prefix()}\n\nQuestion: {question}\nAnswer yes or no."),
        ]
        params = GenerationParams(max_tokens=2, temperature=0.0, top_logprobs=10)
        out = self.llm.chat(messages, params)
        p = yes_from_logprobs(out.first_token_logprobs[0]) if out.first_token_logprobs else None
        if p is None:
            votes = [_yes_from_text(t) for t in out.texts]
            if self.samples > 1:
                more = self.llm.chat(
                    messages,
                    GenerationParams(max_tokens=2, temperature=0.8, seed=1, n=self.samples - 1),
                )
                votes += [_yes_from_text(t) for t in more.texts]
            p = sum(votes) / len(votes)
        self.answers.append({"question": question, "p_yes": round(p, 4), "text": out.texts[0]})
        return p

    def choose_both_ways(self, question: str, options: Sequence[str]) -> list[float]:
        """``choose`` asked with the options in order and reversed, averaged: a small model
        favours some letters, and the average cancels that position bias."""
        forward = self.choose(question, options)
        if len(options) < 2:
            return forward
        backward = self.choose(question, list(options)[::-1])[::-1]
        return [(a + b) / 2 for a, b in zip(forward, backward, strict=True)]

    def choose(self, question: str, options: Sequence[str]) -> list[float]:
        """A distribution over ``options`` (lettered A, B, …) for a one-answer question."""
        letters = [chr(ord("A") + i) for i in range(len(options))]
        listing = "\n".join(
            f"{letter}. {text}" for letter, text in zip(letters, options, strict=True)
        )
        messages = [
            Message("system", SYSTEM.replace("with yes or no only", "with one letter only")),
            Message(
                "user",
                f"{self._prefix()}\n\nQuestion: {question}\n{listing}\nAnswer with one letter.",
            ),
        ]
        out = self.llm.chat(
            messages, GenerationParams(max_tokens=2, temperature=0.0, top_logprobs=64)
        )
        weights = [0.0] * len(options)
        if out.first_token_logprobs:
            for token, logprob in dict(out.first_token_logprobs[0]).items():
                word = str(token).strip().rstrip(".)")
                if word in letters:
                    weights[letters.index(word)] += math.exp(logprob)
        if sum(weights) <= 0.0:
            word = out.texts[0].strip()[:1].upper() if out.texts else ""
            weights = [1.0 if word == letter else 0.0 for letter in letters]
        total = sum(weights) or 1.0
        probs = [w / total for w in weights]
        self.answers.append(
            {
                "question": question,
                "options": list(options),
                "p": [round(p, 4) for p in probs],
                "text": out.texts[0] if out.texts else "",
            }
        )
        return probs


def yes_from_logprobs(alternatives: Any) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the first token's alternatives; None if neither shows."""
    yes = no = 0.0
    for token, logprob in dict(alternatives).items():
        word = str(token).strip().lower()
        if word in ("yes", "y", "ye"):
            yes += math.exp(logprob)
        elif word in ("no", "n"):
            no += math.exp(logprob)
    if yes + no <= 0.0:
        return None
    return yes / (yes + no)


def _yes_from_text(text: str) -> float:
    word = text.strip().lower()
    if word.startswith("yes"):
        return 1.0
    if word.startswith("no"):
        return 0.0
    return 0.5


def judge_model_name(registry: Any, preferred: str = "quality") -> str:
    """The model that judges plans: ``preferred`` (the 1.5B) when it is installed, else the
    registry's active LLM (a small model judges worse, but it is what the user has)."""
    from cores.errors import CoreError

    try:
        registry.get(preferred).resolved_path()
        return preferred
    except (CoreError, OSError, ValueError):
        return str(registry.active("llm").name)
