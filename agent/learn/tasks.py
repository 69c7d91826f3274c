"""Tasks with known answers, made from the target repository's own code.

Each task starts from a copy of the repository with one function changed, and its
answer is the original code:

- ``docstring``: the function's docstring is removed → "document `f`";
- ``annotate``: its parameter and return annotations are removed → "annotate `f`";
- ``fix``: its body is mutated (``agent.bootstrap_mutants``); only mutants that make the
  repository's own tests fail while the original passes are kept, and the issue is a bug
  report written from the failing test's output (``agent.bootstrap_verify``);
- ``rename``: a module-level function is renamed everywhere → "rename it back";
- ``keyword_only``: its keyword-only marker ``*`` is removed → "make them keyword-only".

This module makes the candidate changes (pure source transforms) and the issue texts;
``agent.bootstrap_verify`` runs the tests that decide which candidates become tasks.
"""

from __future__ import annotations

import ast
import hashlib
import io
import random
import re
import tokenize
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import libcst as cst

SCHEMA_VERSION = 1
KINDS = ("docstring", "annotate", "fix", "rename", "keyword_only")
Func = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Task:
    """One verified task.

    Fields:
      task_id: stable id (kind + a hash of the change).
      kind: one of ``KINDS``.
      path / function: the file and the qualified name (``Class.method``) it is about;
        the held-out split never puts one function in both train and test.
      issue: the request the model gets (never the answer).
      files: repo-relative path → the task's starting text of every changed file.
      answer: what the checker compares the result with (per kind, see ``check_answer``).
      detail: how the task was made (e.g. ``flip < to >=``); never shown to the model.
      failing: test ids that fail on the task's starting state (``fix``).
      template: which issue template wrote ``issue`` (-1: a model paraphrase).
    """

    task_id: str
    kind: str
    path: str
    function: str
    issue: str
    files: Mapping[str, str]
    answer: Mapping[str, Any]
    detail: str = ""
    failing: tuple[str, ...] = ()
    template: int = 0
    schema_version: int = SCHEMA_VERSION

    @property
    def group(self) -> str:
        """The function the task is about (the unit of the held-out split)."""
        return f"{self.path}::{self.function}"

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(files=dict(self.files), answer=dict(self.answer), failing=list(self.failing))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["failing"] = tuple(values.get("failing") or ())
        return cls(**values)


@dataclass(frozen=True)
class Candidate:
    """An unverified change: the task it becomes once the tests agree."""

    kind: str
    path: str
    function: str
    files: Mapping[str, str]
    answer: Mapping[str, Any]
    detail: str = ""
    hidden: tuple[str, ...] = ()  # original snippets the issue must not contain
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. names for the templates

    @property
    def task_id(self) -> str:
        blob = repr((self.kind, self.path, self.function, self.detail, sorted(self.files.items())))
        return f"{self.kind}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


# -- functions of a module ---------------------------------------------------------------
def functions(tree: ast.Module) -> Iterator[tuple[str, Func]]:
    """Module-level functions and the methods of module-level classes, with qualified names."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<task>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _params(node: Func) -> list[ast.arg]:
    a = node.args
    return [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs] + (
        [a.kwarg] if a.kwarg else []
    )


def _is_method(qualname: str) -> bool:
    return "." in qualname


# -- docstring -----------------------------------------------------------------------------
def strip_docstring(source: str, node: Func) -> str | None:
    """The source without ``node``'s docstring (None when it has none or nothing else)."""
    doc = ast.get_docstring(node, clean=False)
    if not doc or len(node.body) < 2:
        return None
    first = node.body[0]
    lines = _lines(source)
    start, end = first.lineno - 1, (first.end_lineno or first.lineno) - 1
    if lines[start][: first.col_offset].strip() or lines[end].encode()[
        first.end_col_offset or 0 :
    ].strip(b" \t\r\n;"):
        return None  # shares a line with other code
    return "".join(lines[:start] + lines[end + 1 :])


# -- annotations / keyword-only markers (LibCST, the rest of the file untouched) -----------
class _OneFunction(cst.CSTTransformer):
    def __init__(self, qualname: str) -> None:
        self.qualname = qualname
        self.stack: list[str] = []
        self.changed = False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.stack.append(node.name.value)
        return True

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.stack.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.stack.append(node.name.value)
        return False  # nested functions are not ours

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        here = ".".join(self.stack)
        self.stack.pop()
        if here != self.qualname:
            return updated
        new = self.change(updated)
        self.changed = self.changed or not new.deep_equals(updated)
        return new

    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        raise NotImplementedError


class _StripAnnotations(_OneFunction):
    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        def bare(p: cst.Param) -> cst.Param:
            return p.with_changes(annotation=None)

        ps = node.params
        star = ps.star_arg
        params = ps.with_changes(
            posonly_params=[bare(p) for p in ps.posonly_params],
            params=[bare(p) for p in ps.params],
            kwonly_params=[bare(p) for p in ps.kwonly_params],
            star_arg=bare(star) if isinstance(star, cst.Param) else star,
            star_kwarg=bare(ps.star_kwarg) if ps.star_kwarg else None,
        )
        return node.with_changes(params=params, returns=None)


class _DropKeywordOnly(_OneFunction):
    def change(self, node: cst.FunctionDef) -> cst.FunctionDef:
        ps = node.params
        if not isinstance(ps.star_arg, cst.ParamStar) or not ps.kwonly_params:
            return node
        moved = [p.with_changes(comma=cst.MaybeSentinel.DEFAULT) for p in ps.kwonly_params]
        params = (
            [
                *ps.params[:-1],
                ps.params[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                ),
            ]
            if ps.params
            else []
        )
        return node.with_changes(
            params=ps.with_changes(
                params=[*params, *moved], star_arg=cst.MaybeSentinel.DEFAULT, kwonly_params=[]
            )
        )


def _transform(source: str, transformer: _OneFunction) -> str | None:
    try:
        module = cst.parse_module(source)
        out = module.visit(transformer).code
    except (cst.ParserSyntaxError, cst.CSTValidationError, TypeError, ValueError):
        return None
    return out if transformer.changed and out != source and _compiles(out) else None


def annotations_of(node: Func) -> dict[str, str]:
    """Parameter name (``return`` for the return value) → annotation source."""
    found = {p.arg: ast.unparse(p.annotation) for p in _params(node) if p.annotation}
    if node.returns is not None:
        found["return"] = ast.unparse(node.returns)
    return found


def strip_annotations(source: str, qualname: str) -> str | None:
    return _transform(source, _StripAnnotations(qualname))


def drop_keyword_only(source: str, qualname: str) -> str | None:
    return _transform(source, _DropKeywordOnly(qualname))


# -- renames ---------------------------------------------------------------------------
_SYNONYMS = {
    "get": "fetch", "fetch": "get", "make": "build", "build": "make", "create": "new",
    "compute": "calc", "calc": "compute", "remove": "delete", "delete": "remove",
    "add": "append", "find": "lookup", "load": "read", "read": "load", "write": "save",
    "save": "write", "parse": "decode", "check": "verify", "to": "as", "is": "check",
}  # fmt: skip


def old_name(name: str, taken: set[str]) -> str | None:
    """A plausible earlier name for ``name`` that the repository does not use."""
    lead = name.startswith("_")
    words = name.lstrip("_").split("_")
    tries = []
    if words[0] in _SYNONYMS:
        tries.append("_".join([_SYNONYMS[words[0]], *words[1:]]))
    tries += [f"{name.lstrip('_')}_impl", f"do_{name.lstrip('_')}"]
    for t in tries:
        t = ("_" if lead else "") + t
        if t != name and t not in taken and t.isidentifier():
            return t
    return None


def identifiers(source: str) -> set[str]:
    try:
        return {
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type == tokenize.NAME
        }
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set()


def rename_everywhere(source: str, old: str, new: str) -> str:
    """``old`` → ``new`` for every NAME token and every string literal that is exactly it."""
    out, changed = [], False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    for tok in tokens:
        text = tok.string
        if tok.type == tokenize.NAME and text == old:
            text, changed = new, True
        elif tok.type == tokenize.STRING and text in (f'"{old}"', f"'{old}'"):
            text, changed = text[0] + new + text[-1], True
        out.append(tok._replace(string=text))
    return tokenize.untokenize(out) if changed else source


# -- issue texts -----------------------------------------------------------------------
TEMPLATES: dict[str, tuple[str, ...]] = {
    "docstring": (
        "Add a docstring to `{name}` in {path}.",
        "`{qual}` has no docstring. Please add a docstring to `{name}` that says what it "
        "does and what it returns.",
        "Document `{qual}`: add a docstring to it, in the style of the module.",
        "Write a docstring for `{name}` ({path}).",
    ),
    "annotate": (
        "Add type annotations to `{name}` in {path}.",
        "`{qual}` has no type hints. Add type annotations to `{name}` (its parameters and "
        "return value).",
        "Please add type annotations to `{qual}`.",
    ),
    "fix": (
        "Fix a bug in `{name}` ({path}): {test} fails.\n\n```\n{report}\n```",
        "`{qual}` gives a wrong result; the test {test} fails with:\n\n```\n{report}\n```\n\n"
        "Fix `{name}`.",
        "Bug report: `{qual}` in {path} is broken, {test} is failing.\n\n```\n{report}\n```\n\n"
        "Please fix it.",
    ),
    "rename": (
        "Rename `{old}` to `{new}`.",
        "Rename the function `{old}` in {path} to `{new}` everywhere.",
        "`{old}` should be called `{new}`: rename `{old}` to `{new}` and update its callers.",
    ),
    "keyword_only": (
        "Make the parameters after `{after}` of `{qual}` keyword-only.",
        "In {path}, make the parameters of `{qual}` after `{after}` keyword-only.",
        "Callers pass options of `{qual}` by position; make the parameters after `{after}` "
        "keyword-only.",
    ),
}


def issue_text(candidate: Candidate, seed: int, **values: str) -> tuple[str, int]:
    """The candidate's issue from one of its kind's templates (chosen by seed and task)."""
    templates = TEMPLATES[candidate.kind]
    index = random.Random(f"{seed}:{candidate.task_id}").randrange(len(templates))
    # a method is named with its class (`Cart.add`): its bare name may be ambiguous
    fields_ = {"name": candidate.function, "qual": candidate.function, "path": candidate.path}
    fields_.update({k: str(v) for k, v in candidate.extra.items()})
    fields_.update(values)
    return templates[index].format(**fields_), index


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def leaks(issue: str, hidden: Sequence[str], words: int = 5) -> str | None:
    """The first hidden snippet the issue gives away: contained whole (8+ characters,
    whitespace-normalized), or sharing a run of ``words`` consecutive words with it."""
    flat = _norm(issue)
    said = flat.lower().split()
    runs = {tuple(said[i : i + words]) for i in range(len(said) - words + 1)}
    for snippet in hidden:
        s = _norm(snippet)
        if len(s) >= 8 and s in flat:
            return s
        mine = s.lower().split()
        for i in range(len(mine) - words + 1):
            if tuple(mine[i : i + words]) in runs:
                return " ".join(mine[i : i + words])
    return None


# -- candidates of one file --------------------------------------------------------------
def file_candidates(path: str, source: str, kinds: Sequence[str]) -> list[Candidate]:
    """Every non-``fix`` candidate of one module, and nothing for code that does not parse.

    ``fix`` candidates come from ``agent.bootstrap_mutants``; renames need the other files
    too and come from ``rename_candidates``.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out: list[Candidate] = []
    for qual, node in functions(tree):
        if node.name.startswith("__"):
            continue  # dunders and mangled names: an issue cannot name them well
        if "docstring" in kinds and (text := strip_docstring(source, node)) is not None:
            doc = ast.get_docstring(node) or ""
            out.append(
                Candidate("docstring", path, qual, {path: text}, {"docstring": doc},
                          hidden=tuple(ln for ln in doc.splitlines() if len(ln.strip()) >= 12))
            )  # fmt: skip
        wanted = annotations_of(node)
        own = [p.arg for p in _params(node) if p.arg not in ("self", "cls")]
        if (
            "annotate" in kinds
            and wanted
            and (text := strip_annotations(source, qual)) is not None
            and len(wanted) >= min(2, len(own) + 1)
        ):
            hidden = tuple(f"{k}: {v}" for k, v in wanted.items() if k != "return")
            out.append(
                Candidate("annotate", path, qual, {path: text}, {"annotations": wanted},
                          hidden=(*hidden, *(f"-> {v}" for k, v in wanted.items() if k == "return")))
            )  # fmt: skip
        a = node.args
        positional = [p.arg for p in [*a.posonlyargs, *a.args] if p.arg not in ("self", "cls")]
        if (
            "keyword_only" in kinds
            and a.kwonlyargs
            and a.vararg is None
            and positional
            and (text := drop_keyword_only(source, qual)) is not None
        ):
            kwonly = [p.arg for p in a.kwonlyargs]
            out.append(
                Candidate("keyword_only", path, qual, {path: text}, {"keyword_only": kwonly},
                          extra={"after": positional[-1]})
            )  # fmt: skip
    return out


def rename_candidates(sources: Mapping[str, str], limit: int, seed: int) -> list[Candidate]:
    """Module-level functions renamed to an earlier-looking name in every file."""
    taken: set[str] = set()
    for text in sources.values():
        taken |= identifiers(text)
    found: list[Candidate] = []
    for path in sorted(sources):
        if _is_test_path(path):
            continue
        try:
            tree = ast.parse(sources[path])
        except (SyntaxError, ValueError):
            continue
        defined = [n.name for _, n in functions(tree)]
        for node in tree.body:
            name = getattr(node, "name", "")
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or len(name) < 4:
                continue
            if defined.count(name) != 1 or name.startswith("__"):
                continue  # a method of the same name would be renamed too
            old = old_name(name, taken)
            if old is None:
                continue
            files = {
                rel: new
                for rel, text in sources.items()
                if (new := rename_everywhere(text, name, old)) != text
            }
            if path in files and all(_compiles(t) for t in files.values()):
                found.append(
                    Candidate("rename", path, name, files, {"old": old, "new": name},
                              extra={"old": old, "new": name})
                )  # fmt: skip
    random.Random(seed).shuffle(found)
    return found[:limit]


def _is_test_path(rel: str) -> bool:
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def is_source_path(rel: str) -> bool:
    """A Python module of the project itself (not a test, a doc build or a setup script)."""
    top = rel.split("/", 1)[0]
    return (
        rel.endswith(".py")
        and not _is_test_path(rel)
        and top not in ("docs", "doc", "examples", "scripts", "benchmarks", "build")
        and rel.rsplit("/", 1)[-1] not in ("setup.py", "noxfile.py", "conftest.py")
    )
