"""Parameter lists and argument lists as data: read, bind, rebuild with the original layout.

``signature_of`` reads a ``FunctionDef``'s parameters into a ``Signature``;
``rebuild_parameters`` assembles a new ``cst.Parameters`` from reordered parameter
nodes; ``bind`` maps a call's arguments to parameter names the way the interpreter
does (as far as the source tells); ``relayout`` gives a new element sequence the
commas (and so the line breaks and trailing comma) of the old one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import libcst as cst

from agent.codemods.index.definitions import (
    KWONLY,
    NORMAL,
    POSONLY,
    VARARGS,
    VARKW,
    ParamInfo,
    Signature,
)

_EMPTY = cst.Module([])


def code(node: cst.CSTNode) -> str:
    """Source text of a node."""
    return _EMPTY.code_for_node(node)


def _info(param: cst.Param, kind: str) -> ParamInfo:
    return ParamInfo(
        name=param.name.value,
        kind=kind,
        default=code(param.default) if param.default is not None else None,
        annotation=code(param.annotation.annotation) if param.annotation is not None else None,
    )


def signature_of(fn: cst.FunctionDef) -> Signature:
    """The ``Signature`` of a function definition."""
    ps = fn.params
    infos = [_info(p, POSONLY) for p in ps.posonly_params]
    infos += [_info(p, NORMAL) for p in ps.params]
    if isinstance(ps.star_arg, cst.Param):
        infos.append(_info(ps.star_arg, VARARGS))
    infos += [_info(p, KWONLY) for p in ps.kwonly_params]
    if isinstance(ps.star_kwarg, cst.Param):
        infos.append(_info(ps.star_kwarg, VARKW))
    return Signature(tuple(infos))


@dataclass
class ParamParts:
    """A ``cst.Parameters`` taken apart into editable lists (``star`` may be a bare ``*``)."""

    posonly: list[cst.Param]
    normal: list[cst.Param]
    star: cst.Param | cst.ParamStar | None
    kwonly: list[cst.Param]
    varkw: cst.Param | None

    @classmethod
    def of(cls, params: cst.Parameters) -> ParamParts:
        star = params.star_arg if isinstance(params.star_arg, cst.Param | cst.ParamStar) else None
        return cls(
            posonly=list(params.posonly_params),
            normal=list(params.params),
            star=star,
            kwonly=list(params.kwonly_params),
            varkw=params.star_kwarg if isinstance(params.star_kwarg, cst.Param) else None,
        )

    def all_params(self) -> list[cst.Param]:
        star = [self.star] if isinstance(self.star, cst.Param) else []
        varkw = [self.varkw] if self.varkw else []
        return [*self.posonly, *self.normal, *star, *self.kwonly, *varkw]


_Elem = TypeVar("_Elem", bound=cst.CSTNode)
Comma = cst.Comma | cst.MaybeSentinel


def _comma_of(node: cst.CSTNode) -> Comma:
    comma = getattr(node, "comma", cst.MaybeSentinel.DEFAULT)
    return comma if isinstance(comma, cst.Comma) else cst.MaybeSentinel.DEFAULT


def _without_comment(comma: cst.Comma) -> cst.Comma:
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None:
        first = after.first_line.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
        return comma.with_changes(whitespace_after=after.with_changes(first_line=first))
    return comma


def relayout(old: Sequence[cst.CSTNode], new: Sequence[_Elem]) -> list[_Elem]:
    """``new`` with commas that keep ``old``'s layout.

    An element keeps its own comma (and the comment after it) while it stays in the
    middle; the new last element takes the old last one's comma (a trailing comma or
    none); elements without a usable comma (new ones, the old last one moved up) get
    a copy of the old middle commas' style without comments."""
    if not new:
        return []
    last: Comma = _comma_of(old[-1]) if old else cst.MaybeSentinel.DEFAULT
    middles = [c for c in (_comma_of(n) for n in old[:-1]) if isinstance(c, cst.Comma)]
    known = {id(c) for c in middles}
    filler = middles[-1] if middles else last
    if not isinstance(filler, cst.Comma):
        filler = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    filler = _without_comment(filler)
    out: list[_Elem] = []
    for i, node in enumerate(new):
        own = _comma_of(node)
        comma: Comma
        if i == len(new) - 1:
            comma = _with_comment_of(last, own) if id(own) in known else last
        elif isinstance(own, cst.Comma) and id(own) in known:
            comma = own
        else:
            comma = filler
        out.append(node.with_changes(comma=comma))
    return out


def _with_comment_of(target: Comma, source: Comma) -> Comma:
    """``target`` carrying the comment that follows ``source`` (a middle comma moved last)."""
    if not (isinstance(target, cst.Comma) and isinstance(source, cst.Comma)):
        return target
    into, src = target.whitespace_after, source.whitespace_after
    if not (
        isinstance(into, cst.ParenthesizedWhitespace)
        and isinstance(src, cst.ParenthesizedWhitespace)
        and src.first_line.comment is not None
    ):
        return target
    return target.with_changes(whitespace_after=into.with_changes(first_line=src.first_line))


def _elements(params: cst.Parameters) -> list[cst.CSTNode]:
    parts = ParamParts.of(params)
    slash = [params.posonly_ind] if isinstance(params.posonly_ind, cst.ParamSlash) else []
    star = [parts.star] if parts.star is not None else []
    varkw = [parts.varkw] if parts.varkw else []
    return [*parts.posonly, *slash, *parts.normal, *star, *parts.kwonly, *varkw]


def rebuild_parameters(old: cst.Parameters, parts: ParamParts) -> cst.Parameters:
    """New ``Parameters`` from ``parts``, laid out like ``old``; a bare ``*`` with nothing
    after it is dropped, so is a ``/`` with nothing before it."""
    star = parts.star
    if isinstance(star, cst.ParamStar) and not parts.kwonly:
        star = None
    slash: list[cst.ParamSlash] = []
    if parts.posonly:
        old_slash = old.posonly_ind
        slash = [old_slash if isinstance(old_slash, cst.ParamSlash) else cst.ParamSlash()]
    star_list: list[cst.Param | cst.ParamStar] = [star] if star is not None else []
    varkw = [parts.varkw] if parts.varkw else []
    sequence: list[cst.Param | cst.ParamStar | cst.ParamSlash] = [
        *parts.posonly,
        *slash,
        *parts.normal,
        *star_list,
        *parts.kwonly,
        *varkw,
    ]
    laid = iter(relayout(_elements(old), sequence))
    posonly = [next(laid) for _ in parts.posonly]
    new_slash = next(laid) if slash else cst.MaybeSentinel.DEFAULT
    normal = [next(laid) for _ in parts.normal]
    new_star = next(laid) if star_list else cst.MaybeSentinel.DEFAULT
    kwonly = [next(laid) for _ in parts.kwonly]
    new_varkw = next(laid) if varkw else None
    return old.with_changes(
        posonly_params=posonly,
        posonly_ind=new_slash,
        params=normal,
        star_arg=new_star,
        kwonly_params=kwonly,
        star_kwarg=new_varkw,
    )


@dataclass(frozen=True)
class BoundArg:
    """One argument of a call and the parameter it fills (None when unknown or excess)."""

    index: int
    kind: str  # positional | keyword | star | starstar | after_star
    param: str | None


@dataclass(frozen=True)
class Binding:
    """How a call's arguments map to a signature's parameters."""

    args: tuple[BoundArg, ...]
    slots: tuple[str, ...]  # positional parameter names the call fills, in order
    splat_slot: int | None  # slot index where the first ``*iterable`` starts

    def positional_for(self, name: str) -> BoundArg | None:
        return next((b for b in self.args if b.kind == "positional" and b.param == name), None)

    def keyword_for(self, name: str) -> BoundArg | None:
        return next((b for b in self.args if b.kind == "keyword" and b.param == name), None)

    def splat_may_fill(self, name: str) -> bool:
        """A ``*iterable`` argument could land in parameter ``name``."""
        if self.splat_slot is None or name not in self.slots:
            return False
        return self.slots.index(name) >= self.splat_slot

    @property
    def has_starstar(self) -> bool:
        return any(b.kind == "starstar" for b in self.args)


def bind(args: Sequence[cst.Arg], signature: Signature, offset: int) -> Binding:
    """Bind ``args`` to ``signature`` when ``offset`` leading parameters are implicit (self)."""
    slots = signature.positional[offset:]
    bound: list[BoundArg] = []
    position = 0
    splat: int | None = None
    for i, arg in enumerate(args):
        if arg.star == "**":
            bound.append(BoundArg(i, "starstar", None))
        elif arg.star == "*":
            splat = position if splat is None else splat
            bound.append(BoundArg(i, "star", None))
        elif arg.keyword is not None:
            bound.append(BoundArg(i, "keyword", arg.keyword.value))
        elif splat is not None:
            bound.append(BoundArg(i, "after_star", None))
        else:
            param = slots[position] if position < len(slots) else signature.varargs
            bound.append(BoundArg(i, "positional", param))
            position += 1
    return Binding(tuple(bound), slots, splat)


def keyword_arg(arg: cst.Arg, name: str) -> cst.Arg:
    """``value`` → ``name=value`` keeping the argument's comma and whitespace."""
    nospace = cst.SimpleWhitespace("")
    return arg.with_changes(
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=nospace, whitespace_after=nospace),
    )


def rebuild_args(call: cst.Call, new_args: Sequence[cst.Arg]) -> cst.Call:
    """``call`` with ``new_args`` laid out like its old arguments."""
    return call.with_changes(args=relayout(call.args, list(new_args)))


def to_keywords(call: cst.Call, binding: Binding, convert: Mapping[int, str | None]) -> cst.Call:
    """``call`` with the positional arguments at ``convert``'s indexes passed by keyword.

    The remaining positional (and ``*``) arguments keep their order, the converted ones
    follow them, then the keyword and ``**`` arguments as they were."""
    kinds = {b.index: b.kind for b in binding.args}
    positional = [
        a
        for i, a in enumerate(call.args)
        if i not in convert and kinds[i] in ("positional", "star", "after_star")
    ]
    converted = [keyword_arg(call.args[i], name) for i, name in sorted(convert.items()) if name]
    rest = [a for i, a in enumerate(call.args) if kinds[i] in ("keyword", "starstar")]
    return rebuild_args(call, [*positional, *converted, *rest])


ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.Ellipsis,
    cst.Tuple,
    cst.List,
    cst.Dict,
    cst.Set,
)


def as_operand(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` safe to put where a name stood: parenthesized unless it is an atom."""
    expr = expr.deep_clone()
    if isinstance(expr, ATOMS) or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
