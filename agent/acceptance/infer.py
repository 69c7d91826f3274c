"""The result a bug report asks for, read from its words when it shows only the wrong one.

A bug report often shows a call and the output it complains about, then says in prose what
it should be ("Asking for the last 0 elements should give an empty result"). The ``>>>``
session alone checks only that the output *changed*, and ``return []`` for every input
changes it too. Here the model reads the issue and answers, for each such call, the value
the issue's words ask for, as one Python literal (or ``UNKNOWN``). An answer counts only
when it is a literal, differs from the output the issue calls wrong, and every sample
(greedy plus two at temperature 0.7) gives the same value; it then becomes an acceptance check that
the summary names as read by the model ("tail(0, [1, 2, 3]) gives [] — read from the
issue's words, 3/3 samples"), and a fact the drafter sees.

An answer equal to the output shown says that the issue does not call that output wrong
(an example shown for contrast): it is recorded, and no check is made from it.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.acceptance.issue import MISSING, Example, Session, literal_value, sessions
from cores.errors import CoreError
from cores.protocols import LLM
from cores.types import GenerationParams, Message

SYSTEM = (
    "You read bug reports filed against a Python library. For a call the report shows, you "
    "say what the reporter says it should return once the bug is fixed, as one Python "
    "literal and nothing else. When the report's words do not say it, you answer UNKNOWN."
)
SAMPLES = 3  # greedy + two sampled answers; a value counts when all of them give it
_STOP = ("\nWrite Rule", "\n\n\n")  # the model echoing the instructions
_UNKNOWN = re.compile(r"^\W*(unknown|unclear|n/?a|none of|cannot|can't|not (?:said|stated))", re.I)


@dataclass(frozen=True)
class Inferred:
    """The value the issue's words ask one wrong-output call to give."""

    source: str  # the ``>>>`` statement
    wrong: str  # the output the issue shows as wrong
    expected: str | None  # the literal all samples agree on (None: they differ / unknown)
    votes: int
    samples: int

    @property
    def usable(self) -> bool:
        """A value to check: every sample gave it, and it is not the output called wrong."""
        return self.expected is not None and not same_value(self.expected, self.wrong)

    def describe(self) -> str:
        return (
            f"`{self.source.splitlines()[0]}` gives `{self.expected}` "
            f"(read from the issue's words, {self.votes}/{self.samples} samples)"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "wrong": self.wrong,
            "expected": self.expected,
            "votes": self.votes,
            "samples": self.samples,
            "usable": self.usable,
        }


def open_questions(issue: str) -> list[tuple[int, Example]]:
    """(session number, example) for each expression whose output the issue shows as wrong
    (or shows without saying whether it is right) and whose expected output it does not
    show anywhere. An unclear output comes back as a wrong one: the model's answer says
    whether the issue wants it changed (a different value) or not (the same value)."""
    found = sessions(issue, bug_report=True)
    shown = {e.source.strip() for s in found for e in s.examples if e.expected is not None}
    out = []
    for i, s in enumerate(found, 1):
        for e in s.examples:
            output = e.wrong if e.wrong is not None else e.shown
            if output is None or e.source.strip() in shown or not _expression(e.source):
                continue
            out.append((i, Example(e.source, wrong=output)))
    return out


def infer_expected(
    issue: str, llm: LLM | Callable[[], LLM], *, samples: int = SAMPLES, limit: int = 4
) -> list[Inferred]:
    """Ask the model, for each open question of ``issue``, the value its words ask for.

    ``llm`` may be a factory: the model is loaded only when there is a question to ask.
    A model that fails (``CoreError``) leaves the question unanswered."""
    questions = open_questions(issue)[:limit]
    if not questions:
        return []
    model: LLM = llm() if callable(llm) and not hasattr(llm, "chat") else llm  # type: ignore[assignment]
    out = []
    for _, ex in questions:
        try:
            answers = _ask(model, issue, ex, samples)
        except CoreError:
            answers = []
        out.append(_vote(ex, answers, samples))
    return out


def _ask(llm: LLM, issue: str, ex: Example, samples: int) -> list[str]:
    assert ex.wrong is not None
    call = ex.source.splitlines()[0]
    question = (
        f'Bug report:\n"""\n{issue.strip()[:3500]}\n"""\n\n'
        f"The report shows\n>>> {ex.source}\n{ex.wrong}\nand says this result is wrong. "
        "What does the report say the result should be instead? Answer in two lines:\n"
        "Rule: <the report's own words that say what the result should be, quoted exactly>\n"
        f"Value: <the Python value `{call}` returns once fixed, by that rule>\n"
        "Write Rule: NONE and Value: UNKNOWN if the report's words do not say."
    )
    messages = [Message("system", SYSTEM), Message("user", question)]
    first = llm.chat(messages, GenerationParams(max_tokens=120, temperature=0.0, stop=_STOP))
    texts = list(first.texts[:1])
    if samples > 1:
        more = llm.chat(
            messages,
            GenerationParams(max_tokens=120, temperature=0.7, seed=7, n=samples - 1, stop=_STOP),
        )
        texts += list(more.texts)
    return texts


def _vote(ex: Example, answers: Sequence[str], samples: int) -> Inferred:
    assert ex.wrong is not None
    values = [v for v in (literal_answer(a) for a in answers) if v is not None]
    if not values:
        return Inferred(ex.source, ex.wrong, None, 0, samples)
    value, votes = Counter(values).most_common(1)[0]
    if votes < samples:
        return Inferred(ex.source, ex.wrong, None, votes, samples)
    return Inferred(ex.source, ex.wrong, value, votes, samples)


def literal_answer(text: str) -> str | None:
    """The canonical ``repr`` of the one Python literal ``text`` answers (its ``Value:``
    line where it has one), else ``None``."""
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]
    value_lines = [x for x in lines if x.lower().startswith("value:")]
    line = value_lines[0][len("value:") :] if value_lines else (lines[0] if lines else "")
    line = line.strip().strip("`").strip()
    if line.startswith(">>>") or not line or _UNKNOWN.match(line):
        return None
    for candidate in (line, line.rstrip(".").strip("`")):
        value = literal_value(candidate)
        if value is not MISSING:
            return repr(value)
    return None


def same_value(a: str, b: str) -> bool:
    """Do two outputs show the same value (as literals where both parse, else as text)?"""
    la, lb = literal_value(a.strip()), literal_value(b.strip())
    if la is not MISSING and lb is not MISSING:
        return la == lb and type(la) is type(lb)
    return " ".join(a.split()) == " ".join(b.split())


def _expression(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def inferred_session(s: Session, inferred: Sequence[Inferred]) -> Session | None:
    """``s`` with the inferred values as its expected outputs (other outputs unchecked);
    ``None`` when none of its examples has a usable inferred value."""
    by_source = {i.source.strip(): i for i in inferred if i.usable}
    if not any(e.source.strip() in by_source for e in s.examples):
        return None
    examples = []
    for e in s.examples:
        got = by_source.get(e.source.strip())
        examples.append(Example(e.source, expected=got.expected) if got else Example(e.source))
    return Session(tuple(examples), s.intro)
