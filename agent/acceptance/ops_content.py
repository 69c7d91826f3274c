"""Postconditions of the content operations: new functions and methods, docstrings,
annotations, decorators, idioms, constants."""

from __future__ import annotations

from agent.acceptance.base import CheckBase, module_name
from planner.spec import Operation


class ContentChecks(CheckBase):
    """``op_<name>`` for the operations that add or rewrite content."""

    def op_add_function(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        module = module_name(op.target)
        new_q = f"{module}.{name}"
        self.added[name] = new_q
        title = f"add function `{name}` to `{module}`"
        self.add(
            "postcondition",
            f"add function {name}",
            f"{title}: it exists.",
            f"assert callable(obj({new_q!r})), '{new_q} is not a function'",
        )
        if "__all__" in self.issue and self.says.export(name):
            self.add(
                "statement",
                f"add function {name} exported",
                f"{title}: the issue asks for it in `__all__`.",
                f"assert {name!r} in getattr(obj({module!r}), '__all__', ())",
            )

    def op_add_method(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        self.add(
            "postcondition",
            f"add method {name}",
            f"add method `{name}` to `{op.target}`: defined on the class itself.",
            f"assert {name!r} in vars(obj({op.target!r})), 'no {name} on {op.target}'\n"
            f"assert callable(getattr(obj({op.target!r}), {name!r}))",
        )

    def op_add_docstring(self, op: Operation) -> None:
        d = self.repo.by_qualname.get(op.target)
        title = f"docstring of `{op.target}`"
        self.add(
            "postcondition",
            f"docstring {op.target}",
            f"{title}: present.",
            f"assert (inspect.getdoc(obj({op.target!r})) or '').strip(), 'no docstring'",
        )
        if (
            d is not None
            and d.kind in ("function", "method", "class")
            and (self.says.docstring_params())
        ):
            self.add(
                "statement",
                f"docstring {op.target} names parameters",
                f"{title}: names every parameter, as the issue asks.",
                f"docstring_names_params({op.target!r})",
            )

    def op_add_annotations(self, op: Operation) -> None:
        self.add(
            "postcondition",
            f"annotations {op.target}",
            f"type annotations on `{op.target}`: every parameter and return.",
            f"fully_annotated({op.target!r})",
        )

    def op_add_decorator(self, op: Operation) -> None:
        deco = str(op.params.get("decorator", "")).lstrip("@").split("(")[0]
        self.add(
            "postcondition",
            f"decorator {deco} on {op.target}",
            f"add decorator `@{deco}` to `{op.target}`.",
            f"assert any(d == {deco!r} or d.endswith('.' + {deco!r}) "
            f"or {deco!r}.endswith('.' + d) for d in decorators({op.target!r})), "
            f"decorators({op.target!r})",
        )

    def op_remove_decorator(self, op: Operation) -> None:
        deco = str(op.params.get("decorator", "")).lstrip("@").split("(")[0]
        short = deco.rsplit(".", 1)[-1]
        self.add(
            "postcondition",
            f"no decorator {deco} on {op.target}",
            f"remove decorator `@{deco}` from `{op.target}`.",
            f"assert not [d for d in decorators({op.target!r}) "
            f"if d.rsplit('.', 1)[-1] == {short!r}], decorators({op.target!r})",
        )

    def op_modernize(self, op: Operation) -> None:
        idiom = str(op.params.get("idiom", ""))
        self.add(
            "postcondition",
            f"modernize {idiom} {op.target}",
            f"modernize `{op.target}` ({idiom}): the old idiom is gone.",
            f"left = old_idiom_uses({op.target!r}, {idiom!r})\n"
            f"assert not left, OLD_IDIOMS[{idiom!r}] + ' still used at source lines ' "
            "+ repr(left)",
        )

    def op_extract_constant(self, op: Operation) -> None:
        name = str(op.params.get("name", ""))
        module = module_name(op.target)
        self.add(
            "postcondition",
            f"constant {name}",
            f"extract constant `{name}` in `{module}`.",
            f"assert has({module + '.' + name!r})",
        )

    def op_extract_helper(self, op: Operation) -> None:
        name = str(op.params.get("name") or "")
        if not name.isidentifier():
            return
        module = self.repo.module_of(op.target)
        self.add(
            "postcondition",
            f"helper {name}",
            f"extract the helper `{name}` in `{module}`: it exists.",
            f"assert callable(obj({module + '.' + name!r})), 'no helper {name} in {module}'",
        )
