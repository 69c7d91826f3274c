"""Which definition a call reaches, for ``SignatureCommand``.

``CallResolver.match`` answers, for one ``cst.Call``, which ``SignatureEdit`` target it
calls and how many leading parameters are bound implicitly (``self``/``cls``):

- through qualified names (``QualifiedNameProvider``, made absolute and followed through
  re-exports): ``f(...)``, ``m.f(...)``, ``Class.method(self, ...)``, ``Class(...)``
  and ``Subclass(...)`` for an inherited ``__init__``;
- through the receiver of a method call: ``self``/``cls`` (the first parameter of a
  method), ``super()``/``super(Class, self)``, ``Class(...)``, and names that
  ``ScopeProvider`` shows are parameters annotated with a class or bound to ``Class(...)``.

A method-named call whose receiver cannot be told is reported as unresolved (offset -1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import QualifiedNameProvider, QualifiedNameSource, ScopeProvider
from libcst.metadata.scope_provider import Assignment

from agent.codemods.index.definitions import DefInfo
from agent.codemods.signature.shared import absolute_name, decorator_kind

if TYPE_CHECKING:
    from agent.codemods.signature.codemod import SignatureCommand, SignatureEdit


def attr_name(func: cst.BaseExpression) -> str | None:
    """``m`` for ``x.m``, else None."""
    return func.attr.value if isinstance(func, cst.Attribute) else None


class CallResolver:
    """Resolve calls in the file a ``SignatureCommand`` is visiting."""

    def __init__(self, command: SignatureCommand) -> None:
        self.command = command

    def qualified(self, node: cst.CSTNode) -> list[str]:
        names = self.command.get_metadata(QualifiedNameProvider, node, set())
        return sorted(
            self.command.index.canonical(
                absolute_name(q, self.command.module_name, self.command.is_package)
            )
            for q in names
            if q.source != QualifiedNameSource.BUILTIN
        )

    def match(self, call: cst.Call) -> tuple[SignatureEdit | None, int] | None:
        """(edit, bound offset) for a call of a target; offset -1: unresolved method call."""
        attr = attr_name(call.func)
        if attr is None:  # a bare name may be an alias (`from m import f as g`)
            candidates = self.command.edits
        else:
            inits = [e for e in self.command.edits if e.target.name == "__init__"]
            candidates = [*self.command.by_name.get(attr, []), *inits]
        if not candidates:
            return None
        for qualname in self.qualified(call.func):
            for edit in candidates:
                offset = self._by_qualname(edit.target, qualname)
                if offset is not None:
                    return edit, offset
        if attr is None or not isinstance(call.func, cst.Attribute):
            return None
        methods = [e for e in self.command.by_name.get(attr, []) if e.target.is_method]
        if not methods or self._resolved_elsewhere(call.func):
            return None
        receiver = self._receiver_classes(call.func.value)
        if receiver is None:
            return methods[0], -1
        classes, access = receiver
        if not classes:
            return None
        for edit in methods:
            owners = {self._owner(cls, attr, access) for cls in classes}
            if owners == {edit.target.owner}:
                return edit, edit.target.bound_offset("class" if access == "class" else "instance")
        return None

    def _is_builtin(self, node: cst.BaseExpression, name: str) -> bool:
        names = self.command.get_metadata(QualifiedNameProvider, node, set())
        return any(q.source == QualifiedNameSource.BUILTIN and q.name == name for q in names)

    def _resolved_elsewhere(self, func: cst.Attribute) -> bool:
        """``os.path.join``-like: a builtin or a name imported from outside the repository."""
        names = self.command.get_metadata(QualifiedNameProvider, func, set())
        return bool(names) and all(
            (q.source == QualifiedNameSource.BUILTIN and q.name != "builtins.super")
            or (
                q.source == QualifiedNameSource.IMPORT
                and self.command.index.split_module(
                    absolute_name(q, self.command.module_name, self.command.is_package)
                )
                is None
            )
            for q in names
        )

    def _owner(self, cls: str, attr: str, access: str) -> str | None:
        if access == "super":
            return self.command.index.lookup_after(cls, attr)
        return self.command.index.lookup(cls, attr)

    def _by_qualname(self, target: DefInfo, qualname: str) -> int | None:
        if qualname == target.qualname:
            return target.bound_offset("class")
        if target.owner is None:
            return None
        if target.name == "__init__" and self.command.index.class_info(qualname) is not None:
            if self.command.index.lookup(qualname, "__init__") == target.owner:
                return 1
            return None
        owner, _, attr = qualname.rpartition(".")
        if (
            attr == target.name
            and self.command.index.class_info(owner) is not None
            and self.command.index.lookup(owner, attr) == target.owner
        ):
            return target.bound_offset("class")
        return None

    def _receiver_classes(self, expr: cst.BaseExpression) -> tuple[list[str], str] | None:
        """The classes a receiver expression is (``instance``/``class``/``super`` access)."""
        if isinstance(expr, cst.Call) and self._is_builtin(expr.func, "builtins.super"):
            return self._super_receiver(expr)
        if isinstance(expr, cst.Call):
            classes = [q for q in self.qualified(expr.func) if self.command.index.class_info(q)]
            return (classes, "instance") if classes else None
        named = self.qualified(expr)
        if any(q in self.command.index.path_by_module for q in named):
            return [], "module"  # a module of the repository: not a method call
        classes = [q for q in named if self.command.index.class_info(q) is not None]
        if classes:
            return classes, "class"
        if not isinstance(expr, cst.Name):
            return None
        method = self._method_of_first_param(expr.value)
        if method is not None:
            return method
        return self._typed_name(expr)

    def _enclosing_method(self) -> tuple[cst.FunctionDef, str] | None:
        """The innermost function defined directly in a class, with the class's qualname."""
        for i in range(len(self.command.stack) - 1, 0, -1):
            frame, parent = self.command.stack[i], self.command.stack[i - 1]
            if frame.kind == "function" and parent.kind == "class":
                assert isinstance(frame.node, cst.FunctionDef)
                return frame.node, f"{self.command.module_name}.{parent.local}"
        return None

    def _method_of_first_param(self, name: str) -> tuple[list[str], str] | None:
        for i in range(len(self.command.stack) - 1, -1, -1):
            frame = self.command.stack[i]
            if not isinstance(frame.node, cst.FunctionDef):
                continue
            params = frame.node.params
            names = [p.name.value for p in (*params.posonly_params, *params.params)]
            if name not in names and name not in [p.name.value for p in params.kwonly_params]:
                continue  # not this function's parameter: look further out
            parent = self.command.stack[i - 1] if i > 0 else None
            if parent is None or parent.kind != "class" or not names or names[0] != name:
                return None
            kind = decorator_kind(frame.node.decorators)
            if kind == "staticmethod":
                return None
            access = "class" if kind == "classmethod" else "instance"
            return [f"{self.command.module_name}.{parent.local}"], access
        return None

    def _super_receiver(self, call: cst.Call) -> tuple[list[str], str] | None:
        if call.args:
            classes = [
                q for q in self.qualified(call.args[0].value) if self.command.index.class_info(q)
            ]
            return (classes, "super") if classes else None
        method = self._enclosing_method()
        return ([method[1]], "super") if method else None

    def _typed_name(self, name: cst.Name) -> tuple[list[str], str] | None:
        scope = self.command.get_metadata(ScopeProvider, name, None)
        if scope is None:
            return None
        classes: set[str] = set()
        assignments = list(scope[name.value])
        if not assignments:
            return None
        for assignment in assignments:
            if not isinstance(assignment, Assignment):
                return None
            node = assignment.node
            if isinstance(node, cst.Param) and node.annotation is not None:
                found = self.qualified(node.annotation.annotation)
            elif node in self.command.assigned and isinstance(
                self.command.assigned[node], cst.Call
            ):
                value = self.command.assigned[node]
                assert isinstance(value, cst.Call)
                found = self.qualified(value.func)
            else:
                return None
            found = [q for q in found if self.command.index.class_info(q) is not None]
            if not found:
                return None
            classes.update(found)
        return sorted(classes), "instance"
