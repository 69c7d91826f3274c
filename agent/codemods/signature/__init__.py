"""Signature operations: ``add_parameter``, ``remove_parameter`` and ``make_keyword_only``.

Each changes one definition and rewrites every call that reaches it. Importing this package
registers them in ``REGISTRY``.
"""

from agent.codemods.signature import add, keyword_only, remove  # noqa: F401  (registration)

__all__: list[str] = []
