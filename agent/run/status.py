"""The outcomes of a ``fix`` run and their exit codes.

``validated`` the repository's checks, the acceptance checks from the issue and the plan's
coverage all pass; ``unverified`` a candidate patch set was written but something could not
be confirmed (``agent.run.verdict``); ``failed`` no candidate passed the repository's
checks; ``stopped`` the user stopped before drafting.
"""

VALIDATED, UNVERIFIED, FAILED, STOPPED = "validated", "unverified", "failed", "stopped"
EXIT_CODES = {VALIDATED: 0, FAILED: 1, STOPPED: 1, UNVERIFIED: 3}
