"""What the stages of one run share (``RunContext``): the configuration, whose sandbox works
in the run folder, the run folder itself, the repository's digest and style profile, and the
progress line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.run.options import FixConfig
from agent.verify.sandbox import Scratch

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunContext:
    config: FixConfig
    work: Path  # the run folder (scratch copies, scripts, sandbox folders)
    digest: Any
    style: Any = None
    progress: Progress = log.info

    def scratch(self) -> Scratch:
        """A fresh copy of the untouched repository in the run folder."""
        return Scratch(self.config.repo, base_dir=self.work)
