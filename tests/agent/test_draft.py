from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from agent.draft import Drafter, needed_slots, render_script
from agent.draft.code import check_definition, extract_code, needed_imports
from cores.llm_scripted import ScriptedLLM
from planner.phases import Phase
from planner.spec import Operation


def test_needed_slots() -> None:
    assert needed_slots(Operation("rename", "a.b", {"new_name": "c"})) == ()
    assert needed_slots(Operation("add_docstring", "a.b", {})) == ("docstring",)
    assert needed_slots(Operation("add_docstring", "a.b", {"text": "given"})) == ()
    assert needed_slots(Operation("edit", "a.b", {})) == ("source",)
    assert needed_slots(Operation("modernize", "a", {"idiom": "fstring"})) == ()
    assert needed_slots(Operation("modernize", "a.f", {"idiom": "pathlib"})) == ()


def test_extract_and_check_code() -> None:
    reply = "Here you go:\n```python\ndef f(x):\n    return x + 1\n```\nDone."
    code = extract_code(reply)
    assert code == "def f(x):\n    return x + 1"
    assert check_definition(code, "f") is None
    assert "not `g`" in str(check_definition(code, "g"))
    assert "does not parse" in str(check_definition("def f(:\n", "f"))
    assert "no def or class" in str(check_definition("x = 1", "f"))


def test_needed_imports() -> None:
    module = "import os\n\nCONST = 1\n\ndef helper():\n    pass\n"
    code = "def f(p: Path) -> Any:\n    logging.getLogger(__name__).debug(os.sep)\n    return helper(CONST)\n"
    assert needed_imports(code, module) == [
        "from typing import Any",
        "from pathlib import Path",
        "import logging",
    ]


def test_rendered_script_is_valid_python_with_the_operation_inline() -> None:
    op = Operation("add_docstring", "pkg.mod.f", {})
    text = render_script("01_add_docstring", op, {"docstring": 'Say "hi".\n\nMore.'})
    tree = ast.parse(text)
    assigned = {
        t.id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
    }
    assert assigned["OPERATION"] == op.to_dict()
    assert assigned["SLOTS"] == {"docstring": 'Say "hi".\n\nMore.'}


class _Digest:
    """The two digest queries the drafter uses, over one file."""

    def __init__(self, path: str, line: int, end: int) -> None:
        self.path, self.line, self.end_line, self.kind = path, line, end, "method"

    def find(self, name: str) -> list[_Digest]:
        return [self] if name.endswith("total") else []

    def module_path(self, module: str) -> str | None:
        return None


SOURCE = "class Cart:\n    def total(self):\n        return 1\n"


def test_docstring_slot_with_scripted_llm(tmp_path: Path) -> None:
    llm = ScriptedLLM([json.dumps({"docstring": "Return the total."})])
    drafter = Drafter(llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue="Document total")
    phase = Phase(
        "01_add_docstring",
        Operation("add_docstring", "shop.cart.Cart.total", {}),
        ("shop/cart.py",),
    )
    draft = drafter.draft(phase, {"shop/cart.py": SOURCE})
    assert draft.slots == {"docstring": "Return the total."}
    assert "def total(self):" in llm.calls[0][0][1].content
    assert draft.calls[0].role == "slot" and draft.calls[0].parsed == "Return the total."


def test_edit_slot_repair_feedback_reaches_the_model(tmp_path: Path) -> None:
    llm = ScriptedLLM(["```python\ndef total(self):\n    return 2\n```"])
    drafter = Drafter(llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue="total is wrong")
    phase = Phase("01_edit", Operation("edit", "shop.cart.Cart.total", {}), ("shop/cart.py",))
    draft = drafter.draft(
        phase,
        {"shop/cart.py": SOURCE},
        feedback="test_total failed: 1 != 2",
        previous={"source": "def total(self):\n    return 1"},
    )
    assert draft.slots["source"] == "def total(self):\n    return 2"
    last = llm.calls[0][0][-1].content
    assert "test_total failed" in last and draft.calls[0].role == "repair"


@pytest.mark.slow
def test_real_model_writes_a_docstring(tmp_path: Path, default_llm) -> None:  # type: ignore[no-untyped-def]
    drafter = Drafter(
        default_llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue="Document Cart.total"
    )
    phase = Phase(
        "01_add_docstring",
        Operation("add_docstring", "shop.cart.Cart.total", {}),
        ("shop/cart.py",),
    )
    draft = drafter.draft(phase, {"shop/cart.py": SOURCE})
    assert isinstance(draft.slots["docstring"], str) and draft.slots["docstring"].strip()
    assert draft.calls[0].completion_tokens > 0


def test_unused_leading_imports_are_dropped_from_a_reply() -> None:
    from agent.draft.code import drop_unused_imports

    code = "from typing import List\nimport os, re\nimport json\n\ndef f(x: 'Sequence'):\n    return json.dumps(re.sub('a', 'b', x))"
    out = drop_unused_imports(code)
    assert "typing" not in out and "import os, re" in out and "import json" in out
    assert drop_unused_imports("def f(:") == "def f(:"


def test_node_source_follows_the_node_after_earlier_phases_moved_it() -> None:
    from agent.draft.code import current_span

    src = 'class Bits:\n    def as_list(self):\n        """Added by phase 1."""\n        return []\n\n    @staticmethod\n    def as_hex(x):\n        return hex(x)\n'
    assert current_span(src, "m.Bits.as_hex", "m") == (6, 8)
    assert current_span(src, "m.Bits.nope", "m") is None
    assert current_span(src, "other.Bits", "m") is None


def test_a_docstring_that_parrots_the_issue_is_asked_again_without_it(tmp_path: Path) -> None:
    issue = "Please add a docstring to each one explaining the representation it produces"
    llm = ScriptedLLM(
        [
            json.dumps(
                {"docstring": "Please add a docstring to each one explaining the representation."}
            ),
            json.dumps({"docstring": "Return the total."}),
        ]
    )
    drafter = Drafter(llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue=issue)
    phase = Phase(
        "01_add_docstring",
        Operation("add_docstring", "shop.cart.Cart.total", {}),
        ("shop/cart.py",),
    )
    draft = drafter.draft(phase, {"shop/cart.py": SOURCE})
    assert draft.slots["docstring"] == "Return the total." and draft.problem is None
    assert draft.calls[0].error and "Request" not in llm.calls[1][0][-1].content


def test_a_method_wrapped_in_an_unasked_class_is_picked_out() -> None:
    from agent.draft.code import pick_definition

    reply = "import datetime\n\nclass URLSafe:\n    x = 1\n\n    def unsign(self, value, max_age=None):\n        return value\n"
    picked = pick_definition(reply, "unsign")
    assert picked == "import datetime\n\ndef unsign(self, value, max_age=None):\n    return value"
    assert pick_definition("def unsign():\n    pass\n", "unsign") == "def unsign():\n    pass\n"
    assert pick_definition("class A:\n    pass\n", "unsign") == "class A:\n    pass\n"


def test_add_parameter_asks_for_the_function_with_the_parameter_threaded_in(tmp_path: Path) -> None:
    reply = "```python\ndef total(self, scale=1):\n    return 1 * scale\n```"
    llm = ScriptedLLM([reply])
    drafter = Drafter(
        llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue="total() should take a scale"
    )
    op = Operation("add_parameter", "shop.cart.Cart.total", {"name": "scale", "default": "1"})
    draft = drafter.draft(
        Phase("01_add_parameter", op, ("shop/cart.py",)), {"shop/cart.py": SOURCE}
    )
    assert draft.slots["body"] == "def total(self, scale=1):\n    return 1 * scale"
    assert "`scale` (default `1`)" in llm.calls[0][0][-1].content and draft.problem is None
    quiet = Operation("add_parameter", "shop.cart.Cart.total", {"name": "scale", "body": False})
    assert drafter.slots_for(quiet) == ()


def _document_total(llm: ScriptedLLM, tmp_path: Path, source: str) -> Any:
    """Draft the docstring of `Cart.total` for an issue that asks for its parameters."""
    issue = "Document `Cart.total`: its arguments and what it returns."
    drafter = Drafter(llm, tmp_path, _Digest("shop/cart.py", 2, 3), issue=issue)
    phase = Phase(
        "01_add_docstring",
        Operation("add_docstring", "shop.cart.Cart.total", {}),
        ("shop/cart.py",),
    )
    return drafter.draft(phase, {"shop/cart.py": source})


def test_a_docstring_that_leaves_out_a_parameter_the_issue_asks_for_is_asked_again(
    tmp_path: Path,
) -> None:
    source = "class Cart:\n    def total(self, tax, rounding=2):\n        return 1\n"
    llm = ScriptedLLM(
        [
            json.dumps({"docstring": "Return the total with tax."}),  # no `rounding`
            json.dumps(
                {
                    "docstring": "Return the total.\n\nArgs:\n    tax: the rate.\n    "
                    "rounding: decimal places.\n    colour: no such thing."
                }
            ),  # invents one
        ]
    )
    draft = _document_total(llm, tmp_path, source)
    assert "Describe each parameter (tax, rounding)" in llm.calls[0][0][-1].content
    assert "does not describe `rounding`" in llm.calls[1][0][-1].content
    # the second answer invents `colour`: the first one, which misses least, is kept
    assert draft.slots["docstring"] == "Return the total with tax." and draft.problem is None
    assert draft.calls[1].parsed == {"rejected": draft.calls[1].parsed["rejected"]}


def test_a_parameter_still_missing_after_three_asks_is_asked_for_alone(tmp_path: Path) -> None:
    source = "class Cart:\n    def total(self, tax, rounding=2):\n        return 1\n"
    missing = json.dumps({"docstring": "Return the total with tax."})  # never `rounding`
    llm = ScriptedLLM([missing, missing, missing, json.dumps({"docstring": "Decimal places."})])
    draft = _document_total(llm, tmp_path, source)
    assert "What is the parameter `rounding` of `total`?" in llm.calls[3][0][-1].content
    assert (
        draft.slots["docstring"] == "Return the total with tax.\n\n:param rounding: Decimal places."
    )
    assert draft.problem is None and len(draft.calls) == 4


def test_a_part_with_no_short_phrase_leaves_the_best_docstring_to_the_checks(
    tmp_path: Path,
) -> None:
    """No short phrase for `rounding` either: the draft is the best whole docstring, not a
    failed draft, so it is run and the acceptance check says which parameter it misses."""
    source = "class Cart:\n    def total(self, tax, rounding=2):\n        return 1\n"
    missing = json.dumps({"docstring": "Return the total with tax."})
    rambling = json.dumps({"docstring": " ".join(["word"] * 40)})
    llm = ScriptedLLM([missing, missing, missing, rambling])
    draft = _document_total(llm, tmp_path, source)
    assert draft.slots["docstring"] == "Return the total with tax."
    assert draft.problem is None
    assert draft.calls[-1].parsed == {"rejected": "no short phrase for `rounding`"}


def test_real_model_docstring_names_every_parameter_when_asked(tmp_path: Path, default_llm) -> None:  # type: ignore[no-untyped-def]
    from agent.draft.docstring_text import docstring_gaps

    source = (
        "class Table:\n    def pad(self, rows, col_count, fill=''):\n"
        "        for row in rows:\n            yield row + (fill,) * (col_count - len(row))\n"
    )
    issue = "Document `Table.pad`: what each argument means and what it gives back."
    digest = _Digest("shop/table.py", 2, 4)
    digest.find = lambda name: [digest] if name.endswith("pad") else []  # type: ignore[method-assign]
    drafter = Drafter(default_llm, tmp_path, digest, issue=issue)
    phase = Phase(
        "01_add_docstring",
        Operation("add_docstring", "shop.table.Table.pad", {}),
        ("shop/table.py",),
    )
    draft = drafter.draft(phase, {"shop/table.py": source})
    text = draft.slots["docstring"]
    assert docstring_gaps(text, source.split("\n", 1)[1]) == [], text


def test_a_field_phrase_is_its_first_sentence_without_restating_whose_it_is() -> None:
    from agent.draft.docstring import _phrase

    reply = "The parameter `rows` of `pad` is a list of rows. Each row is a tuple."
    assert _phrase(reply, "rows", "pad") == "A list of rows."
    assert (
        _phrase("It returns an iterator of padded rows.", "", "pad")
        == "An iterator of padded rows."
    )
    assert _phrase("Decimal places.", "rounding", "total") == "Decimal places."
