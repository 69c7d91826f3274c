"""The codemod library: every operation of the spec vocabulary as a LibCST codemod.

Importing this package registers all families in ``REGISTRY``:
``rename`` (rename, rename_parameter, change_import, replace_calls), ``signature``
(add/remove parameter, make_keyword_only), ``content`` (edit, docstrings, annotations,
add function/method, decorators, modernize) and ``structure`` (move_symbol,
extract_constant, extract_helper).
"""

from agent.codemods import content, rename, signature, structure  # noqa: F401  (registration)
from agent.codemods.base import (
    REGISTRY,
    Applied,
    Failed,
    RepoFiles,
    Result,
    Skipped,
    apply_operation,
)

__all__ = ["REGISTRY", "Applied", "Failed", "RepoFiles", "Result", "Skipped", "apply_operation"]
