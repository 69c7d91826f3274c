#!/usr/bin/env bash
# Run every check: ruff (lint + format), mypy over the four packages, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AUTOPATCH_VENV:-.venv}
export HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE
[ -f "$VENV/.autopatch-setup" ] || bash scripts/setup.sh --deps
B="$VENV/bin"
echo "==> ruff check"; "$B/ruff" check .
echo "==> ruff format --check"; "$B/ruff" format --check .
echo "==> mypy"; "$B/mypy"
echo "==> pytest"; "$B/python" -m pytest -q -ra "$@"
