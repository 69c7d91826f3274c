"""The codemod library: every operation of the spec vocabulary as a LibCST codemod.

Importing this package registers all families in ``REGISTRY``, one subpackage each:
``rename`` (rename, rename_parameter, change_import, replace_calls), ``signature``
(add/remove parameter, make_keyword_only), ``content`` (the LLM-slot edits: edit,
docstrings, annotations, add function/method, decorators), ``modernize`` (deterministic
idiom upgrades) and ``structure`` (move_symbol, extract_constant, extract_helper).

Shared by the families: ``base`` (the contract and ``REGISTRY``), ``apply``
(``apply_operation``), ``index`` (one ``RepoIndex`` over a snapshot), ``nodes`` (locating and
splicing definitions), ``imports`` (what a module binds, adding import lines), ``run`` (what
a drafted phase script calls) and ``follow_*`` (doctests and stubs kept in step).
"""

from agent.codemods import (  # noqa: F401  (registration)
    content,
    modernize,
    rename,
    signature,
    structure,
)
from agent.codemods.apply import apply_operation
from agent.codemods.base import REGISTRY, Applied, Failed, RepoFiles, Result, Skipped

__all__ = ["REGISTRY", "Applied", "Failed", "RepoFiles", "Result", "Skipped", "apply_operation"]
