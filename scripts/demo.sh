#!/usr/bin/env bash
# The main job on the embedded default model: `autopatch fix` on a copy of examples/shop
# (a real issue on a small real repository), then the patch it applied.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AUTOPATCH_VENV:-.venv}
export HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/shop "$work/shop"
cd "$work/shop"
git init -q && git add -A && git -c user.name=demo -c user.email=demo@localhost commit -qm base
echo "==> issue:"; sed 's/^/    /' ISSUE.md
echo "==> autopatch fix --issue-file ISSUE.md --apply"
# The demo repository is ours; without bubblewrap it runs in the (unisolated) fallback.
unsafe=()
command -v bwrap >/dev/null 2>&1 || { unsafe=(--unsafe-sandbox); echo "    (no bubblewrap: --unsafe-sandbox for this demo)"; }
"$OLDPWD/$VENV/bin/autopatch" fix --issue-file ISSUE.md --apply "${unsafe[@]}"
echo "==> git diff after --apply:"
git --no-pager diff
echo "==> the project's tests on the patched tree:"
"$OLDPWD/$VENV/bin/python" -m pytest -q -p no:cacheprovider
