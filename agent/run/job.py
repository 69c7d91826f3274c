"""The body of ``autopatch fix``: plan, then for each phase draft → verify → record, then
repair until the final tree passes (or the rounds are spent), then verdict → land → record.

The stages are small objects of this package: ``spec`` (issue → spec), ``phase``
(``PhaseRunner``: one phase's drafts, sampled and judged), ``checks`` (``TreeChecks``: the
tree's tests, suite, doctests and acceptance checks), ``repair`` (the repair policy),
``finish`` (verdict, patch set, landing) and ``record`` (``Recorder``: the one writer of
memory). The target repository is only read until a change has been validated; it is then
touched only by ``--apply`` / ``--commit`` (through CommitBuilder).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agent.acceptance.issue import with_stated_aliases
from agent.acceptance.module import acceptance_module
from agent.draft.drafter import Drafter
from agent.run.checks import TreeChecks
from agent.run.context import Progress, RunContext
from agent.run.finish import finish
from agent.run.models import LazyLLM
from agent.run.options import FixConfig
from agent.run.phase import CODE_SLOTS, PhaseRunner
from agent.run.record import Recorder
from agent.run.repair import repair_until_valid
from agent.run.results import FixResult, RunJournal, new_run_id
from agent.run.rundir import RepoLock, RunDir
from agent.run.spec import load_spec, read_expected
from agent.run.status import STOPPED
from agent.run.verdict import AcceptanceRun
from memory.store import Memory
from planner.phases import PhasePlanner, Plan
from planner.spec import Spec

log = logging.getLogger(__name__)

Confirm = Callable[[Spec], "Spec | None"]


class FixRun:
    """One run of ``fix`` on one repository (``config.repo``).

    Phase scripts run with autopatch's own interpreter (they import the codemod
    library); the project's tests run with ``config.python`` (the project's interpreter).
    ``confirm(spec)`` sees the understood plan before drafting: it returns the spec to run
    (the same one, or one the user edited) or ``None`` to stop.
    """

    def __init__(
        self,
        config: FixConfig,
        digest: Any,
        llm: LazyLLM,
        *,
        style: Any = None,
        progress: Progress = log.info,
        confirm: Confirm | None = None,
    ) -> None:
        self.config, self.digest, self.llm = config, digest, llm
        self.style, self.progress, self.confirm = style, progress, confirm
        self.run_id = new_run_id()
        self.recorder = Recorder(Memory(config.data_dir, config.memory), self.run_id)

    def run(self, issue: str | None, spec_path: str | None) -> FixResult:
        """The whole run in a run folder under the data dir; a landing run locks the repo."""
        config = self.config
        config.sandbox.check_usable()
        with (
            RepoLock(config.repo) if config.options.lands else contextlib.nullcontext(),
            RunDir(config.data_dir, self.run_id) as work,
        ):
            sandbox = replace(config.sandbox, work_dir=str(work.path))
            ctx = RunContext(
                replace(config, sandbox=sandbox), work.path, self.digest, self.style, self.progress
            )
            journal = RunJournal(self.run_id)
            start = time.perf_counter()
            try:
                self._run(ctx, journal, issue, spec_path)
            except Exception as exc:  # recorded below, then reported by the CLI
                journal.message = journal.message or str(exc) or type(exc).__name__
                raise
            finally:
                journal.seconds = time.perf_counter() - start
                if not journal.ok:
                    self.recorder.failure(issue, journal.result())
            return journal.result()

    def _run(
        self, ctx: RunContext, journal: RunJournal, issue: str | None, spec_path: str | None
    ) -> None:
        """Plan; for each phase: draft → verify → record; repair; verdict → land → record."""
        spec = self._spec(ctx, journal, issue, spec_path)
        if spec is None:
            return
        plan = journal.plan = PhasePlanner(self.digest).plan(spec)
        inferred = read_expected(spec, self.llm, self.progress)
        acceptance = AcceptanceRun(
            acceptance_module(spec.description, spec, list(self.digest.definitions()), inferred),
            ctx.config.repo,
            ctx.config.python,
            ctx.config.sandbox,
        )
        checks = TreeChecks(ctx, plan, acceptance)
        drafter = self._drafter(spec, plan)
        with ctx.scratch() as scratch:
            read = [f">>> {i.source}\n{i.expected}" for i in inferred if i.usable]
            runner = PhaseRunner(ctx, scratch, drafter, checks, self.recorder, read=read)
            for phase in plan.phases:
                self.progress(f"phase {phase.id}: {phase.operation.summary()}")
                outcome, draft = runner.run(phase)
                journal.phases.append(outcome)
                if draft is None:
                    journal.message = (
                        f"phase {phase.id} ({phase.operation.summary()}) failed: {outcome.message}"
                    )
                    return
            if not scratch.changed_paths():
                journal.message = (
                    "the plan ran but changed nothing; the issue may already be resolved"
                )
                return
            validation = repair_until_valid(runner, checks, journal, ctx.config.options.max_repairs)
            journal.validation = validation
            failure = validation.failure
            if failure is not None and failure.name != "acceptance":
                journal.message = f"validation failed at {failure.name if failure else '?'}: " + (
                    failure.message[:1500] if failure else ""
                )
                return
            finish(ctx, self.recorder, acceptance, journal, scratch, runner.drafts)

    def _spec(
        self, ctx: RunContext, journal: RunJournal, issue: str | None, spec_path: str | None
    ) -> Spec | None:
        """The spec to run (the user may edit it); None when the user stops."""
        self.progress("normalizing the issue into a spec")
        spec = load_spec(
            issue,
            spec_path,
            self.digest,
            self.llm,
            ctx.config.options,
            self.recorder,
            ctx.config.repo,
        )
        spec = journal.spec = with_stated_aliases(spec)
        if self.confirm is None:
            return spec
        chosen = self.confirm(spec)
        if chosen is None:
            journal.message = "stopped before drafting; nothing was changed"
            journal.status = STOPPED
            return None
        journal.spec = chosen
        return chosen

    def _drafter(self, spec: Spec, plan: Plan) -> Drafter:
        """The drafter of the plan, with the models its phases need (loaded only then)."""
        drafter = Drafter(
            None, self.config.repo, self.digest, issue=spec.description, style=self.style
        )
        if any(drafter.slots_for(p.operation) for p in plan.phases):
            drafter.llm = self.llm.get()
        if not self.config.options.one_model and any(
            CODE_SLOTS & set(drafter.slots_for(p.operation)) for p in plan.phases
        ):
            drafter.alternate = self.llm.alternate()
        return drafter
