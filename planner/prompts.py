"""The planner's prompt and answer formats, for code outside the planner that writes
training data for the planner's models (``memory.export_spec``).

``spec_formats()`` is the one public way in: the chat spec backend's system prompt, JSON
schema and answer decoder, the T5 backend's input/target formats, and the style profile's
file name and loader. Nothing here changes how the planner itself behaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planner.issue_text import parse_issue
from planner.spec import Operation, SpecError
from planner.spec_llm import SCHEMA, SYSTEM, to_operations
from planner.spec_t5 import ops_to_text, t5_input
from planner.style import PROFILE_FILE, StyleProfile


@dataclass(frozen=True)
class SpecFormats:
    """The formats the planner's learned backends read and write.

    Fields:
      system / schema: the chat spec backend's system prompt and answer JSON schema.
      to_operations(answer, title): that backend's decoder (answer → operations).
      issue_title(issue): the title the decoder is given.
      t5_input(issue, symbols) / ops_to_text(operations): the T5 backend's input and target.
      operation(data): an ``Operation`` from its dict (``SpecError`` when invalid).
      spec_error: the exception type of an invalid operation.
      profile_file / style_profile(data): the style profile's file name and loader.
    """

    system: str
    schema: Mapping[str, Any]
    to_operations: Callable[[Mapping[str, Any], str], list[Operation]]
    issue_title: Callable[[str], str]
    t5_input: Callable[[str, Sequence[str]], str]
    ops_to_text: Callable[[Sequence[Operation]], str]
    operation: Callable[[Mapping[str, Any]], Operation]
    spec_error: type[Exception]
    profile_file: str
    style_profile: Callable[[Mapping[str, Any]], StyleProfile]


def spec_formats() -> SpecFormats:
    """The planner's prompt/answer formats (see ``SpecFormats``)."""
    return SpecFormats(
        system=SYSTEM,
        schema=SCHEMA,
        to_operations=lambda answer, title: to_operations(dict(answer), title),
        issue_title=lambda issue: parse_issue(issue).title,
        t5_input=lambda issue, symbols: t5_input(issue, list(symbols)),
        ops_to_text=lambda ops: ops_to_text(list(ops)),
        operation=lambda data: Operation.from_dict(dict(data)),
        spec_error=SpecError,
        profile_file=PROFILE_FILE,
        style_profile=lambda data: StyleProfile.from_dict(dict(data)),
    )
