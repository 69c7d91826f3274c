"""What an issue says about the result: its ``>>>`` sessions and its statements.

``sessions(issue)`` splits the issue's interactive examples into ``Example``s and tells,
for each output shown, whether the issue expects it (``expected``) or shows it as the
behaviour it complains about (``wrong``). The label comes from the prose right before a
session ("Currently:", "It should give:"): the strong marker nearest to the session wins;
an output line with an inline ``# expected X`` / ``# should be X`` carries both. Outputs
whose role the text does not make clear are left unchecked (``unclear``).

``Statements`` are the result properties the issue states in its sentences (the old name
keeps working, with a ``DeprecationWarning``; the very same object; ``TypeError`` on
positional use; ``__all__`` / export; parameters in a docstring), found by words of
meaning, not by a fixed phrasing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from planner.spec import Spec

_PROMPT = re.compile(r"^\s*>>> ?(.*)$")
_MORE = re.compile(r"^\s*\.\.\. ?(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(
    r"^(?P<got>.*?)\s*#\s*(?:expected|expect|should (?:be|give|return|print|raise)|want(?:ed)?|"
    r"must (?:be|give|return|raise)|correct(?: answer)?(?: is)?)\s*:?\s*(?P<want>\S.*)$",
    re.I,
)
_STRONG_CURRENT = re.compile(
    r"\b(currently|current(?:ly)? (?:behaviou?r|output|result)|actual(?:ly)?|today|right now|"
    r"at the moment|as of now|i get|we get|you get|it gives|but got|got this|before(?: the fix)?|"
    r"wrong(?:ly)?|incorrect(?:ly)?|broken|bug(?:gy)?|repro(?:duce[sd]?|duction)?)\b",
    re.I,
)
_STRONG_EXPECTED = re.compile(
    r"\b(expected|expect|expecting|should|would like|want|wanted|desired|must|after(?: the "
    r"(?:fix|change))?|ought to|instead it should|correct(?: output| result| behaviou?r)?|"
    r"so that|such that|so (?:I|we|you) can)\b",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[*-]\s+")

_KEEP = re.compile(
    r"\b(deprecat\w*|keep(?:s)? working|keep(?:s)? (?:it|them|the old)|still (?:work|be "
    r"importable|import|accept|resolve)\w*|continue(?:s)? to work|backward(?:s)?[- ]compat\w*|"
    r"alias(?:es)?|shim|not break|without breaking|old (?:name|spelling|path|import)s? "
    r"(?:must|should|keeps?|still))",
    re.I,
)
_NEGATED = re.compile(
    r"\b(no need|not needed|needn't|don't|do not|does not|doesn't|not necessary|"
    r"no (?:backwards?[- ]compat\w*|alias|shim|deprecation)|without (?:an? )?(?:alias|shim|"
    r"deprecation)|never (?:exported|public))\b",
    re.I,
)
_DEPRECATION = re.compile(r"\b(deprecat\w*|DeprecationWarning|FutureWarning)\b", re.I)
_SAME_OBJECT = re.compile(
    r"\b(?:very same|same|identical)\s+(?:\w+\s+)?object\b|\bvery same\b|`[\w.]+ is [\w.]+`",
    re.I,
)
_POSITIONAL_TYPEERROR = re.compile(r"positional\w*.*\bTypeError\b|\bTypeError\b.*positional", re.I)
_EXPORT = re.compile(r"__all__|\bexport\w*\b|\bpublic api\b|top[- ]level (?:import|name)", re.I)
_PARAMS_DOC = re.compile(
    r"\b(param(?:eter)?s?|arg(?:ument)?s?|Args:|Parameters|every (?:input|keyword))\b", re.I
)
_DOC_WORD = re.compile(r"\b(docstrings?|document\w*|docs?|describe\w*|explain\w*)\b", re.I)
_IMPORT = re.compile(
    r"\b(from\s+[A-Za-z_][\w.]*\s+import\s+[A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_]\w*)*|"
    r"import\s+[A-Za-z_][\w.]*)"
)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Example:
    """One ``>>>`` statement of the issue, with what it should and should not print."""

    source: str
    expected: str | None = None  # the output the issue asks for
    wrong: str | None = None  # the output the issue says is wrong / current
    shown: str | None = None  # an output whose role the issue leaves unclear

    @property
    def label(self) -> str:
        if self.expected is not None:
            return "expected"
        return "wrong" if self.wrong is not None else "unclear"


@dataclass(frozen=True)
class Session:
    """Consecutive ``>>>`` statements (they share one namespace)."""

    examples: tuple[Example, ...]
    intro: str  # the prose right before the session

    def doctest(self, which: str) -> str:
        """The session as doctest text, with the ``expected`` (or ``wrong``) outputs."""
        out: list[str] = []
        for ex in self.examples:
            lines = ex.source.splitlines() or [""]
            out.append(">>> " + lines[0])
            out += ["... " + line for line in lines[1:]]
            shown = ex.expected if which == "expected" else ex.wrong
            if shown:
                out += shown.splitlines()
        return "\n".join(out) + "\n"


def _label(intro: str, bug_report: bool) -> str:
    """``expected`` / ``wrong`` / ``unclear`` from the prose before a session.

    "returns" / "raises" / "But:" alone say the output is wrong only in a bug report (a
    plan of ``edit``s): a feature request may show behaviour it keeps ("what `nth`
    raises depends on the input type:" … "keep raising as today").
    """
    last: tuple[int, str] | None = None
    for regex, label in ((_STRONG_CURRENT, "wrong"), (_STRONG_EXPECTED, "expected")):
        for m in regex.finditer(intro):
            if last is None or m.start() >= last[0]:
                last = (m.start(), label)
    if last is not None:
        return last[1]
    return "wrong" if bug_report and _WEAK_CURRENT.search(intro) else "unclear"


def _raw_sessions(issue: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(intro prose, [(source, output lines)]) per run of ``>>>`` lines."""
    found: list[tuple[str, list[tuple[str, list[str]]]]] = []
    prose: list[str] = []
    current: list[tuple[str, list[str]]] | None = None
    for line in issue.splitlines():
        prompt, more = _PROMPT.match(line), _MORE.match(line)
        if prompt:
            if current is None:
                current = []
                found.append((" ".join(prose[-3:]), current))
                prose = []
            current.append((prompt.group(1), []))
            continue
        if current is not None and current:
            if more and not current[-1][1]:
                src, out = current[-1]
                current[-1] = (src + "\n" + more.group(1), out)
                continue
            if line.strip() and not _FENCE.match(line):
                current[-1][1].append(line.rstrip())
                continue
        current = None
        if line.strip() and not _FENCE.match(line):
            prose.append(line.strip().lstrip("#").strip())
    return found


def sessions(issue: str, *, bug_report: bool = False) -> list[Session]:
    """The issue's ``>>>`` sessions, each output labelled expected / wrong / unclear."""
    out: list[Session] = []
    for intro, raw in _raw_sessions(issue):
        label = _label(intro, bug_report)
        examples: list[Example] = []
        for src, lines in raw:
            text = _dedent("\n".join(lines))
            inline = _INLINE.match(text) if len(lines) == 1 else None
            src_inline = _INLINE.match(src)
            if inline:
                examples.append(Example(src, inline.group("want"), inline.group("got") or None))
            elif src_inline and not text:
                examples.append(Example(src_inline.group("got"), src_inline.group("want")))
            elif src_inline:
                examples.append(Example(src_inline.group("got"), src_inline.group("want"), text))
            elif not text:
                examples.append(Example(src))
            elif label == "expected":
                examples.append(Example(src, expected=text))
            elif label == "wrong":
                examples.append(Example(src, wrong=text))
            else:
                examples.append(Example(src, shown=text))
        out.append(Session(tuple(examples), intro))
    return _pair_unclear(out)


def _pair_unclear(found: list[Session]) -> list[Session]:
    """An unlabelled output of a call the issue shows elsewhere with the expected one is wrong."""
    wanted = {e.source.strip(): e.expected for s in found for e in s.examples if e.expected}
    out = []
    for s in found:
        examples = []
        for e in s.examples:
            want = wanted.get(e.source.strip())
            if e.label == "unclear" and want is not None and e.shown and e.shown != want:
                e = Example(e.source, wrong=e.shown)
            examples.append(e)
        out.append(Session(tuple(examples), s.intro))
    return out


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return "\n".join(x[indent:] for x in lines).strip("\n")


def statement_sentences(issue: str) -> list[str]:
    """The issue's prose sentences (``>>>`` sessions and fenced code left out)."""
    prose = [
        line
        for line in re.sub(r"```.*?```", "\n", issue, flags=re.S).splitlines()
        if not _PROMPT.match(line) and not _MORE.match(line)
    ]
    return [s.strip() for s in _SENTENCE.split("\n".join(prose)) if s and s.strip()]


@dataclass(frozen=True)
class Statements:
    """Result properties the issue states in words."""

    sentences: tuple[str, ...]

    @classmethod
    def of(cls, issue: str) -> Statements:
        return cls(tuple(statement_sentences(issue)))

    def _about(self, regex: re.Pattern[str], names: tuple[str, ...] = ()) -> list[str]:
        hits = [s for s in self.sentences if regex.search(s)]
        if not names:
            return hits
        words = [re.compile(rf"(?<![\w]){re.escape(n)}(?!\w)") for n in names if n]
        generic = re.compile(r"\bold (?:name|function|import|path|spelling|module)s?\b", re.I)
        return [s for s in hits if any(w.search(s) for w in words) or generic.search(s)]

    def keeps_old(self, *names: str) -> bool:
        """The old name (or import path) must keep working (a sentence that says there is
        no need for that does not count)."""
        keep = [s for s in self._about(_KEEP, names) if not _NEGATED.search(s)]
        return bool(keep) or self.deprecation(*names)

    def deprecation(self, *names: str) -> bool:
        """Using the old name must warn (``DeprecationWarning``)."""
        return any(not _NEGATED.search(s) for s in self._about(_DEPRECATION, names))

    def same_object(self) -> bool:
        return bool(self._about(_SAME_OBJECT))

    def positional_type_error(self) -> bool:
        return bool(self._about(_POSITIONAL_TYPEERROR))

    def export(self, *names: str) -> bool:
        """The name must be exported (``__all__`` / the public API)."""
        return bool(self._about(_EXPORT, names)) or bool(self._about(_EXPORT))

    def docstring_params(self) -> bool:
        """A docstring request that asks for the parameters to be described."""
        return any(_DOC_WORD.search(s) for s in self._about(_PARAMS_DOC))


def import_statements(issue: str) -> list[str]:
    """``from x import y`` / ``import x`` statements the issue writes as code."""
    found: list[str] = []
    spans = [m.group(1) for m in _CODE_SPAN.finditer(issue)]
    fenced = [
        "\n".join(x for x in block.splitlines() if not _PROMPT.match(x))
        for block in re.findall(r"```.*?```", issue, flags=re.S)
    ]
    for text in [*spans, *fenced]:
        for m in _IMPORT.finditer(text):
            stmt = " ".join(m.group(1).split())
            if stmt not in found:
                found.append(stmt)
    return found


def with_stated_aliases(spec: Spec) -> Spec:
    """A rename whose old name the issue says must keep working gets ``keep_alias``.

    ``deprecated`` when the issue asks for a deprecation (warning) and the target is not
    required to be the very same object; ``alias`` otherwise. A ``keep_alias`` the spec
    already has is left as it is.
    """
    says = Statements.of(spec.description)
    ops = []
    for op in spec.operations:
        old = op.target.rsplit(".", 1)[-1]
        if op.op == "rename" and "keep_alias" not in op.params and says.keeps_old(old, op.target):
            deprecated = says.deprecation(old, op.target)
            mode = "deprecated" if deprecated else "alias"
            op = replace(op, params={**op.params, "keep_alias": mode})
        ops.append(op)
    return replace(spec, operations=tuple(ops)) if ops != list(spec.operations) else spec


_MODAL = r"(?:should|must|ought to|is expected to|are expected to|needs? to|has to|have to)"
# a value in backticks, or a bare literal that ends the clause ("should return 0.")
_VALUE = (
    r"(?:`([^`\n]+)`|(-?\d+(?:\.\d+)?|True|False|None|'[^'\n]*'|\"[^\"\n]*\")"
    r"(?=\s*(?:[.,;:)]|$)))"
)
_RAISE = re.compile(
    rf"{_MODAL}\s+(?:instead\s+|still\s+|now\s+|rather\s+)?(?:raise|throw|emit|warn with|give)\s+"
    r"(?:an?\s+)?`?([A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt))\b`?",
    re.I,
)
_RETURN = re.compile(
    rf"{_MODAL}\s+(?:instead\s+|still\s+|now\s+|rather\s+)?(?:return|give|be|evaluate to|"
    r"produce|yield)\s+" + _VALUE,
    re.I,
)
_WEAK_CURRENT = re.compile(
    r"\b(returns|gives|prints|raises|outputs|produces|shows|yields)\b|\bbut\W*$", re.I
)
_EXPECTING = re.compile(
    r"\b(?:expect\w*|should|must|want\w*|instead|after the (?:fix|change))\b", re.I
)
_PLAIN_RAISE = re.compile(
    r"^\s*(?:raises?|throws?)\s+(?:an?\s+)?`?([A-Z]\w*(?:Error|Exception|Warning|Exit))\b`?", re.I
)
_PLAIN_RETURN = re.compile(r"^\s*(?:returns?|gives?|evaluates? to|produces?)\s+" + _VALUE, re.I)
_CALL_SPAN = re.compile(r"`((?:[A-Za-z_][\w.]*)\([^`\n]*\))`")


@dataclass(frozen=True)
class StatedCall:
    """A call the issue writes in backticks and says what it must do (raise / return)."""

    call: str
    kind: str  # raises | returns
    value: str  # the exception (or warning) name, or the expected value's source


def stated_calls(issue: str) -> list[StatedCall]:
    """``f(x)`` should raise ``E`` / should return ``v``: the call nearest before the verb."""
    found: list[StatedCall] = []
    for sentence in statement_sentences(issue):
        calls = list(_CALL_SPAN.finditer(sentence))
        if not calls:
            continue
        hits: list[tuple[int, str, str]] = []
        for regex, kind in ((_RAISE, "raises"), (_RETURN, "returns")):
            hits += [(m.start(), kind, _first(m)) for m in regex.finditer(sentence)]
        for c in calls:  # "Expected: `f(x)` returns `v`": a plain verb right after the call
            rest = sentence[c.end() :]
            wanted = _EXPECTING.search(sentence[: c.start()])
            for regex, kind in ((_PLAIN_RAISE, "raises"), (_PLAIN_RETURN, "returns")):
                m = regex.match(rest)
                if wanted and m:
                    hits.append((c.end(), kind, _first(m)))
        for at, kind, value in sorted(hits):
            before = [c for c in calls if c.end() <= at]
            if not before or (kind == "returns" and not _is_literal(value.strip())):
                continue
            item = StatedCall(before[-1].group(1), kind, value.strip())
            if item not in found:
                found.append(item)
    return found


def _first(m: re.Match[str]) -> str:
    return next((g for g in m.groups() if g), "")


MISSING = object()  # what ``literal_value`` returns for text that is no Python literal


def literal_value(text: str) -> object:
    """The value of the Python literal ``text``, else ``MISSING``."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return MISSING


def _is_literal(text: str) -> bool:
    return literal_value(text) is not MISSING
