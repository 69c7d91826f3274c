from __future__ import annotations

import pytest

from planner.phases import PhasePlanner, PlanError
from planner.spec import Operation, Spec


def _spec(*ops: Operation) -> Spec:
    return Spec("t", "t", tuple(ops))


def test_work_on_a_symbol_runs_before_its_rename(sample_digest) -> None:  # type: ignore[no-untyped-def]
    plan = PhasePlanner(sample_digest).plan(
        _spec(
            Operation("rename", "pkg.users.Store", {"new_name": "Shop"}),
            Operation("add_docstring", "pkg.users.Store.load", {}),
        )
    )
    assert [p.operation.op for p in plan.phases] == ["add_docstring", "rename"]
    assert plan.phases[1].depends_on == (plan.phases[0].id,)


def test_scope_and_related_tests(sample_digest) -> None:  # type: ignore[no-untyped-def]
    plan = PhasePlanner(sample_digest).plan(
        _spec(Operation("rename", "pkg.users.get_user", {"new_name": "fetch"}))
    )
    phase = plan.phases[0]
    assert "pkg/users.py" in phase.files and "pkg/__init__.py" in phase.files
    assert "tests/test_users.py" in phase.files  # a reference site
    assert "tests/test_users.py" in phase.related_tests


def test_provider_before_user_and_independent_files_keep_order(sample_digest) -> None:  # type: ignore[no-untyped-def]
    plan = PhasePlanner(sample_digest).plan(
        _spec(
            Operation("edit", "pkg.util.chunks", {"instruction": "x"}),
            Operation("edit", "pkg.users.get_user", {"instruction": "x"}),
            Operation("extract_constant", "pkg.users", {"name": "LIMIT", "value": "10"}),
        )
    )
    order = [p.operation.target for p in plan.phases]
    assert order.index("pkg.users") < order.index("pkg.users.get_user")
    assert order.index("pkg.util.chunks") == 0
    assert plan.to_dict()["schema_version"] == 1


def test_cycles_are_rejected() -> None:
    from planner.phases import order_phases

    order, _ = order_phases(["a", "b", "c"], [("c", "a")])
    assert order == ["b", "c", "a"]
    with pytest.raises(PlanError, match="cycle: a -> b -> a"):
        order_phases(["a", "b"], [("a", "b"), ("b", "a")])
