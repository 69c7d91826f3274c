"""Acceptance checks from the issue: what the issue says the result must do, as checks that run.

``issue`` reads the issue (its ``>>>`` sessions and its statements), ``checks`` builds one
check per thing it can run (with the operation postconditions of ``ops`` and ``ops_content``
on the shared ``base``), ``module`` renders them as ``acceptance_test.py`` (the helpers of
``runtime``, copied verbatim), runs it in the sandbox and reports; ``examples`` runs the
issue's ``>>>`` examples as a behaviour probe and states the localized facts of a bug fix;
``infer`` reads the results a bug report asks for in words (the judge model).
"""

from agent.acceptance.module import (
    FILENAME,
    AcceptanceModule,
    AcceptanceReport,
    CheckResult,
    Coverage,
    acceptance_module,
    coverage_of,
    run_acceptance,
)

__all__ = [
    "FILENAME",
    "AcceptanceModule",
    "AcceptanceReport",
    "CheckResult",
    "Coverage",
    "acceptance_module",
    "coverage_of",
    "run_acceptance",
]
