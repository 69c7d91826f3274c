"""Verification of a drafted change: a scratch copy of the repository (``scratch``), a sandbox
that runs scripts and tests there with limits and without network (``sandbox``; its two
isolation modes in ``isolation``, with the bubblewrap command line, audit hook, reaper and
process-tree limits), the validation checks (``validate``), what they need to know about a
project (``project``), the whole-suite and doctest checks (``full_suite``) and the messages
written for the LLM (``report``).
"""

from agent.verify.sandbox import RunResult, Sandbox, SandboxError
from agent.verify.scratch import Scratch, ScratchError
from agent.verify.validate import Check, Validation, Validator

__all__ = [
    "Check",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "Scratch",
    "ScratchError",
    "Validation",
    "Validator",
]
