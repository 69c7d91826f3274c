"""The issue's own ``>>>`` examples as a behaviour probe for bug fixes.

A bug report usually shows the call that misbehaves. Running those calls on the code
before and after a candidate fix tells whether the fix changed anything at all: a small
model often sends back the function unchanged, or changed in a way that does not touch
the reported case. The outputs (repr, or the exception) go back to the model as feedback.
The examples run in the sandbox, on the scratch copy, with the project's interpreter.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from agent.verify.project import python_path
from agent.verify.sandbox import Sandbox

_PROMPT = re.compile(r"^\s*>>> ?(.*)$")
_MORE = re.compile(r"^\s*\.\.\. ?(.*)$")
MAX_EXAMPLES = 8

_RUNNER = """\
import importlib, json, sys
out, env = [], {}


def run(src):
    try:
        code = compile(src, "<issue>", "eval")
    except SyntaxError:
        exec(compile(src, "<issue>", "exec"), env)
        return None
    return repr(eval(code, env))[:300]


for src in json.loads(sys.argv[1]):
    for _ in range(3):  # an example may use a package it never imported (`click.x()`)
        try:
            out.append(run(src))
        except NameError as exc:
            try:
                env[exc.name] = importlib.import_module(exc.name)
                continue
            except BaseException:
                out.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        except BaseException as exc:
            out.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        break
print(json.dumps(out))
"""


def issue_examples(issue: str) -> list[str]:
    """The ``>>>`` statements of the issue (continuation lines joined), at most ``MAX_EXAMPLES``."""
    examples: list[str] = []
    for line in issue.splitlines():
        more = _MORE.match(line)
        if more and examples and not more.group(1).startswith(("...", "Traceback")):
            examples[-1] += "\n" + more.group(1)
            continue
        prompt = _PROMPT.match(line)
        if prompt and prompt.group(1).strip():
            examples.append(prompt.group(1))
    return examples[:MAX_EXAMPLES]


def run_examples(
    examples: Sequence[str], root: Path, python: str, sandbox: Sandbox
) -> list[str | None] | None:
    """Each example's repr (or exception) on the tree at ``root``; ``None`` if they could not run."""
    if not examples:
        return None
    with tempfile.TemporaryDirectory(prefix="autopatch-examples-", dir=sandbox.work_dir) as tmp:
        runner = Path(tmp) / "run_examples.py"
        runner.write_text(_RUNNER, encoding="utf-8")
        result = sandbox.run(
            [python, str(runner), json.dumps(list(examples))],
            root,
            {"PYTHONPATH": python_path(root)},
            readonly=[runner],
        )
    if result.rc != 0 or result.timed_out:
        return None
    try:
        lines = result.stdout_tail.strip().splitlines()
        values = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(values, list) or all(v is None or _unusable(v) for v in values):
        return None  # nothing observable, or the examples cannot run as written
    return values


def _unusable(output: str) -> bool:
    return output.startswith(("NameError:", "ImportError:", "ModuleNotFoundError:", "SyntaxError:"))


def unchanged_report(examples: Sequence[str], outputs: Sequence[str | None]) -> str:
    """Feedback for a fix that leaves the issue's examples exactly as they were."""
    shown = [f">>> {e}\n{o}" for e, o in zip(examples, outputs, strict=False) if o is not None]
    return (
        "the change does not alter what the issue's examples do; they still give:\n"
        + "\n".join(shown[:4])
        + "\nChange the code so these calls behave the way the issue asks."
    )


_WANTS = re.compile(
    r"\b(should|must|expect\w*|instead|ought|needs? to|want\w*|would like|supposed to)\b", re.I
)


def facts_report(
    issue: str,
    examples: Sequence[str],
    outputs: Sequence[str | None] | None,
    read: Sequence[str] = (),
) -> str:
    """The localized facts of a behaviour change: what the issue's examples give on the
    current code (run, not copied from the issue), the outputs the issue expects (shown, or
    ``read`` from its words by the model), and the issue's sentences that say what should
    happen."""
    from agent.acceptance.issue import sessions, statement_sentences

    lines: list[str] = []
    if outputs is not None:
        ran = [
            f">>> {e}\n{o}"
            for e, o in zip(examples, outputs, strict=False)
            if o is not None and not _unusable(o)
        ]
        if ran:
            lines += ["What the issue's examples give on the current code:", *ran[:6]]
    wanted = [
        f">>> {ex.source}\n{ex.expected}"
        for s in sessions(issue, bug_report=True)
        for ex in s.examples
        if ex.expected is not None
    ]
    wanted += list(read)
    if wanted:
        lines += ["What the issue expects them to give:", *wanted[:6]]
    asks = [s for s in statement_sentences(issue) if _WANTS.search(s)]
    if asks:
        lines += ["What the issue asks:", *(f"- {' '.join(s.split())[:300]}" for s in asks[:4])]
    return "\n".join(lines)
