"""The issue's `>>>` examples as a behaviour probe: parsing, sandboxed runs, and in `fix`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.acceptance.examples import issue_examples, run_examples, unchanged_report
from agent.verify.sandbox import Sandbox
from tests.agent.test_fix_cli import fix, memory, shop  # noqa: F401  (fixture)

ISSUE = """`calc_total` of an empty cart

```python
>>> from shop import calc_total
>>> calc_total([])
0.0
>>> calc_total(
...     [1.005], tax=0)
1.0
```
An empty list is a bug in the caller: it should raise ValueError.
"""


def test_examples_are_parsed_with_continuations() -> None:
    assert issue_examples(ISSUE) == [
        "from shop import calc_total",
        "calc_total([])",
        "calc_total(\n    [1.005], tax=0)",
    ]
    assert issue_examples("no examples here") == []


def test_examples_run_in_the_sandbox_with_reprs_and_exceptions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(x):\n    return 1 / x\n")
    out = run_examples(["import m", "m.f(2)", "m.f(0)"], tmp_path, sys.executable, Sandbox())
    assert out == [None, "0.5", "ZeroDivisionError: division by zero"]
    assert "still give" in unchanged_report(["m.f(2)"], ["0.5"])


def test_a_fix_that_changes_nothing_observable_is_sent_back(shop: Path) -> None:  # noqa: F811
    same = "```python\ndef calc_total(prices, tax=TAX_RATE):\n    total = sum(prices)\n    return round(total * (1 + tax), 2)\n```"
    fixed = "```python\ndef calc_total(prices, tax=TAX_RATE):\n    if not prices:\n        raise ValueError('empty cart')\n    return round(sum(prices) * (1 + tax), 2)\n```"
    out = fix(
        shop,
        ISSUE,
        "--apply",
        "--accept-unverified",  # "it should raise ValueError" is prose: nothing runs it
        "--set",
        "llm.backend=scripted",
        "--set",
        f"llm.replies={json.dumps(['-', same, fixed])}",
    )
    assert out.returncode == 3, out.stderr
    assert "raise ValueError('empty cart')" in (shop / "shop" / "cart.py").read_text()
    outcomes = [a["outcome"] for a in memory(shop, "attempts.jsonl") if a.get("role") != "spec"]
    assert outcomes == ["no behaviour change", "validated"]
    repair = [a for a in memory(shop, "attempts.jsonl") if a.get("role") == "repair"][0]
    assert "calc_total([])\n0.0" in repair["messages"][-1]["content"]


def test_examples_that_use_an_unimported_package_get_it_imported(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(x):\n    return x * 2\n")
    out = run_examples(["m.f(2)", "undefined_thing"], tmp_path, sys.executable, Sandbox())
    assert out == ["4", "NameError: name 'undefined_thing' is not defined"]
    assert run_examples(["nope.f(1)"], tmp_path, sys.executable, Sandbox()) is None
