"""The ``modernize`` operation: deterministic idiom upgrades (f-strings, ``pathlib``,
``typing.NamedTuple``, builtin generics), each proven or checked to keep behaviour.

Importing this package registers ``modernize`` in ``REGISTRY``.
"""

from agent.codemods.modernize import operation  # noqa: F401  (registration)

__all__: list[str] = []
