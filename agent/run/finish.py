"""The end of a run whose tree passed the repository's checks: the verdict, the patch set
(``.autopatches/<id>/``), landing it when asked (and allowed), the success record."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent.acceptance.module import FILENAME as ACCEPTANCE_FILE
from agent.draft.script import Draft
from agent.land.builder import CommitBuilder, CommitError, PatchSet, slugify
from agent.run.context import RunContext
from agent.run.options import FixOptions
from agent.run.record import Recorder
from agent.run.results import RunJournal
from agent.run.status import FAILED, VALIDATED
from agent.run.summary import summary_markdown
from agent.run.verdict import AcceptanceRun
from agent.verify.sandbox import Scratch
from planner.phases import Plan
from planner.spec import Spec


def finish(
    ctx: RunContext,
    recorder: Recorder,
    acceptance: AcceptanceRun,
    journal: RunJournal,
    scratch: Scratch,
    drafts: Mapping[str, Draft],
) -> None:
    """Write the patch set of the journal's validated tree; land and record it as it earns."""
    spec, plan, validation = journal.spec, journal.plan, journal.validation
    assert spec is not None and plan is not None and validation is not None
    changed = sorted(scratch.changed_paths())
    diff = scratch.diff(changed)
    verdict = acceptance.verdict(spec, validation)
    journal.verdict, journal.status = verdict, verdict.status
    patch = journal.patch = _patch_set(ctx, acceptance, journal, diff, changed, drafts)
    options = ctx.config.options
    if not verdict.validated:
        journal.message = f"unverified: {verdict.why}. Candidate patch set {patch.path}"
        if not options.accept_unverified:
            if options.lands:
                journal.message += " (not landed; --accept-unverified lands it)"
            return
    try:
        journal.landed = land(ctx.config.repo, patch, spec, plan, options)
    except CommitError as exc:
        journal.message = (
            f"{journal.status} patch set written to {patch.path}, but it did not land: {exc}"
        )
        if journal.status == VALIDATED:
            journal.status = FAILED
        return
    if not verdict.validated:
        journal.message += f"; {journal.landed} (--accept-unverified)" if journal.landed else ""
        return
    journal.ok = True
    journal.message = f"validated patch set {patch.path}" + (
        f"; {journal.landed}" if journal.landed else ""
    )
    recorder.success(spec, drafts, validation, patch, journal.landed, ctx.style)


def _patch_set(
    ctx: RunContext,
    acceptance: AcceptanceRun,
    journal: RunJournal,
    diff: str,
    changed: list[str],
    drafts: Mapping[str, Draft],
) -> PatchSet:
    spec, plan, validation, verdict = (
        journal.spec,
        journal.plan,
        journal.validation,
        journal.verdict,
    )
    assert spec is not None and plan is not None and validation is not None and verdict
    return CommitBuilder(ctx.config.repo).build(
        slug=spec.issue_id,
        diff=diff,
        files=changed,
        scripts={d.script_name: d.script for d in drafts.values()},
        spec_yaml=spec.to_yaml(),
        plan=plan.to_dict(),
        validation={
            **validation.to_dict(),
            "ok": verdict.validated,
            "outcome": verdict.status,
            "why": verdict.why,
        },
        summary=summary_markdown(
            spec, plan, journal.phases, validation.to_dict(), verdict.to_dict()
        ),
        extra=acceptance.files(ACCEPTANCE_FILE),
    )


def commit_message(spec: Spec, plan: Plan) -> str:
    title = (
        spec.description.strip().splitlines()[0][:72] if spec.description.strip() else spec.issue_id
    )
    body = "\n".join(f"- {p.operation.summary()}" for p in plan.phases)
    return f"autopatch: {title}\n\n{body}\n\nIssue: {spec.issue_id}\n"


def land(repo: Path, patch: PatchSet, spec: Spec, plan: Plan, options: FixOptions) -> str:
    builder = CommitBuilder(repo)
    if options.commit:
        branch = options.branch or f"autopatch/{slugify(spec.issue_id)}"
        sha = builder.commit(
            patch, message=commit_message(spec, plan), branch=branch, force=options.force
        )
        return f"committed {sha[:10]} on branch {branch}"
    if options.apply:
        builder.apply(patch, force=options.force)
        return "applied to the working tree"
    return ""
