"""StyleProfiler on two synthetic repos of opposite styles, the refiner slot, and the CLI."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from cores.protocols import Seq2Seq
from planner.style import PROFILE_FILE, StyleProfile, StyleProfiler, parse_overrides
from planner.style_files import list_python_files
from planner.style_measure import classify_docstring, classify_name

# Repo A: 4 spaces, single quotes, google docstrings, annotations, f-strings, snake_case,
# trailing commas, from-imports (some relative) and `from __future__ import annotations`.
STYLE_A = '''\
"""Module {n}: item storage."""

from __future__ import annotations

from pathlib import Path

from .helpers import tidy_name

MAX_ITEMS_{n} = 10
DEFAULT_NAME_{n} = 'alpha'


class ItemStore{n}:
    """Keeps named items."""

    def add_item(self, item_name: str, item_count: int = 1) -> int:
        """Add an item.

        Args:
            item_name: the name.
            item_count: how many.

        Returns:
            The new total.
        """
        new_total = item_count + len(tidy_name(item_name))
        label = f'{{item_name}}: {{new_total}}'
        return len(label)

    def drop_item(self, item_name: str) -> None:
        """Forget an item.

        Args:
            item_name: the name.
        """
        for each_key in sorted(
            [item_name, 'other'],
            key=len,
        ):
            print(f'dropping {{each_key}}')


def load_items(base_dir: Path, item_limit: int = MAX_ITEMS_{n}) -> list[str]:
    """Load items.

    Args:
        base_dir: where to look.
        item_limit: how many.

    Returns:
        The names found.
    """
    found_names = [
        'one',
        'two',
    ]
    message = f'loaded {{len(found_names)}} from {{base_dir}}'
    return found_names[:item_limit] + [message]
'''

# Repo B: 2 spaces, double quotes, reST docstrings, no annotations, %-format, camelCase,
# no trailing commas, plain `import x`, and one long line per file (measured limit 99).
STYLE_B = '''\
"""Module {n}: item storage."""
import os
import sys

maxItems{n} = 10
defaultName{n} = "beta"


class ItemStore{n}:
  """Keeps named items."""

  def addItem(self, itemName, itemCount=1):
    """Add an item.

    :param itemName: the name.
    :param itemCount: how many.
    :returns: the new total.
    """
    newTotal = itemCount + len(itemName)
    label = "%s: %d" % (itemName, newTotal)
    return len(label)

  def dropItem(self, itemName):
    """Forget an item.

    :param itemName: the name.
    """
    for eachKey in sorted(
      [itemName, "other"],
      key=len
    ):
      sys.stdout.write("dropping %s" % eachKey)


def loadItems(baseDir, itemLimit=maxItems{n}):
  """Load items.

  :param baseDir: where to look.
  :param itemLimit: how many.
  :returns: the names found.
  """
  foundNames = [
    "one",
    "two"
  ]
  # a deliberately long comment line so that the measured 99th percentile is 95 chars, ok......
  message = "loaded %d from %s" % (len(foundNames), baseDir)
  return foundNames[:itemLimit] + [message, os.sep]
'''

HELPERS_A = "from __future__ import annotations\n\n\ndef tidy_name(raw_name: str) -> str:\n    return raw_name.strip()\n"  # fmt: skip

SNIPPET_A = '''\
def count_items(item_names: list[str], item_limit: int = 3) -> str:
    """Count items.

    Args:
        item_names: the names.
        item_limit: the cap.

    Returns:
        A summary.
    """
    kept_names = item_names[:item_limit]
    return f'{len(kept_names)} items'
'''

SNIPPET_B = '''\
def countItems(itemNames, itemLimit=3):
  """Count items.

  :param itemNames: the names.
  :param itemLimit: the cap.
  :returns: a summary.
  """
  keptNames = itemNames[:itemLimit]
  return "%d items" % len(keptNames)
'''


@pytest.fixture
def repo_a(tmp_path: Path) -> Path:
    repo = tmp_path / "repo_a"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'a'\n\n[tool.ruff]\nline-length = 79\n")
    for n in range(4):
        (repo / "pkg" / f"mod{n}.py").write_text(STYLE_A.format(n=n))
    (repo / "pkg" / "helpers.py").write_text(HELPERS_A)
    (repo / "pkg" / "broken.py").write_text("def broken(:\n    pass\n")
    (repo / "pkg" / "latin1.py").write_bytes(b"name = '\xe9t\xe9'\n")
    # Things the profiler must not read: a virtualenv and a symlink to repo B-style code.
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "site.py").write_text(STYLE_B.format(n=9))
    (repo / "myenv" / "lib").mkdir(parents=True)
    (repo / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo / "myenv" / "lib" / "os.py").write_text(STYLE_B.format(n=6))
    (repo / "build").mkdir()
    (repo / "build" / "gen.py").write_text(STYLE_B.format(n=8))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.py").write_text(STYLE_B.format(n=7))
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    return repo


@pytest.fixture
def repo_b(tmp_path: Path) -> Path:
    repo = tmp_path / "repo_b"
    (repo / "lib").mkdir(parents=True)
    for n in range(4):
        (repo / "lib" / f"mod{n}.py").write_text(STYLE_B.format(n=n))
    return repo


@pytest.fixture
def profile_a(repo_a: Path) -> StyleProfile:
    return StyleProfiler(repo_a).profile()


@pytest.fixture
def profile_b(repo_b: Path) -> StyleProfile:
    return StyleProfiler(repo_b).profile()


class FixedSeq2Seq:
    """A deterministic stand-in for an external seq2seq model: one canned reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    @property
    def model_id(self) -> str:
        return "test:fixed"

    def generate(
        self, inputs: Sequence[str], *, max_new_tokens: int = 256, num_beams: int = 1
    ) -> list[str]:
        self.prompts.extend(inputs)
        return [self.reply for _ in inputs]


def test_files_skip_venvs_builds_symlinks_and_count_unreadable(repo_a: Path) -> None:
    files = list_python_files(repo_a)
    assert files == [f"pkg/{n}.py" for n in ("broken", "helpers", "latin1", "mod0", "mod1", "mod2", "mod3")]  # fmt: skip
    profile = StyleProfiler(repo_a).profile()
    assert profile.files_sampled == 5 and profile.files_skipped == 2


def test_profile_of_repo_a(profile_a: StyleProfile) -> None:
    p = profile_a
    assert p.indent == "4 spaces" and p.indent_shares == {"4 spaces": 1.0}
    assert p.quote == "single" and p.single_quote_share == 1.0
    assert (p.line_length, p.line_length_source) == (79, "pyproject.toml [tool.ruff]")
    assert p.line_length_stats["max"] == max(len(ln) for ln in STYLE_A.format(n=0).splitlines())
    assert p.naming == {
        "functions": "snake_case",
        "methods": "snake_case",
        "classes": "PascalCase",
        "constants": "UPPER_CASE",
        "variables": "snake_case",
        "parameters": "snake_case",
    }
    assert p.naming_shares["parameters"]["snake_case"] == 1.0
    assert p.docstring_style == "google"
    assert p.docstring_shares["google"] > 0.5 and p.docstring_shares["rest"] == 0.0
    assert 0.5 < p.docstring_coverage < 1.0  # tidy_name has none
    assert p.annotated_params == 1.0 and p.annotated_returns == 1.0 and p.use_annotations
    assert p.from_import_share == 1.0 and 0.0 < p.relative_import_share < 1.0
    assert p.future_annotations_share == 1.0 and p.future_annotations
    assert p.formatting == "fstring" and p.formatting_counts == {"fstring": 12, "format": 0, "percent": 0}  # fmt: skip
    assert p.trailing_comma_share == 1.0
    assert p.refined_by is None and p.refined_fields == ()


def test_profile_of_repo_b(profile_b: StyleProfile) -> None:
    p = profile_b
    assert p.indent == "2 spaces" and p.indent_shares == {"2 spaces": 1.0}
    assert p.quote == "double" and p.single_quote_share == 0.0
    assert p.line_length_stats["p99"] == p.line_length_stats["max"] == 95
    assert (p.line_length, p.line_length_source) == (99, "measured p99")
    assert p.naming == {
        "functions": "camelCase",
        "methods": "camelCase",
        "classes": "PascalCase",
        "constants": "camelCase",
        "variables": "camelCase",
        "parameters": "camelCase",
    }
    assert p.docstring_style == "rest" and p.docstring_coverage == 1.0
    assert p.annotated_params == 0.0 and p.annotated_returns == 0.0 and not p.use_annotations
    assert p.from_import_share == 0.0 and p.relative_import_share == 0.0
    assert not p.future_annotations
    assert p.formatting == "percent" and p.formatting_counts["percent"] == 12
    assert p.trailing_comma_share == 0.0
    assert p.formatter_settings() == {
        "line_length": 99,
        "indent": "  ",
        "quote": '"',
        "docstring_style": "rest",
        "use_annotations": False,
        "fstrings": False,
        "future_annotations": False,
        "trailing_commas": False,
    }


def test_profile_is_deterministic_and_json_serialisable(repo_a: Path) -> None:
    first, second = StyleProfiler(repo_a).profile(), StyleProfiler(repo_a).profile()
    assert first == second and first.profile_hash() == second.profile_hash()
    assert len(first.profile_hash()) == 16
    assert StyleProfile.from_dict(json.loads(json.dumps(first.to_dict()))) == first


def test_score_prefers_the_repos_own_style(
    profile_a: StyleProfile, profile_b: StyleProfile
) -> None:
    assert profile_a.score(SNIPPET_A) > profile_a.score(SNIPPET_B)
    assert profile_b.score(SNIPPET_B) > profile_b.score(SNIPPET_A)
    assert profile_a.score(SNIPPET_A) > 0.9 and profile_b.score(SNIPPET_B) > 0.9
    assert profile_a.score("def broken(:\n") == 0.0
    assert profile_b.score("x = (") == 0.0
    assert 0.0 <= profile_a.score("pass\n") <= 1.0


def test_save_load_round_trip(profile_a: StyleProfile, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert StyleProfiler.load(data_dir) is None
    path = StyleProfiler.save(profile_a, data_dir)
    assert path == data_dir / PROFILE_FILE
    assert [p.name for p in data_dir.iterdir()] == [PROFILE_FILE]  # no temp file left
    assert StyleProfiler.load(data_dir) == profile_a
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        StyleProfiler.load(data_dir)


def test_from_dict_rejects_other_schema_versions(profile_a: StyleProfile) -> None:
    with pytest.raises(ValueError, match="schema_version"):
        StyleProfile.from_dict({**profile_a.to_dict(), "schema_version": 99})


def test_refiner_override_is_applied(repo_a: Path, profile_a: StyleProfile) -> None:
    refiner = FixedSeq2Seq('{"quote": "double", "naming": {"constants": "snake_case"}}')
    assert isinstance(refiner, Seq2Seq)
    refined = StyleProfiler(repo_a, refiner=refiner).profile()
    assert refined.quote == "double" and profile_a.quote == "single"
    assert refined.naming["constants"] == "snake_case"
    assert refined.naming["functions"] == "snake_case"  # merged, not replaced
    assert refined.refined_by == "test:fixed"
    assert refined.refined_fields == ("naming", "quote")
    [prompt] = refiner.prompts
    assert prompt.startswith('style: {"docstring_style":"google"') and " code: " in prompt


@pytest.mark.parametrize(
    "reply",
    ["garbage, not json", '{"quote": "triple"}', '{"colour": "blue"}', "[1, 2]", "{}", ""],
)
def test_invalid_refiner_output_is_ignored_with_a_warning(
    repo_a: Path, profile_a: StyleProfile, reply: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="planner.style"):
        refined = StyleProfiler(repo_a, refiner=FixedSeq2Seq(reply)).profile()
    assert refined == profile_a
    assert "output ignored" in caplog.text


def test_parse_overrides_checks_every_value() -> None:
    assert parse_overrides('{"line_length": 100, "indent": "tab"}') == (
        {"line_length": 100, "indent": "tab"},
        None,
    )
    assert parse_overrides('{"line_length": true}')[1]
    assert parse_overrides('{"naming": {"functions": "kebab"}}')[1]


@pytest.mark.slow
def test_untrained_tiny_t5_output_is_ignored(
    repo_a: Path, profile_a: StyleProfile, tmp_path: Path
) -> None:
    from cores.seq2seq import TransformersSeq2Seq, make_tiny_t5

    corpus = [STYLE_A.format(n=0), STYLE_B.format(n=0), json.dumps(profile_a.fingerprint())]
    model = TransformersSeq2Seq(make_tiny_t5(tmp_path / "tiny-t5", corpus))
    refined = StyleProfiler(repo_a, refiner=model).profile()
    assert refined == profile_a and refined.refined_by is None


def test_classifiers() -> None:
    assert [classify_name(n) for n in ("load_items", "loadItems", "ItemStore", "MAX_N", "_x", "__")] == [
        "snake_case", "camelCase", "PascalCase", "UPPER_CASE", "lower", None,
    ]  # fmt: skip
    assert classify_docstring("Do it.\n\nParameters\n----------\nx : int\n") == "numpy"
    assert classify_docstring("Do it.\n\n:param x: the x") == "rest"
    assert classify_docstring("Do it.\n\nArgs:\n    x: the x") == "google"
    assert classify_docstring("Do it.") == "plain"


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOPATCH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _porcelain(repo: Path) -> str:
    cmd = ["git", "-C", str(repo), "status", "--porcelain", "--ignored"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_cli_profile_json_leaves_the_repo_alone(git_repo: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "agent_data"
    before = _porcelain(git_repo)
    out = _cli("profile", "--repo", str(git_repo), "--json", data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    profile = StyleProfile.from_dict(result["profile"])
    assert profile.files_sampled == 2 and profile.quote == "single"
    assert profile.indent == "4 spaces" and profile.naming["functions"] == "snake_case"
    assert result["profile_hash"] == profile.profile_hash()
    assert result["formatter_settings"]["indent"] == "    "
    assert result["path"] == str(data_dir / PROFILE_FILE)
    assert StyleProfiler.load(data_dir) == profile
    assert _porcelain(git_repo) == before


def test_cli_profile_table_and_help(repo_b: Path, tmp_path: Path) -> None:
    out = _cli("profile", "--repo", str(repo_b), data_dir=tmp_path / "d")
    assert out.returncode == 0, out.stderr
    assert "camelCase" in out.stdout and "2 spaces" in out.stdout
    help_out = _cli("profile", "--help", data_dir=tmp_path / "d")
    assert "example: autopatch profile --repo" in help_out.stdout
