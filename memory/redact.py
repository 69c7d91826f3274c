"""Secret redaction for everything that leaves memory as a dataset.

``redact(text)`` replaces credentials with ``<REDACTED:kind>`` and keeps the text
around them, so code stays readable and still parses:

- provider tokens by their shape: AWS access key ids, GitHub (``ghp_``, ``github_pat_``…),
  GitLab (``glpat-``), Slack (``xox?-``, webhook URLs), OpenAI/Anthropic (``sk-…``),
  Hugging Face (``hf_…``), JWTs, private-key PEM blocks (also when cut off);
- ``Bearer <token>``, the password in ``scheme://user:password@host`` and in a libpq
  keyword DSN (``host=db user=app password=…``);
- the base64 body lines of a PEM key even without their BEGIN line (a diff's context);
- assignments whose name says secret (``api_key``, ``token``, ``password``, ``secret``,
  ``accessToken``, ``DB_PASSWORD``…): a quoted value (``= "…"``, ``: "…"``, JSON) or an
  unquoted one in env/ini lines (``API_KEY=abc123``) and URL queries (``?token=…``).

Normal code is left alone: references (``token = get_token()``, ``password=password``,
``self.api_key = api_key``), short words (``token_type = "bearer"``), placeholders
(``"<your-token>"``, ``"${TOKEN}"``, ``"{token}"``) and names that merely contain the
word (``tokenizer``, ``max_tokens``). Redaction is idempotent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

PLACEHOLDER = "<REDACTED:{kind}>"

_SECRET_WORDS = {
    "token",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "apikey",
    "credential",
    "credentials",
}
_KEY_QUALIFIERS = {"api", "access", "secret", "private", "signing", "encryption", "master"}


def placeholder(kind: str) -> str:
    return PLACEHOLDER.format(kind=kind)


# Shapes that are secrets wherever they appear: (kind, pattern).
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
    ),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "slack_webhook",
        re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9_/-]{20,}"),
    ),
    (
        "openai_key",
        re.compile(
            r"\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{20,}"
        ),
    ),
    ("hf_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
)

_BEARER = re.compile(r"(?i)\b(bearer\s+)(?=[A-Za-z._~+/-]*\d)([A-Za-z0-9._~+/-]{16,}=*)")
# scheme://user:password@host — the password goes, user and host stay.
_URL_PASSWORD = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/?#@'\"]*:)([^\s@/'\"]+)(@)")
# name = "value" | name: 'value' | "name": "value" | name := "value"
_QUOTED = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<close>["']?\]?)"""
    r"""(?P<op>\s*(?::\s*[A-Za-z_][\w.\[\], |]*?\s*=|:=|=|:)\s*)"""
    r"""(?P<prefix>[rbuRBU]{0,2})(?P<q>["'])(?P<value>[^"'\n]*)(?P=q)"""
)
# NAME=value / name: value as a whole env, ini or YAML line.
_LINE = re.compile(
    r"""^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)"""
    r"""(?P<op>[ \t]*[=:][ \t]*)(?P<value>[^\s"'#]+)(?=[ \t]*(?:\#.*)?$)""",
    re.MULTILINE,
)
# ?name=value / &name=value in a URL query.
_QUERY = re.compile(
    r"(?P<lead>[?&;])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<op>=)(?P<value>[^\s\"'&;#,]+)"
)
# NAME=value inside a line (a shell command, a flattened text): upper-case names only.
_INLINE_ENV = re.compile(r"(?<=\s)(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>[^\s\"'&;#,]+)")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# A libpq keyword DSN: two or more key=value pairs separated by blanks only
# (``host=db port=5432 password=Kw9x``); commas make it Python keyword arguments instead.
_DSN_VALUE = r"(?:'(?:[^'\\\n]|\\.)*'|[^\s'\",;()=]+)"
_DSN_PAIR = rf"[a-z_]+[ \t]*=[ \t]*{_DSN_VALUE}"
_DSN = re.compile(rf"(?<![\w.]){_DSN_PAIR}(?:[ \t]+{_DSN_PAIR})+")
_DSN_SECRET = re.compile(rf"(?P<name>[a-z_]+)(?P<op>[ \t]*=[ \t]*)(?P<value>{_DSN_VALUE})")
# PEM body lines (base64, 40+ characters, nothing else on the line) — cut from their BEGIN
# line, e.g. in a diff's context; an optional diff marker, indentation or quotes around.
_PEM_LINE = r"[ \t]*[-+ ]?[ \t]*[\"']?[A-Za-z0-9+/]{40,}={0,2}(?:\\n)?[\"']?,?[ \t]*"
_PEM_RUN = re.compile(rf"^(?:{_PEM_LINE}\n){{2,}}|^(?:{_PEM_LINE}\n)+(?=.*-----END )", re.M)
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")


def secret_name(name: str) -> bool:
    """Whether an identifier names a credential: ``api_key``, ``DB_PASSWORD``, ``accessToken``.

    The last word decides (``token_path`` and ``password_prompt`` are not secrets).
    """
    words = [w.lower() for w in _WORDS.findall(name.rsplit(".", 1)[-1])]
    while words and words[-1].isdigit():
        words.pop()
    if not words:
        return False
    last = words[-1].rstrip("0123456789")
    if last in _SECRET_WORDS or (last != "pwd" and any(last.endswith(w) for w in _SECRET_WORDS)):
        return True
    return last == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


_PLACEHOLDER_WORDS = {"password", "passwd", "pass", "pwd", "pw", "secret", "token", "changeme"}


def _placeholder_like(value: str) -> bool:
    if not value or value[0] in "<${%*" or len(set(value)) <= 2:
        return True
    return value.lower().strip("_-.") in _PLACEHOLDER_WORDS


def _generated(value: str) -> bool:
    """Looks machine-made: digits among other characters, or a long mixed-case run.

    Word-like values without digits (``"my-secret"``, ``"expired_token"``,
    ``"X-Api-Token"``) are names, headers or placeholders far more often than secrets.
    """
    if any(c.isdigit() for c in value):
        return len(value) >= 4 and (len(value) >= 8 or any(c.isalpha() for c in value))
    mixed = value != value.lower() and value != value.upper()
    return len(value) >= 16 and mixed and not re.search(r"[-_. ]", value)


def _quoted_secret(value: str) -> bool:
    if _placeholder_like(value) or any(c.isspace() for c in value):
        return False
    return _generated(value)


def _unquoted_secret(value: str, *, env_style: bool) -> bool:
    """An unquoted value: a secret unless it reads as code (a name, a call, a constant)."""
    if _placeholder_like(value) or any(c in "()[]{}" for c in value):
        return False
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.\w+)+", value) or re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        return False  # an attribute or a CONSTANT: a reference, not a value
    if not env_style and re.fullmatch(r"[A-Za-z_]\w*", value):
        # a name or a type in code, unless it looks generated (``hunter22``, not ``token2``)
        digits = any(c.isdigit() for c in value)
        return digits and "_" not in value and len(value) >= 8
    return _generated(value)


class Redactor:
    """Redacts strings and counts what it replaced, by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def _shape(self, kind: str) -> Callable[[re.Match[str]], str]:
        def repl(_: re.Match[str]) -> str:
            self.counts[kind] += 1
            return placeholder(kind)

        return repl

    def _quoted(self, m: re.Match[str]) -> str:
        if not secret_name(m["name"]) or not _quoted_secret(m["value"]):
            return m.group(0)
        self.counts["secret_assignment"] += 1
        head = m.group(0)[: m.start("value") - m.start(0)]
        return f"{head}{placeholder('secret')}{m['q']}"

    def _unquoted(self, m: re.Match[str]) -> str:
        name, value = m["name"], m["value"]
        env_style = m.re is not _LINE or name.upper() == name
        if not secret_name(name) or not _unquoted_secret(value, env_style=env_style):
            return m.group(0)
        self.counts["secret_assignment"] += 1
        lead = m.groupdict().get("lead") or ""
        return f"{lead}{name}{m.groupdict().get('op') or '='}{placeholder('secret')}"

    def _bearer(self, m: re.Match[str]) -> str:
        self.counts["bearer"] += 1
        return m.group(1) + placeholder("bearer")

    def _url(self, m: re.Match[str]) -> str:
        if _placeholder_like(m.group(2)):
            return m.group(0)
        self.counts["url_password"] += 1
        return m.group(1) + placeholder("password") + m.group(3)

    def _dsn(self, m: re.Match[str]) -> str:
        def one(pair: re.Match[str]) -> str:
            value = pair["value"].strip("'")
            if not secret_name(pair["name"]) or _placeholder_like(value):
                return pair.group(0)
            self.counts["dsn_password"] += 1
            return f"{pair['name']}{pair['op']}{placeholder('password')}"

        return _DSN_SECRET.sub(one, m.group(0))

    def _pem_run(self, m: re.Match[str]) -> str:
        """Each base64 line of a PEM body keeps its diff marker and indentation."""
        lines = m.group(0).splitlines(keepends=True)
        mixed = (r"[A-Z]", r"[a-z]", r"\d")
        if not all(re.search(c, line) for line in lines for c in mixed):
            return m.group(0)  # hex digests, long words: not base64 key material
        self.counts["private_key"] += 1
        out = []
        for line in lines:
            lead = re.match(r"[ \t]*[-+ ]?[ \t]*", line)
            out.append((lead.group(0) if lead else "") + placeholder("private_key") + "\n")
        return "".join(out)

    def redact(self, text: str) -> str:
        if not text:
            return text
        for kind, pattern in _SHAPES:
            text = pattern.sub(self._shape(kind), text)
        text = _PEM_RUN.sub(self._pem_run, text)
        text = _PEM_END.sub(self._shape("private_key"), text)
        text = _DSN.sub(self._dsn, text)
        text = _BEARER.sub(self._bearer, text)
        text = _URL_PASSWORD.sub(self._url, text)
        text = _QUOTED.sub(self._quoted, text)
        for pattern in (_LINE, _QUERY, _INLINE_ENV):
            text = pattern.sub(self._unquoted, text)
        return text

    def redact_value(self, value: Any) -> Any:
        """Redact every string inside JSON-like data (dict keys stay as they are)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``<REDACTED:kind>``."""
    return Redactor().redact(text)
