"""The ``rules`` spec backend: deterministic patterns for the common phrasings.

It reads the issue (``issue_text``), resolves the code it mentions against the
repository's symbols, recognises the intent (rename, keyword-only, move, …) and
proposes operations. It never guesses names that are not in the repo, except the
new names the issue itself spells out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from planner.candidates import Candidate, ops
from planner.issue_text import IssueText, Mention, parse_issue
from planner.spec import Operation
from planner.spec_rules_base import BUG, CALLABLE, DUNDER, GAP, INTENT, MODERNIZE, is_new_name
from planner.spec_rules_params import ParameterRules
from planner.spec_rules_structure import StructureRules

# "add a new function `pkg.mod.name(args)`", "a new helper `name` in `pkg/mod.py`"
NEW_FUNCTION = re.compile(
    r"\b(?:add|write|create|introduce|provide)\s+(?:an?\s+)?(?:new\s+)?(?:public\s+|private\s+)?"
    r"(?:function|helper)\s+`(?P<name>[\w.]+)(?:\(.*?\))?`",
    re.I,
)


class RulesNormalizer(ParameterRules, StructureRules):
    """Propose a spec from regular phrasings; ``None`` when no rule applies."""

    name = "rules"

    def propose(self, text: str) -> Candidate | None:
        issue = parse_issue(text)
        lower = issue.lower
        # A title that names a specific change ("rename X ... is not needed") is that
        # change, not a bug report, even when it contains a bug-report word.
        bug = bool(BUG.search(issue.title.lower())) and not INTENT.search(issue.title.lower())
        handlers: list[tuple[bool, Callable[[IssueText], list[Operation]]]] = [
            (bug, self.edit),
            (
                bool(
                    re.search(
                        r"\brenam|\b(call|name) it\b|\bspelled\b|\b(be|is) (called|named)\b", lower
                    )
                )
                or "->" in text
                or "→" in text,
                self.rename,
            ),
            (
                bool(re.search(rf"\b(replace|swap)\b{GAP}\b(calls?|uses?|usages?)\b", lower))
                or bool(re.search(r"\buse\s+`[\w.]+(?:\(\))?`\s+instead of\b", lower)),
                self.replace_calls,
            ),
            (
                bool(re.search(rf"\b(remove|drop|delete|strip)\b{GAP}(\bdecorator|`@)", lower)),
                self.remove_decorator,
            ),
            ("keyword-only" in lower or "keyword only" in lower, self.keyword_only),
            (
                bool(re.search(rf"\b(remove|drop|delete)\b{GAP}\b(param|argument)", lower))
                or bool(re.search(rf"\b(param\w*|argument)\b{GAP}\b(remove|drop|delete)", lower)),
                self.remove_parameter,
            ),
            (bool(re.search(rf"\b(move|relocate)\b{GAP}\b(in)?to\b", lower)), self.move),
            (bool(re.search(rf"\bimport(ed)?\b{GAP}\bfrom\b", lower)), self.change_import),
            (
                bool(
                    re.search(
                        rf"\b(introduce|extract|add|become|make|turn|into|as|be)\b{GAP}\bconstants?\b",
                        lower,
                    )
                ),
                self.extract_constant,
            ),
            (
                bool(
                    re.search(
                        rf"\b(extract|deduplicate|factor|pull|share|move)\b{GAP}\bhelper\b", lower
                    )
                ),
                self.extract_helper,
            ),
            (
                bool(
                    re.search(
                        rf"\bwrap\b{GAP}\bwith\b|\bdecorat|\bmemoi[sz]|\bapply\s+`@?[\w.]+`\s+to\b",
                        lower,
                    )
                ),
                self.add_decorator,
            ),
            (bool(MODERNIZE.search(lower)), self.modernize),
            (any(DUNDER.match(m.text) for m in issue.code_names()), self.add_method),
            (bool(NEW_FUNCTION.search(issue.raw)), self.add_function),
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
                if self.defs(m, ()) or not is_new_name(m.text) or m.text in news:
                    continue
                before = issue.raw[max(0, m.position - 40) : m.position - 1]
                after_to = re.search(
                    r"\b(to|into|as|call it|name it|spelled|called|named)\s*$", before
                )
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

    def _param_owner(self, old: str, issue: IssueText, where: int) -> str | None:
        """The function whose parameter ``old`` is, when the rename request talks about a parameter."""
        sentence = issue.sentence_at(where).lower()
        if not re.search(r"\b(flag|keyword|argument|parameter|kwarg|option)s?\b", sentence):
            return None
        owners = [d for n in issue.names() for d in self._callables(n.text) if old in d.params]
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
        params = [m for m in between if self._called_parameter(m, issue) and self._is_param(m.text)]
        return params[0] if params else between[-1] if between else None

    def _best_old(self, new: str, olds: list[Mention], issue: IssueText) -> Mention | None:
        def score(m: Mention) -> float:
            a, b = m.last.lower().strip("_"), new.lower().strip("_")
            s = difflib.SequenceMatcher(None, a, b).ratio()
            s += 1.0 if a == b else 0.0
            s += 0.3 if m.position < len(issue.title) else 0.0
            s += 0.2 if m.in_code else 0.0
            s -= 0.5 if DUNDER.match(m.last) else 0.0
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
            # the functions named in the same sentence as the parameter, when they have it
            named = [
                d
                for x in kw_sentences
                if f"`{name}`" in x and not re.search(r"\b(every|all|each)\b", x, re.I)
                for m in issue.code_names()
                if f"`{m.text}`" in x or f"`{m.text}()`" in x
                for d in self._callables(m.text)
                if name in d.params
            ]
            if named:
                out += [
                    Operation("make_keyword_only", d.qualname, {"names": [name]})
                    for d in dict.fromkeys(named)
                ]
                continue
            scope = {d.module for m in issue.code_names() for d in self.defs(m, CALLABLE)}
            for d in self.symbols.definitions():
                if (
                    d.kind in ("function", "method")
                    and name in d.params
                    and (not scope or d.module in scope)
                ):
                    out.append(Operation("make_keyword_only", d.qualname, {"names": [name]}))
        return out

    # -- structure ----------------------------------------------------------------
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

    def add_function(self, issue: IssueText) -> list[Operation]:
        """Add a new function `pkg.mod.name` (or `name` in `pkg/mod.py`)."""
        hit = NEW_FUNCTION.search(issue.raw)
        if not hit:
            return []
        module, _, name = hit.group("name").rpartition(".")
        if self.defs(hit.group("name"), ()) or not is_new_name(name):
            return []
        target = self._module_named(module) if module else None
        if target is None:
            mods = [self.module_of_path(p.text) for p in issue.paths()]
            target = next((x for x in mods if x), None)
        return [Operation("add_function", target, {"name": name})] if target else []
