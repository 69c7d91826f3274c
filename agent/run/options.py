"""How one ``fix`` runs: ``FixOptions`` (what the user asked for: landing, checks, budgets)
and ``FixConfig`` (where it runs: the repository, the data dir, the interpreters, the
sandbox, the memory), the one configuration object of ``FixRun``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.run.budget import Budget
from agent.verify.sandbox import Sandbox
from memory.store import MemoryConfig


@dataclass(frozen=True)
class FixOptions:
    """How ``fix`` runs.

    Fields:
      apply / commit / branch / force: where the validated change lands (nothing by default).
      accept_unverified: let ``apply`` / ``commit`` land an *unverified* change too (one whose
        acceptance checks failed or whose plan does not cover the issue).
      full_tests: the project's whole pytest suite after the related tests: ``auto`` (a
        failure counts only if the test passes without the change; a suite slower than the
        sandbox limit is skipped), ``always`` (slow suites fail), ``never``.
      max_repairs: rounds of repair after the final validation (the full suite, the
        doctests, the acceptance checks) fails; each round drafts within the phase budget.
      candidates: the most drafts per model-written phase (``agent.run.sampler``): the first
        greedy, then repairs with execution feedback and fresh samples; the first draft
        that passes the phase's checks wins. 1 = one greedy draft, no sampling.
      phase_calls / phase_seconds: the rest of a phase's budget: model calls and seconds,
        drafting and checking together, repairs after the final validation included.
      one_model: draft with the configured model only; otherwise every other fresh sample
        of a code slot comes from the judge model where it is another one (the 1.5B).
      spec_llm: how the issue becomes a spec. ``auto``: grounded planning, the rules as one
        proposer and the model (the 1.5B when installed) as the judge; ``always``: the
        free-form LLM backend proposes too; ``never``: the rules alone, no model (fast,
        only for phrasings the rules know).
    """

    apply: bool = False
    commit: bool = False
    accept_unverified: bool = False
    branch: str | None = None
    force: bool = False
    full_tests: str = "auto"
    max_repairs: int = 3
    spec_llm: str = "auto"
    candidates: int = 8
    phase_calls: int = 24
    phase_seconds: float = 300.0
    one_model: bool = False  # draft with the configured model only (no alternate samples)

    def budget(self) -> Budget:
        """The budget of one model-written phase."""
        return Budget(self.candidates, self.phase_calls, self.phase_seconds)

    @property
    def lands(self) -> bool:
        """Whether a validated change goes into the repository (``--apply`` / ``--commit``)."""
        return self.apply or self.commit


@dataclass(frozen=True)
class FixConfig:
    """Where one ``fix`` runs.

    Fields:
      repo: the repository to change (only read until a change is validated).
      data_dir: autopatch's data dir (the run folder, the memory).
      python: the interpreter that runs the project's tests (phase scripts run with
        autopatch's own: they import the codemod library).
      options: what the user asked for (``FixOptions``).
      sandbox: how scripts and tests run (``agent.verify.sandbox.Sandbox``).
      memory: where and how the run is remembered (None: the data dir's JSONL files).
    """

    repo: Path
    data_dir: Path
    python: str
    options: FixOptions = field(default_factory=FixOptions)
    sandbox: Sandbox = field(default_factory=Sandbox)
    memory: MemoryConfig | None = None
