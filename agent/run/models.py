"""The models of one run, created on first use: ``LazyLLM`` (the drafting model, the judge,
the alternate drafter)."""

from __future__ import annotations

from collections.abc import Callable

from cores.protocols import LLM


class LazyLLM:
    """Creates the LLM on first use (many fixes never need it), and the judge model
    (``judge_factory``) on first use of ``judge``. Without a judge factory there is no
    judge (the scripted backend: its canned replies are for drafting, not for judging);
    a judge factory that is ``factory`` itself means the one model also judges (loaded once)."""

    def __init__(
        self, factory: Callable[[], LLM], judge_factory: Callable[[], LLM] | None = None
    ) -> None:
        self._factory = factory
        self._judge_factory = judge_factory
        self._llm: LLM | None = None
        self._judge: LLM | None = None

    def get(self) -> LLM:
        if self._llm is None:
            self._llm = self._factory()
        return self._llm

    @property
    def can_judge(self) -> bool:
        return self._judge_factory is not None

    def judge(self) -> LLM:
        if self._judge_factory is None:
            raise ValueError("no judge model is configured")
        if self._judge_factory is self._factory:
            return self.get()
        if self._judge is None:
            self._judge = self._judge_factory()
        return self._judge

    def alternate(self) -> LLM | None:
        """A second model for drafting: the judge, where it is another model (the 1.5B
        beside the default), else None."""
        if self._judge_factory is None or self._judge_factory is self._factory:
            return None
        judge = self.judge()
        return None if judge.model_id == self.get().model_id else judge

    def close(self) -> None:
        for model in (self._llm, self._judge):
            if model is not None:
                model.close()
