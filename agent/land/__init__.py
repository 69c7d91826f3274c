"""Landing a validated change: ``builder`` (``CommitBuilder``) writes the patch set under
``<repo>/.autopatches/`` and applies or commits it; ``read`` reads patch sets back for
``autopatch list`` / ``show`` / ``apply``.
"""

from agent.land.builder import CommitBuilder, CommitError, PatchSet

__all__ = ["CommitBuilder", "CommitError", "PatchSet"]
