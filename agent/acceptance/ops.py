"""Postconditions of the symbol and signature operations (and the statements tied to one).

A rename's new name resolves and its old one is gone (or kept, warning, as the issue
asks), its docstring examples follow, the rest of the module stays; a move's destination
and old path; ``inspect.signature`` for the signature operations. The content operations
are in ``agent.acceptance.ops_content``.
"""

from __future__ import annotations

import re

from agent.acceptance.base import (
    MAX_OTHER_NAMES,
    UNUSED_OK,
    CheckBase,
    first_after,
    literal,
    module_name,
    names_list,
)
from agent.codemods.signature.shared import as_names
from planner.spec import Operation


class OpChecks(CheckBase):
    """Postconditions of the symbol and signature operations (``op_<name>``)."""

    def op_rename(self, op: Operation) -> None:
        old_q, new = op.target, str(op.params.get("new_name", ""))
        old = old_q.rsplit(".", 1)[-1]
        if not new.isidentifier():
            return
        holder = self.repo.container(old_q) if old_q not in self.repo.modules else ""
        new_q = f"{holder}.{new}" if holder else f"{old_q.rsplit('.', 1)[0]}.{new}".lstrip(".")
        if old_q in self.repo.modules and "." not in old_q:
            new_q = new
        self.touched.add(old_q)
        self.added[new] = new_q
        title = f"rename `{old_q}` → `{new}`"
        self.add(
            "postcondition",
            f"rename {old} new name",
            f"{title}: the new name resolves.",
            f"assert has({new_q!r}), 'the new name {new_q} does not resolve'",
        )
        keep = bool(op.params.get("keep_alias")) or self.says.keeps_old(old, old_q)
        if keep:
            self.add(
                "statement",
                f"rename {old} old name kept",
                f"{title}: the issue asks for the old name to keep working.",
                f"assert has({old_q!r}), 'the old name {old_q} no longer resolves'",
            )
            deprecated = op.params.get("keep_alias") == "deprecated"
            if deprecated or self.says.deprecation(old, old_q):
                call, names = self._example_using(old)
                self.add(
                    "statement",
                    f"rename {old} deprecation warning",
                    f"{title}: the issue asks for a DeprecationWarning on the old name.",
                    f"warns_when_used({old_q!r}, call={call!r}, names={names!r})",
                )
            elif self.says.same_object():
                self.add(
                    "statement",
                    f"rename {old} same object",
                    f"{title}: the issue asks for the old name to be the very same object.",
                    f"assert obj({old_q!r}) is obj({new_q!r})",
                )
        else:
            self.removed.add(old_q)
            d = self.repo.by_qualname.get(old_q)
            gone = f"assert not has({old_q!r}), 'the old name {old_q} still resolves'"
            if d is not None and d.kind == "method" and d.parent:
                gone = f"assert {old!r} not in vars(obj({d.parent!r})), '{old_q} is still defined'"
            self.add(
                "postcondition",
                f"rename {old} old name gone",
                f"{title}: the old name is gone (the issue does not ask to keep it).",
                gone,
            )
        listed = self.repo.by_qualname.get(old_q)
        if listed is not None and listed.in_all and holder in self.repo.modules:
            self.add(
                "postcondition",
                f"rename {old} in all",
                f"{title}: `{holder}.__all__` listed the old name, so it lists the new one.",
                f"assert {new!r} in getattr(obj({holder!r}), '__all__', ())",
            )
        self._doctests_follow(old, old_q, new, new_q, title)
        if holder:
            self._others_intact(holder, {old, new}, title)

    def _doctests_follow(self, old: str, old_q: str, new: str, new_q: str, title: str) -> None:
        target = self.repo.by_qualname.get(old_q)
        method = target is not None and target.kind == "method" and target.parent
        word = re.compile(
            rf"\.{re.escape(old)}\s*\("
            if method
            else rf"(?<![\w.]){re.escape(old)}\b(?!\s*=(?!=))"  # not a keyword argument
        )
        for d in self.repo.definitions:
            if not self.repo.reachable(d):
                continue
            if method and target and d.qualname != target.parent and d.parent != target.parent:
                continue
            doc = d.docstring or ""
            lines = [x for x in doc.splitlines() if x.strip().startswith((">>>", "..."))]
            if not any(word.search(x) for x in lines):
                continue
            where = new_q if d.qualname == old_q else d.qualname
            if where.startswith(old_q + "."):
                where = new_q + where[len(old_q) :]
            self.add(
                "postcondition",
                f"rename {old} doctests in {d.name}",
                f"{title}: the doctests in the docstring of `{d.qualname}` use the new name.",
                f"lines = doctest_lines({where!r})\n"
                f"stale = [x for x in lines if re.search({word.pattern!r}, x)]\n"
                f"assert not stale, 'docstring examples still call {old}: ' + repr(stale)",
            )

    def _others_intact(self, holder: str, skip: set[str], title: str) -> None:
        touched = {q.rsplit(".", 1)[-1] for q in self.spec_touched()}
        others = [n for n in self.repo.siblings(holder) if n not in skip | touched]
        if not others:
            return
        others = others[:MAX_OTHER_NAMES]
        self.add(
            "postcondition",
            f"{title} others intact",
            f"{title}: every other name of `{holder}` still resolves under its own name.",
            f"missing = [n for n in {others!r} if not has({holder!r} + '.' + n)]\n"
            "assert not missing, 'renamed or lost by the change: ' + ', '.join(missing)",
            invariant=True,
        )

    def spec_touched(self) -> set[str]:
        kinds = ("rename", "move_symbol")
        return {o.target for o in self.spec.operations if o.op in kinds}

    def op_move_symbol(self, op: Operation) -> None:
        dest = module_name(str(op.params.get("to_module", "")))
        name = op.target.rsplit(".", 1)[-1]
        if not dest:
            return
        new_q = f"{dest}.{name}"
        self.added[name] = new_q
        self.touched.add(op.target)
        title = f"move `{op.target}` to `{dest}`"
        d = self.repo.by_qualname.get(op.target)
        body = f"assert has({new_q!r}), '{name} is not in {dest}'"
        if d is not None and d.kind in ("function", "class"):
            body += f"\nassert obj({new_q!r}).__module__ == {dest!r}, 'not defined in {dest}'"
        self.add(
            "postcondition", f"move {name} defined", f"{title}: defined in the destination.", body
        )
        if op.params.get("reexport", True) is not False:
            self.add(
                "postcondition",
                f"move {name} old path same object",
                f"{title}: the old import path yields the very same object.",
                f"assert obj({op.target!r}) is obj({new_q!r})",
            )
        if self.says.export(name) and "__all__" in self.issue:
            self.add(
                "statement",
                f"move {name} in all",
                f"{title}: the issue asks for `{name}` in `__all__` of `{dest}`.",
                f"assert {name!r} in getattr(obj({dest!r}), '__all__', ())",
            )

    def op_make_keyword_only(self, op: Operation) -> None:
        after, names = op.params.get("after"), as_names(op.params.get("names"))
        d = self.repo.by_qualname.get(op.target)
        what = f"every parameter after `{after}`" if after else f"{names_list(names)}"
        title = f"make {what} of `{op.target}` keyword-only"
        arg = f"after={after!r}" if after else f"names={names!r}"
        self.add(
            "postcondition",
            f"keyword only {op.target}",
            f"{title}: inspect.signature.",
            f"keyword_only({op.target!r}, {arg})",
        )
        first = first_after(d, after) if after else next(iter(names), None)
        if first and self.says.positional_type_error():
            self.add(
                "statement",
                f"positional {first} type error",
                f"{title}: the issue says passing `{first}` by position raises TypeError.",
                f"positional_rejected({op.target!r}, {first!r})",
            )

    def op_add_parameter(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        if not name.isidentifier():
            return
        title = f"add parameter `{name}` to `{op.target}`"
        body = f"assert {name!r} in params({op.target!r}), 'no parameter {name}'"
        default = op.params.get("default")
        if isinstance(default, str) and literal(default):
            body += (
                f"\nassert signature({op.target!r}).parameters[{name!r}].default == "
                f"{default}, 'wrong default'"
            )
        self.add("postcondition", f"add parameter {name}", f"{title}: inspect.signature.", body)
        if op.params.get("keyword_only"):
            self.add(
                "postcondition",
                f"add parameter {name} keyword only",
                f"{title}: keyword-only.",
                f"keyword_only({op.target!r}, names=[{name!r}])",
            )
        if not UNUSED_OK.search(self.issue):
            self.add(
                "postcondition",
                f"add parameter {name} used",
                f"{title}: the function uses it (an unused parameter changes nothing).",
                f"parameter_used({op.target!r}, {name!r})",
            )

    def op_rename_parameter(self, op: Operation) -> None:
        old, new = str(op.params.get("old", "")), str(op.params.get("new", ""))
        title = f"rename parameter `{old}` of `{op.target}` to `{new}`"
        body = f"assert {new!r} in params({op.target!r}), 'no parameter {new}'"
        if not self.says.keeps_old(old):
            body += f"\nassert {old!r} not in params({op.target!r}), 'parameter {old} still there'"
        self.add("postcondition", f"rename parameter {old}", f"{title}: inspect.signature.", body)

    def op_remove_parameter(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        d = self.repo.by_qualname.get(op.target)
        if d is None or d.kind not in ("function", "method", "class"):
            return
        self.add(
            "postcondition",
            f"remove parameter {name}",
            f"remove parameter `{name}` of `{op.target}`: inspect.signature.",
            f"no_params_matching({op.target!r}, {name!r})",
        )
