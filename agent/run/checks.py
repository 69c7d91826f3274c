"""The checks of a candidate tree beyond its phase scripts' own: the related tests (less the
ones that fail without the change too), then the whole suite and the doctests against the
untouched repository, then the acceptance checks from the issue."""

from __future__ import annotations

from agent.codemods.follow_docs import DOC_SUFFIXES
from agent.run.context import RunContext
from agent.run.verdict import AcceptanceRun
from agent.verify.full_suite import (
    doctest_check,
    doctest_targets,
    failing_on,
    full_suite_check,
    run_doctests,
)
from agent.verify.project import detect_test_command, is_pytest_file, select_related_tests
from agent.verify.sandbox import Scratch
from agent.verify.validate import Validation, Validator
from planner.phases import Plan


class TreeChecks:
    """The checks of one run's plan (related tests and the files in scope come from it);
    what the untouched repository gives is asked once and kept."""

    def __init__(self, ctx: RunContext, plan: Plan, acceptance: AcceptanceRun) -> None:
        self.ctx = ctx
        self.plan = plan
        self.acceptance = acceptance
        self.scope = {f for p in plan.phases for f in p.files} | {
            f for p in plan.phases for f in p.related_tests
        }
        if any(p.operation.op == "rename" for p in plan.phases):  # docs follow a rename
            self.scope |= {f"*{suffix}" for suffix in DOC_SUFFIXES}
        # Related test files that fail on the original tree are not the change's fault.
        self._baseline: dict[str, bool] = {}
        self._broken_before: set[str] = set()

    def final(self, scratch: Scratch, changed: set[str]) -> Validation:
        """The checks on the final tree, the related tests, then the full suite (baseline-aware)."""
        ctx = self.ctx
        validation = self.related(scratch, changed)
        if not validation.ok:
            return validation
        check = full_suite_check(
            ctx.config.sandbox,
            scratch.root,
            ctx.config.python,
            detect_test_command(ctx.config.repo),
            ctx.config.options.full_tests,
            self._failing_pristine,
        )
        checks = list(validation.checks)
        doctests = doctest_check(
            ctx.config.sandbox,
            scratch.root,
            ctx.config.python,
            doctest_targets(scratch.root, changed),
            self._doctests_pristine,
        )
        for extra in (check, doctests):
            if extra is None:
                continue
            ctx.progress(f"{extra.name}: {extra.message.splitlines()[0]}")
            checks.append(extra)
            if not extra.ok:
                return Validation.of(checks)
        count = len(self.acceptance.module.checks)
        ctx.progress(f"acceptance checks from the issue: {count}")
        return Validation.of([*checks, self.acceptance.check(scratch.root)])

    def related(self, scratch: Scratch, changed: set[str]) -> Validation:
        """The per-tree checks and the related tests (those failing before are left out)."""
        ctx = self.ctx
        related = sorted(
            t
            for t in set(self.plan.related_tests) | set(select_related_tests(ctx.digest, changed))
            if is_pytest_file(t)
        )
        ctx.progress(
            f"validating: {len(changed)} changed file(s), {len(related)} related test file(s)"
        )
        related = [t for t in related if t not in self._broken_before]
        validator = Validator(
            scratch,
            ctx.config.sandbox,
            scope=self.scope | set(related),
            related_tests=related,
            test_command=detect_test_command(ctx.config.repo),
            python=ctx.config.python,
        )
        validation = validator.validate(changed)
        failure = validation.failure
        if failure is not None and failure.name == "related_tests":
            broken = self._failing_before(related)
            if broken:
                ctx.progress(
                    f"ignoring {len(broken)} test file(s) that already fail without the change: "
                    + ", ".join(sorted(broken))
                )
                self._broken_before |= broken
                return self.related(scratch, changed)
        return validation

    def _doctests_pristine(self, targets: list[str]) -> set[str]:
        ctx = self.ctx
        with Scratch(ctx.config.repo) as pristine:
            there = [t for t in targets if (pristine.root / t).is_file()]
            failing = (
                run_doctests(ctx.config.sandbox, pristine.root, ctx.config.python, there)
                if there
                else None
            )
        return failing or set()

    def _failing_pristine(self, ids: list[str]) -> set[str]:
        """Which of these test ids fail on the untouched repository."""
        todo = [i for i in ids if i not in self._baseline]
        if todo:
            with self.ctx.scratch() as pristine:
                failing = failing_on(
                    self.ctx.config.sandbox, pristine.root, self.ctx.config.python, todo
                )
            self._baseline.update({i: i not in failing for i in todo})
        return {i for i in ids if not self._baseline[i]}

    def _failing_before(self, tests: list[str]) -> set[str]:
        """Test files that fail on the untouched repository too (environment, flaky, …)."""
        ctx = self.ctx
        broken: set[str] = set()
        with ctx.scratch() as pristine:
            for test in tests:
                if test in self._baseline:
                    ok = self._baseline[test]
                else:
                    check = Validator(
                        pristine, ctx.config.sandbox, related_tests=[test], python=ctx.config.python
                    ).check_related_tests(set())
                    ok = self._baseline[test] = check.ok
                if not ok:
                    broken.add(test)
        return broken
