"""Validate a drafted change on a scratch copy, check by check, with messages for the LLM.

``Validator(scratch, sandbox, scope=..., related_tests=..., test_command=..., python=...)``
runs the drafted script (``run_script``) and then, in order, stopping at the first
failure (``validate``):

1. ``script``        the script exited 0 within its limits and tried nothing forbidden;
2. ``syntax``        every changed ``.py`` file parses and compiles;
3. ``scope``         nothing outside the plan's scope changed;
4. ``lint``          no *new* undefined names, unused imports or variables, redefinitions
                     (ruff ``F401 F811 F821 F841`` on the touched files, before vs after),
                     nor reads of ``self`` attributes nothing sets (``unknown_attributes``);
5. ``import``        the touched modules import (in the sandbox, ``src/`` layout aware);
6. ``related_tests`` the tests that import the touched modules pass (``select_related_tests``);
7. ``full_tests``    with ``full_tests=True``, the project's test command passes.

Everything that executes repository code runs through ``agent.verify.sandbox.Sandbox`` on the
scratch copy; the target repository is never written. ``detect_test_command`` finds the
project's test command from ``.autopatch.yaml``, pytest, tox/nox or Makefile config.
"""

from __future__ import annotations

import difflib
import json
import logging
import shlex
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.verify import report
from agent.verify.attributes import unknown_attributes
from agent.verify.bwrap import PACKAGE_ROOT
from agent.verify.project import (
    detect_test_command,
    find_ruff,
    importable,
    in_scope,
    python_path,
    ruff_findings,
    select_related_tests,
    src_layout,
)
from agent.verify.sandbox import RunResult, Sandbox, Scratch, ScratchError
from planner.digest_types import module_name

log = logging.getLogger(__name__)

__all__ = [
    "Check",
    "Validation",
    "Validator",
    "detect_test_command",
    "in_scope",
    "select_related_tests",
]

SCHEMA_VERSION = 1
IMPORT_MARK = "AUTOPATCH-IMPORT "
IMPORT_PROGRAM = f"""
import importlib, json, sys, traceback
failed = {{}}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed[name] = "".join(traceback.format_exception(exc))
print({IMPORT_MARK!r} + json.dumps(failed))
"""


@dataclass(frozen=True)
class Check:
    """One validation step: its name, whether it passed, a message for the LLM, details."""

    name: str
    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message, **self._details()}

    def _details(self) -> dict[str, Any]:
        return {"details": dict(self.details)} if self.details else {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(data["name"], bool(data["ok"]), data["message"], data.get("details", {}))


@dataclass(frozen=True)
class Validation:
    """The checks that ran (up to and including the first failure)."""

    checks: tuple[Check, ...]
    ok: bool
    passed_count: int
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def of(cls, checks: Iterable[Check]) -> Validation:
        done = tuple(checks)
        passed = sum(c.ok for c in done)
        return cls(done, bool(done) and passed == len(done), passed)

    @property
    def failure(self) -> Check | None:
        """The first failing check, if any."""
        return next((c for c in self.checks if not c.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "ok": self.ok,
            "passed_count": self.passed_count,
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Validation:
        return cls.of(Check.from_dict(c) for c in data.get("checks", []))


class Validator:
    """Runs the checks on ``scratch`` with ``sandbox``; see the module docstring."""

    def __init__(
        self,
        scratch: Scratch,
        sandbox: Sandbox,
        *,
        scope: set[str] | None = None,
        related_tests: Sequence[str] = (),
        test_command: Sequence[str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.scratch = scratch
        self.sandbox = sandbox
        self.scope = scope
        self.related_tests = list(related_tests)
        self.test_command = list(test_command) if test_command else None
        self.python = python

    # -- the drafted script -----------------------------------------------------------

    def run_script(self, script_path: str | Path, args: Sequence[str] = ()) -> Check:
        """Run the drafted script with the scratch root as its working directory."""
        script = Path(script_path).resolve()
        # a script run by autopatch's own interpreter imports this very autopatch (a source
        # checkout run with PYTHONPATH included), not whichever one that interpreter has
        own = Path(self.python).absolute() == Path(sys.executable).absolute()
        result = self.sandbox.run(
            [self.python, str(script), *args],
            self.scratch.root,
            {"PYTHONPATH": str(PACKAGE_ROOT)} if own else None,
            readonly=[script],
        )
        details = {"rc": result.rc, "seconds": result.seconds, "mode": result.mode}
        problem = self._run_problem(result, "the script")
        if problem:
            return Check("script", False, problem, {**details, "violation": result.violation})
        if result.rc != 0:
            output = result.stderr_tail or result.stdout_tail
            tb = report.trim_traceback(output, self.root, keep=script)
            message = f"the script exited with code {result.rc}:\n{tb}"
            return Check("script", False, message, details)
        return Check("script", True, f"the script exited 0 in {result.seconds:.1f} s", details)

    def run(self, script_path: str | Path, *, full_tests: bool = False) -> Validation:
        """``run_script`` then ``validate`` the files it changed."""
        script = self.run_script(script_path)
        if not script.ok:
            return Validation.of([script])
        return self.validate(self.scratch.changed_paths(), full_tests=full_tests, script=script)

    # -- the checks ---------------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self.scratch.root

    def validate(
        self, changed: Collection[str], *, full_tests: bool = False, script: Check | None = None
    ) -> Validation:
        """Run the checks in order on the ``changed`` relpaths; stop at the first failure."""
        steps: list[Callable[[set[str]], Check]] = [
            self.check_syntax,
            self.check_scope,
            self.check_lint,
            self.check_import,
            self.check_related_tests,
        ]
        if full_tests:
            steps.append(self.check_full_tests)
        checks = [script] if script is not None else []
        paths = set(changed)
        for step in steps:
            if checks and not checks[-1].ok:
                break
            checks.append(step(paths))
            log.debug("check %s: %s", checks[-1].name, "ok" if checks[-1].ok else "FAILED")
        return Validation.of(checks)

    def _python_files(self, changed: set[str]) -> list[str]:
        return sorted(p for p in changed if p.endswith(".py") and (self.root / p).is_file())

    def check_syntax(self, changed: set[str]) -> Check:
        """Every changed Python file parses and compiles."""
        errors: list[str] = []
        files = self._python_files(changed)
        for rel in files:
            source = (self.root / rel).read_bytes()
            try:
                compile(source, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:
                line = (exc.text or "").rstrip("\n")
                caret = " " * max((exc.offset or 1) - 1, 0) + "^"
                where = f"{rel} line {exc.lineno}, column {exc.offset}"
                errors.append(f"{where}: {type(exc).__name__}: {exc.msg}\n    {line}\n    {caret}")
            except ValueError as exc:  # null bytes
                errors.append(f"{rel}: {exc}")
        if errors:
            message = (
                f"{len(errors)} changed file(s) do not compile:\n"
                + "\n".join(errors[:3])
                + "\n\nThe code you wrote is not valid Python there; fix that spot."
            )
            return Check("syntax", False, report.cut(message), {"files": files})
        return Check("syntax", True, f"{len(files)} changed Python file(s) parse and compile")

    def check_scope(self, changed: set[str]) -> Check:
        """Nothing outside the plan's scope (files, folders ending in ``/``, globs) changed."""
        if self.scope is None:
            return Check("scope", True, "no scope was set; any file may change")
        outside = sorted(p for p in changed if not in_scope(p, self.scope))
        if outside:
            message = (
                f"the change touched files outside the plan's scope: {', '.join(outside[:10])}. "
                f"Only these may change: {', '.join(sorted(self.scope)[:10])}. Undo the edits "
                "to the other files (if the issue really needs them, say which and why)."
            )
            return Check("scope", False, message, {"outside": outside})
        return Check("scope", True, f"all {len(changed)} changed file(s) are within the scope")

    def check_lint(self, changed: set[str]) -> Check:
        """No new F401/F811/F821/F841 findings (ruff) and no new reads of attributes that
        nothing gives the instance (``unknown_attributes``) in the touched files."""
        ruff = find_ruff()

        def findings(rel: str, text: str) -> list[dict[str, Any]]:
            found = ruff_findings(ruff, rel, text) if ruff is not None else []
            return found + unknown_attributes(text)

        new: list[dict[str, Any]] = []
        for rel in self._python_files(changed):
            before = self._original(rel)
            found_before = findings(rel, before) if before else []
            old = Counter(_key(f) for f in found_before)
            # a class that read attributes it never sets before the change is a mixin
            mixins = {f["class"] for f in found_before if "class" in f}
            for finding in findings(rel, (self.root / rel).read_text(errors="replace")):
                if finding.get("class") in mixins:
                    continue
                if old[_key(finding)] > 0:
                    old[_key(finding)] -= 1
                else:
                    new.append({**finding, "path": rel})
        if new:
            lines = [
                f"{f['path']}:{f['row']}:{f['column']} {f['code']} {f['message']}" for f in new
            ]
            message = (
                "the change introduces new lint errors:\n"
                + "\n".join(lines[:10])
                + "\n\nDefine or import every name you use, use only attributes the class "
                "really has, and remove imports or variables the new code no longer uses."
            )
            return Check("lint", False, message, {"findings": new})
        if ruff is None:
            return Check("lint", True, "ruff not found: only attribute reads were checked")
        return Check("lint", True, "no new undefined names, unknown attributes or unused imports")

    def check_import(self, changed: set[str]) -> Check:
        """Every touched, importable module imports in the sandbox."""
        src = src_layout(self.root)
        modules = sorted(
            {
                module_name(rel, strip_src=src)
                for rel in self._python_files(changed)
                if importable(rel)
            }
        )
        if not modules:
            return Check("import", True, "no importable module was changed")
        result = self.sandbox.run(
            [self.python, "-c", IMPORT_PROGRAM, json.dumps(modules)],
            self.root,
            {"PYTHONPATH": python_path(self.root)},
        )
        problem = self._run_problem(result, "importing the changed modules")
        mark = result.stdout_tail.rfind(IMPORT_MARK)
        if problem is None and mark == -1:
            tail = report.trim_traceback(result.stderr_tail or result.stdout_tail, self.root)
            problem = (
                f"importing {', '.join(modules)} ended the process (exit {result.rc}):\n{tail}"
            )
        if problem:
            return Check("import", False, problem, {"modules": modules})
        failed: dict[str, str] = json.loads(result.stdout_tail[mark + len(IMPORT_MARK) :])
        if failed:
            name, tb = next(iter(failed.items()))
            message = (
                f"importing {name} failed:\n{report.trim_traceback(tb, self.root)}\n\n"
                "A module must import cleanly after the change (check moved or renamed names "
                "and circular imports)."
            )
            if len(failed) > 1:
                message += f" Also failing: {', '.join(list(failed)[1:])}."
            return Check("import", False, message, {"modules": modules, "failed": list(failed)})
        return Check("import", True, f"{len(modules)} module(s) import: {', '.join(modules[:5])}")

    def check_related_tests(self, changed: set[str]) -> Check:
        """The tests that import the touched modules pass."""
        if not self.related_tests:
            return Check("related_tests", True, "no related tests (nothing imports the change)")
        cmd = [self.python, "-m", "pytest", "-q", "-rfE", "--tb=short", "--no-header"]
        cmd += ["-p", "no:cacheprovider", *self.related_tests]
        return self._pytest_check("related_tests", cmd, changed, "related tests")

    def check_full_tests(self, changed: set[str]) -> Check:
        """The project's whole test command passes."""
        if not self.test_command:
            message = (
                "no test command was found for the full test suite: add "
                "`test_command: [python, -m, pytest]` (or yours) to .autopatch.yaml"
            )
            return Check("full_tests", False, message)
        cmd = [self.python if w in {"python", "python3"} else w for w in self.test_command]
        if any("pytest" in w for w in cmd):
            return self._pytest_check("full_tests", cmd, changed, "full test suite")
        result = self._run(cmd)
        problem = self._run_problem(result, f"`{shlex.join(cmd)}`")
        if problem is None and result.rc != 0:
            tail = report.cut(result.stdout_tail + "\n" + result.stderr_tail)
            problem = f"the test command `{shlex.join(cmd)}` failed (exit {result.rc}):\n{tail}"
        details = {"rc": result.rc, "command": cmd}
        if problem:
            return Check("full_tests", False, report.relativize(problem, self.root), details)
        return Check("full_tests", True, f"`{shlex.join(cmd)}` passed", details)

    # -- helpers ------------------------------------------------------------------------

    def _pytest_check(self, name: str, cmd: list[str], changed: set[str], label: str) -> Check:
        result = self._run(cmd)
        details = {"rc": result.rc, "seconds": result.seconds, "command": cmd}
        problem = self._run_problem(result, f"running the {label}")
        if problem:
            return Check(name, False, problem, details)
        spots = self._change_spots(changed)
        message = report.summarize_pytest(result, self.root, changed, label, spots)
        return Check(name, result.rc in (0, 5), message, details)

    def _original(self, rel: str) -> str | None:
        try:
            return self.scratch.original_text(rel)
        except ScratchError as exc:
            log.warning("%s", exc)
            return None

    def _change_spots(self, changed: set[str]) -> list[str]:
        """``pkg/a.py line 12`` / ``lines 12-14`` for each changed region (new numbering)."""
        spots: list[str] = []
        for rel in self._python_files(changed):
            old = (self._original(rel) or "").splitlines()
            new = (self.root / rel).read_text(errors="replace").splitlines()
            matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
            for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
                if tag != "equal":
                    lines = f"line {j1 + 1}" if j2 - j1 <= 1 else f"lines {j1 + 1}-{j2}"
                    spots.append(f"{rel} {lines}")
        return spots

    def _run(self, cmd: list[str]) -> RunResult:
        return self.sandbox.run(cmd, self.root, {"PYTHONPATH": python_path(self.root)})

    def _run_problem(self, result: RunResult, what: str) -> str | None:
        return report.run_problem(result, what, self.sandbox.wall_s, self.sandbox.memory_mb)


def _key(finding: Mapping[str, Any]) -> tuple[str, str]:
    return finding["code"], finding["message"]
