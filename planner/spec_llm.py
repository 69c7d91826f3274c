"""The ``llm`` spec backend: the GGUF model with JSON-schema constrained decoding.

The model sees the operation vocabulary (each op described — small models pick
wrong enum values otherwise) and a "bag of symbols" from the digest, and fills a
flat schema whose field names say what they hold (``old_names``/``new_name``
work far better than ``target`` at 0.5B). The answer is mapped to operations;
fusion then checks them against the digest.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cores.protocols import LLM
from cores.types import GenerationParams, Message
from planner.candidates import Candidate, SymbolIndex, ops
from planner.issue_text import parse_issue
from planner.spec import IDIOMS, OPS, Operation

log = logging.getLogger(__name__)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": list(OPS)},
        "old_names": {
            "type": "array",
            "items": {"type": "string", "maxLength": 80},
            "minItems": 1,
            "maxItems": 6,
        },
        "param": {"type": "string", "maxLength": 40},
        "new_name": {"type": "string", "maxLength": 60},
        "detail": {"type": "string", "maxLength": 60},
    },
    "required": ["op", "old_names", "param", "new_name", "detail"],
    "additionalProperties": False,
}

SYSTEM = (
    "You turn a code-change request for a Python repository into one JSON object.\n"
    "Fields:\n"
    "- op: the kind of change, one of:\n"
    + "".join(f"  - {name}: {info.description}\n" for name, info in OPS.items())
    + "- old_names: the existing functions, methods, classes, constants or modules the change is "
    "about, spelled exactly as in the symbol list.\n"
    "- param: the parameter concerned (rename_parameter: its current name; make_keyword_only: "
    'the last positional one; add/remove_parameter: its name), else "".\n'
    "- new_name: the new name (rename, rename_parameter, add_method, add_function, "
    'extract_constant, extract_helper), else "".\n'
    "- detail: the decorator, default value, destination module, constant value or idiom "
    f'({", ".join(IDIOMS)}), else "".\n'
)


def bag_of_symbols(issue: str, symbols: SymbolIndex, limit: int = 40) -> list[str]:
    """Names that exist in the repo and that the issue plausibly refers to, with kind and file."""
    parsed = parse_issue(issue)
    seen: dict[str, str] = {}
    for m in parsed.names() + parsed.globs():
        for d in list(symbols.find(m.text))[:4]:
            seen.setdefault(d.qualname, f"{d.qualname} ({d.kind}, {d.path})")
            if d.kind == "class":
                for member in symbols.definitions():
                    if member.parent == d.qualname and len(seen) < limit:
                        seen.setdefault(
                            member.qualname, f"{member.qualname} ({member.kind}, {member.path})"
                        )
        if not symbols.find(m.text):
            for close in symbols.fuzzy(m.text, n=2):
                for d in list(symbols.find(close))[:1]:
                    seen.setdefault(d.qualname, f"{d.qualname} ({d.kind}, {d.path})")
    for p in parsed.paths():
        seen.setdefault(p.text, f"{p.text} (file)")
    return list(seen.values())[:limit]


def to_operations(value: dict[str, Any], issue_title: str) -> list[Operation]:
    """Map the flat JSON answer to spec operations."""
    op = value.get("op")
    names = [
        n.strip().strip("`").rstrip("()") for n in value.get("old_names", []) if n and n.strip()
    ]
    param, new, detail = (str(value.get(k, "")).strip() for k in ("param", "new_name", "detail"))
    if op not in OPS or not names:
        return []
    one = names[0]
    table: dict[str, list[Operation]] = {
        "rename": [Operation("rename", n, {"new_name": new}) for n in names],
        "rename_parameter": [Operation("rename_parameter", one, {"old": param, "new": new})],
        "add_parameter": [
            Operation("add_parameter", n, {"name": param or new, "default": detail or "None"})
            for n in names
        ],
        "remove_parameter": [Operation("remove_parameter", n, {"name": param}) for n in names],
        "make_keyword_only": [Operation("make_keyword_only", n, {"after": param}) for n in names],
        "replace_calls": [Operation("replace_calls", one, {"new": new or detail})],
        "change_import": [Operation("change_import", one, {"new_module": detail or new})],
        "add_decorator": [
            Operation("add_decorator", n, {"decorator": detail or new}) for n in names
        ],
        "remove_decorator": [
            Operation("remove_decorator", n, {"decorator": detail or new}) for n in names
        ],
        "add_annotations": [Operation("add_annotations", n, {}) for n in names],
        "add_docstring": [Operation("add_docstring", n, {}) for n in names],
        "move_symbol": [
            Operation("move_symbol", one, {"to_module": detail or new, "reexport": True})
        ],
        "extract_constant": [
            Operation(
                "extract_constant", one, {"name": new, **({"value": detail} if detail else {})}
            )
        ],
        "extract_helper": [
            Operation("extract_helper", one, {"functions": names, **({"name": new} if new else {})})
        ],
        "add_function": [Operation("add_function", one, {"name": new})],
        "add_method": [Operation("add_method", n, {"name": new}) for n in names],
        "modernize": [Operation("modernize", n, {"idiom": _idiom(detail)}) for n in names],
        "edit": [Operation("edit", n, {"instruction": issue_title}) for n in names[:4]],
    }
    return table[op]


def _idiom(text: str) -> str:
    low = text.lower().replace("-", "").replace("_", "")
    for idiom in IDIOMS:
        if idiom.replace("_", "") in low:
            return idiom
    return "fstring" if "format" in low or "string" in low else "pathlib" if "path" in low else text


class LLMNormalizer:
    """Propose a spec with the LLM; ``None`` when its answer maps to nothing."""

    name = "llm"

    def __init__(self, llm: LLM, symbols: SymbolIndex, *, max_tokens: int = 160) -> None:
        self.llm = llm
        self.symbols = symbols
        self.max_tokens = max_tokens

    def messages(self, issue: str) -> list[Message]:
        bag = bag_of_symbols(issue, self.symbols)
        listing = "\n".join(f"- {line}" for line in bag) or "- (none matched)"
        return [
            Message("system", SYSTEM),
            Message(
                "user", f"Request:\n{issue.strip()[:3000]}\n\nSymbols in the repository:\n{listing}"
            ),
        ]

    def propose(self, issue: str, *, samples: int = 1) -> Candidate | None:
        messages = self.messages(issue)
        params = GenerationParams(max_tokens=self.max_tokens, json_schema=SCHEMA, n=samples)
        out = self.llm.chat(messages, params)
        title = parse_issue(issue).title
        found: list[Operation] = []
        for text in out.texts:
            try:
                found += to_operations(json.loads(text), title)
            except (ValueError, AttributeError) as exc:
                log.warning("llm spec backend: unusable answer (%s): %.200s", exc, text)
        meta = {
            "model_id": out.model_id,
            "latency_s": out.latency_s,
            "messages": [m.to_dict() for m in messages],
            "params": params.to_dict(),
            "prompt_tokens": out.prompt_tokens,
            "completion_tokens": out.completion_tokens,
        }
        if not found:
            return None
        return Candidate(self.name, ops(found), raw="\n".join(out.texts), meta=meta)
