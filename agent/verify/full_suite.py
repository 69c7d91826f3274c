"""The project's whole pytest suite after the related tests, judged against a baseline.

Import-graph selection misses tests that reach the code another way (a subprocess that
imports the package, a plugin, a doctest collector). So ``fix`` runs the full suite too
(``--full-tests auto``, the default) when the project's test command is pytest: a failure
counts only if that test passes on the untouched tree; a suite that does not finish within
the sandbox's time limit is skipped with a note (``auto``) or fails (``always``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import Path

from agent.verify.project import importable, python_path
from agent.verify.sandbox import RunResult, Sandbox
from agent.verify.validate import Check

_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)
MODES = ("auto", "always", "never")


def failing_ids(output: str) -> set[str]:
    """Node ids of the failed/errored tests in pytest's short summary (``-rfE``)."""
    return {m.group(1) for m in _FAILED.finditer(output)}


def _pytest(test_command: list[str] | None, python: str) -> list[str] | None:
    if not test_command or not any("pytest" in w for w in test_command):
        return None
    cmd = [python if w in ("python", "python3") else w for w in test_command]
    return [*cmd, "-q", "-rfE", "-p", "no:cacheprovider"]


def _run(sandbox: Sandbox, cmd: list[str], root: Path) -> RunResult:
    return sandbox.run(cmd, root, {"PYTHONPATH": python_path(root)})


def full_suite_check(
    sandbox: Sandbox,
    root: Path,
    python: str,
    test_command: list[str] | None,
    mode: str,
    pristine: Callable[[list[str]], set[str]],
) -> Check | None:
    """The ``full_tests`` check on the tree at ``root``, or ``None`` when it does not apply.

    ``pristine(ids)`` runs those test ids on the untouched tree and returns the ones that
    fail there too (they are not the change's fault).
    """
    cmd = _pytest(test_command, python)
    if mode == "never" or (cmd is None and mode == "auto"):
        return None
    if cmd is None:
        return Check("full_tests", False, "no pytest test command found; set test_command")
    result = _run(sandbox, cmd, root)
    details = {"rc": result.rc, "seconds": round(result.seconds, 1), "command": cmd}
    if result.timed_out:
        ok = mode == "auto"
        note = f"the full test suite did not finish within {sandbox.wall_s:g} s" + (
            "; skipped (the related tests passed)" if ok else ""
        )
        return Check("full_tests", ok, note, details)
    if result.rc in (0, 5):
        return Check("full_tests", True, "the full test suite passed", details)
    failed = failing_ids(result.stdout_tail)
    if not failed:
        output = "\n".join(t.strip() for t in (result.stdout_tail, result.stderr_tail) if t.strip())
        tail = "\n".join(output.splitlines()[-30:]) or "(no output)"
        stopped = (
            f"pytest stopped before running the tests (exit code {result.rc}); when it does "
            "the same without the change, the interpreter lacks what the project's test "
            "configuration needs (pass --python with the project's test environment):\n"
            if result.rc in (2, 3, 4)
            else "the full test suite failed:\n"
        )
        return Check("full_tests", False, f"{stopped}{tail}", details)
    already = pristine(sorted(failed))
    new = sorted(failed - already)
    if not new:
        return Check(
            "full_tests",
            True,
            f"the full test suite passed except {len(already)} test(s) that fail without the "
            "change too",
            {**details, "ignored": sorted(already)},
        )
    lines = result.stdout_tail.strip().splitlines()
    tail = "\n".join(lines[-40:])
    message = (
        f"{len(new)} test(s) outside the related tests fail because of the change: "
        + ", ".join(new[:8])
        + f"\n{tail}\nChange the code so these tests pass too."
    )
    return Check("full_tests", False, message, {**details, "new_failures": new})


def failing_on(sandbox: Sandbox, root: Path, python: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` fail on the tree at ``root``."""
    result = _run(
        sandbox, [python, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *ids], root
    )
    if result.timed_out:
        return set()
    return failing_ids(result.stdout_tail) if result.rc not in (0, 5) else set()


def doctest_targets(root: Path, changed: Collection[str]) -> list[str]:
    """Changed modules whose docstrings hold ``>>>`` examples (the doctests a change can break)."""
    out = []
    for rel in sorted(changed):
        path = root / rel
        if (
            rel.endswith(".py")
            and importable(rel)
            and path.is_file()
            and ">>>" in path.read_text(encoding="utf-8", errors="replace")
        ):
            out.append(rel)
    return out


def run_doctests(sandbox: Sandbox, root: Path, python: str, targets: list[str]) -> set[str] | None:
    """Failing doctest ids of ``targets`` on the tree at ``root`` (None: timed out)."""
    cmd = [python, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--doctest-modules"]
    result = _run(sandbox, [*cmd, *targets], root)
    if result.timed_out:
        return None
    if result.rc in (0, 5):
        return set()
    return failing_ids(result.stdout_tail) or {"(pytest failed: see the output)"}


def doctest_check(
    sandbox: Sandbox,
    root: Path,
    python: str,
    targets: list[str],
    pristine: Callable[[list[str]], set[str]],
) -> Check | None:
    """The ``doctests`` check: the docstring examples of the changed modules still pass.

    Runs whatever the project's own test command does, so a project that never runs its
    doctests still finds out that a change broke them; ``pristine(targets)`` gives the ids
    that fail without the change (not the change's fault).
    """
    if not targets:
        return None
    failing = run_doctests(sandbox, root, python, targets)
    if failing is None:
        return Check("doctests", True, "the doctests did not finish in time; skipped")
    new = sorted(failing - pristine(targets)) if failing else []
    if not new:
        return Check("doctests", True, f"the doctests of {len(targets)} changed module(s) pass")
    return Check(
        "doctests",
        False,
        f"{len(new)} docstring example(s) fail because of the change: {', '.join(new[:6])}. "
        "Update the examples in the docstrings (e.g. a renamed function's `>>>` lines).",
        {"new_failures": new},
    )
