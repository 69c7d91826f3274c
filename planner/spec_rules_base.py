"""Shared machinery of the ``rules`` spec backend: symbol resolution and regexes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from planner.candidates import SymbolIndex
from planner.digest_query import is_test_path
from planner.issue_text import IssueText, Mention

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DUNDER = re.compile(r"^__\w+__$")
PARENS = re.compile(r"\([^()]*\)")
CALLABLE = ("function", "method", "class")
# A title that reports a bug: the change is an edit of the code it names.
BUG = re.compile(
    r"\b(doesn'?t|does not|don'?t|isn'?t|is not|are not|aren'?t|can'?t|cannot|never|wrong|bug|"
    r"crash\w*|fails?|broken|incorrect|returns? (?:the )?wrong|raises?|blows? up)\b"
)
# A title asking for a specific change (it wins over bug-report words such as "not").
INTENT = re.compile(
    r"\b(renam\w*|move|extract\w*|keyword[- ]only|remove|convert|moderni[sz]e|annotat\w*|"
    r"type hints?|docstrings?|f-strings?|pathlib|deduplicate|constant|drop|delete|relocate|"
    r"memoi[sz]\w*|decorat\w*|replace|instead of|imported)\b"
)
# Within one sentence: a dot inside a dotted name (``pkg.mod.f``) does not end it.
GAP = r"(?:[^.]|\.(?=\w))*"
# Idiom upgrades the ``modernize`` op knows.
MODERNIZE = re.compile(
    r"f-strings?|pathlib|namedtuple|built-?in generics?|pep 585|"
    r"typing\.(?:list|dict|set|frozenset|tuple|type)\b"
)
# Dunder names that are attributes, not methods to add.
SPECIAL_ATTRS = {
    "__dict__",
    "__doc__",
    "__slots__",
    "__name__",
    "__qualname__",
    "__module__",
    "__all__",
    "__annotations__",
    "__wrapped__",
    "__class__",
    "__file__",
}


def is_new_name(text: str) -> bool:
    return bool(IDENT.match(text))


class RuleBase:
    """Resolves what an issue mentions against the repository's symbols."""

    def __init__(self, symbols: SymbolIndex) -> None:
        self.symbols = symbols
        self._paths = sorted({d.path for d in symbols.definitions()})

    # -- resolution helpers -------------------------------------------------------
    def defs(self, mention: Mention | str, kinds: Sequence[str] = ()) -> list[Any]:
        text = mention.text if isinstance(mention, Mention) else mention
        found = [d for d in self.symbols.find(text) if not kinds or d.kind in kinds]
        library = [d for d in found if not is_test_path(d.path)]
        return library or found

    def module_of_path(self, path: str, near: str | None = None) -> str | None:
        path = path.strip("./")
        hits = [p for p in self._paths if p == path or p.endswith("/" + path)]
        if not hits:
            return None
        if near:  # prefer the file in the same package as a related module
            pkg = near.rsplit(".", 1)[0].replace(".", "/")
            hits.sort(key=lambda p: (pkg not in p, len(p)))
        for d in self.symbols.definitions():
            if d.path == hits[0]:
                return str(d.module)
        return None

    def _resolved(
        self, issue: IssueText, *, kinds: Sequence[str] = CALLABLE, code_only: bool = True
    ) -> list[Any]:
        out: dict[str, Any] = {}
        for m in issue.code_names() if code_only else issue.names():
            for d in self.defs(m, kinds):
                out.setdefault(d.qualname, d)
        return list(out.values())

    # -- entry point --------------------------------------------------------------
