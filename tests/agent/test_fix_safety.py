"""What a model-written change may do when validation runs it, through `autopatch fix` itself.

The scripted backend stands in for a model that writes hostile or broken code into
`Cart.total`; the related tests then run that code in the sandbox. Every case must be
stopped and reported, and the target repository must stay exactly as it was.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import pytest

from tests.agent.test_fix_cli import fix, memory, shop, snapshot  # noqa: F401  (fixture)

ISSUE = "`Cart.total` is slow"
NO_SPEC = "-"  # the LLM spec backend's turn: unusable, so the planner falls back to an edit


def edit(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return (
        "```python\ndef total(self, tax=TAX_RATE):\n"
        f"{lines}\n"
        "    return calc_total([p * q for p, q in self.items.values()], tax)\n```"
    )


def run_fix(repo: Path, reply: str, *extra: str) -> tuple[int, str]:
    out = fix(
        repo,
        ISSUE,
        "--apply",
        "--max-repairs",
        "0",
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={json.dumps([NO_SPEC, reply])}",
        *extra,
    )
    assert "Traceback" not in out.stderr
    return out.returncode, out.stderr


@pytest.fixture()
def listener():  # type: ignore[no-untyped-def]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                seen.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.mark.slow
def test_a_write_outside_the_scratch_copy_is_stopped(shop: Path) -> None:  # noqa: F811
    target = Path.home() / f".autopatch-escape-{uuid.uuid4().hex}"
    before = snapshot(shop)
    rc, err = run_fix(shop, edit(f"open({str(target)!r}, 'w').write('escaped')"))
    assert rc == 1 and "validation failed at related_tests" in err
    assert not target.exists()
    assert snapshot(shop) == before


@pytest.mark.slow
def test_a_socket_never_reaches_the_host(shop: Path, listener) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    port, seen = listener
    before = snapshot(shop)
    code = f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2).send(b'x')"
    rc, err = run_fix(shop, edit(code))
    assert rc == 1 and "related_tests" in err
    assert seen == []
    assert snapshot(shop) == before


@pytest.mark.slow
def test_an_endless_loop_is_killed_at_the_wall_limit(shop: Path) -> None:  # noqa: F811
    before = snapshot(shop)
    rc, err = run_fix(shop, edit("while True:\n    pass"), "--set", "sandbox.wall_s=20")
    assert rc == 1 and "related_tests" in err
    assert "time" in err.lower()  # the report names the wall-time limit
    assert snapshot(shop) == before
    assert memory(shop, "failures.jsonl")


@pytest.mark.slow
def test_allocating_10_gb_is_stopped(shop: Path) -> None:  # noqa: F811
    before = snapshot(shop)
    rc, err = run_fix(shop, edit("hoard = bytearray(10 * 1024**3)\nhoard[-1] = 1"))
    assert rc == 1 and "related_tests" in err
    assert "MemoryError" in err or "memory" in err.lower()
    assert snapshot(shop) == before


def test_the_first_draft_that_passes_lands(shop: Path) -> None:  # noqa: F811
    """The sampler: a broken draft goes back with its error; the repair that passes wins and
    no further draft is asked for (the scripted backend would fail a third call)."""
    broken = edit("undefined_helper()")  # fails the lint check (undefined name)
    good = (
        "```python\ndef total(self, tax=TAX_RATE):\n"
        "    lines = [price * qty for price, qty in self.items.values()]\n"
        "    return calc_total(lines, tax)\n```"
    )
    out = fix(
        shop,
        ISSUE,
        "--apply",
        "--accept-unverified",  # "`Cart.total` is slow" states nothing that can be run
        "--candidates",
        "2",
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={json.dumps([NO_SPEC, broken, good])}",
    )
    assert out.returncode == 3, out.stderr
    assert "01_edit: draft 2 passed" in out.stderr
    assert "lines = [price * qty" in (shop / "shop" / "cart.py").read_text()
    drafts = [a for a in memory(shop, "attempts.jsonl") if a.get("phase") == "01_edit"]
    assert [a["outcome"] for a in drafts] == ["failed", "validated"]
    assert "undefined_helper" in drafts[1]["messages"][-1]["content"]  # the error went back
