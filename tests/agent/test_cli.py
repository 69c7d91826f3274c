"""The CLI end to end, through real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import agent


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_help_is_fast_and_imports_no_heavy_library() -> None:
    code = (
        "import sys, agent.cli\n"
        "try:\n    agent.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'llama_cpp', 'transformers', 'faiss') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    assert "doctor" in out.stdout and "models" in out.stdout


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and agent.__version__ in out.stdout


def test_every_subcommand_help_has_an_example() -> None:
    for cmd in ("doctor", "models", "generate"):
        out = run_cli(cmd, "--help")
        assert out.returncode == 0 and "example:" in out.stdout, cmd


def test_bad_config_gives_message_not_traceback(tmp_path: Path) -> None:
    (tmp_path / ".autopatch.yaml").write_text("llm: [broken")
    out = run_cli("models", "list", "--repo", str(tmp_path))
    assert out.returncode == 2
    assert "not valid YAML" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_model_and_missing_schema(tmp_path: Path, data_dir: Path) -> None:
    out = run_cli("models", "use", "nonexistent", "--repo", str(tmp_path))
    assert out.returncode == 2 and "no model named 'nonexistent'" in out.stderr
    out = run_cli(
        "generate", "hi", "--repo", str(tmp_path), "--json-schema", str(tmp_path / "none.json")
    )
    assert out.returncode == 2 and "cannot read JSON schema" in out.stderr
    assert "Traceback" not in out.stderr


def test_models_list_and_use(tmp_path: Path, data_dir: Path) -> None:
    out = run_cli("models", "list", "--json", "--repo", str(tmp_path))
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert listed["active"]["llm"] == "default"
    assert {"default", "quality", "fast", "minilm"} <= {e["name"] for e in listed["entries"]}
    assert run_cli("models", "use", "fast", "--repo", str(tmp_path)).returncode == 0
    again = json.loads(run_cli("models", "list", "--json", "--repo", str(tmp_path)).stdout)
    assert again["active"]["llm"] == "fast"


def test_models_add_rejects_non_gguf(tmp_path: Path, data_dir: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_text("hello")
    out = run_cli("models", "add", "junk", "--path", str(junk), "--repo", str(tmp_path))
    assert out.returncode == 2 and "not a GGUF file" in out.stderr


@pytest.mark.slow
def test_doctor_reports_and_generate_runs(tmp_path: Path, data_dir: Path) -> None:
    out = run_cli("doctor", "--json", "--repo", str(tmp_path))
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    for name in (
        "python",
        "libcst",
        "llama-cpp-python",
        "model default",
        "model fast",
        "model minilm",
        "data dir",
    ):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["sandbox"]["status"] in {"ok", "warn"}
    assert out.returncode == (1 if any(c["status"] == "fail" for c in checks.values()) else 0)
    gen = run_cli(
        "generate",
        "Reply with the word yes.",
        "--model",
        "fast",
        "--max-tokens",
        "8",
        "--json",
        "--repo",
        str(tmp_path),
    )
    assert gen.returncode == 0, gen.stderr
    assert json.loads(gen.stdout)["model_id"].startswith("fast@")


def test_doctor_flags_a_corrupt_model(tmp_path: Path, data_dir: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "models" / "fast").mkdir(parents=True)
    (cache / "models" / "fast" / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF broken")
    out = run_cli(
        "doctor", "--json", "--repo", str(tmp_path), env={"AUTOPATCH_CACHE_DIR": str(cache)}
    )
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert out.returncode == 1
    assert checks["model fast"]["status"] == "fail"
    assert "corrupt" in checks["model fast"]["detail"]
    assert checks["model fast"]["fix"] == "autopatch models install fast"
    assert checks["model default"]["status"] == "fail"  # missing in this empty cache
