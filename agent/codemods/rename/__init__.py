"""Symbol operations: ``rename``, ``rename_parameter``, ``change_import`` and ``replace_calls``.

They resolve names across the repository with ``ast`` and rewrite references with LibCST
scope metadata. Importing this package registers them in ``REGISTRY``.
"""

from agent.codemods.rename import calls, symbols  # noqa: F401  (registration)

__all__: list[str] = []
