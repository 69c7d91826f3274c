"""The user in the loop: ``fix`` states the understood plan in plain words, then asks.

``plan_in_words(spec)`` is what ``fix`` prints before drafting. ``Confirmer`` is the
``confirm`` hook of ``FixRun``: on an interactive terminal it asks to go on, edit the spec
in ``$VISUAL`` / ``$EDITOR`` (the edited YAML is checked against the digest like
``--spec``) or stop; with ``--yes``, or when standard input is not a terminal, it only
states the plan and goes on.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from agent.acceptance.module import coverage_of
from planner.spec import Spec, SpecError

PROMPT = "go on [g], edit the spec in $EDITOR [e], or stop [s]? "


def plan_in_words(spec: Spec) -> str:
    """The understood plan: one numbered line per operation, plus what it leaves out."""
    lines = ["autopatch understood the issue as:"]
    lines += [f"  {i}. {op.plain()}" for i, op in enumerate(spec.operations, 1)]
    coverage = coverage_of(spec)
    if not coverage.complete:
        lines.append(f"  ! {coverage.message()}")
    lines += [f"  (context, left alone: `{k}`: {v})" for k, v in coverage.context.items()]
    return "\n".join(lines)


class Confirmer:
    """States the plan (``say``) and, when ``ask`` is true, lets the user go on, edit or stop."""

    def __init__(
        self,
        digest: Any,
        *,
        ask: bool,
        say: Callable[[str], None],
        stdin: TextIO | None = None,
        editor: str | None = None,
    ) -> None:
        self.digest = digest
        self.ask = ask
        self.say = say
        self.stdin = stdin
        self.editor = editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"

    def __call__(self, spec: Spec) -> Spec | None:
        while True:
            self.say(plan_in_words(spec))
            if not self.ask:
                return spec
            self.say(PROMPT.rstrip())
            answer = (self._readline() or "s").strip().lower()
            if answer in ("", "g", "go", "y", "yes"):
                return spec
            if answer in ("s", "stop", "n", "no", "q"):
                return None
            if answer in ("e", "edit"):
                spec = self._edit(spec)
                continue
            self.say(f"please answer g, e or s (got {answer!r})")

    def _readline(self) -> str | None:
        import sys

        stream = self.stdin or sys.stdin
        line = stream.readline()
        return line if line else None

    def _edit(self, spec: Spec) -> Spec:
        from planner.normalize import from_spec_file

        with tempfile.TemporaryDirectory(prefix="autopatch-spec-") as tmp:
            path = Path(tmp) / "spec.yaml"
            path.write_text(spec.to_yaml(), encoding="utf-8")
            subprocess.run([*shlex.split(self.editor), str(path)], check=False)
            try:
                edited = from_spec_file(path, self.digest)
            except SpecError as exc:
                self.say(f"the edited spec was not used: {exc}")
                return spec
        return edited
