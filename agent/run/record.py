"""The one writer of a run's memory (``memory.store.Memory``): every draft and model call as
an attempt (the spec judge's and the spec model's too), then the run's failure or success."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from agent.draft.script import Draft
from agent.land.builder import PatchSet
from agent.run.results import FixResult
from agent.verify.validate import Validation
from memory.store import Memory
from planner.normalize import SpecNormalizer
from planner.spec import Spec


class Recorder:
    """Writes the memory records of run ``run_id``."""

    def __init__(self, memory: Memory, run_id: str) -> None:
        self.memory = memory
        self.run_id = run_id

    def draft(
        self,
        draft: Draft,
        outcome: str,
        validation: Validation | None,
        attempt: int,
        parent: str | None,
    ) -> str:
        """One record per model call of the draft (one for a codemod's); the attempt id."""
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

    def spec(self, normalizer: SpecNormalizer, spec: Spec) -> None:
        """The judge's choice and the free-form spec model's calls of the normalization."""
        for run in normalizer.runs:
            if run.backend == "judge" and run.candidate is not None:
                self.memory.record_attempt(
                    {
                        "run_id": self.run_id,
                        "attempt_id": f"{self.run_id}:spec:judge",
                        "parent_attempt": None,
                        "phase": "spec",
                        "role": "judge",
                        "model_id": run.candidate.meta.get("model_id"),
                        "parsed": [o.to_dict() for o in run.candidate.operations],
                        "judge": run.candidate.meta.get("judge"),
                        "latency_s": round(run.seconds, 2),
                        "outcome": "chosen"
                        if spec.provenance.get("chosen") == "judge"
                        else "not chosen",
                    }
                )
        for run in normalizer.runs:
            if run.backend == "llm" and run.candidate is not None:
                self.memory.record_attempt(
                    {
                        "run_id": self.run_id,
                        "phase": "spec",
                        "role": "spec",
                        "messages": run.candidate.meta.get("messages"),
                        "raw_output": run.candidate.raw,
                        "parsed": [o.to_dict() for o in run.candidate.operations],
                        "model_id": run.candidate.meta.get("model_id"),
                        "params": run.candidate.meta.get("params"),
                        "prompt_tokens": run.candidate.meta.get("prompt_tokens"),
                        "completion_tokens": run.candidate.meta.get("completion_tokens"),
                        "latency_s": run.candidate.meta.get("latency_s"),
                        "outcome": "chosen"
                        if spec.provenance.get("chosen") == "llm"
                        else "not chosen",
                    }
                )

    def failure(self, issue: str | None, result: FixResult) -> None:
        self.memory.record_failure(
            {
                "run_id": self.run_id,
                "issue": (issue or "")[:4000],
                "spec": result.spec.to_dict() if result.spec else None,
                "reason": result.message,
                "outcome": result.status,
                "patch_set": str(result.patch.path) if result.patch else None,
                "verdict": result.verdict.to_dict() if result.verdict else {},
                "phases": [p.to_dict() for p in result.phases],
            }
        )

    def success(
        self,
        spec: Spec,
        drafts: Mapping[str, Draft],
        validation: Validation,
        patch: PatchSet,
        landed: str,
        style: Any = None,
    ) -> None:
        """The validated run: what it changed, the scripts that did it, where it landed."""
        scripts = {d.script_name: d.script for d in drafts.values()}
        changed = list(patch.files)
        script_hash = hashlib.sha256(
            "".join(scripts[k] for k in sorted(scripts)).encode()
        ).hexdigest()
        uses_llm = any(d.calls for d in drafts.values())
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
                "diff": patch.diff,
                "spec": spec.to_dict(),
                "style_profile_hash": style.profile_hash() if style is not None else None,
                "model_id": next((c.model_id for d in drafts.values() for c in d.calls), None),
                "validation": validation.to_dict(),
                "patch_set": str(patch.path),
                "landed": landed,
            }
        )
