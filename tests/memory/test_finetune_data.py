"""Dataset reading, options, results and the errors of ``autopatch finetune`` (fast).

The helpers at the top write small exported-dataset folders the way ``autopatch export``
does; the slow fine-tune tests import them from here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cores.registry import ModelEntry, ModelRegistry
from memory.dequantize import resolve_base
from memory.finetune import FinetuneOptions, FinetuneResult, finetune, finetune_t5
from memory.finetune_data import load_chat, load_pairs
from memory.lora_gguf import ConversionError, extract_tools, llama_cpp_tools

SYSTEM = "You turn a rename request into one JSON operation."


def chat_row(i: int) -> dict[str, object]:
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Rename get_user{i} to fetch_user{i} in pkg/core.py"},
            {
                "role": "assistant",
                "content": json.dumps(
                    {
                        "op": "rename",
                        "target": f"pkg.core.get_user{i}",
                        "new_name": f"fetch_user{i}",
                    }
                ),
            },
        ]
    }


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def chat_dataset(folder: Path, *, train: int = 8, manifest_hash: str = "feedc0de") -> Path:
    """sft/repair/spec train + validation files in TRL's conversational format."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {"sft": train - train // 4, "repair": 0, "spec": train // 4}
    start = 0
    for kind, count in sizes.items():
        write_jsonl(folder / f"{kind}.train.jsonl", [chat_row(start + i) for i in range(count)])
        write_jsonl(folder / f"{kind}.validation.jsonl", [chat_row(100 + start)] if count else [])
        start += count
    (folder / "manifest.json").write_text(json.dumps({"hash": manifest_hash, "kinds": {}}))
    return folder


NAMES = ("alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma")


def spec_pair(old: str, new: str) -> dict[str, object]:
    return {
        "input": f"issue: rename {old} to {new} symbols: pkg.{old}",
        "target": f"- {{op: rename, target: pkg.{old}, params: {{new_name: {new}}}}}",
        "messages": [{"role": "user", "content": old}, {"role": "assistant", "content": new}],
    }


def spec_dataset(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [spec_pair(a, b) for a in NAMES for b in NAMES if a != b]
    write_jsonl(folder / "spec.train.jsonl", rows[:36])
    write_jsonl(folder / "spec.validation.jsonl", rows[36:])
    return folder


# -- fast tests: dataset reading, options, result, errors before any training ----------


def test_load_chat_splits_prompt_and_answer(tmp_path: Path) -> None:
    data = load_chat(chat_dataset(tmp_path / "ds", train=8))
    assert len(data.train) == 8 and len(data.validation) == 2
    first = data.train[0]
    assert [m["role"] for m in first.prompt] == ["system", "user"]
    assert json.loads(first.answer)["new_name"] == "fetch_user0"
    assert data.sha256 == "feedc0de"  # the manifest's hash is the provenance
    assert "sft.train.jsonl" in data.files and "spec.validation.jsonl" in data.files


def test_load_chat_hashes_files_without_manifest_hash(tmp_path: Path) -> None:
    folder = chat_dataset(tmp_path / "ds")
    (folder / "manifest.json").unlink()
    first = load_chat(folder).sha256
    write_jsonl(folder / "repair.train.jsonl", [chat_row(7)])
    assert len(first) == 64 and load_chat(folder).sha256 != first


def test_rows_without_an_answer_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    no_answer = {"messages": [{"role": "user", "content": "hi"}]}
    answer_first = {"messages": [{"role": "assistant", "content": "x"}]}
    write_jsonl(folder / "sft.train.jsonl", [no_answer, answer_first, chat_row(1)])
    assert len(load_chat(folder).train) == 1


def test_missing_folder_and_files_and_empty_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist.*autopatch export"):
        load_chat(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="sft.train.jsonl"):
        load_chat(tmp_path / "empty")
    write_jsonl(tmp_path / "empty" / "sft.train.jsonl", [])
    with pytest.raises(ValueError, match="no chat examples"):
        load_chat(tmp_path / "empty")
    with pytest.raises(ValueError, match="spec.train.jsonl"):
        load_pairs(tmp_path / "empty")
    write_jsonl(tmp_path / "empty" / "spec.train.jsonl", [{"input": "a", "target": ""}])
    with pytest.raises(ValueError, match="no rows with non-empty"):
        load_pairs(tmp_path / "empty")


def test_load_pairs(tmp_path: Path) -> None:
    data = load_pairs(spec_dataset(tmp_path / "ds"))
    assert len(data.train) == 36 and len(data.validation) == 6
    assert data.train[0][1].startswith("- {op: rename")


def test_options_validate_and_default_steps() -> None:
    opts = FinetuneOptions(batch_size=4, target_modules=["q_proj"])  # type: ignore[arg-type]
    assert opts.target_modules == ("q_proj",)
    assert opts.default_steps(10) == 3 and opts.default_steps(1000) == 60
    assert FinetuneOptions(steps=7).default_steps(1000) == 7
    for bad in ({"steps": 0}, {"target_modules": ()}, {"out_name": "a/b"}, {"lr": 0.0}):
        with pytest.raises(ValueError):
            FinetuneOptions(**bad)  # type: ignore[arg-type]


def test_finetune_errors_come_before_any_training(tmp_path: Path, fast_gguf: Path) -> None:
    registry = ModelRegistry(tmp_path / "data")
    work = tmp_path / "data" / "training"
    ds = chat_dataset(tmp_path / "ds")
    with pytest.raises(ValueError, match="does not exist"):
        finetune(tmp_path / "missing", registry, FinetuneOptions(), work_root=work)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_jsonl(empty / "sft.train.jsonl", [])
    with pytest.raises(ValueError, match="no chat examples"):
        finetune(empty, registry, FinetuneOptions(), work_root=work, active_llm="fast")
    with pytest.raises(ValueError, match="unknown base model 'nosuch'.*known:"):
        finetune(ds, registry, FinetuneOptions(base="nosuch"), work_root=work)
    with pytest.raises(ValueError, match="not an LLM"):
        finetune(ds, registry, FinetuneOptions(base="minilm"), work_root=work)
    with pytest.raises(ValueError, match="unknown seq2seq base"):
        finetune_t5(
            spec_dataset(tmp_path / "t5"), registry, FinetuneOptions(base="nosuch"), work_root=work
        )
    registry.add(ModelEntry(name="taken", kind="llm", path=str(fast_gguf)))
    with pytest.raises(ValueError, match="'taken' is already registered"):
        finetune(ds, registry, FinetuneOptions(out_name="taken"), work_root=work, active_llm="fast")
    assert not (work / "taken").exists()


def test_resolve_base_names_and_folders(tmp_path: Path, fast_gguf: Path) -> None:
    registry = ModelRegistry(tmp_path / "data")
    base = resolve_base(None, registry, "fast")
    assert (base.name, base.gguf, base.hf_dir) == ("fast", fast_gguf, None)
    assert base.sha256 == registry.get("fast").sha256
    registry.add(
        ModelEntry(name="fast-ft", kind="llm", path=str(fast_gguf), adapter="x.gguf", base="fast")
    )
    tuned = resolve_base("fast-ft", registry, "default")
    assert tuned.name == "fast" and "fine-tune" in tuned.note
    folder = tmp_path / "hfmodel"
    folder.mkdir()
    with pytest.raises(ValueError, match="no config.json"):
        resolve_base(str(folder), registry, "fast")
    (folder / "config.json").write_text("{}")
    assert resolve_base(str(folder), registry, "fast").hf_dir == folder.resolve()


def test_result_round_trip_and_report(tmp_path: Path) -> None:
    result = FinetuneResult(
        name="fast-lora-1",
        kind="llm",
        base="fast",
        model_path=tmp_path / "base.gguf",
        adapter_path=tmp_path / "a.gguf",
        run_dir=tmp_path,
        dataset={"dir": "ds", "train_examples": 8, "validation_examples": 2},
        hyperparameters={"lora_r": 16},
        metrics={"first_loss": 1.8, "last_loss": 1.2, "eval_loss": 1.1, "steps": 3},
        timings={"dequantize_s": 1.0, "train_s": 2.0, "convert_s": 3.0},
        adapter_bytes=3_700_000,
        modelfile=tmp_path / "Modelfile",
        llama_cpp_command="llama-cli -m base.gguf --lora a.gguf",
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert FinetuneResult.from_dict(data) == result
    text = result.report()
    assert "1.800 → 1.200" in text and "3.7 MB" in text and "--lora a.gguf" in text
    assert "autopatch models use fast-lora-1" in text


def test_llama_cpp_tools_missing_names_the_setup_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOPATCH_CACHE_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="scripts/setup.sh --deps"):
        llama_cpp_tools()
    fake = tmp_path / "fake.tar.gz"
    fake.write_bytes(b"not the sdist")
    with pytest.raises(ConversionError, match="expected 832db069"):
        extract_tools(fake)


def test_llama_cpp_tools_installed_by_setup() -> None:
    tools = llama_cpp_tools()
    assert (tools / "convert_lora_to_gguf.py").is_file()
    assert (tools / "conversion" / "__init__.py").is_file()
    assert (tools / "gguf-py" / "gguf" / "__init__.py").is_file()
