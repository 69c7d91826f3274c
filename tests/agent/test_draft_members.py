"""Class edits one method at a time: pick the methods (JSON), then one short reply each."""

from __future__ import annotations

import json
from pathlib import Path

from agent.codemods.apply import apply_operation
from agent.codemods.base import Applied, RepoFiles
from agent.draft import Drafter
from agent.draft.members import join_replies, outline
from cores.llm_scripted import ScriptedLLM
from planner.phases import Phase
from planner.spec import Operation

CLASS = '''class Saver:
    """Saves."""

    def __init__(self, path):
        self.path = path

    @property
    def part(self):
        """The temporary file."""
        return self.path + ".part"

    def save(self, data):
        with open(self.part, "w") as fh:
            fh.write(data)
'''
MODULE = "import os\n\n\n" + CLASS


class Digest:
    kind, module, path = "class", "pkg.mod", "pkg/mod.py"
    line, end_line = 4, 4 + CLASS.count("\n")

    def find(self, name: str) -> list[object]:
        return [self] if name == "pkg.mod.Saver" else []

    def module_path(self, module: str) -> str | None:
        return None


def test_outline_keeps_signatures_and_first_docstring_lines() -> None:
    text = outline(CLASS)
    assert "def save(self, data):" in text and '"""The temporary file."""' in text
    assert "fh.write" not in text and "@property" in text


def test_join_puts_imports_and_module_lines_first_once() -> None:
    a = "import logging\n\nlog = logging.getLogger(__name__)\n\ndef f(self):\n    log.debug('f')"
    b = "import logging\n\ndef g(self):\n    return 1\n\nif __name__ == '__main__':\n    g(None)"
    joined = join_replies([a, b])
    assert joined.count("import logging") == 1 and joined.index("log =") < joined.index("def f")
    assert joined.endswith("def g(self):\n    return 1") and "__main__" not in joined


def test_the_drafter_edits_a_class_method_by_method(tmp_path: Path) -> None:
    reply = (
        "```python\nimport logging\n\nlog = logging.getLogger(__name__)\n\n"
        "def save(self, data):\n    log.debug('saving %s', self.part)\n"
        "    with open(self.part, 'w') as fh:\n        fh.write(data)\n```"
    )
    llm = ScriptedLLM([json.dumps({"methods": ["save"]}), reply])
    drafter = Drafter(llm, tmp_path, Digest(), issue="Log when Saver saves")
    phase = Phase("01_edit", Operation("edit", "pkg.mod.Saver", {}), ("pkg/mod.py",))
    draft = drafter.draft(phase, {"pkg/mod.py": MODULE})
    assert draft.problem is None and [c.role for c in draft.calls] == ["slot", "slot"]
    schema = llm.calls[0][1].json_schema
    assert schema is not None
    assert schema["properties"]["methods"]["items"]["enum"] == ["__init__", "part", "save"]
    assert "Current `Saver.save`" in llm.calls[1][0][-1].content
    files = RepoFiles(
        root=tmp_path, sources={"pkg/mod.py": MODULE}, modules={"pkg/mod.py": "pkg.mod"}
    )
    result = apply_operation(files, phase.operation, draft.slots)
    assert isinstance(result, Applied)
    out = result.changes["pkg/mod.py"]
    assert "log = logging.getLogger(__name__)" in out and "log.debug('saving %s', self.part)" in out
    assert '"""The temporary file."""' in out  # untouched methods stay


def test_a_method_reply_that_is_not_a_def_is_the_problem(tmp_path: Path) -> None:
    llm = ScriptedLLM([json.dumps({"methods": ["save"]}), "I cannot do that."])
    drafter = Drafter(llm, tmp_path, Digest(), issue="Log when Saver saves")
    phase = Phase("01_edit", Operation("edit", "pkg.mod.Saver", {}), ("pkg/mod.py",))
    draft = drafter.draft(phase, {"pkg/mod.py": MODULE})
    assert draft.problem is not None and draft.problem.startswith("save:")
