"""Raw style measurements of one Python source, and the repository helpers behind them.

``measure_source`` turns one file (or snippet) into a ``Tally`` of counts using
``ast`` and ``tokenize`` only. ``list_python_files`` / ``rank_files`` choose which
files of a repository to measure, and ``configured_line_length`` reads the line
limit that the repo's own linter configuration declares. Nothing here writes.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import io
import logging
import math
import os
import re
import subprocess
import tokenize
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

NAME_KINDS = ("functions", "methods", "classes", "constants", "variables", "parameters")
CONVENTIONS = ("snake_case", "camelCase", "PascalCase", "UPPER_CASE")
DOCSTRING_STYLES = ("google", "numpy", "rest", "plain", "none")
FORMATTING = ("fstring", "format", "percent")

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "virtualenv", "build", "dist",
     "node_modules", "vendor", "_vendor", "vendored", "third_party", "__pycache__",
     ".agent_data", ".autopatches", ".tox", ".nox", ".eggs", "site-packages", ".mypy_cache",
     ".pytest_cache", ".ruff_cache"}
)  # fmt: skip
_TEST_PARTS = frozenset({"test", "tests", "testing", "conftest.py"})
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_AUX_PARTS = frozenset({"examples", "example", "docs", "doc", "scripts", "benchmarks", "bench"})

_GOOGLE = re.compile(
    r"^\s*(Args|Arguments|Params|Parameters|Returns?|Yields?|Raises|Attributes|"
    r"Keyword Args|Keyword Arguments|Other Parameters):\s*$",
    re.M,
)
_NUMPY = re.compile(
    r"^\s*(Parameters|Returns|Yields|Raises|Attributes|Examples|Notes|See Also|"
    r"Other Parameters|Warns|References)\s*\n\s*-{3,}\s*$",
    re.M,
)
_REST = re.compile(
    r"^\s*:(param|parameter|arg|argument|key|keyword|type|raises?|except|exception|"
    r"returns?|rtype|yields?|ytype|var|ivar|cvar)\b[^:\n]*:",
    re.M,
)


@dataclass
class Tally:
    """Counts measured from one source; ``lower`` naming = a one-word lowercase name."""

    lines: int = 0
    indent: Counter[str] = field(default_factory=Counter)
    quotes: Counter[str] = field(default_factory=Counter)
    line_lengths: list[int] = field(default_factory=list)
    naming: dict[str, Counter[str]] = field(
        default_factory=lambda: {kind: Counter() for kind in NAME_KINDS}
    )
    docstrings: Counter[str] = field(default_factory=Counter)
    params: Counter[str] = field(default_factory=Counter)
    returns: Counter[str] = field(default_factory=Counter)
    imports: Counter[str] = field(default_factory=Counter)
    future_annotations: bool = False
    formatting: Counter[str] = field(default_factory=Counter)
    trailing_commas: Counter[str] = field(default_factory=Counter)


def classify_name(name: str) -> str | None:
    """snake_case / camelCase / PascalCase / UPPER_CASE, ``lower``, ``other``, or None."""
    core = name.strip("_")
    if not any(c.isalpha() for c in core):
        return None
    if core.upper() == core:
        return "UPPER_CASE"
    if core.lower() == core:
        return "snake_case" if "_" in core else "lower"
    if "_" in core:
        return "other"
    return "PascalCase" if core[0].isupper() else "camelCase"


def classify_docstring(text: str) -> str:
    """google / numpy / rest / plain for one (cleaned) docstring."""
    if _NUMPY.search(text):
        return "numpy"
    if _REST.search(text):
        return "rest"
    if _GOOGLE.search(text):
        return "google"
    return "plain"


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is not None
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        keys = [k for k in node.keys if k is not None]
        return (
            bool(node.values)
            and len(keys) == len(node.values)
            and all(_is_literal(e) for e in (*keys, *node.values))
        )
    return False


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


class _DefVisitor:
    """Walks statements in scope order: naming, docstrings and annotations."""

    def __init__(self, tally: Tally) -> None:
        self.t = tally

    def _name(self, kind: str, name: str) -> None:
        label = classify_name(name)
        if label is not None:
            self.t.naming[kind][label] += 1

    def block(self, body: list[ast.stmt], ctx: str, public: bool) -> None:
        for node in body:
            self.stmt(node, ctx, public)

    def stmt(self, node: ast.stmt, ctx: str, public: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(node, ctx, public)
            return
        if isinstance(node, ast.ClassDef):
            self._name("classes", node.name)
            is_public = public and ctx != "function" and not node.name.startswith("_")
            if is_public:
                self._docstring(node)
            self.block(node.body, "class", is_public)
            return
        self._assignments(node, ctx)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.stmt(child, ctx, public)
            elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                self.block(child.body, ctx, public)

    def function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: str, public: bool
    ) -> None:
        dunder = node.name.startswith("__") and node.name.endswith("__")
        if not dunder:
            self._name("methods" if ctx == "class" else "functions", node.name)
        if public and ctx != "function" and not node.name.startswith("_"):
            self._docstring(node)
        a = node.args
        params = [*a.posonlyargs, *a.args]
        static = any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
        )
        if ctx == "class" and not static and params:
            params = params[1:]
        params += [*a.kwonlyargs, *(p for p in (a.vararg, a.kwarg) if p is not None)]
        for p in params:
            self._name("parameters", p.arg)
            self.t.params["annotated" if p.annotation is not None else "bare"] += 1
        self.t.returns["annotated" if node.returns is not None else "bare"] += 1
        self.block(node.body, "function", False)

    def _docstring(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        doc = ast.get_docstring(node, clean=True)
        self.t.docstrings[classify_docstring(doc) if doc else "none"] += 1

    def _assignments(self, node: ast.stmt, ctx: str) -> None:
        if ctx == "module":
            value = getattr(node, "value", None)
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if _is_literal(value):
                    for target in targets:
                        for name in _target_names(target):
                            if not name.startswith("__"):
                                self._name("constants", name)
            return
        if ctx != "function":
            return
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for target in targets:
            for name in _target_names(target):
                self._name("variables", name)


def _expressions(tree: ast.Module, tally: Tally) -> set[tuple[int, int]]:
    """Imports and string formatting; returns the start positions of string statements."""
    doc_positions: set[tuple[int, int]] = set()
    specs = {id(n.format_spec) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tally.imports["import"] += 1
        elif isinstance(node, ast.ImportFrom):
            tally.imports["from"] += 1
            tally.imports["relative" if node.level else "absolute"] += 1
            if node.module == "__future__" and any(a.name == "annotations" for a in node.names):
                tally.future_annotations = True
        elif isinstance(node, ast.JoinedStr) and id(node) not in specs:
            tally.formatting["fstring"] += 1
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
        ):
            tally.formatting["format"] += 1
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            tally.formatting["percent"] += 1
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            doc_positions.add((node.lineno, node.col_offset))
    return doc_positions


def _exploded(tree: ast.Module) -> list[ast.expr]:
    """Calls and literals with two or more elements that start on different lines."""
    out: list[ast.expr] = []
    for node in ast.walk(tree):
        items: list[ast.expr | ast.keyword]
        if isinstance(node, ast.Call):
            items = [*node.args, *node.keywords]
            items.sort(key=lambda n: (n.lineno, n.col_offset))
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = list(node.elts)
        elif isinstance(node, ast.Dict):
            items = list(node.values)
        else:
            continue
        if len(items) >= 2 and items[-1].lineno > items[0].lineno:
            out.append(node)
    return out


def _count_quote(literal: str, tally: Tally) -> None:
    """Count a one-line string literal's quote, unless it is triple-quoted or holds quotes."""
    i = min((literal.find(q) for q in "'\"" if q in literal), default=0)
    body = literal[i + 1 : -1]
    if literal[i : i + 3] not in ('"""', "'''") and "'" not in body and '"' not in body:
        tally.quotes["single" if literal[i] == "'" else "double"] += 1


def _tokens(
    text: str, tally: Tally, doc_positions: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, int]]:
    """Indentation and quotes; returns closing bracket end -> (previous token, its row)."""
    stack = [0]
    closers: dict[tuple[int, int], tuple[str, int]] = {}
    prev: tokenize.TokenInfo | None = None
    fstrings: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.INDENT:
            if "\t" in tok.string:
                tally.indent["tab"] += 1
            elif len(tok.string) > stack[-1]:
                tally.indent[f"{len(tok.string) - stack[-1]} spaces"] += 1
            stack.append(len(tok.string))
        elif tok.type == tokenize.DEDENT and len(stack) > 1:
            stack.pop()
        elif tok.type == tokenize.STRING and tok.start not in doc_positions and not fstrings:
            _count_quote(tok.string, tally)
        elif tok.type == _FSTRING_START:  # Python 3.12+ splits f-strings into parts
            fstrings.append(tok.start)
        elif tok.type == _FSTRING_END and fstrings:
            start = fstrings.pop()
            if not fstrings and start[0] == tok.end[0] and start not in doc_positions:
                _count_quote(lines[start[0] - 1][start[1] : tok.end[1]], tally)
        elif tok.type == tokenize.OP and tok.string in ")]}" and prev is not None:
            closers[tok.end] = (prev.string, prev.end[0])
        if tok.type not in skip:
            prev = tok
    return closers


def measure_source(text: str) -> Tally:
    """All counts for one source; raises ``SyntaxError`` (or ``ValueError``) if unparseable."""
    tree = ast.parse(text)
    tally = Tally(lines=len(text.splitlines()))
    tally.line_lengths = [len(line.rstrip()) for line in text.splitlines() if line.strip()]
    doc_positions = _expressions(tree, tally)
    try:
        closers = _tokens(text, tally, doc_positions)
    except tokenize.TokenError as exc:
        raise SyntaxError(str(exc)) from None
    _DefVisitor(tally).block(tree.body, "module", True)
    lines = text.splitlines()
    for node in _exploded(tree):
        assert node.end_lineno is not None and node.end_col_offset is not None
        raw = lines[node.end_lineno - 1].encode()[: node.end_col_offset]
        found = closers.get((node.end_lineno, len(raw.decode(errors="replace"))))
        if found and found[1] < node.end_lineno:
            tally.trailing_commas["yes" if found[0] == "," else "no"] += 1
    return tally


# -- repository helpers ---------------------------------------------------------------


def _skipped_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info")


def _git_files(repo: Path) -> list[str] | None:
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    return names or None


def _walk_files(repo: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(repo, followlinks=False):
        dirs[:] = sorted(
            d
            for d in dirs
            if not _skipped_dir(d)
            and not os.path.islink(os.path.join(root, d))
            and not os.path.exists(os.path.join(root, d, "pyvenv.cfg"))
        )
        rel = Path(root).relative_to(repo)
        found.extend((rel / f).as_posix() for f in files)
    return found


def list_python_files(repo: Path) -> list[str]:
    """Repo-relative POSIX paths of ``.py`` files: ``git ls-files`` in a work tree, else a walk.

    Skips VCS, virtualenv (named or holding ``pyvenv.cfg``), build, vendor and cache
    folders, ``.agent_data`` and ``.autopatches``, and never goes through a symlink.
    """
    names = _git_files(repo)
    if names is None:
        names = _walk_files(repo)
    venvs = {str(PurePosixPath(n).parent) + "/" for n in names if n.endswith("pyvenv.cfg")}
    result = []
    for name in sorted(set(names)):
        parts = PurePosixPath(name).parts
        if not name.endswith(".py") or any(_skipped_dir(p) for p in parts[:-1]):
            continue
        if any(name.startswith(v) for v in venvs):
            continue
        path = repo / name
        if any((repo / Path(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1)):
            continue
        if path.is_file():
            result.append(name)
    return result


def file_factor(rel: str) -> float:
    """Weight as style evidence: library 1, docs/examples 0.5, tests 0.3, setup/conf 0.2."""
    parts = [p.lower() for p in PurePosixPath(rel).parts]
    name = parts[-1]
    if name in ("setup.py", "conf.py", "noxfile.py"):  # packaging / Sphinx / task config
        return 0.2
    if name.startswith("test_") or name.endswith("_test.py") or _TEST_PARTS & set(parts):
        return 0.3
    if _AUX_PARTS & set(parts[:-1]):
        return 0.5
    return 1.0


def rank_files(repo: Path, rels: list[str], size_cap: int = 8_000) -> list[str]:
    """Deterministic weighted sampling order (Efraimidis-Spirakis with hashed keys).

    Weight = ``file_factor`` x min(size, ``size_cap``): library code and larger files
    come first more often; above ~200 lines size stops mattering, and ties break by path.
    """
    keyed = []
    for rel in rels:
        try:
            size = (repo / rel).stat().st_size
        except OSError:
            continue
        weight = file_factor(rel) * max(min(size, size_cap), 1)
        digest = hashlib.sha256(rel.encode("utf-8", "surrogateescape")).digest()
        u = (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 2)
        keyed.append((math.log(u) / weight, rel))  # = log of u ** (1 / weight)
    keyed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [rel for _, rel in keyed]


def _valid_length(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 20 <= number <= 1000 else None


def configured_line_length(repo: Path) -> tuple[int, str] | None:
    """The line limit the repo's tools declare: ruff, then black, then flake8."""
    for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
        path = repo / name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            log.debug("ignoring unreadable %s", path)
            continue
        tables = [("[tool.ruff]", data.get("tool", {}).get("ruff", {}))]
        tables.append(("[tool.black]", data.get("tool", {}).get("black", {})))
        if name != "pyproject.toml":
            tables = [("", data)]
        for table, section in tables:
            value = _valid_length(section.get("line-length")) if isinstance(section, dict) else None
            if value:
                return value, f"{name} {table}".strip()
    for name in ("setup.cfg", "tox.ini", ".flake8"):
        path = repo / name
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(path.read_text(encoding="utf-8") if path.is_file() else "")
        except (configparser.Error, UnicodeDecodeError, OSError):
            log.debug("ignoring unreadable %s", path)
            continue
        if parser.has_option("flake8", "max-line-length"):
            value = _valid_length(parser.get("flake8", "max-line-length"))
            if value:
                return value, f"{name} [flake8]"
    return None
