"""Exact rewriting of ``'...' % args`` and ``'...'.format(...)`` into f-strings.

The CST side (``fstring``) hands over the source of each literal part and one
``Arg`` per argument (its single-line source, what kind of value it surely is, whether it
may be duplicated or dropped). The format is parsed and rendered by
``fstring_text``; then the result is *proven* on probe values: the old
expression (``value % probes`` / ``value.format(*probes)``) and the new f-string (with
the probes in place of the arguments) must give identical text, twice, with different
probes. For ``'...' % args`` with ``args`` a bare name (``packed``), the arguments are
``args[0]``, ``args[1]``, ...: the f-string is run with a tuple of the probes for ``args``,
the same tuple the old expression gets. Anything that cannot be converted exactly raises
``Unconvertible``.
"""

from __future__ import annotations

import ast
import logging
import textwrap
from collections.abc import Callable, Mapping, Sequence

from agent.codemods.modernize.fstring_text import (
    Arg,
    Field,
    Key,
    Part,
    Unconvertible,
    choose_quotes,
    parse_braces,
    parse_percent,
    percent_field,
    render,
    split_literal,
)

log = logging.getLogger(__name__)

__all__ = ["convert_format", "convert_percent", "prove"]


# ---------------------------------------------------------------------------- proof


class _Probe:
    """Stands for an argument of unknown type: distinct str/repr, attributes, items.

    Like a plain object it refuses a non-empty format spec, unless ``lenient`` (for
    ``str.format``, where old and new both call ``format(value, spec)`` anyway).
    """

    def __init__(self, token: str, lenient: bool = False) -> None:
        self._token = token
        self._lenient = lenient

    def __str__(self) -> str:
        return f"<{self._token}>"

    def __repr__(self) -> str:
        return f"<r {self._token}>"

    def __format__(self, spec: str) -> str:
        if spec and not self._lenient:
            raise TypeError("unsupported format string passed to _Probe.__format__")
        return f"<{self._token}|{spec}>" if spec else str(self)

    def __getattr__(self, name: str) -> _Probe:
        return _Probe(f"{self._token}.{name}", self._lenient)

    def __getitem__(self, key: object) -> _Probe:
        return _Probe(f"{self._token}[{key!r}]", self._lenient)


def _probe(kind: str, i: int, variant: int, lenient: bool) -> object:
    if kind == "int":
        return 12345 + 7 * i if variant == 0 else -3 - i
    if kind == "float":
        return 1234.5678 + i if variant == 0 else -0.000123 - i
    if kind == "str":
        return f"<s{i}>" if variant == 0 else f"'q\"{{{i}}}%"
    return _Probe(f"v{i}.{variant}", lenient)


def _name(key: Key) -> str:
    return f"_p{key}" if isinstance(key, int) else f"_k_{key}"


_PACKED = "_pt"  # stands for the packed operand in the probe f-string


def _packed_exprs(args: Mapping[Key, Arg], packed: str) -> dict[Key, str]:
    """Probe expressions: each ``<packed>[i]`` argument with the operand as ``_pt``."""
    out: dict[Key, str] = {}
    for key, arg in args.items():
        if not arg.code.startswith(packed):
            raise Unconvertible(f"`{arg.code}` is not an item of `{packed}`")
        out[key] = _PACKED + arg.code[len(packed) :]
    return out


def prove(
    parts: Sequence[Part],
    args: Mapping[Key, Arg],
    old: Callable[[Mapping[Key, object]], str],
    *,
    lenient: bool = False,
    packed: str | None = None,
) -> list[str]:
    """The rendered pieces, once old and new formats agree on two sets of probe values.

    With ``packed`` (the source of a name or attribute chain), every argument's code is
    an item of it, and the f-string is evaluated with the tuple of the probes in its place.
    """
    exprs = {k: a.code for k, a in args.items()}
    atomic = {k: a.atomic for k, a in args.items()}
    quotes = choose_quotes(parts, exprs, atomic)
    probe_exprs = {k: _name(k) for k in args} if packed is None else _packed_exprs(args, packed)
    code = " ".join(render(parts, probe_exprs, {k: True for k in args}, quotes))
    try:
        compiled = compile(code, "<fstring>", "eval", dont_inherit=True)
    except SyntaxError as exc:
        raise Unconvertible(f"the f-string would not compile ({exc.msg})") from None
    for variant in (0, 1):
        values = {k: _probe(a.kind, i, variant, lenient) for i, (k, a) in enumerate(args.items())}
        try:
            expected = old(values)
        except Exception as exc:  # the original would raise: leave it as it is
            raise Unconvertible(f"the original format fails on such values ({exc})") from None
        names: dict[str, object] = {_name(k): v for k, v in values.items()}
        if packed is not None:
            names = {_PACKED: tuple(values[i] for i in range(len(values)))}
        try:
            got = eval(compiled, {"__builtins__": {}}, names)
        except Exception as exc:
            raise Unconvertible(f"the f-string fails where the original does not ({exc})") from None
        if got != expected:
            raise Unconvertible(f"the f-string gives {got!r} where the original gives {expected!r}")
    return render(parts, exprs, atomic, quotes)


# ---------------------------------------------------------------------------- entry points


def _check_uses(fields: Sequence[Field], args: Mapping[Key, Arg]) -> None:
    """Complex arguments must be evaluated once, in the original order."""
    used = [f.arg for f in fields]
    for key, arg in args.items():
        if not arg.simple and used.count(key) != 1:
            raise Unconvertible(f"`{arg.code}` would be evaluated {used.count(key)} times")
    complex_order = [args[k].order for k in dict.fromkeys(used) if not args[k].simple]
    if complex_order != sorted(complex_order):
        raise Unconvertible("arguments with side effects would run in another order")


def _literal_value(codes: Sequence[str]) -> str:
    value = "".join(ast.literal_eval(c) for c in codes)
    if not isinstance(value, str):
        raise Unconvertible("not a str literal")
    return value


def convert_percent(
    codes: Sequence[str],
    args: Sequence[Arg] | Mapping[str, Arg],
    *,
    packed: str | None = None,
) -> list[str]:
    """F-string pieces (one per literal part) for ``<literal parts> % args``.

    ``args`` is the tuple's elements (a single non-tuple value is a one-element list) or,
    for ``%(name)s`` formats, the dict literal's entries. ``packed`` is the source of a
    bare name (or attribute chain) right operand, when ``args`` are its items
    ``name[0]``, ``name[1]``, ...: the proof then runs the f-string on a tuple for it.
    """
    mapping = isinstance(args, Mapping)
    keyed: dict[Key, Arg] = {}
    keyed.update(args.items() if isinstance(args, Mapping) else enumerate(args))
    parts, fields, n = [], [], 0
    for code in codes:
        prefix, quote, body = split_literal(code)
        part = Part(prefix, quote)
        for seg in parse_percent(body):
            if isinstance(seg, str):
                part.segments.append(seg)
                continue
            key: Key = seg.group("key") if mapping else n
            if mapping != (seg.group("key") is not None) or key not in keyed:
                raise Unconvertible("specifiers do not match the arguments")
            f = percent_field(seg, key, keyed[key])
            part.segments.append(f)
            fields.append(f)
            n += 1
        parts.append(part)
    if not mapping and n != len(keyed) or not fields:
        raise Unconvertible(f"{n} specifiers for {len(keyed)} arguments")
    _check_uses(fields, keyed)
    value = _literal_value(codes)
    if mapping:
        if packed is not None:
            raise Unconvertible("a packed operand for a %(name) format")
        return prove(parts, keyed, lambda v: value % {str(k): x for k, x in v.items()})
    return prove(
        parts, keyed, lambda v: value % tuple(v[i] for i in range(len(keyed))), packed=packed
    )


def _number_fields(parts: Sequence[Part]) -> list[Field]:
    """Give auto-numbered fields their index (mixing styles is an error in str.format)."""
    fields: list[Field] = []
    auto = 0
    styles = set()
    for part in parts:
        for i, seg in enumerate(part.segments):
            if isinstance(seg, Field):
                if seg.arg == "":
                    seg = Field(auto, seg.access, seg.conversion, seg.spec)
                    part.segments[i] = seg
                    auto += 1
                    styles.add("auto")
                elif isinstance(seg.arg, int):
                    styles.add("manual")
                fields.append(seg)
    if len(styles) > 1:
        raise Unconvertible("mixes automatic and manual field numbering")
    return fields


def convert_format(
    codes: Sequence[str],
    positional: Sequence[Arg],
    keywords: Mapping[str, Arg],
    *,
    dedent: bool = False,
) -> list[str]:
    """F-string pieces for ``<literal parts>.format(...)``.

    With ``dedent`` the receiver was ``textwrap.dedent(<literal>)``: the dedent is done
    now, and one piece per line of the result is returned (for a parenthesized block).
    """
    keyed: dict[Key, Arg] = dict(enumerate(positional))
    keyed.update(keywords.items())
    if dedent:
        template = textwrap.dedent(_literal_value(codes))
        parts = []
        for line in template.splitlines(keepends=True):
            parts.append(Part("", '"', list(parse_braces(line)), source_text=False))
    else:
        parts = []
        for code in codes:
            prefix, quote, body = split_literal(code)
            parts.append(Part(prefix, quote, list(parse_braces(body))))
    fields = _number_fields(parts)
    missing = {f.arg for f in fields} - set(keyed)
    if missing or not fields:
        raise Unconvertible("fields do not match the arguments" if fields else "no fields")
    _check_uses(fields, keyed)
    value = _literal_value(codes)
    template_value = textwrap.dedent(value) if dedent else value

    def old(v: Mapping[Key, object]) -> str:
        pos = [v[i] for i in range(len(positional))]
        return template_value.format(*pos, **{k: v[k] for k in keywords})

    return prove(parts, keyed, old, lenient=True)
