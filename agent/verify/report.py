"""Turn sandbox output into short messages written for the LLM that repairs the change.

Tracebacks keep the frames in the repository (paths relative to the scratch root) and
the final exception, and are cut to ``MAX_CHARS``; pytest output is reduced to the
failing node ids, their one-line reasons, the first failure's section, and the changed
lines the traceback passes through.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path

from agent.verify.sandbox import RunResult

MAX_CHARS = 1500
SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.M)
SECTION_HEAD = re.compile(r"^_{3,} (.+?) _{3,}$", re.M)
PYTEST_FRAME = re.compile(r"^(\S+\.py):(\d+): ", re.M)
PY_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)', re.M)
COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected)")
PYTEST_EXIT = {
    2: "was interrupted (usually a collection error: a test module failed to import)",
    3: "hit an internal error",
    4: "was called wrongly (a node id that does not exist, or a bad option)",
    5: "collected no tests",
}


def relativize(text: str, root: Path) -> str:
    """Show paths inside the scratch copy relative to its root, as the LLM knows them."""
    return text.replace(f"{root}/", "").replace(str(root), ".")


def cut(text: str, limit: int = MAX_CHARS) -> str:
    """Keep the head and the end (where the exception is) of ``text`` within ``limit``."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit // 4
    return f"{text[:head].rstrip()}\n  …\n{text[-(limit - head - 5) :].lstrip()}"


def trim_traceback(
    text: str, root: Path, limit: int = MAX_CHARS, *, keep: Path | None = None
) -> str:
    """Drop frames outside the repository (stdlib, site-packages, importlib), then ``cut``.

    ``keep`` is one more file whose frames stay (shown by name): the drafted script.
    """
    if keep is not None:
        text = text.replace(str(keep), keep.name)
    lines = relativize(text, root).splitlines()
    out: list[str] = []
    skipping = False
    for line in lines:
        frame = PY_FRAME.match(line)
        if frame:
            path = frame.group(1)
            skipping = path.startswith(("/", "<")) or "site-packages" in path
            if skipping:
                if not out or out[-1] != "  …":
                    out.append("  …")
                continue
        elif skipping and line.startswith("    "):
            continue
        else:
            skipping = False
        out.append(line)
    return cut("\n".join(out), limit)


def changed_lines(text: str, changed: Collection[str]) -> list[str]:
    """``path line N`` for each traceback frame in a changed file, in order, de-duplicated."""
    found: list[str] = []
    for regex in (PYTEST_FRAME, PY_FRAME):
        for match in regex.finditer(text):
            spot = f"{match.group(1)} line {match.group(2)}"
            if match.group(1) in changed and spot not in found:
                found.append(spot)
    return found


def run_problem(result: RunResult, what: str, wall_s: float, memory_mb: int) -> str | None:
    """The message for a run stopped by the sandbox (time, memory, violation), else None."""
    if result.violation:
        return (
            f"{what} tried to {result.violation.removesuffix('.')} and was stopped. Code run "
            "here may only write files inside the repository copy (the current directory) "
            "and may not use the network."
        )
    if result.timed_out:
        return (
            f"{what} was stopped after {wall_s:g} s (the time limit): it probably loops "
            "forever or waits for input. Make sure every loop ends."
        )
    if result.killed_for_memory:
        return (
            f"{what} ran out of memory (limit {memory_mb} MB) and was stopped: do not build "
            "huge lists or strings; process files one at a time."
        )
    return None


def summarize_pytest(
    result: RunResult,
    root: Path,
    changed: Collection[str],
    label: str,
    spots: Sequence[str] = (),
) -> str:
    """One message for a pytest run of ``label`` (``related tests``, ``full test suite``).

    ``spots`` (``pkg/a.py line 12``) say where the change is, for when the traceback
    does not pass through a changed file itself.
    """
    out = relativize(result.stdout_tail, root)
    if result.rc == 0:
        counts = ", ".join(f"{n} {kind}" for n, kind in COUNTS.findall(out)[-3:])
        return f"the {label} passed ({counts or 'pytest exited 0'})"
    if "No module named pytest" in result.stderr_tail:
        return f"pytest is not installed in the Python that runs the {label}; nothing was tested"
    failures = SUMMARY_LINE.findall(out)
    if not failures:
        why = PYTEST_EXIT.get(result.rc, f"exited with code {result.rc}")
        tail = cut(relativize(result.stdout_tail + "\n" + result.stderr_tail, root))
        return f"pytest {why} while running the {label}:\n{tail}"
    shown = [f"{node} ({kind.lower()}: {reason or 'see below'})" for kind, node, reason in failures]
    head = f"{len(failures)} of the {label} failed: {shown[0]}"
    if len(shown) > 1:
        head += f"; also {', '.join(n for _, n, _ in failures[1:4])}"
        head += " …" if len(shown) > 4 else ""
    section = _first_section(out)
    through = changed_lines(section, changed)
    where = ""
    if through:
        where = f"\nThe traceback passes through the change in {', '.join(through[:3])}."
    elif spots:
        where = f"\nThe change is at {', '.join(spots[:4])}."
    detail = f"\n\n{cut(section)}" if section else ""
    return (
        f"{head}.{where}{detail}\n\nFix the change so that these tests pass; do not edit the "
        "tests unless the issue asks for it."
    )


def _first_section(out: str) -> str:
    """The text of the first ``____ test_name ____`` failure section of pytest output."""
    heads = list(SECTION_HEAD.finditer(out))
    if not heads:
        return ""
    start = heads[0].start()
    end = heads[1].start() if len(heads) > 1 else len(out)
    summary = out.find("short test summary info", start)
    if summary != -1:
        end = min(end, out.rfind("\n", 0, summary))
    return out[start:end].strip()
