"""llama.cpp's converters (PEFT adapter → GGUF adapter, HF model → GGUF), run offline.

The scripts ship in the llama-cpp-python sdist under ``vendor/llama.cpp/``:
``convert_lora_to_gguf.py`` and ``convert_hf_to_gguf.py`` plus the ``conversion/``
package and ``gguf-py/`` they import. ``scripts/setup.sh`` fetches the pinned sdist
with pip and extracts just those into ``<cache>/llama.cpp-<version>/``
(``python -m memory.lora_gguf install``); nothing is fetched at run time and no
llama.cpp code lives in this repository.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from cores.embedded import cache_dir, sha256_file
from cores.gguf_meta import check_adapter

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
# sha256 of llama_cpp_python-0.3.36.tar.gz as published on PyPI.
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
SETUP_HINT = "bash scripts/setup.sh --deps  (or: python -m memory.lora_gguf install)"
_SCRIPTS = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py")
_PACKAGES = ("conversion/", "gguf-py/gguf/")
_STAMP = ".complete"
_CONVERT_TIMEOUT_S = 3600


class ConversionError(RuntimeError):
    """A llama.cpp converter failed or wrote something llama.cpp would not load."""


def tools_dir() -> Path:
    return cache_dir() / f"llama.cpp-{LLAMA_CPP_PYTHON_VERSION}"


def llama_cpp_tools() -> Path:
    """The folder holding the extracted converters; a clear error when setup has not run."""
    root = tools_dir()
    if not (root / _STAMP).is_file() or not all((root / s).is_file() for s in _SCRIPTS):
        raise FileNotFoundError(
            f"llama.cpp's GGUF converters are not installed (looked in {root}); "
            f"run `{SETUP_HINT}` once (it extracts them from the pinned "
            f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} sdist)"
        )
    return root


def _wanted(member: str) -> str | None:
    """The path below ``vendor/llama.cpp/`` to keep, or None."""
    _, sep, rel = member.partition("/vendor/llama.cpp/")
    if not sep or ".." in Path(rel).parts:
        return None
    if rel.startswith("convert_") and "/" not in rel and rel.endswith(".py"):
        return rel
    if rel == "LICENSE" or rel == "gguf-py/pyproject.toml":
        return rel
    return rel if any(rel.startswith(p) for p in _PACKAGES) else None


def extract_tools(sdist: Path) -> Path:
    """Check the sdist's hash and extract the converters into the cache (atomically)."""
    digest = sha256_file(sdist)
    if digest != SDIST_SHA256:
        raise ConversionError(
            f"{sdist} has sha256 {digest}, expected {SDIST_SHA256} "
            f"(llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION})"
        )
    final = tools_dir()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            for member in tar:
                rel = _wanted(member.name)
                if rel is None or not member.isfile():
                    continue
                src = tar.extractfile(member)
                if src is None:
                    continue
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out)
        missing = [s for s in _SCRIPTS if not (staging / s).is_file()]
        if missing or not (staging / "gguf-py" / "gguf" / "__init__.py").is_file():
            raise ConversionError(f"{sdist} lacks the llama.cpp converters ({missing})")
        (staging / _STAMP).write_text(json.dumps({"sdist_sha256": digest}))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def install_tools(*, force: bool = False) -> Path:
    """Setup-time only: fetch the pinned sdist with pip (cached) and extract the converters."""
    if not force:
        try:
            return llama_cpp_tools()
        except FileNotFoundError:
            pass
    sdists = cache_dir() / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    sdist = sdists / f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}.tar.gz"
    if not sdist.is_file() or sha256_file(sdist) != SDIST_SHA256:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(sdists),
            f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not sdist.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ConversionError(
                "pip could not fetch the llama-cpp-python sdist: " + " / ".join(tail)
            )
    return extract_tools(sdist)


def _run(script: str, args: list[str], what: str) -> None:
    tools = llama_cpp_tools()
    env = dict(os.environ)
    # The vendored gguf-py matches the scripts; it goes before the installed ``gguf``.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(tools / "gguf-py"), str(tools), env.get("PYTHONPATH", "")) if p
    )
    env.pop("NO_LOCAL_GGUF", None)
    env["HF_HUB_OFFLINE"] = "1"
    cmd = [sys.executable, str(tools / script), *args]
    log.debug("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=_CONVERT_TIMEOUT_S)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise ConversionError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def convert_adapter(peft_dir: Path, hf_base: Path, out: Path, base_gguf: Path) -> Path:
    """PEFT LoRA folder → f16 GGUF adapter, validated against ``base_gguf`` before returning."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.unlink(missing_ok=True)
    args = ["--base", str(hf_base), "--outtype", "f16", "--outfile", str(tmp), str(peft_dir)]
    _run("convert_lora_to_gguf.py", args, "converting the LoRA adapter to GGUF")
    try:
        check_adapter(tmp, base_gguf)  # llama.cpp segfaults on a bad adapter: check first
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"the converted adapter is unusable: {exc}") from None
    os.replace(tmp, out)
    return out


def convert_model(hf_dir: Path, out: Path, *, outtype: str = "q8_0") -> Path:
    """A full HF model folder → GGUF (used for merged models and folder bases)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.unlink(missing_ok=True)
    args = ["--outtype", outtype, "--outfile", str(tmp), str(hf_dir)]
    _run("convert_hf_to_gguf.py", args, f"converting {hf_dir.name} to GGUF")
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m memory.lora_gguf",
        description="install llama.cpp's GGUF converters into the user cache (setup time)",
    )
    parser.add_argument("action", choices=["install", "where"])
    parser.add_argument("--force", action="store_true", help="re-extract even when present")
    parser.add_argument("--sdist", type=Path, help="use this llama-cpp-python sdist file")
    args = parser.parse_args(argv)
    if args.action == "where":
        path = llama_cpp_tools()
    elif args.sdist:
        path = extract_tools(args.sdist)
    else:
        path = install_tools(force=args.force)
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
