"""Tasks with known answers, made from the target repository's own code.

Each task starts from a copy of the repository with one function changed, and its
answer is the original code:

- ``docstring``: the function's docstring is removed → "document `f`";
- ``annotate``: its parameter and return annotations are removed → "annotate `f`";
- ``fix``: its body is mutated (``agent.learn.mutants``); only mutants that make the
  repository's own tests fail while the original passes are kept, and the issue is a bug
  report written from the failing test's output (``agent.learn.generate``);
- ``rename``: a module-level function is renamed everywhere → "rename it back";
- ``keyword_only``: its keyword-only marker ``*`` is removed → "make them keyword-only".

This module makes the candidates (with the source transforms of ``agent.learn.task_edits``) and the issue texts;
``agent.learn.generate`` runs the tests that decide which candidates become tasks.
"""

from __future__ import annotations

import ast
import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from agent.learn.task_edits import (
    annotations_of,
    compiles,
    drop_keyword_only,
    functions,
    identifiers,
    old_name,
    params_of,
    rename_everywhere,
    strip_annotations,
    strip_docstring,
)

SCHEMA_VERSION = 1
KINDS = ("docstring", "annotate", "fix", "rename", "keyword_only")


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

    ``fix`` candidates come from ``agent.learn.mutants``; renames need the other files
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
        own = [p.arg for p in params_of(node) if p.arg not in ("self", "cls")]
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
            if path in files and all(compiles(t) for t in files.values()):
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
