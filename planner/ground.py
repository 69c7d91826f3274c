"""Grounding: every code mention of an issue → the repository symbols it stands for.

An issue names code in many ways: backticks, dotted names, ``f()`` calls, file paths,
traceback frames (``File "pkg/mod.py", line 42, in f``), ``Class.method`` and prose
("the introspection helpers in ``functoolz``"). ``ground`` resolves each of them
against the ``RepositoryDigest`` and keeps, per symbol, its kind, where it was
mentioned and how strongly. Nothing here knows any phrasing of a change request:
the candidates built on top of it are judged by the model, not by keywords.
"""

from __future__ import annotations

import builtins
import difflib
import importlib.util
import re
from dataclasses import dataclass, field, replace
from typing import Any

from planner.candidates import SymbolIndex
from planner.digest_query import is_test_path
from planner.issue_text import IssueText, Mention, parse_issue

# ``File "toolz/dicttoolz.py", line 280, in update_in`` (also ``.../pkg/mod.py``)
_FRAME = re.compile(r'File "(?P<path>[^"]+?\.pyi?)", line (?P<line>\d+)(?:, in (?P<func>[\w<>]+))?')
# ``pkg/mod.py:42`` or ``pkg/mod.py, line 42``
_FILE_LINE = re.compile(r"(?P<path>[\w./-]+\.py):(?P<line>\d+)\b")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CALLABLE_KINDS = ("function", "method")


@dataclass(frozen=True)
class Grounded:
    """One repository symbol the issue refers to.

    ``strength``: 3 backticked / traceback innermost frame, 2 called or dotted,
    1 a bare identifier or a frame further out, 0.5 prose retrieval.
    ``position``: first character offset of a mention (``-1`` for prose hits).
    """

    qualname: str
    kind: str  # function | method | class | constant | variable | module
    path: str
    strength: float
    position: int
    evidence: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    in_tests: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "qualname": self.qualname,
            "kind": self.kind,
            "path": self.path,
            "strength": self.strength,
            "position": self.position,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Grounding:
    """What an issue's text refers to in one repository."""

    issue: IssueText
    symbols: tuple[Grounded, ...]
    new_names: tuple[tuple[str, int], ...]  # identifiers the issue spells that the repo lacks
    unresolved: tuple[str, ...] = ()
    modules: tuple[str, ...] = field(default=())  # modules mentioned as such

    def get(self, qualname: str) -> Grounded | None:
        return next((g for g in self.symbols if g.qualname == qualname), None)

    def mentions_of(self, qualname: str) -> list[Mention]:
        """The name mentions that spell ``qualname``, whole or as a dotted suffix."""
        return [
            m
            for m in self.issue.mentions
            if m.kind == "name"
            and (qualname == m.text or qualname.endswith("." + m.text.lstrip("@")))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbols": [g.to_dict() for g in self.symbols],
            "new_names": [n for n, _ in self.new_names],
            "unresolved": list(self.unresolved),
            "modules": list(self.modules),
        }


class _Collector:
    """Merges evidence per qualname."""

    def __init__(self, symbols: SymbolIndex) -> None:
        self.symbols = symbols
        self.found: dict[str, Grounded] = {}

    def add(self, d: Any, strength: float, position: int, evidence: str) -> None:
        g = self.found.get(d.qualname)
        if g is None:
            self.found[d.qualname] = Grounded(
                d.qualname,
                d.kind,
                d.path,
                strength,
                position,
                (evidence,),
                tuple(getattr(d, "params", ()) or ()),
                is_test_path(d.path),
            )
            return
        self.found[d.qualname] = replace(
            g,
            strength=max(g.strength, strength),
            position=min(p for p in (g.position, position) if p >= 0)
            if max(g.position, position) >= 0
            else -1,
            evidence=g.evidence if evidence in g.evidence else (*g.evidence, evidence),
        )

    def add_module(self, module: str, path: str, strength: float, position: int, why: str) -> None:
        g = self.found.get(module)
        if g is None:
            self.found[module] = Grounded(
                module, "module", path, strength, position, (why,), (), is_test_path(path)
            )
        else:
            self.found[module] = replace(g, strength=max(g.strength, strength))


def _module_of_path(symbols: SymbolIndex, text: str) -> tuple[str, str] | None:
    """(module, path) of the repository file a (possibly absolute or elided) path names."""
    clean = text.replace("\\", "/").lstrip("./")
    clean = re.sub(r"^(?:\.\.\./|…/)", "", clean)
    best: tuple[str, str] | None = None
    for d in symbols.definitions():
        same = clean == d.path or clean.endswith("/" + d.path) or d.path.endswith("/" + clean)
        if same and (best is None or len(d.path) > len(best[1])):
            best = (d.module, d.path)
    return best


def _resolve_name(symbols: SymbolIndex, text: str) -> list[Any]:
    """Definitions a mention stands for.

    A dotted name is taken as written. A bare name is a top-level function, class or
    constant of the library (not a member of some class, not a re-binding such as
    ``map = map`` or ``x = curry(x)``, not test code) when one exists; a bare name that
    is only a member somewhere (``func``, ``encoding``) names nothing for sure.
    """
    name = text.strip().strip("`").removesuffix("()").lstrip("@")
    if not name:
        return []
    defs = list(symbols.find(name))
    if "." in name or len(defs) <= 1:
        if len(defs) == 1 and "." not in name and _is_member(defs[0]) and defs[0].kind != "method":
            return []
        return defs
    lib = [d for d in defs if not is_test_path(d.path)] or defs
    real = [d for d in lib if not _is_rebinding(d)] or lib
    top = [d for d in real if not _is_member(d)]
    if top:
        return sorted(top, key=lambda d: (d.qualname.count("."), d.qualname))[:3]
    methods = [d for d in real if d.kind == "method"]
    return methods[:3] if len(methods) <= 3 else []


def _is_member(d: Any) -> bool:
    return d.parent is not None and "." in str(d.parent) and d.parent != d.module


def _is_rebinding(d: Any) -> bool:
    """``name = name`` / ``name = wrap(other.name)``: a variable bound to another definition."""
    if d.kind not in ("variable", "constant"):
        return False
    value = str(d.signature).partition("=")[2]
    return bool(re.search(rf"\b{re.escape(d.name)}\b", value))


def _frames(issue: IssueText, symbols: SymbolIndex, col: _Collector) -> None:
    """Traceback frames and ``file:line`` mentions → the enclosing definition."""
    frames: list[tuple[int, Any]] = []
    for match in list(_FRAME.finditer(issue.raw)) + list(_FILE_LINE.finditer(issue.raw)):
        hit = _module_of_path(symbols, match.group("path"))
        if hit is None:
            continue
        module, path = hit
        line = int(match.group("line"))
        func = match.groupdict().get("func")
        inside = [
            d
            for d in symbols.definitions()
            if d.path == path
            and d.kind in (*CALLABLE_KINDS, "class")
            and d.line <= line <= d.end_line
        ]
        named = [d for d in symbols.definitions() if d.path == path and d.name == func]
        # the frame's function name wins over its line (the issue may quote another version)
        pick = [d for d in inside if d.name == func] or named or inside
        if pick:
            innermost = max(pick, key=lambda d: d.line)
            frames.append((match.start(), innermost))
    for k, (position, d) in enumerate(sorted(frames, key=lambda f: f[0])):
        last = k == len(frames) - 1
        col.add(
            d, 3.0 if last else 1.5, position, "traceback frame" + (" (innermost)" if last else "")
        )


def _outside(dotted: str) -> bool:
    """A name of an importable module that is not part of the repository (stdlib, a
    dependency) or a builtin: what follows its dot is that package's name, not a new one."""
    top = dotted.split(".", 1)[0]
    if hasattr(builtins, top):
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


_PROTOCOL_METHODS = {
    "__enter__", "__exit__", "__aenter__", "__aexit__", "__await__", "__aiter__", "__anext__",
    "__call__", "__get__", "__set__", "__delete__", "__set_name__", "__missing__",
    "__class_getitem__", "__fspath__", "__index__", "__round__", "__trunc__", "__floor__",
    "__ceil__", "__bytes__", "__copy__", "__deepcopy__",
}  # fmt: skip


def is_special_method(name: str) -> bool:
    """A dunder that is a method of Python's data model (``__eq__``), not an attribute
    (``__name__``, ``__all__``, ``__doc__``)."""
    if name in _PROTOCOL_METHODS:
        return True
    kinds = (object, int, float, list, dict, set, str, type(iter(())))
    return any(callable(getattr(t, name, None)) for t in kinds) and name not in (
        "__new__",
        "__class__",
    )


def _new_name_ok(word: str) -> bool:
    if word.startswith("__") and word.endswith("__") and not is_special_method(word):
        return False  # ``__all__``, ``__name__``: attributes, never a new function's name
    return bool(_IDENT.match(word)) and len(word) > 1 and word not in {"self", "cls", "None"}


def ground(text: str, symbols: SymbolIndex, *, retriever: Any = None) -> Grounding:
    """Resolve the code an issue mentions; see the module docstring."""
    issue = parse_issue(text)
    col = _Collector(symbols)
    modules = symbols.modules()
    unresolved: list[str] = []
    new_names: dict[str, int] = {}
    mentioned_modules: list[str] = []
    for m in issue.mentions:
        if m.kind == "path":
            hit = _module_of_path(symbols, m.text)
            if hit:
                col.add_module(hit[0], hit[1], 2.0, m.position, "file path")
                mentioned_modules.append(hit[0])
            continue
        if m.kind == "glob":
            continue
        _ground_name(m, symbols, col, modules, mentioned_modules, unresolved, new_names)
    _frames(issue, symbols, col)
    _respelled(issue, symbols, col, new_names)
    if retriever is not None:
        _prose(text, retriever, col)
    found = sorted(col.found.values(), key=lambda g: (-g.strength, g.position))
    return Grounding(
        issue=issue,
        symbols=tuple(found),
        new_names=tuple(sorted(new_names.items(), key=lambda kv: kv[1])),
        unresolved=tuple(dict.fromkeys(unresolved)),
        modules=tuple(dict.fromkeys(mentioned_modules)),
    )


def _ground_name(
    m: Mention,
    symbols: SymbolIndex,
    col: _Collector,
    modules: dict[str, str],
    mentioned_modules: list[str],
    unresolved: list[str],
    new_names: dict[str, int],
) -> None:
    strength = 3.0 if m.in_code else (2.0 if (m.call_args is not None or "." in m.text) else 1.0)
    why = "backticks" if m.in_code else ("call" if m.call_args is not None else "name")
    name = m.text.lstrip("@")
    if name in modules:
        col.add_module(name, modules[name], strength, m.position, why)
        mentioned_modules.append(name)
        return
    defs = _resolve_name(symbols, name)
    if defs:
        for d in defs:
            col.add(d, strength, m.position, why)
        if "." not in name and all(_is_member(d) for d in defs) and not hasattr(builtins, name):
            new_names.setdefault(name, m.position)  # a member elsewhere may be a new name here
        return
    # ``pkg.mod`` spelled partially (``dicttoolz``), or ``mod.func`` of a module we know
    tail_modules = [mod for mod in modules if mod.endswith("." + name)]
    if len(tail_modules) == 1:
        col.add_module(tail_modules[0], modules[tail_modules[0]], strength, m.position, why)
        mentioned_modules.append(tail_modules[0])
        return
    last = name.rsplit(".", 1)[-1]
    if "." in name:
        head = name.rsplit(".", 1)[0]
        owner = _resolve_name(symbols, head)
        if owner or head in modules or any(mod.endswith("." + head) for mod in modules):
            # a new member of a known owner (``Cache.peek``, ``strutils.removesuffix``)
            if _new_name_ok(last):
                new_names.setdefault(last, m.position)
            for d in owner[:2]:
                col.add(d, strength - 0.5, m.position, why + " (owner of a new name)")
            if not owner:
                module = (
                    head
                    if head in modules
                    else next(mod for mod in modules if mod.endswith("." + head))
                )
                col.add_module(module, modules[module], strength - 0.5, m.position, why)
                mentioned_modules.append(module)
            return
        if _outside(head):
            return  # ``logging.getLogger``, ``textwrap.indent``: another package's name
    if _new_name_ok(last) and (m.in_code or m.call_args is not None or "_" in last):
        if not hasattr(builtins, last):
            new_names.setdefault(last, m.position)
        return
    unresolved.append(name)


RESPELLED = 0.85  # similarity from which a new name reads as another spelling of a symbol


def _respelled(
    issue: IssueText, symbols: SymbolIndex, col: _Collector, new_names: dict[str, int]
) -> None:
    """A backticked new name that is another spelling of an existing definition
    (`_UnboundedTTLCache` for `_UnboundTTLCache`): the issue likely describes that one in
    prose and asks to rename it (medium evidence; the judge decides)."""
    fuzzy = getattr(symbols, "fuzzy", None)
    if fuzzy is None:
        return
    in_code = {m.text for m in issue.mentions if m.in_code}
    for name, position in new_names.items():
        if name not in in_code or len(name) < 6 or name.startswith("__") or symbols.find(name):
            continue  # a member elsewhere, or a dunder, is no new spelling
        for close in fuzzy(name, n=3):
            if "." in close or close == name:
                continue
            if difflib.SequenceMatcher(None, name, close).ratio() < RESPELLED:
                continue
            for d in _resolve_name(symbols, close):
                if d.qualname not in col.found:
                    col.add(d, 2.0, position, f"spelled like the new name `{name}`")


def _prose(text: str, retriever: Any, col: _Collector, k: int = 4) -> None:
    """Definitions the issue describes without naming them (weak evidence)."""
    try:
        spans = retriever.search(text[:2000], k=k)
    except Exception:  # retrieval is a hint, never a failure
        return
    for span in spans:
        d = span.definition if hasattr(span, "definition") else None
        if d is None:
            found = col.symbols.find(span.qualname) if hasattr(span, "qualname") else []
            d = found[0] if found else None
        if d is not None and d.qualname not in col.found:
            col.add(d, 0.5, -1, "prose (retrieval)")
