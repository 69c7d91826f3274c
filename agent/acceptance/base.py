"""What every acceptance check builder shares: the check type, the repository as it was
before the change, and the issue's names (``names_for``)."""

from __future__ import annotations

import ast
import builtins
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.acceptance.issue import Statements, sessions
from agent.verify.project import importable
from planner.digest_query import is_test_path
from planner.digest_types import Definition
from planner.spec import Operation, Spec

log = logging.getLogger(__name__)

MAX_OTHER_NAMES = 40
# ops that change behaviour: an output the issue shows as current is one it wants changed
BEHAVIOUR_OPS = frozenset({"edit", "add_parameter", "add_method", "extract_helper"})
UNUSED_OK = re.compile(r"\b(ignored|unused|not used|for compatibility|placeholder)\b", re.I)


@dataclass(frozen=True)
class AcceptanceCheck:
    """One test function of ``acceptance_test.py``."""

    name: str  # the test function's name
    kind: str  # example | statement | postcondition
    doc: str  # one line: what is checked, and where the requirement comes from
    body: str  # the function body (Python statements, not indented)
    invariant: bool = False  # holds before the change too; failing there, it does not apply

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "doc": self.doc, "invariant": self.invariant}


@dataclass
class RepoView:
    """What the checks need to know about the repository before the change."""

    definitions: Sequence[Definition]
    by_qualname: dict[str, Definition] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_qualname = {d.qualname: d for d in self.definitions}
        self.modules = {d.module for d in self.definitions}
        self.modules |= {m.rsplit(".", 1)[0] for m in self.modules if "." in m}

    def reachable(self, d: Definition) -> bool:
        """Can a check get at ``d`` by its dotted name (module importable, no function parent)?"""
        if is_test_path(d.path) or not importable(d.path):
            return False
        parent = self.by_qualname.get(d.parent) if d.parent else None
        return d.parent is None or (parent is not None and parent.kind == "class")

    def roots(self) -> set[str]:
        return {m.split(".")[0] for m in self.modules}

    def module_of(self, target: str) -> str:
        d = self.by_qualname.get(target)
        if d is not None:
            return d.module
        return target if target in self.modules else target.rsplit(".", 1)[0]

    def container(self, target: str) -> str:
        """The module or class that holds ``target``."""
        d = self.by_qualname.get(target)
        if d is not None:
            return d.parent or d.module
        return target.rsplit(".", 1)[0]

    def siblings(self, container: str) -> list[str]:
        """Names defined directly in a module or class (before the change)."""
        out = []
        for d in self.definitions:
            holder = d.parent or d.module
            if holder == container and d.name not in out:
                out.append(d.name)
        return out


class CheckBase:
    """State and helpers of the builders: the issue, the spec, the repo, the checks so far."""

    def __init__(self, issue: str, spec: Spec, definitions: Sequence[Definition]) -> None:
        self.issue = issue
        self.spec = spec
        self.repo = RepoView(definitions)
        self.says = Statements.of(issue)
        self.checks: list[AcceptanceCheck] = []
        self.removed: set[str] = set()  # qualnames the spec takes away (unless kept)
        self.touched: set[str] = set()  # qualnames the spec renames, moves or removes
        self.added: dict[str, str] = {}  # short name -> qualname after the change

    def add(self, kind: str, what: str, doc: str, body: str, *, invariant: bool = False) -> None:
        slug = re.sub(r"\W+", "_", what).strip("_").lower()[:60] or "check"
        name = f"test_{kind}_{slug}"
        taken = {c.name for c in self.checks}
        n = 2
        base = name
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self.checks.append(AcceptanceCheck(name, kind, doc, body.strip("\n"), invariant))

    # -- postconditions and the statements tied to one operation ----------------------
    def operation(self, op: Operation) -> None:
        """Add ``op``'s checks; a builder bug skips that operation's checks, loudly."""
        handler = getattr(self, f"op_{op.op}", None)
        if handler is None:
            return
        try:
            handler(op)
        except Exception:  # a bug here must not end the run; the summary shows fewer checks
            log.exception("no acceptance checks for %s", op.summary())

    def _example_using(self, name: str) -> tuple[str | None, dict[str, str]]:
        """The issue's own ``>>>`` call of ``name`` (to trigger a deprecation), if any."""
        word = re.compile(rf"(?<![\w.]){re.escape(name)}\s*\(")
        for s in sessions(self.issue):
            for e in s.examples:
                if word.search(e.source):
                    return e.source, self.names_for([e.source])
        return None, {}

    def names_for(self, sources: Iterable[str]) -> dict[str, str]:
        """Free names of the sources → the dotted name of a repo symbol or module."""
        top: dict[str, list[str]] = {}
        for d in self.repo.definitions:
            if d.parent is None:
                top.setdefault(d.name, []).append(d.qualname)
        targets = {self.repo.module_of(o.target) for o in self.spec.operations}
        out: dict[str, str] = {}
        for name in sorted(_free_names(sources)):
            if name in self.added:
                out[name] = self.added[name]
                continue
            found = top.get(name, [])
            preferred = [q for q in found if q.rsplit(".", 1)[0] in targets]
            if len(preferred) == 1 or len(found) == 1:
                out[name] = (preferred or found)[0]
            elif name in self.repo.roots():
                out[name] = name
        return out


def _free_names(sources: Iterable[str]) -> set[str]:
    names: set[str] = set()
    bound: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.Name):
                (names if isinstance(n.ctx, ast.Load) else bound).add(n.id)
            elif isinstance(n, ast.alias):
                bound.add((n.asname or n.name).split(".")[0])
    return {n for n in names - bound if not hasattr(builtins, n)}


def module_name(text: str) -> str:
    text = text.strip()
    if text.endswith((".py", ".pyi")):
        text = text.rsplit(".", 1)[0].replace("/", ".")
        text = text.removeprefix("src.").removesuffix(".__init__")
    return text


def first_after(d: Definition | None, after: object) -> str | None:
    if d is None or not isinstance(after, str):
        return None
    names = [p for p in d.params if p not in ("self", "cls")]
    rest = names[names.index(after) + 1 :] if after in names else []
    return next((p for p in rest if not p.startswith("*")), None)


def literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


def names_list(names: object) -> str:
    items = list(names) if isinstance(names, list | tuple) else [names]
    return ", ".join(f"`{n}`" for n in items)
