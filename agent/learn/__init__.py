"""Learning: memory → datasets → LoRA → evaluation → a gated promotion.

``loop`` (``autopatch learn``: ``Loop``, ``learn``) with its ``options`` (``LearnOptions``,
``LearnOutcome``, the steps) and ``check`` (held-out edits re-rendered and validated);
``learn --bootstrap`` in ``bootstrap`` (``BootstrapLoop``, ``learn_bootstrap``; options in
``bootstrap_options``, the budget plan in ``budget``), which makes tasks from the repository
itself (``tasks``, with the source changes of ``task_edits`` and the bug mutants of
``mutants``), keeps those its tests confirm (``generate``) and solves them through ``fix``
(``solve``); ``report`` draws the learning curves (``png_plot``).
"""

from agent.learn.bootstrap import learn_bootstrap
from agent.learn.bootstrap_options import BootstrapOptions
from agent.learn.loop import learn
from agent.learn.options import LearnOptions, LearnOutcome

__all__ = ["BootstrapOptions", "LearnOptions", "LearnOutcome", "learn", "learn_bootstrap"]
