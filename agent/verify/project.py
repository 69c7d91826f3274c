"""What validation needs to know about a project: its tests, import path and lint findings.

``detect_test_command`` reads ``.autopatch.yaml``, pytest / tox / nox / Makefile config;
``select_related_tests`` picks test files through the digest's import graph;
``src_layout`` / ``python_path`` give the import path; ``ruff_findings`` runs ruff's
pyflakes rules on one file's text; ``in_scope`` says whether a path lies in
a plan's scope.
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from planner.digest_query import is_test_path

if TYPE_CHECKING:
    from planner.digest_query import DigestQueries

log = logging.getLogger(__name__)

LINT_CODES = "F401,F811,F821,F841"
NOT_IMPORTED = frozenset({"setup.py", "conftest.py", "noxfile.py", "__main__.py", "manage.py"})


def importable(rel: str) -> bool:
    """A non-test module whose path parts are identifiers (so ``import`` can name it)."""
    parts = rel[:-3].split("/")
    return (
        rel.rsplit("/", 1)[-1] not in NOT_IMPORTED
        and not is_test_path(rel)
        and all(p.isidentifier() for p in parts)
    )


def src_layout(root: Path) -> bool:
    """``src/<pkg>/__init__.py`` exists: modules are imported with ``src`` on the path."""
    return any((root / "src").glob("*/__init__.py"))


def python_path(root: Path) -> str:
    """The import path of the project: ``src`` (if a src layout) and the root."""
    return os.pathsep.join([str(root / "src"), str(root)]) if src_layout(root) else str(root)


def find_ruff() -> str | None:
    """The ruff binary next to this Python, from the ruff package, or on PATH."""
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file():
        return str(beside)
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("ruff")


def ruff_findings(ruff: str, rel: str, text: str) -> list[dict[str, Any]]:
    """ruff's F401/F811/F821/F841 findings for ``text`` as file ``rel`` (config ignored)."""
    out = subprocess.run(
        [ruff, "check", "--isolated", "--select", LINT_CODES, "--output-format", "json"]
        + ["--per-file-ignores", "__init__.py:F401", "--stdin-filename", rel, "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if out.returncode not in (0, 1):
        log.warning("ruff failed on %s: %s", rel, out.stderr.strip()[:200])
        return []
    return [
        {
            "code": f["code"],
            "message": f["message"],
            "row": f["location"]["row"],
            "column": f["location"]["column"],
        }
        for f in json.loads(out.stdout or "[]")
        if f.get("code")
    ]


def select_related_tests(digest: DigestQueries, changed: Iterable[str]) -> list[str]:
    """Test files that import a changed module (import graph), plus changed test files."""
    tests: set[str] = set()
    for rel in changed:
        if not rel.endswith(".py"):
            continue
        if is_test_path(rel):
            if rel.rsplit("/", 1)[-1] != "conftest.py":
                tests.add(rel)
        elif rel in digest.files:
            tests.update(digest.tests_importing(rel))
    return sorted(t for t in tests if is_pytest_file(t))


def is_pytest_file(path: str) -> bool:
    """A file pytest collects by default (``test_*.py`` / ``*_test.py``)."""
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def detect_test_command(repo: str | Path) -> list[str] | None:
    """The project's test command; a leading ``python`` means the validating interpreter.

    ``.autopatch.yaml`` ``test_command`` (string or list) wins; else pytest when pytest is
    configured or a ``tests``/``test`` folder exists; else tox or nox; else ``make test``.
    """
    root = Path(repo)
    configured = _autopatch_yaml(root).get("test_command")
    if isinstance(configured, str) and configured.strip():
        return shlex.split(configured)
    if isinstance(configured, list) and configured:
        return [str(w) for w in configured]
    pyproject = _toml(root / "pyproject.toml")
    tool = pyproject.get("tool", {})
    setup_cfg, tox_ini = _ini(root / "setup.cfg"), _ini(root / "tox.ini")
    if (
        (root / "pytest.ini").is_file()
        or "ini_options" in tool.get("pytest", {})
        or setup_cfg.has_section("tool:pytest")
        or tox_ini.has_section("pytest")
        or (root / "tests").is_dir()
        or (root / "test").is_dir()
    ):
        return ["python", "-m", "pytest"]
    if (root / "tox.ini").is_file() or "tox" in tool or setup_cfg.has_section("tox:tox"):
        return ["tox"]
    if (root / "noxfile.py").is_file():
        return ["nox"]
    for name in ("GNUmakefile", "Makefile", "makefile"):
        path = root / name
        if path.is_file() and any(
            "test" in line.split(":", 1)[0].split()
            for line in path.read_text(errors="replace").splitlines()
            if ":" in line and not line.startswith(("\t", "#"))
        ):
            return ["make", "test"]
    return None


def _autopatch_yaml(root: Path) -> dict[str, Any]:
    path = root / ".autopatch.yaml"
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        log.warning("%s is not valid YAML (%s); ignoring it", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text()) if path.is_file() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("%s is not valid TOML (%s); ignoring it", path, exc)
        return {}


def _ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        log.warning("%s is not valid INI (%s); ignoring it", path, exc)
    return parser


def in_scope(path: str, scope: Collection[str]) -> bool:
    """``path`` is a scope entry, lies under a folder entry (``pkg/``), or matches a glob."""
    from fnmatch import fnmatchcase

    if path.endswith(".pyi") and in_scope(path[:-1], scope):
        return True  # the stub beside a module in scope changes with it
    return any(
        path == entry
        or (entry.endswith("/") and path.startswith(entry))
        or (any(c in entry for c in "*?[") and fnmatchcase(path, entry))
        for entry in scope
    )
