"""`autopatch index` end to end, through a subprocess on a real git repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_index(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "index", *args],
        env={**os.environ, "AUTOPATCH_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_index_json_then_incremental(git_repo: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (git_repo / "pkg" / "bad.py").write_bytes(b"X = '\xff'\n")
    out = run_index("--repo", str(git_repo), "--json", data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert (first["files"], first["parsed"], first["reused"]) == (2, 2, 0)
    assert first["definitions"] == 1 and first["definitions_by_kind"] == {"function": 1}
    assert first["skipped_files"] == [
        {"relpath": "pkg/bad.py", "reason": first["skipped_files"][0]["reason"]}
    ]
    assert first["skipped_reasons"] == {"not UTF-8 / bad encoding": 1}
    assert first["index"] == str(data_dir / "index")
    assert (data_dir / "index" / "digest.json").is_file()
    assert not (git_repo / ".agent_data").exists()

    (git_repo / "pkg" / "core.py").write_text("def greet(name):\n    return name\n\n\nX = 1\n")
    again = json.loads(run_index("--repo", str(git_repo), "--json", data_dir=data_dir).stdout)
    assert (again["parsed"], again["reused"], again["definitions"]) == (1, 1, 2)


def test_index_human_summary_and_help(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "pkg" / "broken.py").write_text("def broken(:\n")
    out = run_index("--repo", str(git_repo), data_dir=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert "3 files (3 parsed, 0 reused from cache, 0 removed), 0 skipped" in out.stdout
    assert "could not parse pkg/broken.py" in out.stdout
    assert "1 definitions (1 function)" in out.stdout
    assert "index at" in out.stderr and "Traceback" not in out.stderr
    helped = run_index("--help", data_dir=tmp_path / "data")
    assert helped.returncode == 0 and "example:" in helped.stdout and "--embed" in helped.stdout


def test_index_of_a_missing_folder_is_a_message(tmp_path: Path) -> None:
    out = run_index("--repo", str(tmp_path / "nowhere"), data_dir=tmp_path / "data")
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_index_embed_uses_minilm(git_repo: Path, tmp_path: Path, minilm_dir: Path) -> None:
    out = run_index("--repo", str(git_repo), "--json", "--embed", data_dir=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert (stats["embedded_chunks"], stats["embedded_files"]) == (1, 2)
    assert (tmp_path / "data" / "index" / "vectors" / "index.faiss").is_file()
