"""Acceptance checks from the issue: ``acceptance_test.py``, run in the sandbox, in the patch set.

``acceptance_module(issue, spec, definitions)`` builds the checks (``agent.acceptance.checks``)
and renders them as one readable, standalone module: the helpers of
``agent.acceptance.runtime`` (standard library only), then one ``test_*`` function per
check. It runs with ``python acceptance_test.py`` (one JSON line of results) or pytest.

``run_acceptance(module, root, python, sandbox)`` runs it on a tree (the patched scratch
copy; the pristine copy for the "fails without the change" column) with the project's
interpreter, from a temp folder outside the tree, and returns an ``AcceptanceReport``.
``coverage_of(spec)`` reads the planner's coverage verdict.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.acceptance import runtime as acceptance_runtime
from agent.acceptance.checks import AcceptanceCheck, build_checks
from agent.acceptance.infer import Inferred
from agent.verify.project import python_path
from agent.verify.sandbox import Sandbox
from planner.digest_types import Definition
from planner.spec import Spec

__all__ = [
    "AcceptanceModule",
    "AcceptanceReport",
    "CheckResult",
    "Coverage",
    "acceptance_module",
    "coverage_of",
    "run_acceptance",
]

FILENAME = "acceptance_test.py"
SCHEMA_VERSION = 1


def concise(message: str) -> str:
    """A check's failure in one line the model can act on: for a doctest session, each
    failed example as "`call` returned `got`, expected `want`" (or what it raised)."""
    blocks = message.split("Failed example:")[1:]
    if not blocks:
        lines = [x for x in message.splitlines() if x.strip()]
        return lines[-1].strip()[:300] if lines else ""
    out = []
    for block in blocks[:3]:
        lines = [x.strip() for x in block.split("*" * 20)[0].splitlines() if x.strip()]
        source = lines[0] if lines else "?"
        text = "\n".join(lines[1:])
        want = _section(text, "Expected:", ("Got:", "Exception raised:"))
        if "Exception raised:" in text:
            raised = [x for x in text.split("Exception raised:", 1)[1].splitlines() if x.strip()]
            got = f"raised `{raised[-1].strip()[:150]}`" if raised else "raised"
        else:
            got = f"returned `{_section(text, 'Got:', ())[:150]}`"
        expected = f", expected `{want[:150]}`" if want else ""
        out.append(f"`{source[:150]}` {got}{expected}")
    return "; ".join(out)


def _section(text: str, start: str, ends: tuple[str, ...]) -> str:
    if start not in text:
        return ""
    body = text.split(start, 1)[1]
    for end in ends:
        body = body.split(end, 1)[0]
    return " ".join(x.strip() for x in body.splitlines() if x.strip())


@dataclass(frozen=True)
class AcceptanceModule:
    """The checks and their rendered module text."""

    checks: tuple[AcceptanceCheck, ...]
    text: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    kind: str
    doc: str
    ok: bool
    message: str = ""
    before: bool | None = None  # did it pass on the unpatched tree (None: not run)
    applies: bool = True  # False: an invariant that fails without the change too

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "doc": self.doc,
            "ok": self.ok,
            "message": self.message,
            "before": self.before,
            "applies": self.applies,
        }


@dataclass(frozen=True)
class AcceptanceReport:
    """The outcome of ``acceptance_test.py`` on one tree."""

    results: tuple[CheckResult, ...]
    error: str = ""  # the module could not run at all (rc, stderr)
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return not self.error and all(r.ok for r in self.results if r.applies)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.applies and not r.ok]

    def with_before(self, before: AcceptanceReport) -> AcceptanceReport:
        """Mark each check with its result on the unpatched tree.

        A check does not apply when it fails there too and is an invariant (it never
        held), or when both trees fail it with a ``NameError``: the issue's example names
        something neither tree has (a name the example never imports), so it cannot run.
        """
        was = {r.name: r for r in before.results} if not before.error else {}
        out = []
        for r in self.results:
            b = was.get(r.name)
            failed_before = b is not None and not b.ok
            unrunnable = (
                failed_before
                and not r.ok
                and b is not None
                and all("NameError" in m for m in (r.message, b.message))
            )
            applies = not ((r.kind == "invariant" and failed_before) or unrunnable)
            ok_before = None if b is None else b.ok
            out.append(
                CheckResult(
                    r.name, r.kind, r.doc, r.ok, r.message, before=ok_before, applies=applies
                )
            )
        return AcceptanceReport(tuple(out), self.error)

    def message(self) -> str:
        """A message for the summary and for the model repairing the change."""
        if self.error:
            return f"the acceptance checks could not run: {self.error}"
        failed = self.failed
        if not failed:
            return f"all {len(self.results)} acceptance check(s) passed"
        shown = "\n".join(f"- {r.doc} {concise(r.message)}" for r in failed[:6])
        return (
            f"{len(failed)} of {len(self.results)} acceptance check(s) from the issue failed:\n"
            f"{shown}\nChange the code so that the result does what the issue asks."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "ok": self.ok,
            "error": self.error,
            "results": [r.to_dict() for r in self.results],
        }


def _runtime_source() -> str:
    text = Path(acceptance_runtime.__file__).read_text(encoding="utf-8")
    if text.startswith('"""'):
        text = text[text.index('"""', 3) + 3 :].lstrip("\n")
    return text


def render(issue: str, checks: Sequence[AcceptanceCheck]) -> str:
    """``acceptance_test.py``: header, helpers, one ``test_*`` function per check."""
    title = next((x.strip() for x in issue.splitlines() if x.strip()), "the issue")[:90]
    title = title.replace('"""', "'''").replace("\\", "/")
    head = (
        f'"""Acceptance checks for: {title}\n\n'
        "Generated by autopatch from the issue text and the final spec. Run from the\n"
        "repository root with the project importable:\n\n"
        "    python acceptance_test.py        (one JSON line of results)\n"
        "    python -m pytest acceptance_test.py\n"
        '"""\n\n'
    )
    parts = [head, _runtime_source().rstrip("\n"), "\n\n# -- the checks " + "-" * 60 + "\n"]
    for c in checks:
        body = "\n".join(("    " + x) if x.strip() else "" for x in c.body.splitlines())
        doc = c.doc.replace("\\", "/").replace('"""', "'''")
        parts.append(f'\n\ndef {c.name}():\n    """[{c.kind}] {doc}"""\n{body}\n')
    parts.append('\n\nif __name__ == "__main__":\n    sys.exit(main())\n')
    return "".join(parts)


def acceptance_module(
    issue: str,
    spec: Spec,
    definitions: Sequence[Definition],
    inferred: Sequence[Inferred] = (),
) -> AcceptanceModule:
    """Build the checks of ``spec`` for ``issue`` and render them."""
    checks = tuple(build_checks(issue, spec, definitions, inferred))
    return AcceptanceModule(checks, render(issue, checks))


def run_acceptance(
    module: AcceptanceModule, root: Path, python: str, sandbox: Sandbox
) -> AcceptanceReport:
    """Run the module on the tree at ``root`` in the sandbox; one result per check."""
    if not module.checks:
        return AcceptanceReport(())
    with tempfile.TemporaryDirectory(prefix="autopatch-acceptance-") as tmp:
        path = Path(tmp) / FILENAME
        path.write_text(module.text, encoding="utf-8")
        run = sandbox.run(
            [python, str(path)], root, {"PYTHONPATH": python_path(root)}, readonly=[Path(tmp)]
        )
    mark = acceptance_runtime.RESULT_MARK
    line = next((x for x in reversed(run.stdout_tail.splitlines()) if x.startswith(mark)), None)
    if line is None or run.timed_out:
        why = "timed out" if run.timed_out else f"exit {run.rc}"
        tail = (run.stderr_tail or run.stdout_tail).strip()[-1200:]
        return AcceptanceReport(
            tuple(CheckResult(c.name, _kind(c), c.doc, False, why) for c in module.checks),
            error=f"{why}: {tail}",
        )
    try:
        data: Mapping[str, Any] = json.loads(line[len(mark) :])
    except ValueError as exc:
        return AcceptanceReport((), error=f"unreadable results: {exc}")
    results = []
    for c in module.checks:
        got = data.get(c.name) or {"ok": False, "message": "did not run"}
        results.append(CheckResult(c.name, _kind(c), c.doc, bool(got["ok"]), got["message"]))
    return AcceptanceReport(tuple(results))


def _kind(check: AcceptanceCheck) -> str:
    return "invariant" if check.invariant else check.kind


@dataclass(frozen=True)
class Coverage:
    """The planner's verdict: does the plan cover every symbol the issue asks to change?"""

    complete: bool = True
    uncovered: tuple[str, ...] = ()
    context: Mapping[str, str] = field(default_factory=dict)

    def message(self) -> str:
        if self.complete:
            return "every symbol the issue asks to change is covered by an operation"
        return "the plan does not cover: " + ", ".join(self.uncovered or ("(unnamed)",))


def coverage_of(spec: Spec) -> Coverage:
    """``spec.provenance["coverage"]``; a spec without one counts as complete."""
    raw = spec.provenance.get("coverage") if spec.provenance else None
    if not isinstance(raw, Mapping):
        return Coverage()
    uncovered = tuple(str(x) for x in raw.get("uncovered") or ())
    context = raw.get("context") or {}
    return Coverage(
        complete=bool(raw.get("complete", not uncovered)),
        uncovered=uncovered,
        context={str(k): str(v) for k, v in dict(context).items()},
    )
