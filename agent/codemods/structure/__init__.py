"""Structure operations: ``move_symbol``, ``extract_constant`` and ``extract_helper``.

Importing this package registers them in ``REGISTRY``.
"""

from agent.codemods.structure import operations  # noqa: F401  (registration)

__all__: list[str] = []
