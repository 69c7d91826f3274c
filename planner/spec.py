"""The Spec contract: an issue normalized into checked operations.

A ``Spec`` is YAML-serialisable and schema-versioned. Each ``Operation`` names one
op of the vocabulary below, a ``target`` (a qualified name, a module, or a file
path) and op-specific ``params``. ``OPS`` documents every op and its parameters;
it is also what the LLM backend is shown and what its JSON schema is built from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

SCHEMA_VERSION = 1


class SpecError(ValueError):
    """A spec that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class OpInfo:
    """One operation of the vocabulary: what it does and which params it takes."""

    description: str
    target: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


OPS: dict[str, OpInfo] = {
    "rename": OpInfo(
        "rename a function, method, class, constant, module-level variable or module everywhere "
        "(definition, call sites, imports, __all__, tests)",
        "the symbol as it is named today",
        ("new_name",),
        ("keep_alias",),  # "deprecated" (warns) or "alias": the old name keeps working
        examples=("rename get_user to fetch_user",),
    ),
    "rename_parameter": OpInfo(
        "rename a parameter of a function or method, and every caller passing it by keyword",
        "the function or method",
        ("old", "new"),
    ),
    "add_parameter": OpInfo(
        "add a parameter with a default to a function or method (optionally keyword-only), "
        "updating callers where asked",
        "the function or method",
        ("name",),
        ("default", "annotation", "keyword_only", "after", "behaviour"),
    ),
    "remove_parameter": OpInfo(
        "remove a parameter (or every parameter matching a glob such as cache_*) and update callers",
        "the function, method, class or module",
        ("name",),
    ),
    "make_keyword_only": OpInfo(
        "make parameters keyword-only: every parameter after `after`, or the named ones",
        "the function, method or class (its __init__)",
        (),
        ("after", "names"),
    ),
    "replace_calls": OpInfo(
        "replace calls of one callable with another, mapping arguments",
        "the callable being replaced",
        ("new",),
        ("arg_map",),
    ),
    "change_import": OpInfo(
        "import a symbol from a different module everywhere",
        "the symbol or module imported today",
        ("new_module",),
    ),
    "add_decorator": OpInfo(
        "add a decorator to functions or methods",
        "the function or method",
        ("decorator",),
        ("import",),
    ),
    "remove_decorator": OpInfo("remove a decorator", "the function or method", ("decorator",)),
    "add_annotations": OpInfo(
        "add type annotations to parameters and return values",
        "a function, class or module",
    ),
    "add_docstring": OpInfo(
        "add or replace the docstring of a function, method, class or module",
        "the function, method, class or module",
        (),
        ("text", "replace"),
    ),
    "move_symbol": OpInfo(
        "move a function, class or constant to another module, re-exporting it from the old one",
        "the symbol",
        ("to_module",),
        ("reexport",),
    ),
    "extract_constant": OpInfo(
        "replace a repeated literal with a module-level constant",
        "the module",
        ("name",),
        ("value",),
    ),
    "extract_helper": OpInfo(
        "extract duplicated logic into one helper function that the originals call",
        "the module or the functions sharing the logic",
        (),
        ("name", "functions", "behaviour"),
    ),
    "add_function": OpInfo(
        "add a new module-level function", "the module", ("name",), ("behaviour",)
    ),
    "add_method": OpInfo(
        "add a method (including dunder methods like __eq__, __hash__, __repr__) to a class",
        "the class",
        ("name",),
        ("behaviour",),
    ),
    "modernize": OpInfo(
        "modernize idioms: %-format/.format to f-strings, typing.List to list, os.path to pathlib",
        "a module or function",
        ("idiom",),
    ),
    "edit": OpInfo(
        "any other change (a bug fix, new behaviour, logging): the new source of one named "
        "function, method or class is written from the issue",
        "the function, method or class to rewrite",
        (),
        ("instruction",),
    ),
}

IDIOMS = ("fstring", "builtin_generics", "pathlib", "typing_namedtuple")


@dataclass(frozen=True)
class Operation:
    """One step of a spec."""

    op: str
    target: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "target": self.target, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        if not isinstance(data, Mapping):
            raise SpecError(f"an operation must be a mapping with op/target/params, got {data!r}")
        op, target = data.get("op"), data.get("target")
        if op not in OPS:
            raise SpecError(f"unknown op {op!r}; valid ops: {', '.join(OPS)}")
        if not isinstance(target, str) or not target.strip():
            raise SpecError(f"operation {op!r} needs a non-empty string target")
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            raise SpecError(f"params of {op!r} on {target!r} must be a mapping")
        return cls(op=op, target=target.strip(), params=dict(params))

    def check_params(self) -> list[str]:
        """Problems with this operation's params (empty when it is well-formed)."""
        info = OPS[self.op]
        problems = [
            f"{self.op} on {self.target}: missing param {p!r}"
            for p in info.required
            if not self.params.get(p)
        ]
        unknown = set(self.params) - set(info.required) - set(info.optional)
        problems += [f"{self.op} on {self.target}: unknown param {p!r}" for p in sorted(unknown)]
        if self.op == "modernize" and self.params.get("idiom") not in IDIOMS:
            problems.append(f"modernize: idiom must be one of {', '.join(IDIOMS)}")
        if self.op == "make_keyword_only" and not (
            self.params.get("after") or self.params.get("names")
        ):
            problems.append("make_keyword_only needs `after` or `names`")
        return problems

    def summary(self) -> str:
        extra = ", ".join(
            f"{k}={v}" for k, v in self.params.items() if k not in ("instruction", "behaviour")
        )
        return f"{self.op} {self.target}" + (f" ({extra})" if extra else "")

    def plain(self) -> str:
        """The operation in plain words, as ``fix`` states the understood plan."""
        return plain_words(self)


def _code(value: Any) -> str:
    if isinstance(value, list | tuple):
        items = [f"`{v}`" for v in value]
        return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)
    return f"`{value}`"


def plain_words(op: Operation) -> str:
    """One sentence saying what ``op`` will do (unknown params are listed at the end)."""
    p, t = op.params, f"`{op.target}`"
    texts: dict[str, Any] = {
        "rename": lambda: (
            f"rename {t} to {_code(p.get('new_name'))} everywhere "
            "(definition, callers, imports, `__all__`, stubs, docstring examples)"
            + {
                "deprecated": ", keeping the old name as a deprecated alias that warns",
                "alias": ", keeping the old name as an alias",
            }.get(str(p.get("keep_alias")), "")
        ),
        "rename_parameter": lambda: (
            f"rename the parameter {_code(p.get('old'))} of {t} to "
            f"{_code(p.get('new'))}, and every caller passing it by keyword"
        ),
        "add_parameter": lambda: (
            f"add a{' keyword-only' if p.get('keyword_only') else ''} "
            f"parameter {_code(p.get('name'))}"
            + (f" (default {_code(p['default'])})" if p.get("default") is not None else "")
            + f" to {t}"
        ),
        "remove_parameter": lambda: (
            f"remove the parameter {_code(p.get('name'))} from {t} and from its callers"
        ),
        "make_keyword_only": lambda: (
            f"make every parameter after {_code(p['after'])} of {t} keyword-only"
            if p.get("after")
            else f"make {_code(p.get('names') or [])} of {t} keyword-only"
        ),
        "replace_calls": lambda: f"replace every call of {t} with {_code(p.get('new'))}",
        "change_import": lambda: f"import {t} from {_code(p.get('new_module'))} everywhere",
        "add_decorator": lambda: f"decorate {t} with `@{str(p.get('decorator', '')).lstrip('@')}`",
        "remove_decorator": lambda: f"remove `@{str(p.get('decorator', '')).lstrip('@')}` from {t}",
        "add_annotations": lambda: f"add type annotations to {t}",
        "add_docstring": lambda: f"{'replace' if p.get('replace') else 'add'} the docstring of {t}",
        "move_symbol": lambda: (
            f"move {t} to {_code(p.get('to_module'))}"
            + ("" if p.get("reexport") is False else ", re-exporting it from where it was")
        ),
        "extract_constant": lambda: f"extract the constant {_code(p.get('name'))} in {t}",
        "extract_helper": lambda: (
            f"extract the shared logic of {t} into a helper"
            + (f" {_code(p['name'])}" if p.get("name") else "")
        ),
        "add_function": lambda: f"add a function {_code(p.get('name'))} to {t}",
        "add_method": lambda: f"add a method {_code(p.get('name'))} to {t}",
        "modernize": lambda: f"modernize {t}: {p.get('idiom')}",
        "edit": lambda: (
            f"rewrite {t}"
            + (f": {str(p['instruction'])[:160]}" if p.get("instruction") else " as the issue asks")
        ),
    }
    make = texts.get(op.op)
    return make() if make is not None else op.summary()


@dataclass(frozen=True)
class Spec:
    """An issue normalized into operations (the planner's main output)."""

    issue_id: str
    description: str
    operations: tuple[Operation, ...]
    target_files: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "issue_id": self.issue_id,
            "description": self.description,
            "target_files": list(self.target_files),
            "operations": [o.to_dict() for o in self.operations],
            "acceptance": list(self.acceptance),
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Spec:
        if not isinstance(data, Mapping):
            raise SpecError("a spec must be a mapping with issue_id, description and operations")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise SpecError(
                f"spec schema_version {version} is not supported (expected {SCHEMA_VERSION})"
            )
        ops = data.get("operations")
        if not isinstance(ops, list) or not ops:
            raise SpecError("a spec needs a non-empty `operations` list")
        for key in ("target_files", "acceptance"):
            if not isinstance(data.get(key, []), list):
                raise SpecError(f"`{key}` must be a list")
        return cls(
            issue_id=str(data.get("issue_id") or "spec"),
            description=str(data.get("description") or ""),
            operations=tuple(Operation.from_dict(o) for o in ops),
            target_files=tuple(str(f) for f in data.get("target_files", [])),
            acceptance=tuple(str(a) for a in data.get("acceptance", [])),
            provenance=dict(data.get("provenance") or {}),
        )

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "spec") -> Spec:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SpecError(
                f"{source} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
            ) from None
        return cls.from_dict(data)
