"""The fix job: issue → spec → plan → for each phase draft → verify → record → repair → land.

``job`` (``FixRun``: the short loop), ``options`` (``FixOptions``, ``FixConfig``),
``context`` (``RunContext``: what the stages share), ``spec`` (issue → spec), ``phase``
(``PhaseRunner``: one phase's drafts), ``sampler`` (draw, run, rank the drafts of a phase),
``oracle`` (``PhaseOracle``: how far a draft got; ``trial``: its ``Score`` and ``Trial``),
``checks`` (``TreeChecks``: related tests, suite, doctests, acceptance checks), ``repair``
(the repair policy), ``verdict`` (the honest outcome), ``finish`` (patch set, landing),
``summary`` (``summary.md``), ``record`` (``Recorder``: the one writer of memory),
``results`` (``PhaseOutcome``, ``FixResult``), ``status`` (the outcome names, exit codes), ``budget`` (``Budget``, ``Spend``), ``models``
(``LazyLLM``), ``rundir`` (the run folder and the repository lock) and ``confirm`` (the
user in the loop).

Only the light modules are imported here; ``FixRun`` is in ``agent.run.job`` (it loads the
codemod library: import it where the job runs, so that ``autopatch --help`` stays fast).
"""

from agent.run.budget import Budget, Spend
from agent.run.models import LazyLLM
from agent.run.options import FixConfig, FixOptions
from agent.run.results import FixResult, PhaseOutcome
from agent.run.rundir import LockHeld, RepoLock, RunDir
from agent.run.status import EXIT_CODES

__all__ = [
    "EXIT_CODES",
    "Budget",
    "FixConfig",
    "FixOptions",
    "FixResult",
    "LazyLLM",
    "LockHeld",
    "PhaseOutcome",
    "RepoLock",
    "RunDir",
    "Spend",
]
