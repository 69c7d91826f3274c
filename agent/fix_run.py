"""The body of ``autopatch fix``: run the plan's phases on a scratch copy, validate, repair, land."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.acceptance import FILENAME as ACCEPTANCE_FILE
from agent.acceptance import acceptance_module
from agent.acceptance_infer import Inferred, infer_expected, open_questions
from agent.acceptance_issue import with_stated_aliases
from agent.budget import Spend
from agent.codemods.follow_docs import DOC_SUFFIXES
from agent.codemods.run import decode_source
from agent.draft import Draft, Drafter
from agent.examples import facts_report
from agent.fix import (
    FAILED,
    STOPPED,
    VALIDATED,
    FixOptions,
    FixResult,
    LazyLLM,
    PhaseOutcome,
    land,
    load_spec,
    new_run_id,
    summary_markdown,
)
from agent.fix_verdict import AcceptanceRun
from agent.land.builder import CommitBuilder, CommitError
from agent.phase_oracle import BEHAVIOUR_OPS, ExampleProbe, PhaseOracle, restore
from agent.rundir import RepoLock, RunDir
from agent.sampler import Sampler
from agent.verify.full_suite import (
    doctest_check,
    doctest_targets,
    failing_on,
    full_suite_check,
    run_doctests,
)
from agent.verify.project import detect_test_command, is_pytest_file, select_related_tests
from agent.verify.sandbox import Sandbox, Scratch
from agent.verify.validate import Validation, Validator
from memory.store import Memory, MemoryConfig
from planner.phases import Phase, PhasePlanner, Plan
from planner.spec import Spec

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
Confirm = Callable[[Spec], "Spec | None"]


class FixRun:
    """One run of ``fix`` on one repository.

    Phase scripts run with autopatch's own interpreter (they import the codemod
    library); the project's tests run with ``python`` (the project's interpreter).
    """

    def __init__(
        self,
        repo: Path,
        data_dir: Path,
        digest: Any,
        llm: LazyLLM,
        options: FixOptions,
        *,
        python: str,
        sandbox: Sandbox | None = None,
        style: Any = None,
        progress: Progress = log.info,
        memory_config: MemoryConfig | None = None,
        confirm: Confirm | None = None,
    ) -> None:
        """``confirm(spec)`` sees the understood plan before drafting: it returns the spec
        to run (the same one, or one the user edited) or ``None`` to stop."""
        self.repo = repo
        self.data_dir = data_dir
        self.work: Path | None = None  # this run's folder under the data dir, while it runs
        self.digest = digest
        self.llm = llm
        self.options = options
        self.python = python
        self.sandbox = sandbox or Sandbox()
        self.style = style
        self.progress = progress
        self.memory = Memory(data_dir, memory_config)
        self.run_id = new_run_id()
        self._spend: dict[str, Spend] = {}  # each phase's model calls, drafts and seconds
        # Related test files that fail on the original tree are not the change's fault.
        self._baseline: dict[str, bool] = {}
        self._broken_before: set[str] = set()
        self.confirm = confirm
        self._acceptance: AcceptanceRun | None = None
        self._inferred: list[Inferred] = []  # results read from the issue's words

    # -- memory --------------------------------------------------------------------------
    def _remember_draft(
        self,
        draft: Draft,
        outcome: str,
        validation: Validation | None,
        attempt: int,
        parent: str | None,
    ) -> str:
        attempt_id = f"{self.run_id}:{draft.phase_id}:{attempt}"
        failure = validation.failure if validation is not None else None
        common = {
            "run_id": self.run_id,
            "attempt_id": attempt_id,
            "parent_attempt": parent,
            "phase": draft.phase_id,
            "op": draft.operation.to_dict(),
        }
        # a phase without model calls is still one attempt (the codemod's)
        for call in draft.calls or (None,):
            fields = call.to_dict() if call is not None else {"role": "codemod"}
            error = call.error if call is not None else None
            self.memory.record_attempt(
                {
                    **common,
                    **fields,
                    "outcome": outcome,
                    "error": error or (failure.message if failure else None),
                    "script_hash": draft.script_hash,
                }
            )
        return attempt_id

    # -- phases --------------------------------------------------------------------------
    def _files(self, scratch: Scratch) -> dict[str, str]:
        out = {}
        for d in {d.path for d in self.digest.definitions()}:
            path = scratch.root / d
            if path.is_file():
                out[d] = decode_source(path.read_bytes())
        return out

    def _run_phase(
        self,
        phase: Phase,
        scratch: Scratch,
        drafter: Drafter,
        scripts_dir: Path,
        scope: set[str],
        plan: Plan,
        feedback: str | None = None,
        previous: Draft | None = None,
    ) -> tuple[PhaseOutcome, Draft | None]:
        """Sample, run and keep the phase's drafts (``agent.sampler``) within its budget."""
        op = phase.operation.op
        code = bool({"source", "body"} & set(drafter.slots_for(phase.operation)))
        probe = (
            ExampleProbe.of(drafter.issue, scratch.root, self.python, self.sandbox)
            if op in BEHAVIOUR_OPS
            else None
        )
        drafter.facts = (
            facts_report(
                drafter.issue,
                probe.examples if probe else [],
                probe.baseline if probe else None,
                [f">>> {i.source}\n{i.expected}" for i in self._inferred if i.usable],
            )
            if code and op in BEHAVIOUR_OPS
            else ""
        )
        oracle = PhaseOracle(
            scratch,
            lambda draft: self._validate(draft, scratch, scripts_dir, scope),
            probe,
            related=(
                (lambda changed: self._related_validation(scratch, plan, changed, scope))
                if code
                else None
            ),
            acceptance=self._acceptance if code else None,
            decisive=phase is plan.phases[-1],
            style=self.style,
        )
        sampler = Sampler(
            drafter,
            oracle,
            self._remember_draft,
            self._spend.setdefault(phase.id, Spend(self.options.budget())),
            files=lambda: self._files(scratch),
            progress=self.progress,
        )
        outcome, draft = sampler.run(phase, feedback=feedback, previous=previous)
        outcome.spend = self._spend[phase.id].to_dict()
        return outcome, draft

    def _validate(
        self, draft: Draft, scratch: Scratch, scripts_dir: Path, scope: set[str]
    ) -> Validation:
        """Run one phase script in the sandbox on the scratch copy, with the per-phase checks."""
        script = scripts_dir / draft.script_name
        script.write_text(draft.script, encoding="utf-8")
        validator = Validator(
            scratch, self.sandbox, scope=scope, related_tests=(), python=sys.executable
        )
        return validator.run(script)

    # -- the whole run -------------------------------------------------------------------
    def run(self, issue: str | None, spec_path: str | None) -> FixResult:
        """The whole run in a run folder under the data dir; a landing run locks the repo."""
        self.sandbox.check_usable()
        lands = self.options.apply or self.options.commit
        with (
            RepoLock(self.repo) if lands else contextlib.nullcontext(),
            RunDir(self.data_dir, self.run_id) as work,
        ):
            self.work = work.path
            self.sandbox = replace(self.sandbox, work_dir=str(work.path))
            try:
                return self._run(issue, spec_path)
            finally:
                self.work = None

    def _read_expected(self, spec: Spec) -> list[Inferred]:
        """What the issue's words ask of the calls it shows only as wrong (the judge model
        reads them; none without one or when the plan writes no behaviour)."""
        if not self.llm.can_judge or not any(o.op in BEHAVIOUR_OPS for o in spec.operations):
            return []
        if not open_questions(spec.description):
            return []
        self.progress("reading what the issue's words ask its examples to give")
        found = infer_expected(spec.description, self.llm.judge)
        for i in found:
            if i.usable:
                self.progress(f"the issue asks: {i.describe()}")
        return found

    def _scratch(self) -> Scratch:
        return Scratch(self.repo, base_dir=self.work)

    def _run(self, issue: str | None, spec_path: str | None) -> FixResult:
        start = time.perf_counter()
        result = FixResult(ok=False, run_id=self.run_id, message="")
        try:
            self.progress("normalizing the issue into a spec")
            spec = load_spec(
                issue,
                spec_path,
                self.digest,
                self.llm,
                self.options,
                self.memory,
                self.run_id,
                self.repo,
            )
            spec = result.spec = with_stated_aliases(spec)
            if self.confirm is not None:
                chosen = self.confirm(spec)
                if chosen is None:
                    result.message = "stopped before drafting; nothing was changed"
                    result.status = STOPPED
                    return result
                spec = result.spec = chosen
            plan = PhasePlanner(self.digest).plan(spec)
            result.plan = plan
            self._inferred = self._read_expected(spec)
            self._acceptance = AcceptanceRun(
                acceptance_module(
                    spec.description, spec, list(self.digest.definitions()), self._inferred
                ),
                self.repo,
                self.python,
                self.sandbox,
            )
            self._execute(spec, plan, result)
        except Exception as exc:  # recorded below, then reported by the CLI
            result.message = result.message or str(exc) or type(exc).__name__
            raise
        finally:
            result.seconds = time.perf_counter() - start
            if not result.ok:
                self.memory.record_failure(
                    {
                        "run_id": self.run_id,
                        "issue": (issue or "")[:4000],
                        "spec": result.spec.to_dict() if result.spec else None,
                        "reason": result.message,
                        "outcome": result.status,
                        "patch_set": str(result.patch.path) if result.patch else None,
                        "verdict": result.verdict,
                        "phases": [p.to_dict() for p in result.phases],
                    }
                )
        return result

    def _execute(self, spec: Spec, plan: Plan, result: FixResult) -> None:
        scope = {f for p in plan.phases for f in p.files} | {
            f for p in plan.phases for f in p.related_tests
        }
        if any(p.operation.op == "rename" for p in plan.phases):  # docs follow a rename
            scope |= {f"*{suffix}" for suffix in DOC_SUFFIXES}
        drafter = Drafter(None, self.repo, self.digest, issue=spec.description, style=self.style)
        if any(drafter.slots_for(p.operation) for p in plan.phases):
            drafter.llm = self.llm.get()
        code = {"source", "body"}
        if not self.options.one_model and any(
            code & set(drafter.slots_for(p.operation)) for p in plan.phases
        ):
            drafter.alternate = self.llm.alternate()
        with self._scratch() as scratch:
            scripts_dir = (self.work or scratch.root.parent) / "scripts"
            scripts_dir.mkdir(mode=0o700, exist_ok=True)
            drafts: dict[str, Draft] = {}
            for phase in plan.phases:
                self.progress(f"phase {phase.id}: {phase.operation.summary()}")
                outcome, draft = self._run_phase(phase, scratch, drafter, scripts_dir, scope, plan)
                result.phases.append(outcome)
                if draft is None:
                    result.message = (
                        f"phase {phase.id} ({phase.operation.summary()}) failed: {outcome.message}"
                    )
                    return
                drafts[phase.id] = draft
            changed = scratch.changed_paths()
            if not changed:
                result.message = (
                    "the plan ran but changed nothing; the issue may already be resolved"
                )
                return
            validation = self._final_validation(scratch, plan, changed, scope)
            repairs = 0
            while not validation.ok and repairs < self.options.max_repairs:
                target = next(
                    (p for p in reversed(plan.phases) if drafter.slots_for(p.operation)), None
                )
                if target is None:
                    break
                repairs += 1
                failure = validation.failure
                self.progress(
                    f"repairing {target.id} after: {failure.name if failure else 'failure'}"
                )
                restore(scratch, {})  # back to the original tree, then replay the phases
                replayed = True
                for phase in plan.phases:
                    if phase.id != target.id:
                        replayed = self._replay(drafts[phase.id], scratch, scripts_dir, scope)
                        if not replayed:
                            break
                        continue
                    outcome, draft = self._run_phase(
                        phase,
                        scratch,
                        drafter,
                        scripts_dir,
                        scope,
                        plan,
                        feedback=failure.message if failure else None,
                        previous=drafts[phase.id],
                    )
                    result.phases.append(outcome)
                    if draft is None:
                        replayed = False
                        break
                    drafts[phase.id] = draft
                if not replayed:  # back to the last state that was validated
                    restore(scratch, {})
                    for phase in plan.phases:
                        self._replay(drafts[phase.id], scratch, scripts_dir, scope)
                    break
                changed = scratch.changed_paths()
                validation = self._final_validation(scratch, plan, changed, scope)
            result.validation = validation.to_dict()
            failure = validation.failure
            if failure is not None and failure.name != "acceptance":
                result.message = f"validation failed at {failure.name if failure else '?'}: " + (
                    failure.message[:1500] if failure else ""
                )
                return
            self._finish(spec, plan, result, scratch, drafts, validation)

    def _replay(self, draft: Draft, scratch: Scratch, scripts_dir: Path, scope: set[str]) -> bool:
        """Run an already validated phase script again (no model call)."""
        script = scripts_dir / draft.script_name
        script.write_text(draft.script, encoding="utf-8")
        validator = Validator(scratch, self.sandbox, scope=scope, python=sys.executable)
        return validator.run_script(script).ok

    def _final_validation(
        self, scratch: Scratch, plan: Plan, changed: set[str], scope: set[str]
    ) -> Validation:
        """The checks on the final tree, the related tests, then the full suite (baseline-aware)."""
        validation = self._related_validation(scratch, plan, changed, scope)
        if not validation.ok:
            return validation
        check = full_suite_check(
            self.sandbox,
            scratch.root,
            self.python,
            detect_test_command(self.repo),
            self.options.full_tests,
            self._failing_pristine,
        )
        checks = list(validation.checks)
        doctests = doctest_check(
            self.sandbox,
            scratch.root,
            self.python,
            doctest_targets(scratch.root, changed),
            self._doctests_pristine,
        )
        for extra in (check, doctests):
            if extra is None:
                continue
            self.progress(f"{extra.name}: {extra.message.splitlines()[0]}")
            checks.append(extra)
            if not extra.ok:
                return Validation.of(checks)
        assert self._acceptance is not None
        count = len(self._acceptance.module.checks)
        self.progress(f"acceptance checks from the issue: {count}")
        return Validation.of([*checks, self._acceptance.check(scratch.root)])

    def _doctests_pristine(self, targets: list[str]) -> set[str]:
        with Scratch(self.repo) as pristine:
            there = [t for t in targets if (pristine.root / t).is_file()]
            failing = (
                run_doctests(self.sandbox, pristine.root, self.python, there) if there else None
            )
        return failing or set()

    def _failing_pristine(self, ids: list[str]) -> set[str]:
        """Which of these test ids fail on the untouched repository."""
        todo = [i for i in ids if i not in self._baseline]
        if todo:
            with self._scratch() as pristine:
                failing = failing_on(self.sandbox, pristine.root, self.python, todo)
            self._baseline.update({i: i not in failing for i in todo})
        return {i for i in ids if not self._baseline[i]}

    def _related_validation(
        self, scratch: Scratch, plan: Plan, changed: set[str], scope: set[str]
    ) -> Validation:
        related = sorted(
            t
            for t in set(plan.related_tests) | set(select_related_tests(self.digest, changed))
            if is_pytest_file(t)
        )
        self.progress(
            f"validating: {len(changed)} changed file(s), {len(related)} related test file(s)"
        )
        related = [t for t in related if t not in self._broken_before]
        validator = Validator(
            scratch,
            self.sandbox,
            scope=scope | set(related),
            related_tests=related,
            test_command=detect_test_command(self.repo),
            python=self.python,
        )
        validation = validator.validate(changed)
        failure = validation.failure
        if failure is not None and failure.name == "related_tests":
            broken = self._failing_before(related)
            if broken:
                self.progress(
                    f"ignoring {len(broken)} test file(s) that already fail without the change: "
                    + ", ".join(sorted(broken))
                )
                self._broken_before |= broken
                return self._related_validation(scratch, plan, changed, scope)
        return validation

    def _failing_before(self, tests: list[str]) -> set[str]:
        """Test files that fail on the untouched repository too (environment, flaky, …)."""
        broken: set[str] = set()
        with self._scratch() as pristine:
            for test in tests:
                if test in self._baseline:
                    ok = self._baseline[test]
                else:
                    check = Validator(
                        pristine, self.sandbox, related_tests=[test], python=self.python
                    ).check_related_tests(set())
                    ok = self._baseline[test] = check.ok
                if not ok:
                    broken.add(test)
        return broken

    def _finish(
        self,
        spec: Spec,
        plan: Plan,
        result: FixResult,
        scratch: Scratch,
        drafts: Mapping[str, Draft],
        validation: Validation,
    ) -> None:
        changed = sorted(scratch.changed_paths())
        diff = scratch.diff(changed)
        scripts = {d.script_name: d.script for d in drafts.values()}
        assert self._acceptance is not None
        verdict = self._acceptance.verdict(spec, validation)
        result.verdict = verdict.to_dict()
        result.status = verdict.status
        patch = CommitBuilder(self.repo).build(
            slug=spec.issue_id,
            diff=diff,
            files=changed,
            scripts=scripts,
            spec_yaml=spec.to_yaml(),
            plan=plan.to_dict(),
            validation={
                **validation.to_dict(),
                "ok": verdict.validated,
                "outcome": verdict.status,
                "why": verdict.why,
            },
            summary=summary_markdown(
                spec, plan, result.phases, validation.to_dict(), verdict.to_dict()
            ),
            extra=self._acceptance.files(ACCEPTANCE_FILE),
        )
        result.patch = patch
        script_hash = hashlib.sha256(
            "".join(scripts[k] for k in sorted(scripts)).encode()
        ).hexdigest()
        uses_llm = any(d.calls for d in drafts.values())
        if not verdict.validated:
            result.message = f"unverified: {verdict.why}. Candidate patch set {patch.path}"
            if not self.options.accept_unverified:
                if self.options.apply or self.options.commit:
                    result.message += " (not landed; --accept-unverified lands it)"
                return
        try:
            result.landed = land(self.repo, patch, spec, plan, self.options)
        except CommitError as exc:
            result.message = (
                f"{result.status} patch set written to {patch.path}, but it did not land: {exc}"
            )
            if result.status == VALIDATED:
                result.status = FAILED
            return
        if not verdict.validated:
            result.message += f"; {result.landed} (--accept-unverified)" if result.landed else ""
            return
        result.ok = True
        result.message = f"validated patch set {patch.path}" + (
            f"; {result.landed}" if result.landed else ""
        )
        self.memory.record_success(
            {
                "run_id": self.run_id,
                "spec_issue_id": spec.issue_id,
                "spec_issue_description": spec.description,
                "spec_target_files": list(spec.target_files),
                "spec_operations_summary": "; ".join(o.summary() for o in spec.operations),
                "successful_diff_summary": f"{len(changed)} file(s): {', '.join(changed)}",
                "successful_script_hash": script_hash,
                "patch_source": "llm" if uses_llm else "codemod",
                "scripts": scripts,
                "diff": diff,
                "spec": spec.to_dict(),
                "style_profile_hash": self.style.profile_hash() if self.style is not None else None,
                "model_id": next((c.model_id for d in drafts.values() for c in d.calls), None),
                "validation": validation.to_dict(),
                "patch_set": str(patch.path),
                "landed": result.landed,
            }
        )
