"""What the learn loop measures beyond replaying recorded calls, on this repository.

``issue_spec_calls``: the llm spec backend's prompt for held-out issues whose run made
no spec call (the rules sufficed), so the spec exact-match covers every held-out issue.

``EditChecker``: validates the edits a model produces for held-out calls (the pass rate).

For a held-out slot call of a run on *this* repository, the tree as it was before the
run is rebuilt on a scratch copy (the run's diff reversed when it was applied, or the
tree as is when it was not), the run's earlier phase scripts are replayed, the phase
script is re-rendered with the model's answer in its slot, and the usual checks run
(script, syntax, scope, lint, import, the run's related tests). Calls of other
repositories, or of runs whose diff no longer applies either way, are not measured.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from agent.draft.code import check_definition, extract_code, needed_imports
from agent.draft.docstring_text import tidy_docstring
from agent.draft.script import render_script
from agent.verify.sandbox import Sandbox, SandboxError
from agent.verify.scratch import Scratch
from agent.verify.validate import Validator
from cores.protocols import LLM
from memory.held_out import HeldOutCall, success_records
from planner.spec import Operation
from planner.spec_llm import SCHEMA as SPEC_SCHEMA
from planner.spec_llm import LLMNormalizer

# Spec records keep no parameters: these are the llm spec backend's (planner.spec_llm).
SPEC_PARAMS: dict[str, Any] = {"max_tokens": 160, "json_schema": SPEC_SCHEMA}

log = logging.getLogger(__name__)


def _diff_paths(diff: str) -> set[str]:
    return {
        line[6:].strip()
        for line in diff.splitlines()
        if line.startswith("+++ b/") or line.startswith("--- a/")
    }


def _related_tests(success: Mapping[str, Any]) -> list[str]:
    for check in (success.get("validation") or {}).get("checks") or []:
        if check.get("name") == "related_tests":
            command = (check.get("details") or {}).get("command") or []
            return [w for w in command if str(w).endswith(".py")]
    return []


def _git_apply(root: Path, patch: Path, *flags: str) -> bool:
    cmd = ["git", "apply", "--whitespace=nowarn", *flags, str(patch)]
    return subprocess.run(cmd, cwd=root, capture_output=True).returncode == 0


def slots_for(call: HeldOutCall, output: str, module: str) -> dict[str, Any] | None:
    """The slot values the model's answer gives, or None when it gives none usable."""
    if call.answer == "json":
        try:
            value = json.loads(output)
            return {"docstring": tidy_docstring(str(value["docstring"]))}
        except (ValueError, KeyError, TypeError):
            return None
    code = extract_code(output)
    if check_definition(code, call.name) is not None:
        return None
    imports = needed_imports(code, module)
    return {"source": code, **({"imports": imports} if imports else {})}


def _on_repo(success: Mapping[str, Any], repo: Path) -> bool:
    patch_set = success.get("patch_set")
    return bool(patch_set) and Path(str(patch_set)).resolve().is_relative_to(repo.resolve())


def issue_spec_calls(
    repo: Path, index_dir: Path, memory_dirs: Sequence[Path], run_ids: Sequence[str]
) -> list[HeldOutCall]:
    """Spec calls for held-out issues of this repository whose run made none (the rules
    were specific enough, so the llm spec backend never ran): the backend's prompt for
    the issue text, built from the repository's digest as it is now."""
    successes = success_records(memory_dirs)
    todo = [
        successes[r]
        for r in run_ids
        if r in successes
        and _on_repo(successes[r], repo)
        and successes[r].get("spec_issue_description")
        and (successes[r].get("spec") or {}).get("operations")
    ]
    if not todo:
        return []
    from planner.digest import RepositoryDigest

    digest = RepositoryDigest.build(repo, index_dir)
    normalizer = LLMNormalizer(cast(LLM, None), digest)  # only its prompt is used
    return [
        HeldOutCall(
            run_id=str(s["run_id"]),
            attempt_id=f"{s['run_id']}:issue-spec",
            role="spec",
            answer="spec",
            messages=tuple(m.to_dict() for m in normalizer.messages(s["spec_issue_description"])),
            params=SPEC_PARAMS,
            reference=list(s["spec"]["operations"]),
        )
        for s in todo
    ]


class EditChecker:
    """``(call, output) -> bool | None``; the same calls are measured for every model."""

    def __init__(
        self,
        repo: Path,
        memory_dirs: Sequence[Path],
        calls: Sequence[HeldOutCall],
        *,
        limit: int,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.repo = Path(repo).resolve()
        self.sandbox = sandbox or Sandbox()
        self.successes = success_records(memory_dirs)
        edits = [c for c in calls if c.answer != "spec"]
        local: list[HeldOutCall] = []
        for call in edits:
            if len(local) < limit and self._local(call):
                local.append(call)
        self.eligible = {c.attempt_id for c in local}
        self.unmeasurable: set[str] = set()
        if not edits:
            self.note = "not measured: no held-out edit calls"
        elif not local:
            self.note = (
                "not measured: no held-out edit call comes from a run on this repository "
                "whose change still applies (or reverses) cleanly"
            )
        else:
            self.note = (
                f"measured on {len(self.eligible)} of {len(edits)} held-out edit call(s) "
                f"(runs on this repository, at most {limit})"
            )

    def _local(self, call: HeldOutCall) -> bool:
        success = self.successes.get(call.run_id) or {}
        if not success.get("diff") or not call.phase or not call.op:
            return False
        if not _on_repo(success, self.repo):
            return False
        with tempfile.TemporaryDirectory(prefix="autopatch-learn-") as tmp:
            patch = Path(tmp) / "run.diff"
            patch.write_bytes(str(success["diff"]).encode("utf-8", "surrogateescape"))
            # Measurable only when the tree is just before or just after the run's change.
            return _git_apply(self.repo, patch, "--check", "-R") or _git_apply(
                self.repo, patch, "--check"
            )

    def __call__(self, call: HeldOutCall, output: str) -> bool | None:
        if call.attempt_id not in self.eligible or call.attempt_id in self.unmeasurable:
            return None
        if slots_for(call, output, "") is None:
            return False  # nothing usable to render: the edit cannot pass
        try:
            result = self._check(call, output)
        except SandboxError:
            raise  # the sandbox itself cannot run: say so, do not hide it as "not measured"
        except Exception as exc:  # a broken replay is "not measured", never a crash
            log.warning("validating %s failed: %s", call.attempt_id, exc)
            result = None
        if result is None:
            self.unmeasurable.add(call.attempt_id)
            self.note += f"; {call.attempt_id} could not be replayed"
        return result

    def _check(self, call: HeldOutCall, output: str) -> bool | None:
        success = self.successes[call.run_id]
        diff = str(success["diff"])
        related = _related_tests(success)
        scope = _diff_paths(diff) | set(related)
        work = self.sandbox.work_dir  # the run folder under the data dir, when given
        with (
            Scratch(self.repo, base_dir=work) as scratch,
            tempfile.TemporaryDirectory(prefix="autopatch-learn-", dir=work) as tmp,
        ):
            patch = Path(tmp) / "run.diff"
            patch.write_bytes(diff.encode("utf-8", "surrogateescape"))
            if _git_apply(scratch.root, patch, "--check", "-R"):
                _git_apply(scratch.root, patch, "-R")
            elif not _git_apply(scratch.root, patch, "--check"):
                return None  # the repository moved on: neither before nor after the run
            validator = Validator(
                scratch, self.sandbox, scope=scope, related_tests=related, python=sys.executable
            )
            scripts = success.get("scripts") or {}
            for name in sorted(n for n in scripts if n < f"{call.phase}.py"):
                earlier = Path(tmp) / name
                earlier.write_text(scripts[name], encoding="utf-8")
                if not validator.run_script(earlier).ok:
                    return None
            module = "\n".join(
                (scratch.root / p).read_text(encoding="utf-8", errors="replace")
                for p in sorted(_diff_paths(diff))
                if p.endswith(".py") and (scratch.root / p).is_file()
            )
            slots = slots_for(call, output, module)
            if slots is None:
                return False
            script = Path(tmp) / f"{call.phase}.py"
            script.write_text(
                render_script(call.phase, Operation.from_dict(call.op), slots), encoding="utf-8"
            )
            return validator.run(script).ok
