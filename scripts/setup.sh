#!/usr/bin/env bash
# Set up autopatch on a fresh machine (Python 3.11, gcc, cmake): a virtualenv in
# .venv with everything, the embedded models in the user cache, then a check.
#
#   scripts/setup.sh            everything, then `autopatch doctor` and the demo job
#   scripts/setup.sh --deps     packages and models only (what the tests need)
#
# The llama-cpp-python build (8-16 min on 2 cores) happens once: the wheel is
# kept in ~/.cache/autopatch/build-wheels-<cpu> and reused by later setups.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-all}
PY=${PYTHON:-python3}
VENV=${AUTOPATCH_VENV:-.venv}
CACHE=${AUTOPATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopatch}
LLAMA_VERSION=0.3.36
TORCH_VERSION=2.13.0
export HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Sandbox: bubblewrap, where the package manager lets us (best effort).
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "installing bubblewrap (sandbox for generated code)"
  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }) \
    || echo "bubblewrap unavailable; autopatch will use its weaker rlimit sandbox"
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip

# CPU torch first: otherwise a dependency may pull a multi-GB CUDA build.
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  say "installing torch $TORCH_VERSION (CPU)"
  "${PIP[@]}" install -q "torch==$TORCH_VERSION"
fi

# llama-cpp-python ships only as an sdist: build the wheel once per CPU type.
CPU_KEY=$( (grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m) | md5sum | cut -c1-10)
WHEELS="$CACHE/build-wheels-$CPU_KEY"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  say "building llama-cpp-python $LLAMA_VERSION (once; 8-16 min on 2 cores)"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "${PIP[@]}" wheel -q --no-deps \
    "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
fi

say "installing autopatch and its dependencies"
"${PIP[@]}" install -q --find-links "$WHEELS" -e ".[llm,ml,pg,dev]"

# llama.cpp's converters (PEFT adapter -> GGUF) for `autopatch finetune`: pip fetches the
# pinned llama-cpp-python sdist (usually from its cache), only the scripts are extracted.
say "extracting llama.cpp's GGUF converters into $CACHE/llama.cpp-$LLAMA_VERSION"
"$VENV/bin/python" -m memory.lora_gguf install >/dev/null

say "installing the embedded models into $CACHE/models"
"$VENV/bin/autopatch" -q models install --all

# The real-repository tests use patchbench's pinned sdists (from PyPI) and its evaluation
# interpreter (pytest + freezegun), both cached under ~/.cache/patchbench.
if [ -f ../shared/bench/run.py ]; then
  say "fetching the patchbench sdists (tests on real repositories)"
  "$VENV/bin/python" ../shared/bench/run.py setup >/dev/null
fi

mkdir -p "$VENV" && date -u +%FT%TZ > "$VENV/.autopatch-setup"
[ "$MODE" = "--deps" ] && exit 0

say "autopatch doctor"
# A red sandbox line (no bubblewrap) is reported, not fatal: the demo still runs.
if ! "$VENV/bin/autopatch" doctor; then
  command -v bwrap >/dev/null 2>&1 && exit 1
  echo "bubblewrap is missing: install it for the sandbox (apt-get install bubblewrap)"
fi
say "demo: autopatch fix on examples/shop with the default model"
bash scripts/demo.sh
