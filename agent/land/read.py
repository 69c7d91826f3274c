"""Reading the patch sets CommitBuilder wrote under ``<repo>/.autopatches/``.

``list_patch_sets`` (newest first) and ``read_patch_set`` back ``autopatch list`` and
``autopatch show``. Whether a patch is in the current checkout is asked of git
(``git apply --reverse --check``), so it is right however the patch landed.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.land.builder import PATCH_DIR, is_git_repo

_STAMP = re.compile(r"^(\d{8}-\d{6})-")
_DIFF_FILE = re.compile(r"^diff --git a/(?:.*) b/(.*)$", re.M)


@dataclass(frozen=True)
class PatchSetInfo:
    """One patch-set folder.

    Fields:
      name: the folder name, ``<timestamp>-<slug>`` (the patch id).
      time: when it was written, ``YYYY-MM-DD HH:MM:SS`` (local time).
      files: the files the diff touches.
      validation: ``passed``, ``unverified: <why>``, ``failed at <check>`` or ``unknown``
        (from validation.json).
      state: in the current checkout: ``committed`` (in HEAD), ``applied`` (in the
        working tree only), ``not applied``, ``conflicts`` (applies neither way) or
        ``unknown`` (no git repository, or an empty diff).
    """

    name: str
    path: Path
    time: str
    files: tuple[str, ...]
    validation: str
    state: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "time": self.time,
            "files": list(self.files),
            "validation": self.validation,
            "state": self.state,
        }


def patch_root(repo: Path) -> Path:
    return repo / PATCH_DIR


def patch_set_names(repo: Path) -> list[str]:
    """Folder names under ``.autopatches/``, newest first (staging folders left out)."""
    root = patch_root(repo)
    if not root.is_dir():
        return []
    return sorted(
        (p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        reverse=True,
    )


def find_patch_set(repo: Path, key: str) -> Path | None:
    """The folder that ``key`` names exactly, or the only one it is a prefix of."""
    names = patch_set_names(repo)
    if key in names:
        return patch_root(repo) / key
    matches = [n for n in names if key and n.startswith(key)]
    if len(matches) > 1:
        raise ValueError(f"{key!r} matches several patch sets: {', '.join(matches[:10])}")
    return patch_root(repo) / matches[0] if matches else None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _time(folder: Path) -> str:
    m = _STAMP.match(folder.name)
    if m:
        try:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.strptime(m.group(1), "%Y%m%d-%H%M%S"))
        except ValueError:
            pass
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(folder.stat().st_mtime))


def validation_status(validation: dict[str, Any] | None) -> str:
    if validation is None:
        return "unknown"
    if validation.get("ok"):
        return "passed"
    if validation.get("outcome") == "unverified":
        return f"unverified: {str(validation.get('why', ''))[:80]}"
    failed = next((c for c in validation.get("checks", []) if not c.get("ok")), None)
    return f"failed at {failed.get('name')}" if failed else "failed"


def _git_ok(repo: Path, *args: str) -> bool:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return proc.returncode == 0


def landing_state(repo: Path, diff_file: Path, files: tuple[str, ...]) -> str:
    """Where the patch is in the current checkout; see ``PatchSetInfo.state``."""
    if not files or not is_git_repo(repo):
        return "unknown"
    if _git_ok(repo, "apply", "--reverse", "--check", str(diff_file)):
        in_head = _git_ok(repo, "diff", "--quiet", "HEAD", "--", *files)
        return "committed" if in_head else "applied"
    if _git_ok(repo, "apply", "--check", str(diff_file)):
        return "not applied"
    return "conflicts"


def patch_set_info(repo: Path, folder: Path) -> PatchSetInfo:
    diff = _read(folder / "patch.diff")
    files = tuple(dict.fromkeys(_DIFF_FILE.findall(diff)))
    return PatchSetInfo(
        name=folder.name,
        path=folder,
        time=_time(folder),
        files=files,
        validation=validation_status(_json(folder / "validation.json")),
        state=landing_state(repo, folder / "patch.diff", files),
    )


def list_patch_sets(repo: Path, limit: int | None = None) -> list[PatchSetInfo]:
    names = patch_set_names(repo)[:limit]
    return [patch_set_info(repo, patch_root(repo) / n) for n in names]


def read_patch_set(repo: Path, folder: Path) -> dict[str, Any]:
    """Everything in one patch set: its info plus summary, diff, spec, plan, validation."""
    scripts = folder / "scripts"
    return {
        **patch_set_info(repo, folder).to_dict(),
        "summary": _read(folder / "summary.md"),
        "diff": _read(folder / "patch.diff"),
        "spec_yaml": _read(folder / "spec.yaml"),
        "plan": _json(folder / "plan.json"),
        "validation_report": _json(folder / "validation.json"),
        "scripts": sorted(p.name for p in scripts.iterdir()) if scripts.is_dir() else [],
    }
