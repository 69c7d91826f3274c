"""The ``rules`` spec backend: deterministic patterns for the common phrasings.

It reads the issue (``issue_text``), resolves the code it mentions against the
repository's symbols, recognises the intent (rename, keyword-only, move, …) and
proposes operations. It never guesses names that are not in the repo, except the
new names the issue itself spells out.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Sequence
from typing import Any

from planner.candidates import Candidate, SymbolIndex, ops
from planner.digest_query import is_test_path
from planner.issue_text import IssueText, Mention, parse_issue
from planner.spec import Operation

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DUNDER = re.compile(r"^__\w+__$")
_PARENS = re.compile(r"\([^()]*\)")
CALLABLE = ("function", "method", "class")
# A title that reports a bug: the change is an edit of the code it names.
_BUG = re.compile(
    r"\b(doesn'?t|does not|don'?t|isn'?t|is not|are not|aren'?t|can'?t|cannot|never|wrong|bug|"
    r"crash\w*|fails?|broken|incorrect|returns? (?:the )?wrong|raises?|blows? up)\b"
)
# Dunder names that are attributes, not methods to add.
_SPECIAL_ATTRS = {
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


def _is_new_name(text: str) -> bool:
    return bool(_IDENT.match(text))


class RulesNormalizer:
    """Propose a spec from regular phrasings; ``None`` when no rule applies."""

    name = "rules"

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
    def propose(self, text: str) -> Candidate | None:
        issue = parse_issue(text)
        lower = issue.lower
        bug = bool(_BUG.search(issue.title.lower()))
        handlers: list[tuple[bool, Callable[[IssueText], list[Operation]]]] = [
            (bug, self.edit),
            (
                bool(re.search(r"\brenam|\bcall it\b|\bspelled\b", lower))
                or "->" in text
                or "→" in text,
                self.rename,
            ),
            ("keyword-only" in lower or "keyword only" in lower, self.keyword_only),
            (bool(re.search(r"\bremove\b[^.]*\b(param|argument)", lower)), self.remove_parameter),
            (bool(re.search(r"\bmove\b[^.]*\b(in)?to\b", lower)), self.move),
            (
                bool(re.search(r"\b(introduce|extract|add)\b[^.]*\bconstants?\b", lower)),
                self.extract_constant,
            ),
            (
                bool(re.search(r"\b(extract|deduplicate|factor)\b[^.]*\bhelper\b", lower)),
                self.extract_helper,
            ),
            (
                bool(re.search(r"\bwrap\b[^.]*\bwith\b|\bdecorat|\bmemoi[sz]", lower)),
                self.add_decorator,
            ),
            (bool(re.search(r"f-strings?|pathlib|namedtuple", lower)), self.modernize),
            (any(_DUNDER.match(m.text) for m in issue.code_names()), self.add_method),
            ("docstring" in lower or "document" in lower, self.add_docstring),
            (bool(re.search(r"type hints?|annotat", lower)), self.add_annotations),
            (True, self.add_parameter),
        ]
        for applies, handler in handlers:
            if applies:
                found = handler(issue)
                if found:
                    return Candidate(self.name, ops(found), notes=(f"rule: {handler.__name__}",))
        found = self.edit(issue)
        if found:
            return Candidate(
                self.name, ops(found), notes=("rule: edit (no specific phrasing matched)",)
            )
        return None

    # -- rename -------------------------------------------------------------------
    def rename(self, issue: IssueText) -> list[Operation]:
        names = issue.code_names()
        pairs: list[tuple[str, str, int]] = []
        for match in re.finditer(
            r"`([\w.]+)(?:\(\))?`\s*(?:->|→|=>)\s*`([\w.]+)(?:\(\))?`", issue.raw
        ):
            pairs.append((match.group(1), match.group(2).rsplit(".", 1)[-1], match.start(2)))
        if not pairs:
            news: dict[str, Mention] = {}
            for m in names:
                if self.defs(m, ()) or not _is_new_name(m.text) or m.text in news:
                    continue
                before = issue.raw[max(0, m.position - 40) : m.position - 1]
                after_to = re.search(r"\b(to|into|as|call it|spelled)\s*$", before)
                after_and = news and re.search(
                    r"\band\s*$", issue.raw[max(0, m.position - 8) : m.position - 1]
                )
                if after_to or after_and:
                    news[m.text] = m
            olds = [m for m in issue.names() if self.defs(m, ()) or self._is_param(m.text)]
            for wanted in news.values():
                best = self._named_in_request(wanted, olds, issue) or self._best_old(
                    wanted.text, olds, issue
                )
                if best is not None:
                    pairs.append((best.text, wanted.text, wanted.position))
                    olds = [o for o in olds if o.text != best.text]
        out: list[Operation] = []
        plural = re.search(r"\b(both|all|every|each)\b", issue.lower)
        for old, new, where in pairs:
            param_of = self._param_owner(old, issue, where)
            if param_of is not None:
                out.append(
                    Operation(
                        "rename_parameter", param_of, {"old": old.rsplit(".", 1)[-1], "new": new}
                    )
                )
                continue
            defs = self.defs(old, ())
            chosen = defs if plural or len(defs) == 1 else self._prefer_mentioned(defs, issue)[:1]
            out += [Operation("rename", d.qualname, {"new_name": new}) for d in chosen]
            if not defs:
                out.append(Operation("rename", old, {"new_name": new}))
        return out

    def _is_param(self, name: str) -> bool:
        return any(
            name in d.params for d in self.symbols.definitions() if d.kind in ("function", "method")
        )

    def _param_owner(self, old: str, issue: IssueText, where: int) -> str | None:
        """The function whose parameter ``old`` is, when the rename request talks about a parameter."""
        sentence = issue.sentence_at(where).lower()
        if not re.search(r"\b(flag|keyword|argument|parameter|kwarg|option)s?\b", sentence):
            return None
        owners = [
            d
            for n in issue.names()
            for d in self.defs(n, ("function", "method"))
            if old in d.params
        ]
        return str(owners[0].qualname) if owners else None

    def _named_in_request(
        self, new: Mention, olds: list[Mention], issue: IssueText
    ) -> Mention | None:
        """``rename [the] `old` [flag] to `new```: the code named between the verb and the new name."""
        sentence = issue.sentence_at(new.position)
        start = issue.raw.find(sentence)
        verb = re.search(r"\brenam\w*", sentence, re.I)
        if start < 0 or not verb:
            return None
        between = [m for m in olds if m.in_code and start + verb.end() <= m.position < new.position]
        return between[-1] if between else None

    def _best_old(self, new: str, olds: list[Mention], issue: IssueText) -> Mention | None:
        def score(m: Mention) -> float:
            a, b = m.last.lower().strip("_"), new.lower().strip("_")
            s = difflib.SequenceMatcher(None, a, b).ratio()
            s += 1.0 if a == b else 0.0
            s += 0.3 if m.position < len(issue.title) else 0.0
            s += 0.2 if m.in_code else 0.0
            s -= 0.5 if _DUNDER.match(m.last) else 0.0
            return s

        ranked = sorted((m for m in olds if m.last != new), key=score, reverse=True)
        return ranked[0] if ranked else None

    def _prefer_mentioned(self, defs: list[Any], issue: IssueText) -> list[Any]:
        words = set(re.findall(r"\w+", issue.raw))
        return sorted(
            defs, key=lambda d: -sum(part in words for part in d.qualname.split(".")[:-1])
        )

    # -- signatures ---------------------------------------------------------------
    def keyword_only(self, issue: IssueText) -> list[Operation]:
        out: list[Operation] = []
        for after, fn in re.findall(
            r"after `(\w+)`\s*\((?:for|in|of) `([\w.]+)(?:\(\))?`\)", issue.raw
        ):
            for d in self._callables(fn):
                out.append(Operation("make_keyword_only", d.qualname, {"after": after}))
        if out:
            return out
        after_m = re.search(r"after `(\w+)`", issue.raw)
        if after_m:
            after = after_m.group(1)
            for m in issue.code_names():
                for d in self._callables(m.text):
                    if after in d.params:
                        out.append(Operation("make_keyword_only", d.qualname, {"after": after}))
            return out
        kw_sentences = [x for x in issue.sentences if re.search(r"keyword[- ]only", x, re.I)]
        params = [
            m.text
            for m in issue.code_names()
            if self._is_param(m.text) and any(f"`{m.text}`" in x for x in kw_sentences)
        ]
        for name in dict.fromkeys(params):
            scope = {d.module for m in issue.code_names() for d in self.defs(m, CALLABLE)}
            for d in self.symbols.definitions():
                if (
                    d.kind in ("function", "method")
                    and name in d.params
                    and (not scope or d.module in scope)
                ):
                    out.append(Operation("make_keyword_only", d.qualname, {"names": [name]}))
        return out

    def _callables(self, name: str) -> list[Any]:
        """Functions/methods for a name; a class stands for its ``__init__``."""
        out = []
        for d in self.defs(name, CALLABLE):
            if d.kind == "class":
                out += [i for i in self.defs(f"{d.qualname}.__init__", ("method",))]
            else:
                out.append(d)
        return out

    def remove_parameter(self, issue: IssueText) -> list[Operation]:
        names = [m.text for m in issue.globs()] + [
            m.text for m in issue.code_names() if self._is_param(m.text) and not self.defs(m, ())
        ]
        if not names:
            return []
        modules = [mod for p in issue.paths() if (mod := self.module_of_path(p.text))]
        out = []
        for name in dict.fromkeys(names):
            owners = [
                d
                for d in self.symbols.definitions()
                if d.kind in ("function", "method")
                and any(fnmatch.fnmatchcase(p, name) for p in d.params)
                and (not modules or d.module in modules)
            ]
            out += [Operation("remove_parameter", d.qualname, {"name": name}) for d in owners]
        return out

    def add_parameter(self, issue: IssueText) -> list[Operation]:
        out = []
        for m in issue.names():
            if not m.call_args:
                continue
            for d in self._callables(m.text):
                for arg in m.call_args:
                    name, eq, default = arg.partition("=")
                    name = name.strip().lstrip("*")
                    if eq and _is_new_name(name) and name not in d.params:
                        out.append(
                            Operation(
                                "add_parameter",
                                d.qualname,
                                {"name": name, "default": default.strip()},
                            )
                        )
        return out

    # -- structure ----------------------------------------------------------------
    def move(self, issue: IssueText) -> list[Operation]:
        for sentence in issue.sentences:
            hit = re.search(r"\bmove\b.*?\b(?:in)?to\b[^`]*`([\w./]+)`", sentence, re.I)
            if not hit:
                continue
            dest_text = hit.group(1)
            symbols = [
                d
                for m in issue.code_names()
                for d in self.defs(m, ("function", "class", "constant", "variable"))
                if d.parent is None or self.defs(d.parent, ("class",)) == []
            ]
            if not symbols:
                continue
            symbol = symbols[0]
            dest = self._module_named(dest_text, near=symbol.module)
            if dest:
                return [
                    Operation("move_symbol", symbol.qualname, {"to_module": dest, "reexport": True})
                ]
        return []

    def _module_named(self, text: str, near: str | None = None) -> str | None:
        """A module of this repository written as a file (``_utils.py``) or dotted name."""
        if text.endswith((".py", ".pyi")):
            return self.module_of_path(text, near=near)
        modules = {d.module for d in self.symbols.definitions()}
        if text in modules:
            return text
        hits = sorted(m for m in modules if m.endswith("." + text))
        return hits[0] if hits else None

    def extract_constant(self, issue: IssueText) -> list[Operation]:
        out = []
        consts = [
            m
            for m in issue.code_names()
            if re.fullmatch(r"_?[A-Z][A-Z0-9_]+", m.text) and not self.defs(m, ())
        ]
        literals = [lit for lit, _ in issue.literals]
        for i, m in enumerate(consts):
            tail = issue.raw[m.position : m.position + 60]
            path = re.search(r"\bin `([\w./]+\.py)`", tail)
            module = self.module_of_path(path.group(1)) if path else None
            if module is None:
                mods = [self.module_of_path(p.text) for p in issue.paths()]
                module = next((x for x in mods if x), None)
            if module:
                params: dict[str, Any] = {"name": m.text}
                if len(literals) == len(consts):
                    params["value"] = literals[i]
                out.append(Operation("extract_constant", module, params))
        return out

    def extract_helper(self, issue: IssueText) -> list[Operation]:
        funcs = self._resolved(issue, kinds=("function", "method"))
        modules = [mod for p in issue.paths() if (mod := self.module_of_path(p.text))]
        module = modules[0] if modules else (funcs[0].module if funcs else None)
        if module is None:
            return []
        names = [f.name for f in funcs if f.module == module]
        new = [
            m.text
            for m in issue.code_names()
            if not self.defs(m, ()) and _is_new_name(m.text) and m.text.startswith("_")
        ]
        params: dict[str, Any] = {"functions": names}
        if new:
            params["name"] = new[0]
        return [Operation("extract_helper", module, params)]

    def add_decorator(self, issue: IssueText) -> list[Operation]:
        for sentence in issue.sentences:
            hit = re.search(r"\bwrap\b(.*)\bwith\b\s*`([\w.]+)(?:\(.*?\))?`", sentence, re.S | re.I)
            if not hit:
                continue
            decorator = hit.group(2)
            start = issue.raw.find(sentence)
            targets = [
                d
                for m in issue.code_names()
                if start <= m.position < start + hit.start(2)
                for d in self.defs(m, ("function", "method"))
            ]
            if targets:
                return [
                    Operation("add_decorator", d.qualname, {"decorator": decorator})
                    for d in targets
                ]
        return []

    def add_method(self, issue: IssueText) -> list[Operation]:
        dunders = list(
            dict.fromkeys(
                m.text
                for m in issue.code_names()
                if _DUNDER.match(m.text) and m.text not in _SPECIAL_ATTRS and not self.defs(m, ())
            )
        )
        classes: list[Any] = []
        for sentence in issue.sentences:
            if re.search(r"\b(add|give|implement|define)\b", sentence, re.I):
                bare = _PARENS.sub("", sentence)
                for span in re.findall(r"`([\w.]+)`", bare):
                    classes += [d for d in self.defs(span, ("class",)) if d not in classes]
        if not classes:
            classes = self._resolved(issue, kinds=("class",))
        out = []
        for cls in classes:
            existing = {d.name for d in self.symbols.definitions() if d.parent == cls.qualname}
            out += [
                Operation("add_method", cls.qualname, {"name": n})
                for n in dunders
                if n not in existing
            ]
        return out

    def add_docstring(self, issue: IssueText) -> list[Operation]:
        targets: list[str] = []
        classes = self._resolved(issue, kinds=("class",))
        for g in issue.globs():
            for cls in classes or [None]:
                prefix = f"{cls.qualname}." if cls else ""
                targets += [
                    d.qualname
                    for d in self.symbols.definitions()
                    if (cls is None or d.parent == cls.qualname)
                    and fnmatch.fnmatchcase(d.name, g.text)
                    and d.qualname.startswith(prefix)
                ]
        if not targets:
            for d in self._resolved(issue):
                if not getattr(d, "docstring", None):
                    targets.append(d.qualname)
                elif d.kind in ("function", "method"):
                    targets += self._undocumented_callees(d)
                elif d.kind == "class":
                    targets += [
                        m.qualname
                        for m in self.symbols.definitions()
                        if m.parent == d.qualname
                        and not getattr(m, "docstring", None)
                        and m.kind == "method"
                    ]
        return [Operation("add_docstring", t, {}) for t in dict.fromkeys(targets)]

    def _undocumented_callees(self, d: Any) -> list[str]:
        graph = self._call_graph()
        if graph is None or d.qualname not in graph:
            return []
        out = []
        for callee in graph.successors(d.qualname):
            for c in self.symbols.find(callee):
                if (
                    not getattr(c, "docstring", None)
                    and c.path.split("/")[0] == d.path.split("/")[0]
                ):
                    out.append(c.qualname)
        return out

    def _call_graph(self) -> Any:
        if not hasattr(self, "_graph"):
            builder = getattr(self.symbols, "call_graph", None)
            self._graph = builder() if builder else None
        return self._graph

    def _module_targets(self, issue: IssueText) -> list[str]:
        mods = [mod for p in issue.paths() if (mod := self.module_of_path(p.text))]
        return list(dict.fromkeys(mods))

    def add_annotations(self, issue: IssueText) -> list[Operation]:
        targets = self._module_targets(issue) or [d.qualname for d in self._resolved(issue)]
        return [Operation("add_annotations", t, {}) for t in targets]

    def modernize(self, issue: IssueText) -> list[Operation]:
        lower = issue.lower
        idiom = (
            "fstring"
            if "f-string" in lower
            else "pathlib"
            if "pathlib" in lower
            else "typing_namedtuple"
        )
        if idiom == "fstring":
            targets = self._module_targets(issue) or [d.qualname for d in self._resolved(issue)]
        else:
            targets = [d.qualname for d in self._resolved(issue)][:1] or self._module_targets(issue)
        return [Operation("modernize", t, {"idiom": idiom}) for t in targets]

    def edit(self, issue: IssueText) -> list[Operation]:
        """The generic change on the code the issue is about: named in the title first."""
        in_title = [m for m in issue.names() if m.position < len(issue.title)]
        groups = [in_title, issue.code_names(), issue.names()]
        for group in groups:
            defs: dict[str, Any] = {}
            for m in group:
                for d in self.defs(m, CALLABLE):
                    defs.setdefault(d.qualname, d)
            funcs = [d for d in defs.values() if d.kind in ("function", "method")]
            chosen = funcs or list(defs.values())
            if chosen:
                return [
                    Operation("edit", d.qualname, {"instruction": issue.title}) for d in chosen[:4]
                ]
        return []
