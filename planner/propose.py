"""Candidate operations for a grounded issue, each checked against the code.

For every grounded symbol, the operations valid for its kind are enumerated with
parameters taken from the issue's own words (a new name the issue spells, a
parameter the symbol really has and the issue mentions, a module the issue names,
an idiom that really occurs in the symbol's source). A candidate whose parameters
cannot be found is not proposed: the plan never invents a name. Which candidates
the issue actually asks for is decided by the judge (``planner.judge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.ground import CALLABLE_KINDS, Grounded, Grounding, is_special_method
from planner.propose_params import default_of, keyword_only_choices, mentioned, nearest
from planner.spec import Operation

# What each operation does, in words a reader (and a small model) understands.
KIND_QUESTIONS: dict[str, str] = {
    "rename": "give an existing function, method, class, constant or module a new name",
    "rename_parameter": "give an existing parameter (argument) of a function or method a new name",
    "add_parameter": "add a new parameter (argument) to an existing function or method",
    "remove_parameter": "remove an existing parameter (argument) from a function or method",
    "make_keyword_only": "make parameters of a function or method keyword-only",
    "replace_calls": "replace the calls of one function with calls of another function",
    "change_import": "change the module that a name is imported from",
    "add_decorator": "put a decorator on a function or method",
    "remove_decorator": "take a decorator off a function or method",
    "add_annotations": "add type hints (annotations) to functions or methods",
    "add_docstring": "write or rewrite docstrings",
    "move_symbol": "move a function, class or constant to a different module",
    "extract_constant": "replace a literal value written in the code with a named constant",
    "extract_helper": "pull duplicated code of several functions into one shared helper function",
    "add_function": "add a new module-level function that does not exist yet",
    "add_method": "add a new method that does not exist yet to an existing class",
    "modernize": "rewrite old idioms in a newer style (f-strings, builtin generics, pathlib)",
    "edit": "fix a bug or change what existing code does when it runs",
}
IDIOM_WORDS = {
    "fstring": "f-strings instead of %-formatting or str.format",
    "builtin_generics": "builtin generics (list[int]) instead of typing.List",
    "pathlib": "pathlib instead of os.path",
    "typing_namedtuple": "a typing.NamedTuple class instead of collections.namedtuple",
}
_IDIOM_CODE = {
    "fstring": re.compile(
        r"""["'][^"'\n]*%[-#0 +]*\d*(?:\.\d+)?[sdrifxXeEgGc%][^"'\n]*["']\s*%|\.format\("""
    ),
    "builtin_generics": re.compile(r"\b(?:List|Dict|Set|Tuple|FrozenSet|Type)\["),
    "pathlib": re.compile(r"\bos\.path\.|\bfrom os import path\b"),
    "typing_namedtuple": re.compile(r"\bnamedtuple\("),
}
_DECORATOR = re.compile(r"@([A-Za-z_][\w.]*)")
_KNOWN_DECORATORS = ("staticmethod", "classmethod", "property", "cached_property")
_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Proposal:
    """One candidate operation, with the words the judge reads."""

    operation: Operation
    plain: str  # "rename the function `a.b` to `c`"
    symbol: str  # the grounded symbol it came from

    @property
    def key(self) -> tuple[str, str]:
        return (self.operation.op, self.operation.target)

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation.to_dict(), "plain": self.plain, "symbol": self.symbol}


def _source(repo: Path | None, g: Grounded, symbols: Any) -> str:
    if repo is None:
        return ""
    try:
        lines = (repo / g.path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    if g.kind == "module":
        return "\n".join(lines)
    d = next(iter(symbols.find(g.qualname)), None)
    return "\n".join(lines[d.line - 1 : d.end_line]) if d is not None else ""


def _kind_word(g: Grounded) -> str:
    return {"constant": "constant", "variable": "variable"}.get(g.kind, g.kind)


class Proposer:
    """Enumerates ``Proposal``s for one grounding."""

    def __init__(self, grounding: Grounding, symbols: Any, repo: Path | None = None) -> None:
        self.g = grounding
        self.symbols = symbols
        self.repo = repo
        self.text = grounding.issue.raw
        self.modules = {d.module for d in symbols.definitions()}

    def all(self) -> list[Proposal]:
        out: list[Proposal] = []
        named = any(g.strength >= 1 for g in self.g.symbols)
        for g in self.g.symbols:
            if named and g.strength < 1:
                continue  # prose hits only when the issue names no code at all
            if g.in_tests and any(not s.in_tests for s in self.g.symbols if s.strength >= 2):
                continue  # test code is context when library code is named
            if g.kind in CALLABLE_KINDS:
                out += self._callable(g)
            elif g.kind == "class":
                out += self._class(g)
            elif g.kind in ("constant", "variable"):
                out += self._constant(g)
            elif g.kind == "module":
                out += self._module(g)
        seen: set[str] = set()
        unique = []
        for p in out:
            key = repr(p.operation.to_dict())
            if key not in seen:
                seen.add(key)
                unique.append(p)
        return unique

    # -- per kind ---------------------------------------------------------------------
    def _renames(self, g: Grounded) -> list[Proposal]:
        own = {p.lstrip("*") for p in g.params}
        new = [
            (n, p)
            for n, p in self.g.new_names
            if n != g.qualname.rsplit(".", 1)[-1] and n not in own
        ]
        return [
            Proposal(
                Operation("rename", g.qualname, {"new_name": n}),
                f"rename the {_kind_word(g)} `{g.qualname}` to `{n}`",
                g.qualname,
            )
            for n in nearest(new, g.position)
        ]

    def _moves(self, g: Grounded) -> list[Proposal]:
        here = g.qualname.rsplit(".", 1)[0]
        out = []
        for module in self._destinations(here):
            out.append(
                Proposal(
                    Operation("move_symbol", g.qualname, {"to_module": module, "reexport": True}),
                    f"move `{g.qualname}` into the module `{module}`",
                    g.qualname,
                )
            )
            out.append(
                Proposal(
                    Operation("change_import", g.qualname, {"new_module": module}),
                    f"import `{g.qualname.rsplit('.', 1)[-1]}` from `{module}` instead of `{here}`",
                    g.qualname,
                )
            )
        return out

    def _destinations(self, here: str) -> list[str]:
        out = [m for m in self.g.modules if m != here and not here.startswith(m + ".")]
        out += [m for m in self.g.modules if m != here and m not in out]
        return list(dict.fromkeys(out))[:3]

    def _callable(self, g: Grounded) -> list[Proposal]:
        q = g.qualname
        params = [p for p in g.params if p.lstrip("*") not in ("self", "cls")]
        named = [p for p in params if mentioned(p.lstrip("*"), self.text)]
        out = self._renames(g) + self._moves(g)
        for p in named:
            where = mentioned(p.lstrip("*"), self.text)[0]
            fresh = [(n, pos) for n, pos in self.g.new_names if n not in params]
            for new in nearest(fresh, where, limit=1):
                out.append(
                    Proposal(
                        Operation("rename_parameter", q, {"old": p.lstrip("*"), "new": new}),
                        f"rename the parameter `{p}` of `{q}` to `{new}`",
                        q,
                    )
                )
            out.append(
                Proposal(
                    Operation("remove_parameter", q, {"name": p.lstrip("*")}),
                    f"remove the parameter `{p}` from `{q}`",
                    q,
                )
            )
        for new, _pos in self.g.new_names:
            if new in params or _CONSTANT.match(new):
                continue
            # described with its default, as another proposer's reading of it would be
            add = Operation("add_parameter", q, {"name": new, "default": self._default(new)})
            out.append(Proposal(add, describe(add), q))
            break
        if params:
            first, *others = keyword_only_choices(params, named, self.text)
            op = Operation("make_keyword_only", q, first)
            # with several readings each says which parameters (the judge compares them)
            plain = describe(op) if others else f"make parameters of `{q}` keyword-only"
            out.append(Proposal(op, plain, q))
            for choice in others:  # "everything after `width`": the judge reads which
                op = Operation("make_keyword_only", q, choice)
                out.append(Proposal(op, describe(op), q))
        out += self._decorators(g)
        out.append(Proposal(Operation("add_annotations", q, {}), f"add type hints to `{q}`", q))
        out.append(self._docstring(q, f"`{q}`"))
        return out + self._modernize(g) + self._replace_calls(g) + [self._edit(q, f"`{q}`")]

    def _class(self, g: Grounded) -> list[Proposal]:
        q = g.qualname
        out = self._renames(g) + self._moves(g)
        existing = {d.name for d in self.symbols.definitions() if d.parent == q}
        for new, _ in self.g.new_names:
            if new not in existing and not _CONSTANT.match(new):
                out.append(
                    Proposal(
                        Operation("add_method", q, {"name": new}),
                        f"add a new method `{new}` to the class `{q}`",
                        q,
                    )
                )
        dunders = {d for d in re.findall(r"__[a-z_]+__", self.text) if is_special_method(d)}
        for dunder in sorted(dunders - existing - {"__init__"}):
            out.append(
                Proposal(
                    Operation("add_method", q, {"name": dunder}),
                    f"add a `{dunder}` method to the class `{q}`",
                    q,
                )
            )
        out.append(self._docstring(q, f"the class `{q}`"))
        out.append(
            Proposal(
                Operation("add_annotations", q, {}), f"add type hints to the methods of `{q}`", q
            )
        )
        return out + self._modernize(g) + [self._edit(q, f"the class `{q}`")]

    def _docstring(self, q: str, what: str) -> Proposal:
        """Write the docstring of ``q``, saying whether one is there to be replaced."""
        found = [d for d in self.symbols.find(q) if d.qualname == q]
        has = [bool(getattr(d, "docstring", None)) for d in found]
        state = (
            "" if not has else (" (it has one, to be rewritten)" if any(has) else " (it has none)")
        )
        return Proposal(
            Operation("add_docstring", q, {}), f"write a docstring for {what}{state}", q
        )

    def _edit(self, q: str, what: str) -> Proposal:
        """The generic change of one definition, instructed by the issue's title."""
        return Proposal(
            Operation("edit", q, {"instruction": self.g.issue.title}),
            f"change the code of {what} (fix its behaviour)",
            q,
        )

    def _constant(self, g: Grounded) -> list[Proposal]:
        return self._renames(g) + [p for p in self._moves(g) if p.operation.op == "move_symbol"]

    def _module(self, g: Grounded) -> list[Proposal]:
        q = g.qualname
        out: list[Proposal] = []
        defined = {d.name for d in self.symbols.definitions() if d.module == q and d.parent is None}
        where = self._where(g)
        for new, _ in self.g.new_names:
            if new in defined:
                continue
            if _CONSTANT.match(new):
                out.append(
                    Proposal(
                        Operation("extract_constant", q, {"name": new}),
                        f"introduce a module-level constant `{new}` in `{q}` for a literal",
                        q,
                    )
                )
            else:
                out.append(
                    Proposal(
                        Operation("add_function", q, {"name": new}),
                        f"add a new function `{new}` to the module `{q}`{where}",
                        q,
                    )
                )
        out += self._modernize(g)
        out.append(
            Proposal(Operation("add_annotations", q, {}), f"add type hints throughout `{q}`", q)
        )
        return out

    def _where(self, g: Grounded) -> str:
        """What sets the module apart as the home of new code: the definitions the issue
        names that live there, or that it holds none of them while other modules do."""
        named = [
            s.qualname
            for s in self.g.symbols
            if s.kind != "module" and not s.in_tests and s.strength >= 1
        ]
        here = [n.rsplit(".", 1)[-1] for n in named if n.rsplit(".", 1)[0] == g.qualname]
        if here:
            return ", beside " + ", ".join(f"`{n}`" for n in here[:4]) + " that the issue names"
        if named:
            return ", which defines none of the code the issue names"
        return ""

    # -- parameters from the issue's words ----------------------------------------------
    def _default(self, name: str) -> str:
        return default_of(name, self.text)

    def _decorators(self, g: Grounded) -> list[Proposal]:
        d = next(iter(self.symbols.find(g.qualname)), None)
        current = {x.lstrip("@").split("(")[0] for x in (getattr(d, "decorators", ()) or ())}
        out = []
        wanted = set(_DECORATOR.findall(self.text))
        wanted |= {w for w in _KNOWN_DECORATORS if mentioned(w, self.text)}
        for dec in sorted(wanted):
            if dec in current or dec.rsplit(".", 1)[-1] in current:
                out.append(
                    Proposal(
                        Operation("remove_decorator", g.qualname, {"decorator": dec}),
                        f"remove the decorator `@{dec}` from `{g.qualname}`",
                        g.qualname,
                    )
                )
            else:
                out.append(
                    Proposal(
                        Operation("add_decorator", g.qualname, {"decorator": dec}),
                        f"put the decorator `@{dec}` on `{g.qualname}`",
                        g.qualname,
                    )
                )
        return out

    def _modernize(self, g: Grounded) -> list[Proposal]:
        code = _source(self.repo, g, self.symbols)
        return [
            Proposal(
                Operation("modernize", g.qualname, {"idiom": idiom}),
                f"rewrite `{g.qualname}` to use {IDIOM_WORDS[idiom]}",
                g.qualname,
            )
            for idiom, pattern in _IDIOM_CODE.items()
            if code and pattern.search(code)
        ]

    def _replace_calls(self, g: Grounded) -> list[Proposal]:
        references = getattr(self.symbols, "references_to", None)
        if references is not None and not any(
            r.kind == "call" and r.scope != g.qualname for r in references(g.qualname)
        ):
            return []  # nothing calls it: there are no calls to replace
        out = []
        for m in self.g.issue.names():
            other = m.text
            if other == g.qualname or g.qualname.endswith("." + other) or "." not in other:
                continue
            if self.symbols.find(other) or other.split(".", 1)[0] in {
                x.split(".", 1)[0] for x in self.modules
            }:
                continue
            out.append(
                Proposal(
                    Operation("replace_calls", g.qualname, {"new": other}),
                    f"replace the calls of `{g.qualname}` with `{other}`",
                    g.qualname,
                )
            )
        return out[:2]


def describe(op: Operation) -> str:
    """An operation in plain words for the judge: ``Operation.plain`` (what ``fix`` tells the
    user), except that an ``edit`` does not quote the issue back and an idiom is spelled out."""
    if op.op == "edit":
        return f"change the code of `{op.target}` (fix its behaviour)"
    if op.op == "modernize":
        idiom = str(op.params.get("idiom"))
        return f"rewrite `{op.target}` to use {IDIOM_WORDS.get(idiom, idiom)}"
    return op.plain()
