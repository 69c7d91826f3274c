"""Rules for the parameter requests: ``remove_parameter`` (named, globbed, module-wide) and
``add_parameter`` (written in a call, ``f(key=None)``, or in prose, "accept an optional
`key` argument"), with the parameter lookups the other rules share."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from planner.issue_text import IssueText, Mention
from planner.spec import Operation
from planner.spec_rules_base import CALLABLE, RuleBase, is_new_name

PLURAL = re.compile(r"\b(every|all|each|both)\b(?!\s+callers?)(?!\s+call sites?)")
# "accept an optional `key` argument", "add a new `step` keyword parameter", "take `key=`"
PARAM_PROSE = re.compile(
    r"\b(?:accept|take|add|support|grow|gain|get|have)(?:s|ed)?\b(?:\s+(?:an?|the|new|optional|extra|"
    r"keyword|keyword-only))*\s+`(?P<name>\w+)=?`\s*(?:\(\w+\)\s*)?(?:as\s+an?\s+)?"
    r"(?:(?:optional|new|keyword|keyword-only)\s+)*(?:argument|parameter|param|kwarg|option|flag)s?\b",
    re.I,
)
DEFAULT = re.compile(
    r"\b(?:default(?:ing|s)?|with a default)\s*(?:value\s*)?(?:of|to|is|=|:)?\s*"
    r"`?(?P<value>[^`\s,;)]+(?:\([^`)]*\))?)`?",
    re.I,
)


class ParameterRules(RuleBase):
    """Handlers for the parameter ops; each returns [] when its phrasing does not fit."""

    def _is_param(self, name: str) -> bool:
        return any(
            name in d.params for d in self.symbols.definitions() if d.kind in ("function", "method")
        )

    @staticmethod
    def _called_parameter(m: Mention, issue: IssueText) -> bool:
        """The issue calls this name a parameter: "the `x` argument", "parameter `x`"."""
        after = issue.raw[m.position : m.position + len(m.text) + 24]
        before = issue.raw[max(0, m.position - 14) : m.position]
        return bool(
            re.match(rf"{re.escape(m.text)}`?\s+(?:param\w*|argument|kwarg|flag|option)", after)
            or re.search(r"(?:param\w*|argument|kwarg)\s+`?$", before)
        )

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
        globs = [m.text for m in issue.globs()]
        explicit = [
            m.text
            for m in issue.code_names()
            if self._is_param(m.text)
            and (not self.defs(m, ()) or self._called_parameter(m, issue))
            and not any(fnmatch.fnmatchcase(m.text, g) for g in globs)
        ]
        names = list(dict.fromkeys(globs + explicit))
        if not names:
            return []
        named = [d for m in issue.code_names() for d in self._callables(m.text)]
        modules = list(
            dict.fromkeys(mod for p in issue.paths() if (mod := self.module_of_path(p.text)))
        )
        out = []
        for name in names:
            owners = [
                d
                for d in self.symbols.definitions()
                if d.kind in ("function", "method")
                and any(fnmatch.fnmatchcase(p, name) for p in d.params)
                and (not modules or d.module in modules)
            ]
            mine = [d for d in named if name in d.params]
            if named and not modules and not PLURAL.search(issue.lower):
                # "the `x` parameter of `f`": that one (none, if `f` has no such parameter)
                owners = list(dict.fromkeys(mine))
            if modules:  # one module-wide operation: one codemod run, not one per function
                hit = {d.module for d in owners}
                out += [
                    Operation("remove_parameter", m, {"name": name}) for m in modules if m in hit
                ]
            else:
                out += [Operation("remove_parameter", d.qualname, {"name": name}) for d in owners]
        return out

    def add_parameter(self, issue: IssueText) -> list[Operation]:
        return self._parameter_in_call(issue) or self._parameter_in_prose(issue)

    def _parameter_in_prose(self, issue: IssueText) -> list[Operation]:
        """``f`` should accept an optional `key` argument (defaulting to `None`) / add a `key`
        parameter to ``f``: the function named in that sentence gets the new parameter."""
        out: list[Operation] = []
        for sentence in issue.sentences:
            hit = PARAM_PROSE.search(sentence)
            if not hit:
                continue
            name = hit.group("name")
            default = DEFAULT.search(sentence[hit.end() :])
            value = default.group("value").strip().rstrip(".") if default else "None"
            start = issue.raw.find(sentence)
            for m in issue.code_names():
                if not start <= m.position < start + len(sentence) or m.text == name:
                    continue
                for d in self._callables(m.text):
                    if is_new_name(name) and name not in d.params:
                        out.append(
                            Operation("add_parameter", d.qualname, {"name": name, "default": value})
                        )
            if out:
                return out
        return out

    def _parameter_in_call(self, issue: IssueText) -> list[Operation]:
        """`f(x, key=None)` written for ``f`` that lacks ``key``; a call on a ``>>>`` line is
        an example of using it (its value is no default)."""
        out = []
        for m in issue.names():
            if not m.call_args:
                continue
            line_start = issue.raw.rfind("\n", 0, m.position) + 1
            if issue.raw[line_start:].lstrip().startswith((">>>", "...")):
                continue
            for d in self._callables(m.text):
                for arg in m.call_args:
                    name, eq, default = arg.partition("=")
                    name = name.strip().lstrip("*")
                    if eq and is_new_name(name) and name not in d.params:
                        out.append(
                            Operation(
                                "add_parameter",
                                d.qualname,
                                {"name": name, "default": default.strip()},
                            )
                        )
        return out
