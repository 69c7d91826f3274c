"""A small real package used by the planner tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FILES = {
    "pkg/__init__.py": 'from pkg.users import get_user\n\n__all__ = ["get_user"]\n',
    "pkg/users.py": '''"""Users."""

DEFAULT_ROLE = "member"
_cache_size = 10


def get_user(user_id, db, verbose=False):
    """Fetch a user."""
    return db.lookup(user_id)


def _format_name(first, last):
    return "%s %s" % (first, last)


class Store:
    """A store."""

    def __init__(self, path, timeout, retries=3):
        self.path = path

    def load(self, key):
        return get_user(key, self)

    def save(self, key, value):
        pass
''',
    "pkg/util.py": "def chunks(seq, size):\n    return [seq[i : i + size] for i in range(0, len(seq), size)]\n",
    "tests/test_users.py": "from pkg.users import get_user\n\n\ndef test_get_user():\n    assert get_user\n",
}


@pytest.fixture()
def sample_repo(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def sample_digest(sample_repo: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    from planner.digest import RepositoryDigest

    return RepositoryDigest.build(sample_repo, tmp_path / "cache")
