from __future__ import annotations

import pytest

from planner.spec import OPS, Operation, Spec, SpecError


def test_yaml_round_trip() -> None:
    spec = Spec(
        "i1",
        "rename",
        (Operation("rename", "pkg.f", {"new_name": "g"}),),
        ("pkg/f.py",),
        ("tests/test_f.py",),
    )
    again = Spec.from_yaml(spec.to_yaml())
    assert again == spec
    assert "schema_version: 1" in spec.to_yaml()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("operations: [unclosed", "not valid YAML at line 1"),
        ("- just a list", "must be a mapping"),
        ("issue_id: x\noperations: []", "non-empty `operations`"),
        ("operations:\n  - {op: teleport, target: x}", "unknown op 'teleport'"),
        ("operations:\n  - {op: rename, target: ''}", "non-empty string target"),
        ("operations:\n  - {op: rename, target: x, params: [1]}", "must be a mapping"),
        ("schema_version: 9\noperations:\n  - {op: edit, target: x}", "schema_version 9"),
        ("operations:\n  - {op: edit, target: x}\ntarget_files: nope", "must be a list"),
    ],
)
def test_malformed_spec_yaml(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        Spec.from_yaml(text, source="spec.yaml")


def test_param_checks() -> None:
    assert Operation("rename", "f", {}).check_params() == ["rename on f: missing param 'new_name'"]
    assert "idiom must be one of" in Operation("modernize", "m", {"idiom": "x"}).check_params()[0]
    assert "needs `after` or `names`" in Operation("make_keyword_only", "f", {}).check_params()[0]
    assert all(info.description for info in OPS.values())
