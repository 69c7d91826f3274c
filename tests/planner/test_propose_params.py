"""Parameters of candidate operations, read from the issue's own words."""

from __future__ import annotations

import pytest

from planner.propose_params import default_of

CONJUNCTION = """Let natural_list join with "or"

Please add an optional `conjunction` argument, defaulting to `"and"`, so that

    >>> natural_list(["a", "b", "c"], conjunction="or")
    'a, b or c'
"""


@pytest.mark.parametrize(
    ("name", "issue", "default"),
    [
        # stated in words: wins over the value an example call passes
        ("conjunction", CONJUNCTION, '"and"'),
        ("timeout", "Add a timeout parameter (default 30) to `fetch`.", "30"),
        ("flag", "Give `run` a `flag` argument, default: True.", "True"),
        # written as a parameter with its default
        ("strict", "Add `strict: bool = False` to `get_in`.", "False"),
        ("sep", 'Give `join` a `sep` parameter: `join(items, sep=", ")`.', '", "'),
        # an example call passes a value; it does not define the default
        ("key", ">>> frequencies(['cat'], key=len)\n{3: 1}\n", "None"),
        # "default" that names no value, in another sentence or as a word
        ("limit", "Add `limit=10` to `page`. The default behaviour stays.", "10"),
        ("sep", "Add a `sep` argument; the default separator is a comma.", "None"),
    ],
)
def test_the_default_of_a_new_parameter_is_the_one_the_issue_gives(
    name: str, issue: str, default: str
) -> None:
    assert default_of(name, issue) == default
