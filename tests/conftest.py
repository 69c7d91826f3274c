"""Shared fixtures. Model fixtures use the real embedded models; a missing model
fails the test with the command that installs it (never a silent skip)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _model_path(name: str) -> Path:
    from cores import embedded

    if not embedded.is_installed(name):
        pytest.fail(
            f"embedded model {name!r} is not installed; run `autopatch models install {name}`"
        )
    return embedded.locate(name)


@pytest.fixture(scope="session")
def default_gguf() -> Path:
    return _model_path("default")


@pytest.fixture(scope="session")
def quality_gguf() -> Path:
    return _model_path("quality")


@pytest.fixture(scope="session")
def fast_gguf() -> Path:
    return _model_path("fast")


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    return _model_path("minilm")


@pytest.fixture(scope="session")
def default_llm(default_gguf: Path):  # type: ignore[no-untyped-def]
    from cores.llm_llamacpp import LlamaCppLLM, LlamaCppSettings

    llm = LlamaCppLLM(default_gguf, model_id="default", settings=LlamaCppSettings(n_ctx=2048))
    yield llm
    llm.close()


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "agent_data"
    monkeypatch.setenv("AUTOPATCH_DATA_DIR", str(path))
    return path


@pytest.fixture()
def git_repo(tmp_path: Path) -> Path:
    """A real git repository with one committed Python file."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "core.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo
