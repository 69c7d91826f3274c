"""The ``t5`` spec backend: a Seq2Seq checkpoint maps issue (+ symbols) to spec text.

The text format is one YAML flow mapping per operation, one per line, e.g.
``- {op: rename, target: pkg.mod.old, params: {new_name: new}}`` — short enough
for a small T5 to learn from the exported ``spec`` dataset, and plain YAML.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import yaml

from cores.protocols import Seq2Seq
from planner.candidates import Candidate, SymbolIndex, ops
from planner.spec import Operation, SpecError
from planner.spec_llm import bag_of_symbols

log = logging.getLogger(__name__)


def t5_input(issue: str, symbols: Sequence[str]) -> str:
    """The model input: the issue, then the names it may refer to (no kinds/files: short)."""
    names = " ".join(s.split(" ", 1)[0] for s in symbols)
    return f"issue: {' '.join(issue.split())[:1500]} symbols: {names}"


def ops_to_text(operations: Sequence[Operation]) -> str:
    lines = []
    for op in operations:
        flow = yaml.safe_dump(
            op.to_dict(), default_flow_style=True, sort_keys=False, width=10_000
        ).strip()
        lines.append(f"- {flow}")
    return "\n".join(lines)


def text_to_ops(text: str) -> list[Operation]:
    """Parse model output; raise ``SpecError`` when it is not a list of operations."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"t5 output is not YAML: {exc}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise SpecError("t5 output is not a list of operations")
    return [Operation.from_dict(item) for item in data]


class T5Normalizer:
    """Propose a spec with a Seq2Seq checkpoint (the T5 spec normalizer)."""

    name = "t5"

    def __init__(self, model: Seq2Seq, symbols: SymbolIndex, *, max_new_tokens: int = 256) -> None:
        self.model = model
        self.symbols = symbols
        self.max_new_tokens = max_new_tokens

    def propose(self, issue: str) -> Candidate | None:
        source = t5_input(issue, bag_of_symbols(issue, self.symbols))
        text = self.model.generate([source], max_new_tokens=self.max_new_tokens)[0]
        try:
            found = text_to_ops(text)
        except SpecError as exc:
            log.info("t5 spec backend: %s", exc)
            return None
        if not found:
            return None
        return Candidate(
            self.name, ops(found), raw=text, meta={"model_id": self.model.model_id, "input": source}
        )
