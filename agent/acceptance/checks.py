"""The acceptance checks of one spec: each a small, readable test function.

Three kinds, all derived from the issue text and the final ``Spec`` (never from a
particular phrasing):

``example``        the issue's ``>>>`` sessions give the outputs it expects, and no
                   longer the ones it calls wrong;
``statement``      what the issue's sentences state about the result: the old name keeps
                   working (with a ``DeprecationWarning``), the very same object, ``TypeError``
                   on positional use, ``import`` statements it writes, ``__all__``;
``postcondition``  what each operation must leave behind (new name resolves, old one gone,
                   ``inspect.signature``, docstrings, exports, idioms gone, …).

Checks read the *pristine* repository through the digest's ``Definition``s (what existed,
what the docstrings said) and run later on the patched copy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from agent.acceptance.base import BEHAVIOUR_OPS, AcceptanceCheck
from agent.acceptance.infer import Inferred, inferred_session
from agent.acceptance.issue import Session, import_statements, sessions, stated_calls
from agent.acceptance.ops import OpChecks
from agent.acceptance.ops_content import ContentChecks
from planner.digest_types import Definition
from planner.spec import Spec

__all__ = ["AcceptanceCheck", "build_checks", "read_by_model", "shows_only_a_change"]

# the check that an example no longer gives the output the issue calls wrong
_NOT_WRONG = "not wrong"
# the check of a value the model read from the issue's words (agent.acceptance.infer)
_AS_READ = "as read"


def shows_only_a_change(check_name: str) -> bool:
    """Is this the "no longer gives the wrong output" check of an example? It shows that the
    behaviour changed, not that the result is right."""
    return _NOT_WRONG.replace(" ", "_") in check_name


def read_by_model(check_name: str) -> bool:
    """Is this a check of a value the model read from the issue's words? It steers the
    drafts, but the issue never wrote that value: it alone confirms nothing."""
    return _AS_READ.replace(" ", "_") in check_name


class _Builder(OpChecks, ContentChecks):
    """The operations' checks, then the issue's examples and import statements."""

    inferred: Sequence[Inferred] = ()

    def examples(self) -> None:
        bug_report = bool(self.spec.operations) and all(
            o.op == "edit" for o in self.spec.operations
        )
        for i, s in enumerate(sessions(self.issue, bug_report=bug_report), 1):
            self._session(i, s)

    def _session(self, i: int, s: Session) -> None:
        names = self.names_for(e.source for e in s.examples)
        first = s.examples[0].source.splitlines()[0][:50]
        if any(e.expected is not None for e in s.examples):
            text = _doctest(s, "expected")
            self.add(
                "example",
                f"issue example {i}",
                f"the issue's example `{first}` gives the output the issue expects.",
                f"run_session({text!r}, {names!r})",
            )
        changes = any(o.op in BEHAVIOUR_OPS for o in self.spec.operations)
        if changes and any(e.wrong is not None for e in s.examples):
            text = _doctest(s, "wrong")
            self.add(
                "example",
                f"issue example {i} {_NOT_WRONG}",
                f"the issue's example `{first}` no longer gives the output it calls wrong.",
                f"run_session({text!r}, {names!r}, want='wrong')",
            )
        read = inferred_session(s, self.inferred) if changes else None
        if read is not None:
            said = "; ".join(
                i.describe() for i in self.inferred if i.usable and i.source in _sources(read)
            )
            self.add(
                "example",
                f"issue example {i} {_AS_READ}",
                f"the issue's example gives what its words ask for: {said}.",
                f"run_session({_doctest(read, 'expected')!r}, {names!r})",
            )

    def calls(self) -> None:
        """What the issue's sentences say a backticked call must raise or return."""
        for c in stated_calls(self.issue):
            names = self.names_for([c.call])
            verb = "raise" if c.kind == "raises" else "return"
            self.add(
                "statement",
                f"{c.call[:40]} {c.kind} {c.value[:20]}",
                f"the issue says `{c.call}` must {verb} `{c.value}`.",
                f"{c.kind}({c.call!r}, {c.value!r}, {names!r})",
            )

    def imports(self) -> None:
        gone = {q.rsplit(".", 1)[-1] for q in self.removed}
        for stmt in import_statements(self.issue):
            words = set(re.findall(r"[A-Za-z_]\w*", stmt))
            if words & gone or stmt.split()[1].split(".")[0] not in self.repo.roots():
                continue
            self.add(
                "statement",
                f"import {stmt}",
                f"the issue's import `{stmt}` works.",
                f"exec({stmt!r}, {{}})",
            )


def build_checks(
    issue: str,
    spec: Spec,
    definitions: Sequence[Definition],
    inferred: Sequence[Inferred] = (),
) -> list[AcceptanceCheck]:
    """Every acceptance check of ``spec`` for the issue text ``issue``; ``inferred`` are the
    values the model read from the issue's words for calls it shows only as wrong
    (``agent.acceptance.infer``)."""
    builder = _Builder(issue, spec, definitions)
    builder.inferred = tuple(inferred)
    for op in spec.operations:
        builder.operation(op)
    builder.examples()
    builder.calls()
    builder.imports()
    return builder.checks


def _doctest(s: Session, which: str) -> str:
    """The session with the ``which`` outputs; other statements run without an output check."""
    lines: list[str] = []
    for e in s.examples:
        shown = e.expected if which == "expected" else e.wrong
        src = e.source if shown is not None else _discard(e.source)
        first, *rest = src.splitlines() or [""]
        lines.append(">>> " + first)
        lines += ["... " + x for x in rest]
        if shown:
            lines += shown.splitlines()
    return "\n".join(lines) + "\n"


def _sources(s: Session) -> set[str]:
    return {e.source for e in s.examples}


def _discard(src: str) -> str:
    """An expression statement whose output is not checked: its value is dropped."""
    try:
        ast.parse(src, mode="eval")
    except SyntaxError:
        return src
    return f"_ = ({src})"
