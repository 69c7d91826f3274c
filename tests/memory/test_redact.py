"""``memory.redact``: secrets go, the code around them stays."""

from __future__ import annotations

from pathlib import Path

import pytest

import memory
from memory.redact import Redactor, redact, secret_name

GH = "ghp_" + "a1B2c3D4e5" * 4
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0123456789abcdef\nQWERTY==\n-----END RSA PRIVATE KEY-----"  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("key AKIAQWERTYUIOPASDFGH used", "key <REDACTED:aws_access_key> used", "aws_access_key"),
        (f"GITHUB={GH}", "GITHUB=<REDACTED:github_token>", "github_token"),
        ("t = 'github_pat_" + "x1Y2z3" * 6 + "'", "t = '<REDACTED:github_token>'", "github_token"),
        ("glpat-" + "Kj7Hg6Fd5S" * 2, "<REDACTED:gitlab_token>", "gitlab_token"),
        ("xoxb-2048-4096-abcdEFGH12", "<REDACTED:slack_token>", "slack_token"),
        (
            "post to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX now",
            "post to <REDACTED:slack_webhook> now",
            "slack_webhook",
        ),
        (
            'OpenAI(api_key="sk-proj-' + "Zx9Yw8Vu7T" * 3 + '")',
            'OpenAI(api_key="<REDACTED:openai_key>")',
            "openai_key",
        ),  # fmt: skip
        ("sk-ant-api03-" + "Ab1" * 10, "<REDACTED:openai_key>", "openai_key"),
        ("HF hf_" + "Qm3Nb4Vc5X" * 4, "HF <REDACTED:hf_token>", "hf_token"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U.",
            "jwt <REDACTED:jwt>.",
            "jwt",
        ),
        (f"before\n{PEM}\nafter", "before\n<REDACTED:private_key>\nafter", "private_key"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt",  # cut off by a length cap
            "<REDACTED:private_key>",
            "private_key",
        ),
        (
            'h = {"Authorization": "Bearer abcDEF0123456789xyzTOKEN"}',
            'h = {"Authorization": "Bearer <REDACTED:bearer>"}',
            "bearer",
        ),
        (
            "postgres://admin:Sup3rS3cret@db:5432/app",
            "postgres://admin:<REDACTED:password>@db:5432/app",
            "url_password",
        ),
        (
            "mysql+pymysql://u:pa55word@h/db?charset=utf8",
            "mysql+pymysql://u:<REDACTED:password>@h/db?charset=utf8",
            "url_password",
        ),
        (
            'password: str = "hunter2222"',
            'password: str = "<REDACTED:secret>"',
            "secret_assignment",
        ),
        ("DB_PASSWORD = 'c0rrect-horse'", "DB_PASSWORD = '<REDACTED:secret>'", "secret_assignment"),
        (
            '{"client_secret": "a8f9d7c6e5b4"}',
            '{"client_secret": "<REDACTED:secret>"}',
            "secret_assignment",
        ),  # fmt: skip
        ('cfg["apiKey"] = "zz9xx8yy7"', 'cfg["apiKey"] = "<REDACTED:secret>"', "secret_assignment"),
        (
            'def f(password="correcthorse9"):',
            'def f(password="<REDACTED:secret>"):',
            "secret_assignment",
        ),  # fmt: skip
        ("PASSWORD=hunter2", "PASSWORD=<REDACTED:secret>", "secret_assignment"),
        ("export API_TOKEN=abc123def", "export API_TOKEN=<REDACTED:secret>", "secret_assignment"),
        (
            "  password: hunter22  # yaml",
            "  password: <REDACTED:secret>  # yaml",
            "secret_assignment",
        ),
        (
            "GET /cb?access_token=abc123def456&x=1",
            "GET /cb?access_token=<REDACTED:secret>&x=1",
            "secret_assignment",
        ),  # fmt: skip
        (
            "run AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG now",
            "run AWS_SECRET_ACCESS_KEY=<REDACTED:secret> now",
            "secret_assignment",
        ),  # fmt: skip
    ],
)
def test_secrets_are_replaced(text: str, expected: str, kind: str) -> None:
    redactor = Redactor()
    assert redactor.redact(text) == expected
    assert redactor.counts[kind] >= 1
    assert redact(expected) == expected  # idempotent


NORMAL = [
    "token = get_token()",
    "password=password",
    "self.api_key = api_key",
    'token_type = "bearer"',
    'tokenizer = "gpt2-tokenizer-fast"',
    "max_tokens = 300",
    "api_key: str | None = None",
    "password: Optional[str] = None",
    "token: TextGenerationStreamOutputToken",
    "token = tokens[0]",
    "token = token2",
    "token = tok_abc123",
    "pwd = os.getcwd()",
    'password_prompt = "Enter password: "',
    'token_path = "/etc/token"',
    'url = f"{scheme}://{user}:{password}@{host}"',
    "scheme://user:password@host",
    'x = "http://example.com:8080/path"',
    'if token == "abcdefgh12":',
    'TOKEN = "<your-token>"',
    'key = "${API_KEY}"',
    'secret = "{secret}"',
    'secret = "********"',
    "SECRET_KEY = SECRET_KEY_DEFAULT",
    "api_key = settings.API_KEY",
    'EXPIRED_TOKEN = "expired_token"',
    'HEADER = "X-Api-Token"',
    'app = Server(webhook_secret="my-secret")',
    "HF_DISABLE_TOKEN: bool = _is_true(os.environ.get('X'))",
    'return f"Bearer {token}"',
    "Authorization: Bearer authentication",
    'name = "sk-learn-is-a-common-typo-name"',
    "credentials = load_credentials(path)",
    "import tokenize",
    "--secrets SECRET=value",
]


@pytest.mark.parametrize("line", NORMAL)
def test_normal_code_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_this_codebase_passes_through_unchanged() -> None:
    """Every module of the four packages is ordinary code: redaction must not touch it."""
    root = Path(memory.__file__).resolve().parent.parent
    files = [
        p for pkg in ("agent", "planner", "cores", "memory") for p in (root / pkg).rglob("*.py")
    ]
    assert len(files) > 50
    for path in files:
        if path.name == "redact.py":  # its docstring shows a URL with a password placeholder
            continue
        text = path.read_text(encoding="utf-8")
        redactor = Redactor()
        assert redactor.redact(text) == text, (path, dict(redactor.counts))


def test_redact_value_walks_json_and_keeps_keys() -> None:
    redactor = Redactor()
    data = {"password": "x", "rows": [{"content": f"use {GH}"}, 3, None], "n": 1.5}
    assert redactor.redact_value(data) == {
        "password": "x",
        "rows": [{"content": "use <REDACTED:github_token>"}, 3, None],
        "n": 1.5,
    }
    assert redactor.counts == {"github_token": 1}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("apiKey", True),
        ("APIKey", True),
        ("DB_PASSWORD", True),
        ("PGPASSWORD", True),
        ("accessToken", True),
        ("client_secret", True),
        ("password2", True),
        ("aws_secret_access_key", True),
        ("credentials", True),
        ("tokenizer", False),
        ("max_tokens", False),
        ("token_path", False),
        ("password_prompt", False),
        ("key", False),
        ("primary_key", False),
        ("cwd", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


BODY = (
    " MIIEowIBAAKCAQEA0123456789abcdefGHIJKLMNOPQRSTUVWXYZabcdefghijkl\n"
    "+QWERTYuiop1234567890asdfghjklZXCVBNMqwertyuiopASDFGHJKL12345678\n"
    "+abcdEFGH1234ijklMNOP5678qrstUVWX9012yzABCDEF3456ghijKLMN7890==\n"
    "+-----END RSA PRIVATE KEY-----\n"
    " unrelated = 1\n"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            'psycopg.connect("host=db.internal port=5432 dbname=app user=app password=Kw9xQ2mZ")',
            "Kw9xQ2mZ",
        ),  # fmt: skip
        ("DSN = \"host=db password='Kw9 x2pL' user=app\"", "Kw9 x2pL"),
        ("dbname=app password=hunter user=me", "hunter"),  # plain word: a DSN says it is one
        (BODY, "QWERTYuiop1234567890"),  # PEM body lines in a diff, without the BEGIN line
        (BODY.split("+-----END")[0] + " x = 1\n", "abcdEFGH1234"),  # and without the END line
    ],
)
def test_keyword_dsns_and_headless_pem_bodies_are_redacted(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert "<REDACTED:" in out and redact(out) == out


def test_the_diff_around_a_pem_body_keeps_its_shape() -> None:
    out = redact(BODY)
    assert out.splitlines()[0].startswith(" <REDACTED:private_key>")
    assert out.splitlines()[1].startswith("+<REDACTED:private_key>")
    assert out.endswith(" unrelated = 1\n")


@pytest.mark.parametrize(
    "line",
    [
        "conn = connect(host=host, password=password, dbname=name)",
        "conn = connect(host=h, user=u, password=self.password)",
        "'host=db password=<your-password> user=app'",
        "    '92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb',\n"
        "    '6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2',\n",
    ],
)
def test_code_that_looks_like_a_dsn_or_a_pem_body_is_left_alone(line: str) -> None:
    assert redact(line) == line
