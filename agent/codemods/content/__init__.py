"""The content operations, whose new text an LLM writes into slots.

``edit``, ``add_function``, ``add_method``, ``add_docstring``, ``add_annotations`` (with the
members and signatures forms of their slots) and the deterministic ``add_decorator`` /
``remove_decorator``. Importing this package registers them in ``REGISTRY``.
"""

from agent.codemods.content import (  # noqa: F401  (registration)
    annotations,
    decorators,
    docstring,
    edit,
)

__all__: list[str] = []
