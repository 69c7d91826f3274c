"""Format-string syntax for the f-string modernizer: parse, map and render (pure text).

``parse_percent`` / ``parse_braces`` split a literal's text into literal segments and
fields; ``percent_field`` maps one %-specifier to an f-string field (refusing what would
not be exact for the argument's known kind); ``render_part`` writes a part back as an
f-string, in a quote character that none of its expressions contains.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

__all__ = [
    "Arg",
    "Field",
    "Key",
    "Part",
    "Unconvertible",
    "choose_quotes",
    "parse_braces",
    "parse_percent",
    "percent_field",
    "positional_specifiers",
    "render",
    "split_literal",
]

Key = int | str
_PCT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-#0 +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<prec>\*|\d*))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])",
    re.S,
)
_PREFIX = re.compile(r"^(?P<prefix>[a-zA-Z]*)(?P<quote>'''|\"\"\"|'|\")")


class Unconvertible(Exception):
    """This format cannot be turned into an f-string with identical output."""


@dataclass(frozen=True)
class Arg:
    """One argument of the format: source (one line), value kind, duplicable?"""

    code: str
    kind: str = "unknown"  # int | float | str | other (surely not a tuple) | unknown
    simple: bool = False  # a name/attribute/literal: safe to evaluate twice or not at all
    atomic: bool = True  # can take `.attr` / `[key]` without parentheses
    order: int = 0  # position among the call's arguments


@dataclass(frozen=True)
class Field:
    arg: Key
    access: tuple[tuple[str, Key], ...] = ()  # ("attr", name) / ("index", key)
    conversion: str = ""
    spec: str = ""


Segment = str | Field


@dataclass
class Part:
    """One literal of a (possibly implicitly concatenated) format string."""

    prefix: str
    quote: str
    segments: list[Segment] = field(default_factory=list)
    source_text: bool = True  # literal segments are source text (else values to escape)

    @property
    def has_fields(self) -> bool:
        return any(isinstance(s, Field) for s in self.segments)


def split_literal(code: str) -> tuple[str, str, str]:
    """(prefix, quote, body) of a string literal's source."""
    m = _PREFIX.match(code)
    if m is None:
        raise Unconvertible("not a string literal")
    prefix, quote = m.group("prefix").lower(), m.group("quote")
    if "b" in prefix or "f" in prefix:
        raise Unconvertible("a bytes or f-string literal")
    if "\\N{" in code and "r" not in prefix:
        raise Unconvertible("a \\N{...} escape in the literal")
    return prefix.replace("u", ""), quote, code[len(m.group(0)) : len(code) - len(quote)]


# ---------------------------------------------------------------------------- parsing


def parse_percent(text: str) -> list[str | re.Match[str]]:
    """Literal text (``%%`` unescaped) and specifier matches, in order."""
    out: list[str | re.Match[str]] = []
    pos = 0
    while (at := text.find("%", pos)) >= 0:
        m = _PCT.match(text, at)
        if m is None:
            raise Unconvertible(f"unsupported %-specifier at {text[at : at + 6]!r}")
        out.append(text[pos:at])
        if m.group("type") == "%":
            if m.group(0) != "%%":
                raise Unconvertible("a %% with flags")
            out.append("%")
        else:
            out.append(m)
        pos = m.end()
    out.append(text[pos:])
    return [s for s in out if not (isinstance(s, str) and s == "")]


def positional_specifiers(codes: Sequence[str]) -> int | None:
    """How many positional %-specifiers (not ``%%``) the literal parts hold.

    None when one has a ``%(key)`` mapping key or a ``*`` width or precision (those do
    not take exactly one item of the tuple each).
    """
    count = 0
    for code in codes:
        for seg in parse_percent(split_literal(code)[2]):
            if isinstance(seg, str):
                continue
            if seg.group("key") is not None or "*" in (seg.group("width"), seg.group("prec")):
                return None
            count += 1
    return count


def _field_name(name: str) -> tuple[Key, tuple[tuple[str, Key], ...]]:
    m = re.match(r"^([^.\[]*)((?:\.[^.\[]+|\[[^\]]+\])*)$", name)
    if m is None:
        raise Unconvertible(f"field {{{name}}} is too complex")
    head, rest = m.group(1), m.group(2)
    arg: Key = int(head) if head.isdigit() else head
    if isinstance(arg, str) and arg and not arg.isidentifier():
        raise Unconvertible(f"field name {head!r}")
    access: list[tuple[str, Key]] = []
    for attr, index in re.findall(r"\.([^.\[]+)|\[([^\]]+)\]", rest):
        if attr:
            if not attr.isidentifier():
                raise Unconvertible(f"attribute {attr!r}")
            access.append(("attr", attr))
        else:
            access.append(("index", int(index) if index.isdigit() else index))
    return arg, tuple(access)


def parse_braces(text: str) -> list[Segment]:
    """Literal text (``{{``/``}}`` unescaped) and fields of a ``str.format`` template."""
    out: list[Segment] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i + 1 : i + 2] == c:
            buf.append(c)
            i += 2
        elif c == "}":
            raise Unconvertible("a single '}' in the template")
        elif c == "{":
            depth, j = 0, i + 1
            while j < len(text) and (text[j] != "}" or depth):
                depth += {"[": 1, "]": -1}.get(text[j], 0)
                if text[j] == "{":
                    raise Unconvertible("a nested replacement field")
                j += 1
            if j >= len(text):
                raise Unconvertible("an unclosed '{'")
            out.append("".join(buf))
            buf = []
            out.append(_parse_field(text[i + 1 : j]))
            i = j + 1
        else:
            buf.append(c)
            i += 1
    out.append("".join(buf))
    return [s for s in out if s != ""]


def _parse_field(inner: str) -> Field:
    depth, cut = 0, len(inner)
    for k, ch in enumerate(inner):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch in "!:" and depth == 0:
            cut = k
            break
    arg, access = _field_name(inner[:cut])
    rest, conversion, spec = inner[cut:], "", ""
    if rest.startswith("!"):
        conversion, rest = rest[1:2], rest[2:]
        if conversion not in ("r", "s", "a") or (rest and not rest.startswith(":")):
            raise Unconvertible(f"conversion in {{{inner}}}")
    if rest.startswith(":"):
        spec = rest[1:]
    return Field(arg, access, conversion, spec)


# ---------------------------------------------------------------------------- %-mapping


def _numeric_spec(m: re.Match[str]) -> str:
    flags, width, prec, kind = (
        m.group("flags"),
        m.group("width") or "",
        m.group("prec"),
        m.group("type"),
    )
    align = "<" if "-" in flags else ""
    sign = "+" if "+" in flags else (" " if " " in flags else "")
    alt = "#" if "#" in flags else ""
    zero = "0" if "0" in flags and "-" not in flags else ""
    precision = f".{prec or 0}" if prec is not None else ""
    return f"{align}{sign}{alt}{zero}{width}{precision}{'d' if kind in 'iu' else kind}"


def percent_field(m: re.Match[str], key: Key, arg: Arg) -> Field:
    """The f-string field for one %-specifier applied to ``arg``."""
    kind, width, prec = m.group("type"), m.group("width") or "", m.group("prec")
    if "*" in (width, prec):
        raise Unconvertible("a '*' width or precision")
    if kind in "sra":
        align = "<" if "-" in m.group("flags") else (">" if width else "")
        spec = f"{align}{width}" + (f".{prec or 0}" if prec is not None else "")
        conversion = "" if kind == "s" and (not spec or arg.kind == "str") else kind
        return Field(key, (), conversion, spec)
    if kind in "diuxXo":
        if arg.kind != "int":
            raise Unconvertible(f"%{kind} of `{arg.code}`, which may not be an int")
        if prec is not None:
            raise Unconvertible(f"a precision on %{kind}")
        return Field(key, (), "", _numeric_spec(m))
    if kind in "eEfFgG":
        if arg.kind not in ("int", "float"):
            raise Unconvertible(f"%{kind} of `{arg.code}`, which may not be a number")
        return Field(key, (), "", _numeric_spec(m))
    raise Unconvertible(f"%{kind}")


# ---------------------------------------------------------------------------- rendering


def _escape_value(text: str, quote: str, in_f: bool) -> str:
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == quote:
            out.append("\\" + c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif not c.isprintable():
            out.append(repr(c)[1:-1])
        else:
            out.append(c)
    s = "".join(out)
    return s.replace("{", "{{").replace("}", "}}") if in_f else s


def _requote(text: str, quote: str) -> str:
    """Source text written for the other quote character, escaped for ``quote``."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        out.append("\\" + quote if text[i] == quote else text[i])
        i += 1
    return "".join(out)


def _field_code(f: Field, exprs: Mapping[Key, str], atomic: Mapping[Key, bool], quote: str) -> str:
    code = exprs[f.arg]
    if f.access and not atomic.get(f.arg, True):
        code = f"({code})"
    for kind, value in f.access:
        if kind == "attr":
            code += f".{value}"
        elif isinstance(value, int):
            code += f"[{value}]"
        else:
            q = "'" if quote[0] == '"' else '"'
            if q in value or "\\" in value:
                raise Unconvertible(f"index key {value!r}")
            code += f"[{q}{value}{q}]"
    conv = f"!{f.conversion}" if f.conversion else ""
    spec = f":{f.spec}" if f.spec else ""
    return f"{{{code}{conv}{spec}}}"


def render_part(
    part: Part, exprs: Mapping[Key, str], atomic: Mapping[Key, bool], quote: str
) -> str:
    """One literal part as an f-string (or a plain string when it has no fields)."""
    in_f = part.has_fields
    body = []
    for seg in part.segments:
        if isinstance(seg, Field):
            body.append(_field_code(seg, exprs, atomic, quote))
        elif not part.source_text:
            body.append(_escape_value(seg, quote[0] if len(quote) == 1 else "", in_f))
        else:
            text = _requote(seg, quote) if quote != part.quote else seg
            body.append(text.replace("{", "{{").replace("}", "}}") if in_f else text)
    prefix = ("f" if in_f else "") + part.prefix
    return f"{prefix}{quote}{''.join(body)}{quote}"


def _check_expr(code: str, quote: str) -> bool:
    return not any(bad in code for bad in ("\\", "#", "\n", quote[0]))


def choose_quotes(
    parts: Sequence[Part], exprs: Mapping[Key, str], atomic: Mapping[Key, bool]
) -> list[str]:
    """Per part, a quote character that none of its fields' expressions contains."""
    quotes = []
    for part in parts:
        options = [part.quote]
        if len(part.quote) == 1 and "r" not in part.prefix:
            options.append("'" if part.quote == '"' else '"')
        if not part.source_text:
            options = ['"', "'"]
        for quote in options:
            fields = [
                _field_code(s, exprs, atomic, quote) for s in part.segments if isinstance(s, Field)
            ]
            if all(_check_expr(code[1:-1], quote) for code in fields):
                quotes.append(quote)
                break
        else:
            raise Unconvertible("an argument contains both quote characters, a backslash or '#'")
    return quotes


def render(
    parts: Sequence[Part],
    exprs: Mapping[Key, str],
    atomic: Mapping[Key, bool],
    quotes: Sequence[str],
) -> list[str]:
    return [render_part(p, exprs, atomic, q) for p, q in zip(parts, quotes, strict=True)]
