"""One repository index shared by the codemod families: ``RepoIndex`` over a ``RepoFiles``
snapshot, with its two ``ast`` readers (``bindings`` for the symbol codemods, ``definitions``
for the signature codemods).
"""

from agent.codemods.index.repo import RepoIndex

__all__ = ["RepoIndex"]
