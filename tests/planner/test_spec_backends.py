"""The llm backend on the real 0.5B model, and the t5 backend on a tiny trained T5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cores.llm_scripted import ScriptedLLM
from planner.normalize import SpecNormalizer
from planner.spec import Operation
from planner.spec_llm import SCHEMA, LLMNormalizer, bag_of_symbols, to_operations
from planner.spec_t5 import T5Normalizer, ops_to_text, t5_input, text_to_ops


def test_bag_of_symbols_lists_mentioned_names_and_class_members(sample_digest) -> None:  # type: ignore[no-untyped-def]
    bag = bag_of_symbols("Add docstrings to `Store` methods and fix get_usr", sample_digest)
    joined = "\n".join(bag)
    assert "pkg.users.Store (class, pkg/users.py)" in joined
    assert "pkg.users.Store.load (method" in joined
    assert "pkg.users.get_user" in joined  # fuzzy: get_usr


def test_flat_answer_maps_to_operations() -> None:
    ops = to_operations(
        {"op": "rename", "old_names": ["get_user"], "param": "", "new_name": "fetch", "detail": ""},
        "t",
    )
    assert ops == [Operation("rename", "get_user", {"new_name": "fetch"})]
    ops = to_operations(
        {"op": "modernize", "old_names": ["m"], "param": "", "new_name": "", "detail": "f-strings"},
        "t",
    )
    assert ops[0].params == {"idiom": "fstring"}
    assert to_operations({"op": "nonsense", "old_names": ["x"]}, "t") == []


def test_scripted_llm_control_flow(sample_digest) -> None:  # type: ignore[no-untyped-def]
    """Garbage JSON from the model is survivable; the rules still decide."""
    answer = json.dumps(
        {
            "op": "rename",
            "old_names": ["get_user"],
            "param": "",
            "new_name": "fetch_user",
            "detail": "",
        }
    )
    llm = ScriptedLLM([answer])
    spec = SpecNormalizer(sample_digest, llm=llm).normalize("Rename `get_user` to `fetch_user`.")
    assert [o.target for o in spec.operations] == ["pkg.users.get_user"]
    cands = {c["backend"]: c for c in spec.provenance["candidates"]}
    assert set(cands) == {"rules", "llm"}
    assert "Symbols in the repository" in llm.calls[0][0][1].content
    assert llm.calls[0][1].json_schema == SCHEMA


@pytest.mark.slow
def test_real_default_model_proposes_a_rename(sample_digest, default_llm) -> None:  # type: ignore[no-untyped-def]
    cand = LLMNormalizer(default_llm, sample_digest).propose(
        "Please rename the function get_user to fetch_user everywhere."
    )
    assert cand is not None
    spec = SpecNormalizer(sample_digest, llm=default_llm).normalize(
        "Please rename the function get_user to fetch_user everywhere.", backends=["llm"]
    )
    assert [(o.op, o.target, o.params.get("new_name")) for o in spec.operations] == [
        ("rename", "pkg.users.get_user", "fetch_user")
    ]


def test_t5_text_format_round_trip() -> None:
    ops = [
        Operation("rename", "pkg.f", {"new_name": "g"}),
        Operation("add_docstring", "pkg.C.m", {}),
    ]
    assert text_to_ops(ops_to_text(ops)) == ops


@pytest.mark.slow
def test_tiny_t5_backend_trains_and_proposes(sample_digest, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    from cores.seq2seq import TransformersSeq2Seq, make_tiny_t5, train_seq2seq

    issue = "Rename `get_user` to `fetch_user`."
    target = ops_to_text([Operation("rename", "pkg.users.get_user", {"new_name": "fetch_user"})])
    source = t5_input(issue, bag_of_symbols(issue, sample_digest))
    other = t5_input("Add a docstring to `Store.load`.", [])
    other_target = ops_to_text([Operation("add_docstring", "pkg.users.Store.load", {})])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ckpt = make_tiny_t5(tmp_path / "t5", [source, target, other, other_target])
        train_seq2seq(ckpt, [(source, target), (other, other_target)], steps=250, batch_size=2)
    finally:
        torch.set_num_threads(threads)
    cand = T5Normalizer(TransformersSeq2Seq(ckpt), sample_digest).propose(issue)
    assert cand is not None
    assert cand.operations == (
        Operation("rename", "pkg.users.get_user", {"new_name": "fetch_user"}),
    )


def test_t5_garbage_output_is_ignored(sample_digest) -> None:  # type: ignore[no-untyped-def]
    class Garbage:
        model_id = "garbage"

        def generate(self, inputs, *, max_new_tokens=256, num_beams=1):  # type: ignore[no-untyped-def]
            return ["{{{ not yaml"] * len(inputs)

    assert T5Normalizer(Garbage(), sample_digest).propose("rename x") is None
