"""LazyLLM: models load on first use; a model that also judges loads once."""

from __future__ import annotations

import pytest

from agent.run.models import LazyLLM
from cores.llm_scripted import ScriptedLLM


def test_the_drafting_model_that_also_judges_is_loaded_once() -> None:
    made: list[ScriptedLLM] = []

    def factory() -> ScriptedLLM:
        made.append(ScriptedLLM([]))
        return made[-1]

    llm = LazyLLM(factory, factory)
    assert made == []  # nothing loaded until asked
    assert llm.can_judge and llm.judge() is llm.get() and len(made) == 1


def test_a_separate_judge_and_no_judge() -> None:
    llm = LazyLLM(lambda: ScriptedLLM([]), lambda: ScriptedLLM([]))
    assert llm.judge() is not llm.get()
    none = LazyLLM(lambda: ScriptedLLM([]))
    assert not none.can_judge
    with pytest.raises(ValueError, match="no judge model"):
        none.judge()
