"""``finetune_t5``: the Seq2Seq spec normalizer trained from exported spec pairs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_finetune_data import spec_dataset

from cores.registry import ModelRegistry
from cores.seq2seq import TransformersSeq2Seq
from memory.finetune import FinetuneOptions, FinetuneResult, finetune_t5

pytestmark = pytest.mark.slow


def test_t5_from_scratch_then_from_its_checkpoint(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "data")
    work = tmp_path / "data" / "training"
    data = spec_dataset(tmp_path / "ds")
    lines: list[str] = []
    options = FinetuneOptions(out_name="spec-t5", steps=150, batch_size=8, t5_d_model=64)

    result = finetune_t5(data, registry, options, work_root=work, progress=lines.append)

    assert result.kind == "seq2seq" and result.adapter_path is None
    m = result.metrics
    assert m["validation_pairs"] == 6 and 0.0 <= m["exact_match"] <= 1.0
    assert m["last_loss"] < m["first_loss"] / 4  # it learned the pattern
    assert m["train_exact_match"] > 0.0
    assert any(line.startswith("step 150/150") for line in lines)
    assert (result.model_path / "model.safetensors").is_file()
    assert result.adapter_bytes == (result.model_path / "model.safetensors").stat().st_size
    entry = registry.get("spec-t5")
    assert entry.kind == "seq2seq" and entry.path == str(result.model_path)
    assert entry.provenance["hyperparameters"]["from_scratch"] is True
    assert entry.provenance["metrics"]["exact_match"] == m["exact_match"]
    assert entry.provenance["dataset"]["train_examples"] == 36
    assert "seq2seq" not in registry.active_names()  # registered, not active
    saved = json.loads((result.run_dir / "result.json").read_text())
    assert FinetuneResult.from_dict(saved) == result
    assert "exact match on 6 validation pair(s)" in result.report()

    model = TransformersSeq2Seq(result.model_path)
    out = model.generate(["issue: rename alpha to beta symbols: pkg.alpha"], max_new_tokens=64)
    assert out[0].startswith("- {op: rename")

    # a configured checkpoint folder as the base: trained further with options.lr
    start = tmp_path / "start"
    shutil.copytree(result.model_path, start)
    more = FinetuneOptions(out_name="spec-t5-2", base=str(start), steps=20, lr=1e-3, batch_size=8)
    second = finetune_t5(data, registry, more, work_root=work)
    assert second.base == "start" and second.hyperparameters["from_scratch"] is False
    assert second.metrics["first_loss"] < m["first_loss"] / 2  # started from trained weights
    assert registry.get("spec-t5-2").base == "start"
