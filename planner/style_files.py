"""Which files the StyleProfiler samples, in what order, and the configured line limit."""

from __future__ import annotations

import configparser
import hashlib
import logging
import math
import os
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

from planner.style_measure import AUX_PARTS, SKIP_DIRS, TEST_PARTS

log = logging.getLogger(__name__)


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
    if name.startswith("test_") or name.endswith("_test.py") or TEST_PARTS & set(parts):
        return 0.3
    if AUX_PARTS & set(parts[:-1]):
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
