"""Rules for structural requests: move, extract, decorate, add methods, docs, annotations, idioms."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from planner.issue_text import IssueText
from planner.spec import Operation
from planner.spec_rules_base import (
    DUNDER,
    PARENS,
    SPECIAL_ATTRS,
    RuleBase,
    is_new_name,
)


class StructureRules(RuleBase):
    """Handlers for the structural ops; each returns [] when its phrasing does not fit."""

    def move(self, issue: IssueText) -> list[Operation]:
        for sentence in issue.sentences:
            hit = re.search(
                r"\b(?:move|relocate)\b.*?\b(?:in)?to\b[^`]*`([\w./]+)`", sentence, re.I
            )
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
        if text in modules or self.symbols.module_path(text):  # also a package's __init__
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
        if not literals and len(consts) == 1:
            # a number named in the request ("the literal 128 ... should become `MAX`")
            sentence = issue.sentence_at(consts[0].position)
            numbers = re.findall(r"(?<![\w.`])-?\d+(?:\.\d+)?(?![\w.])", PARENS.sub("", sentence))
            literals = numbers[:1]
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
            if not self.defs(m, ()) and is_new_name(m.text) and m.text.startswith("_")
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
        return self._decorate_in_prose(issue)

    def _functions_in(self, sentence: str, issue: IssueText, besides: str = "") -> list[Any]:
        """The functions and methods the code names in one sentence of the issue resolve to."""
        start = issue.raw.find(sentence)
        return [
            d
            for m in issue.code_names()
            if start <= m.position < start + len(sentence) and m.text != besides
            for d in self.defs(m, ("function", "method"))
        ]

    def _decorate_in_prose(self, issue: IssueText) -> list[Operation]:
        """`f` should be memoized/decorated/cached with `D`; apply `@D` to `f`."""
        for sentence in issue.sentences:
            hit = re.search(
                r"\b(?:decorat|memoi[sz]|cach|wrapp?)\w*\b[^`]*?\b(?:with|by|using)\s+`@?([\w.]+)"
                r"(?:\(.*?\))?`|\bapply\s+`@?([\w.]+)(?:\(.*?\))?`\s+to\b",
                sentence,
                re.I,
            )
            if not hit:
                continue
            decorator = hit.group(1) or hit.group(2)
            targets = self._functions_in(sentence, issue, besides=decorator)
            if targets:
                return [
                    Operation("add_decorator", d.qualname, {"decorator": decorator})
                    for d in dict.fromkeys(targets)
                ]
        return []

    def add_method(self, issue: IssueText) -> list[Operation]:
        dunders = list(
            dict.fromkeys(
                m.text
                for m in issue.code_names()
                # a dunder other classes define is still new for this one (checked below)
                if DUNDER.match(m.text) and m.text not in SPECIAL_ATTRS
            )
        )
        classes: list[Any] = []
        for sentence in issue.sentences:
            if re.search(r"\b(add|give|implement|define)\b", sentence, re.I):
                bare = PARENS.sub("", sentence)
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
            # Named functions without a docstring are the request; only when none is
            # named, a documented function or class stands for its undocumented helpers.
            resolved = self._resolved(issue)
            targets = [d.qualname for d in resolved if not getattr(d, "docstring", None)]
            for d in resolved if not targets else []:
                if d.kind in ("function", "method"):
                    targets += self._undocumented_callees(d)
                elif d.kind == "class":
                    targets += [
                        m.qualname
                        for m in self.symbols.definitions()
                        if m.parent == d.qualname
                        and not getattr(m, "docstring", None)
                        and m.kind == "method"
                    ]
        if not targets and "docstring" in issue.lower:
            # every named function is documented: the request is for a better docstring
            targets = [d.qualname for d in self._resolved(issue, kinds=("function", "method"))]
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
            if "namedtuple" in lower
            else "builtin_generics"
        )
        if idiom in ("fstring", "builtin_generics"):
            targets = self._module_targets(issue) or [d.qualname for d in self._resolved(issue)]
        else:
            targets = [d.qualname for d in self._resolved(issue)][:1] or self._module_targets(issue)
        return [Operation("modernize", t, {"idiom": idiom}) for t in targets]

    # -- calls, imports, decorators -------------------------------------------------
    def _callable_name(self, text: str) -> str | None:
        """A repo callable's qualname, or a dotted outside name (``time.time``) as written."""
        found = self.defs(text, ("function", "method", "class"))
        if found:
            return str(found[0].qualname)
        return text if "." in text else None

    def replace_calls(self, issue: IssueText) -> list[Operation]:
        """Replace calls to `A` with `B` / use `B` instead of `A`."""
        for sentence in issue.sentences:
            hit = re.search(
                r"\b(?:replace|swap)\b[^`]*?`([\w.]+)(?:\(\))?`[^`]*?\b(?:with|by)\b[^`]*?"
                r"`([\w.]+)(?:\(\))?`",
                sentence,
                re.I,
            )
            old, new = (hit.group(1), hit.group(2)) if hit else (None, None)
            if not hit:
                use = re.search(
                    r"\buse\s+`([\w.]+)(?:\(\))?`\s+instead of\s+`([\w.]+)(?:\(\))?`",
                    sentence,
                    re.I,
                )
                if not use:
                    continue
                old, new = use.group(2), use.group(1)
            assert old is not None and new is not None
            target, replacement = self._callable_name(old), self._callable_name(new)
            if target and replacement and target != replacement:
                return [Operation("replace_calls", target, {"new": replacement})]
        return []

    def change_import(self, issue: IssueText) -> list[Operation]:
        """Import `X` from `m2` instead of `m1` / `X` should be imported from `m2`."""
        for sentence in issue.sentences:
            hit = re.search(
                r"`([\w.]+)`[^`]*?\bimport(?:ed)?\s+from\s+`([\w.]+)`|"
                r"\bimport\s+`([\w.]+)`\s+from\s+`([\w.]+)`",
                sentence,
                re.I,
            )
            if not hit:
                continue
            name = hit.group(1) or hit.group(3)
            new = hit.group(2) or hit.group(4)
            new_module = self._module_named(new)
            if new_module is None:
                continue
            old = re.search(r"\b(?:instead of|rather than|not)\s+(?:from\s+)?`([\w.]+)`", sentence)
            if old:
                old_module = self._module_named(old.group(1))
                if old_module:
                    return [
                        Operation(
                            "change_import",
                            f"{old_module}.{name.rsplit('.', 1)[-1]}",
                            {"new_module": new_module},
                        )
                    ]
            defs = [d for d in self.defs(name, ()) if d.module != new_module]
            if defs:
                return [Operation("change_import", defs[0].qualname, {"new_module": new_module})]
        return []

    def remove_decorator(self, issue: IssueText) -> list[Operation]:
        """Remove the `@D` decorator from `f` (or from every function of a module)."""
        for sentence in issue.sentences:
            hit = re.search(
                r"\b(?:remove|drop|delete|strip)\b[^`]*?`@?([\w.]+)(?:\(.*?\))?`", sentence, re.I
            )
            if not hit or not re.search(r"decorat|`@", sentence, re.I):
                continue
            decorator = hit.group(1)
            named = self._functions_in(sentence, issue, besides=decorator)
            targets = [d.qualname for d in named] or self._module_targets(issue)
            if targets:
                return [
                    Operation("remove_decorator", t, {"decorator": decorator})
                    for t in dict.fromkeys(targets)
                ]
        return []
