"""A small real repository for the bootstrap tests (git, a package and its pytest tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

MODULE = '''"""Small helpers for numbers and lists."""


def clamp(value: int, low: int, high: int) -> int:
    """Limit the given value to the closed range from low up to high."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def scale(values: list[int], factor: int = 2) -> list[int]:
    """Multiply every element of values by the factor given."""
    return [v * factor for v in values]


def window(items, size, *, step=1):
    """Consecutive slices of the items, each of the requested size."""
    return [items[i : i + size] for i in range(0, len(items) - size + 1, step)]


def get_label(n):
    return "n=" + str(n)
'''

TESTS = """from mathy.core import clamp, get_label, scale, window


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10
    assert clamp(0, 0, 10) == 0
    assert clamp(10, 0, 10) == 10


def test_scale():
    assert scale([1, 2]) == [2, 4]
    assert scale([1, 2], 3) == [3, 6]


def test_window():
    assert window([1, 2, 3], 2) == [[1, 2], [2, 3]]
    assert window([1, 2, 3, 4], 2, step=2) == [[1, 2], [3, 4]]


def test_label():
    assert get_label(3) == "n=3"
"""

ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def make_repo(root: Path) -> Path:
    """``root/proj``: package ``mathy`` with one module and its tests, committed."""
    import os

    repo = root / "proj"
    (repo / "mathy").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "mathy" / "__init__.py").write_text("")
    (repo / "mathy" / "core.py").write_text(MODULE)
    (repo / "tests" / "test_core.py").write_text(TESTS)
    env = {**os.environ, **ENV}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo
