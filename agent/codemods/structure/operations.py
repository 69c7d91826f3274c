"""Structure operations: ``move_symbol``, ``extract_constant`` and ``extract_helper``.

Importing this module registers the three handlers in ``REGISTRY``. The work lives in
``structure.move`` (moving a top-level definition with its imports and a re-export),
``structure.constant`` (one literal → one module constant) and ``structure.helper``
(LLM-written helper + rewritten functions swapped in, signatures checked).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from agent.codemods.base import REGISTRY, RepoFiles, Result
from agent.codemods.structure.constant import extract_constant as _extract_constant
from agent.codemods.structure.helper import default_helper_name
from agent.codemods.structure.helper import extract_helper as _extract_helper
from agent.codemods.structure.move import move_symbol as _move_symbol
from planner.spec import Operation

logger = logging.getLogger(__name__)

__all__ = ["default_helper_name", "extract_constant", "extract_helper", "move_symbol"]


@REGISTRY.register("move_symbol")
def move_symbol(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Move a top-level def/class/constant to ``params.to_module``, re-exporting it."""
    return _move_symbol(files, op, slots)


@REGISTRY.register("extract_constant")
def extract_constant(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Replace every occurrence of one literal in a module by a new module constant."""
    return _extract_constant(files, op, slots)


@REGISTRY.register("extract_helper", slots=("source",))
def extract_helper(files: RepoFiles, op: Operation, slots: Mapping[str, Any]) -> Result:
    """Insert an LLM-written helper and swap in the rewritten bodies of the listed functions."""
    return _extract_helper(files, op, slots)
