"""``learn --bootstrap``: budget, resumable loop, the gate on a real tuned model, the report."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from agent.config import AppConfig
from agent.learn.bootstrap import BootstrapLoop, learn_bootstrap
from agent.learn.bootstrap_options import BootstrapOptions
from agent.learn.budget import fit_budget
from agent.learn.report import report
from cores.llm_scripted import ScriptedLLM
from cores.registry import ModelRegistry
from cores.types import LLMConfig
from memory.finetune_train import use_cuda
from memory.finetune_types import FinetuneOptions
from memory.store import Memory
from memory.training_runs import TrainingRun, TrainingRunLog
from tests.agent.bootstrap_repo import make_repo
from tests.agent.test_learn import shop_with_memory  # noqa: F401  (fixture)

GOOD = json.dumps({"docstring": "Return the values, changed as the name says."})


def test_the_budget_picks_more_work_for_more_minutes() -> None:
    small, large = fit_budget(30, kinds=3), fit_budget(240, kinds=3)
    assert small.train_tasks < large.train_tasks and small.steps < large.steps
    assert (small.max_length, small.lora_r) == (512, 8)
    assert (large.max_length, large.lora_r) == (1024, 16)
    gpu = fit_budget(30, kinds=3, device="cuda")
    assert gpu.steps > small.steps and gpu.finetune()["device"] == "cuda"
    faster = fit_budget(30, kinds=3, tokens_per_s=80)
    assert faster.steps > small.steps
    total = small.generate_s + small.solve_s + small.evaluate_s + small.train_s
    assert abs(total - 30 * 60) < 1
    with pytest.raises(ValueError):
        fit_budget(0, kinds=3)


def test_device_passes_through_and_cuda_without_a_gpu_is_an_error() -> None:
    assert FinetuneOptions(device="cuda").device == "cuda"
    with pytest.raises(ValueError, match="device"):
        FinetuneOptions(device="tpu")
    assert use_cuda("auto", True) and not use_cuda("auto", False) and not use_cuda("cpu", True)
    with pytest.raises(ValueError, match="no CUDA"):
        use_cuda("cuda", False)


@pytest.fixture()
def config(tmp_path: Path) -> AppConfig:
    repo = make_repo(tmp_path)
    return AppConfig(repo=repo, data_dir=tmp_path / "data", llm=LLMConfig(model="fast"))


def _options(**kw: object) -> BootstrapOptions:
    base: dict[str, object] = {
        "budget_minutes": 5,
        "kinds": ("docstring",),
        "device": "cpu",
        "test_per_kind": 1,
        "python": sys.executable,
    }
    return BootstrapOptions(**{**base, **kw})  # type: ignore[arg-type]


def test_an_interrupted_loop_resumes_with_its_tasks(config: AppConfig) -> None:
    first = BootstrapLoop(config, _options())
    tasks = first.tasks()
    stamp = (first.work / "tasks.jsonl").stat().st_mtime_ns
    again = BootstrapLoop(config, _options())
    assert again.work == first.work
    assert again.tasks() == tasks
    assert (again.work / "tasks.jsonl").stat().st_mtime_ns == stamp
    train, test = again.split(tasks)
    assert len(test) == 1 and len(train) == len(tasks) - 1
    assert not {t.group for t in train} & {t.group for t in test}
    # an export the interrupted loop already wrote is reused, not written again
    out = config.data_dir / "datasets" / again.learn.run_id
    out.mkdir(parents=True)
    manifest = {"hash": "h", "kinds": {"sft": {"train": 3, "validation": 0}}, "splits": {}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert again.export() == (out, manifest)
    assert again.learn.dataset == out and again.learn.fields["examples"]["sft"]["train"] == 3


@pytest.mark.slow
def test_the_gate_refuses_a_worse_tuned_model(config: AppConfig, fast_gguf: Path) -> None:
    """The whole loop for real (tasks, fix, export, LoRA on SmolLM2, GGUF); the tuned model
    then drafts worse (its scripted replies fail), and the gate keeps the current one."""

    def factory(name: str) -> ScriptedLLM:
        return ScriptedLLM([GOOD] * 40 if name == "fast" else [], model_id=name)

    stages: list[str] = []
    run = learn_bootstrap(
        config,
        _options(),
        bar=lambda stage, done, total: stages.append(stage),
        llm_factory=factory,
    )
    data = run.bootstrap or {}
    assert run.status == "kept" and "not promoted" in run.decision
    assert ModelRegistry(config.data_dir).active_names()["llm"] == "default"
    assert run.candidate_model and run.candidate_model.startswith("learn-bootstrap-")
    kinds = data["kinds"]
    assert kinds["docstring"]["before"] == 1.0 and kinds["docstring"]["after"] == 0.0
    assert kinds["docstring"]["n_test"] == 1 and data["tasks"]["test"] == 1
    assert data["solved"]["solved"] >= 1 and data["train_examples"] >= 1
    assert data["synthetic_rows"]["sft"]["train"] >= 1
    assert data["real_rows"]["sft"] == {"train": 0, "validation": 0}
    assert {"generating tasks", "solving training tasks"} <= set(stages)
    assert all(s.get("synthetic") for s in Memory(config.data_dir).successes())
    assert TrainingRunLog(config.data_dir).runs()[-1] == run
    png, text, points = report(config.data_dir)
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.examples for p in points] == [0, data["train_examples"]]


def _chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, i = {}, 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length : i + 12 + length])
        assert crc == zlib.crc32(kind + body)
        out[kind] = out.get(kind, b"") + body
        i += 12 + length
    return out


def _loop(run_id: str, before: float, after: float, examples: int) -> TrainingRun:
    kinds = {
        k: {"n_test": 10, "before": before, "after": after, "before_ci": [0.1, 0.6],
            "after_ci": [0.2, 0.8], "gain": after - before, "gain_ci": [-0.1, 0.4]}
        for k in ("all", "docstring", "fix")
    }  # fmt: skip
    return TrainingRun(
        run_id=run_id, started_utc="2026-12-07T00:00:00Z", status="kept", current_model="default",
        candidate_model=f"learn-{run_id}",
        bootstrap={"kinds": kinds, "wall_s": 1800, "train_examples": examples},
    )  # fmt: skip


def test_the_report_writes_a_valid_png_and_a_table(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = TrainingRunLog(data)
    log.append(_loop("a", 0.3, 0.4, 40))
    log.append(_loop("b", 0.4, 0.55, 90))
    repo = make_repo(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "agent", "learn", "--report", "--repo", str(repo),
         "--data-dir", str(data), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    png = Path(shown["png"])
    assert [p["examples"] for p in shown["points"]] == [0, 40, 90]
    chunks = _chunks(png.read_bytes())
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, color) == (1200, 520, 8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + 3 * width)
    rows = [raw[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height)]
    pixels = {bytes(r[i : i + 3]) for r in rows for i in range(0, len(r), 3)}
    assert bytes((31, 119, 180)) in pixels and bytes((0, 0, 0)) in pixels  # a curve, the axes
    table = png.with_suffix(".md").read_text()
    assert "| b | learn-b | 90 | 60.0 | all | 10 | 0.55 | 0.20–0.80 |" in table
    assert "| start | default | 0 | 0.0 | fix | 10 | 0.30 |" in table


def test_real_runs_that_get_worse_block_a_significant_gain(
    shop_with_memory: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The user's real held-out runs (from real scripted `fix` runs) are replayed with both
    models; a candidate that answers them worse is refused whatever the synthetic gain."""
    import shutil

    from memory.held_out import success_records
    from memory.significance import bootstrap_gate, compare
    from tests.agent.test_learn import bad, good

    data = tmp_path / "data"
    shutil.copytree(shop_with_memory / ".agent_data" / "memory", data / "memory")
    config = AppConfig(repo=shop_with_memory, data_dir=data, llm=LLMConfig(model="fast"))
    loop = BootstrapLoop(config, _options())
    run_ids = sorted(success_records([data / "memory"]))
    calls = loop.learn.held_out_calls(run_ids)
    assert calls
    replies = {"fast": [good(c) for c in calls], "cand": [bad(c) for c in calls]}
    loop.learn.factory = lambda name: ScriptedLLM(replies[name], model_id=name)
    deltas = loop.real_deltas("cand", run_ids)
    assert deltas is not None and min(deltas.values()) < 0
    ids = [f"t{i}" for i in range(20)]
    gain = compare(dict.fromkeys(ids, False), dict.fromkeys(ids, True), dict.fromkeys(ids, "fix"))
    assert bootstrap_gate(gain, None).better
    verdict = bootstrap_gate(gain, deltas)
    assert not verdict.better and "real runs got worse" in verdict.reason


def test_training_stops_when_its_time_share_is_spent() -> None:
    from transformers import TrainerControl, TrainerState

    from memory.finetune_train import _progress_callback

    said: list[str] = []
    state, control = TrainerState(), TrainerControl()
    state.global_step, state.max_steps = 3, 15
    _progress_callback(said.append, 0, max_seconds=3600).on_step_end(None, state, control)
    assert not control.should_training_stop
    _progress_callback(said.append, 0, max_seconds=0.0).on_step_end(None, state, control)
    assert control.should_training_stop and control.should_save
    assert said == ["time budget: stopping at step 3/15 (0s of 0s)"]
    assert fit_budget(40, kinds=3).finetune()["max_seconds"] == 540.0
