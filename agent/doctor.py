"""``autopatch doctor``: is everything autopatch needs present and working?

Each check returns a ``Check``; red lines carry the command that fixes them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.config import AppConfig
from cores import embedded
from cores.errors import CoreError

OK, WARN, FAIL = "ok", "warn", "fail"
SETUP_HINT = "run the README setup command (`make setup`)"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> Check:
    ver = ".".join(map(str, sys.version_info[:3]))
    return Check("python", OK, f"{ver} ({sys.executable})")
    return Check("python", FAIL, ver, "use Python 3.11 or newer")


def check_import(name: str, dist: str, why: str) -> Check:
    try:
        importlib.import_module(name)
    except Exception as exc:  # any import-time failure is a red line, not a crash
        return Check(dist, FAIL, f"cannot import {name}: {exc}", f"{SETUP_HINT} ({why})")
    return Check(dist, OK, f"{_version(dist) or '?'} — {why}")


def check_llama_cpp() -> Check:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except Exception as exc:
        return Check("llama-cpp-python", FAIL, f"cannot import: {exc}", SETUP_HINT)
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    feats = [part.split("=")[0].strip() for part in info.split("|") if part.strip().endswith("= 1")]
    shown = ", ".join(
        f for f in feats if f in {"AVX", "AVX2", "AVX512", "FMA", "F16C", "NEON", "OPENMP"}
    )
    return Check(
        "llama-cpp-python", OK, f"{llama_cpp.__version__}; CPU features: {shown or info[:80]}"
    )


def check_model(name: str, *, required: bool) -> Check:
    spec = embedded.get(name)
    try:
        path = embedded.locate(name)
    except CoreError as exc:
        return Check(
            f"model {name}",
            FAIL if required else WARN,
            str(exc).split(";")[0],
            f"autopatch models install {name}",
        )
    return Check(f"model {name}", OK, f"{spec.description}; sha256 verified; {path}")


def check_sandbox() -> Check:
    """Which sandbox validation runs in: bubblewrap, or the unisolated fallback (red)."""
    from agent.verify.sandbox import INSTALL_LINE, MODE_BWRAP, sandbox_capability

    mode, detail = sandbox_capability()
    if mode == MODE_BWRAP:
        return Check("sandbox", OK, f"{mode} — {detail}")
    fix = (
        INSTALL_LINE
        if shutil.which("bwrap") is None
        else "allow bwrap to create namespaces (user namespaces, or run it setuid)"
    )
    return Check(
        "sandbox",
        FAIL,
        f"{mode} — {detail}; `fix` refuses to run generated code here unless given "
        "--unsafe-sandbox (config sandbox.unsafe: true)",
        fix,
    )


def check_tree_limit() -> Check:
    """How a run's whole process tree is limited: a cgroup leaf, or per-process rlimits."""
    from agent.verify.sandbox import tree_capability

    kind, detail = tree_capability()
    if kind.startswith("cgroup"):
        return Check("memory limit", OK, detail)
    return Check(
        "memory limit",
        WARN,
        f"{detail}; a tree of processes can use memory_mb each",
        "give this user a writable cgroup v2 (e.g. run under `systemd-run --user --scope "
        "-p Delegate=yes`)",
    )


def check_data_dir(path: Path) -> Check:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            "data dir",
            FAIL,
            f"{path} is not writable: {exc}",
            "set AUTOPATCH_DATA_DIR to a writable folder",
        )
    return Check("data dir", OK, f"{path} writable")


def check_git() -> Check:
    git = shutil.which("git")
    if git is None:
        return Check("git", FAIL, "git not found", "install git (apt-get install git)")
    out = subprocess.run([git, "--version"], capture_output=True, text=True).stdout.strip()
    return Check("git", OK, out)


def check_converters() -> Check:
    from memory.lora_gguf import llama_cpp_tools

    try:
        root = llama_cpp_tools()
    except FileNotFoundError as exc:
        return Check("GGUF converters", WARN, str(exc), "bash scripts/setup.sh --deps")
    return Check("GGUF converters", OK, f"llama.cpp convert_lora_to_gguf.py in {root} (finetune)")


def run_checks(config: AppConfig) -> list[Check]:
    checks: list[Callable[[], Check]] = [
        check_python,
        lambda: check_import("libcst", "libcst", "codemods"),
        check_llama_cpp,
        lambda: check_model("default", required=True),
        lambda: check_model("fast", required=True),
        lambda: check_model("minilm", required=True),
        lambda: check_model("quality", required=False),
        lambda: check_import("faiss", "faiss-cpu", "vector index"),
        lambda: check_import("torch", "torch", "fine-tuning and seq2seq"),
        lambda: check_import("transformers", "transformers", "seq2seq and fine-tuning"),
        lambda: check_import("sentence_transformers", "sentence-transformers", "embeddings"),
        lambda: check_import("networkx", "networkx", "import / call graphs, phase DAG"),
        check_converters,
        check_sandbox,
        check_tree_limit,
        check_git,
        lambda: check_data_dir(config.data_dir),
    ]
    return [check() for check in checks]
