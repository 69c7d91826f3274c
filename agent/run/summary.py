"""The patch set's ``summary.md``: the plan, each phase, the checks, the outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.run.results import PhaseOutcome
from planner.phases import Plan
from planner.spec import Spec


def summary_markdown(
    spec: Spec,
    plan: Plan,
    outcomes: Sequence[PhaseOutcome],
    validation: dict[str, Any],
    verdict: Mapping[str, Any] | None = None,
) -> str:
    """The patch set's ``summary.md``; ``verdict`` adds the outcome, coverage and acceptance."""
    lines = [f"# {spec.issue_id}", ""]
    if verdict:
        lines += [f"**Outcome: {verdict['status']}** — {verdict['why']}", ""]
    lines += [spec.description.strip()[:2000], "", "## Plan", ""]
    lines += [f"- {o.plain()}" for o in spec.operations]
    lines += ["", "## Phases", ""]
    for o in outcomes:
        spent = (
            f" ({o.spend['drafts']} draft(s), {o.spend['calls']} model call(s), "
            f"{o.spend['seconds']} s)"
            if o.spend.get("calls")
            else ""
        )
        lines.append(
            f"- `{o.phase_id}` {o.operation}: {'ok' if o.ok else 'FAILED'} after "
            f"{o.attempts} attempt(s){spent}"
        )
    lines += ["", "## Validation", ""]
    for check in validation.get("checks", []):
        lines.append(
            f"- {'✔' if check.get('ok') else '✘'} {check.get('name')}: {str(check.get('message'))[:200]}"
        )
    if verdict:
        coverage = verdict["coverage"]
        lines += ["", "## Coverage", ""]
        lines.append(f"- {'✔' if coverage['complete'] else '✘'} {coverage['message']}")
        lines += [f"- context: `{k}`: {v}" for k, v in coverage.get("context", {}).items()]
        lines += ["", "## Acceptance checks (acceptance_test.py)", ""]
        report = verdict["acceptance"]
        if report.get("error"):
            lines.append(f"- ✘ could not run: {report['error'][:300]}")
        for r in report.get("results", []):
            mark = "✔ pass" if r["ok"] else "✘ FAIL"
            if not r.get("applies", True):
                mark = "– n/a (fails without the change too, or cannot run)"
            before = {True: "passes", False: "fails", None: "not run"}[r.get("before")]
            note = (
                f" — {r['message'].splitlines()[-1][:200]}" if not r["ok"] and r["message"] else ""
            )
            lines.append(
                f"- {mark} `{r['name']}` [{r['kind']}]: {r['doc']} "
                f"(without the change: {before}){note}"
            )
        if not report.get("results") and not report.get("error"):
            lines.append("- (none: the issue and the plan state nothing checkable)")
    return "\n".join(lines) + "\n"
