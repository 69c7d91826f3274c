"""``memory.pg_store``: the PostgreSQL memory store, against a real server from ``pgserver``."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError, load_config
from memory import JsonlLog, Memory
from memory.export import ExportOptions, export_datasets
from memory.jsonl import ReadReport
from memory.pg_store import PgLog, redact_dsn
from memory.query import stats as memory_stats
from memory.store import LOG_FILES, SUCCESS_FIELDS, MemoryConfig
from tests.agent.test_fix_cli import fix, shop  # noqa: F401  (fixture)
from tests.memory.test_export import autopatch, codemod_run, docstring_run, repaired_run

INSTALL = "`pip install 'autopatch[pg]'` (scripts/setup.sh installs it)"
# Port 1 refuses at once: an unreachable server without waiting for a timeout.
BAD_DSN = "postgresql://team:s3cret-pw@127.0.0.1:1/autopatch"


@pytest.fixture(scope="session")
def driver() -> Any:
    return pytest.importorskip("psycopg", reason=f"the postgres store needs {INSTALL}")


@pytest.fixture(scope="session")
def pg_server(driver: Any) -> Iterator[Any]:
    pgserver = pytest.importorskip("pgserver", reason=f"the postgres store tests need {INSTALL}")
    # Not under tmp_path: as root, pgserver runs postgres as another user and opens the
    # folders above its data dir to it, and other pytest runs re-close /tmp/pytest-of-<user>.
    root = Path(tempfile.mkdtemp(prefix="autopatch-pg-"))
    server = pgserver.get_server(root / "data", cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def new_database(pg_server: Any) -> str:
    """The DSN of a fresh, empty database on the session's server."""
    import psycopg

    name = f"memory_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return str(pg_server.get_uri(name))


@pytest.fixture
def dsn(pg_server: Any) -> str:
    return new_database(pg_server)


def local_and_pg(data: Path, dsn: str, name: str) -> tuple[list[Any], list[Any]]:
    return JsonlLog(data / "memory" / LOG_FILES[name]).read()[0], PgLog(dsn, name).read()[0]


# -- PgLog ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_round_trip_in_order_with_schema_version(dsn: str, tmp_path: Path) -> None:
    log = PgLog(dsn, "attempts")
    assert log.read() == ([], ReadReport(0, 0))  # no table yet: nothing, and nothing created
    records = [
        {"run_id": "r1", "i": 0, "messages": [{"role": "user", "content": "héllo ✓"}]},
        {"run_id": "r1", "i": 1, "path": tmp_path, "nested": {"z": [1, 2.5, None, True]}},
        {"run_id": "r2", "i": 2, "schema_version": 7, "raw_output": "```python\nx = '\\n'\n```"},
    ]
    for record in records:
        log.append(record)
    PgLog(dsn, "success").append({"run_id": "r1"})  # another log in the same table
    got, report = PgLog(dsn, "attempts").read()
    assert report == ReadReport(3, 0)
    assert got == [
        {"schema_version": 1, **records[0]},
        {"schema_version": 1, **records[1], "path": str(tmp_path)},  # default=str, as JsonlLog
        records[2],  # a record's own schema_version wins, as in JsonlLog
    ]
    assert list(log) == got
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT log, schema_version FROM autopatch_memory ORDER BY id"
        ).fetchall()
    assert rows == [("attempts", 1), ("attempts", 1), ("attempts", 7), ("success", 1)]


WRITER = """
import sys, time
from pathlib import Path
from memory.pg_store import PgLog
dsn, who, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
log = PgLog(dsn, "attempts")
log.append({"writer": who, "i": -1})  # connect and create the table before the race
(go.parent / f"ready-{who}").touch()
while not go.exists():
    time.sleep(0.01)
for i in range(150):
    log.append({"writer": who, "i": i, "payload": who * (i * 37 % 5000)})
"""


@pytest.mark.slow
def test_two_processes_append_concurrently(dsn: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, dsn, who, str(go)]) for who in ("a", "b")
    ]
    try:
        ready = [tmp_path / f"ready-{who}" for who in ("a", "b")]
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()  # both are connected: they now append at the same time
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
    finally:
        for p in procs:
            p.kill()
    records, report = PgLog(dsn, "attempts").read()
    assert report == ReadReport(302, 0)
    for who in ("a", "b"):
        mine = [r for r in records if r["writer"] == who]
        assert [r["i"] for r in mine] == list(range(-1, 150))  # all there, each in its order
        for r in mine[1:]:
            assert r == {"schema_version": 1, "writer": who, "i": r["i"], "payload": who * (r["i"] * 37 % 5000)}  # fmt: skip


def test_bad_dsn_is_a_clear_error_without_the_password(driver: Any) -> None:
    with pytest.raises(ValueError, match="memory.dsn") as caught:
        PgLog(BAD_DSN, "success").append({"run_id": "r1"})
    assert "s3cret-pw" not in str(caught.value)
    assert "postgresql://team:***@127.0.0.1:1/autopatch" in str(caught.value)
    with pytest.raises(ValueError, match="cannot connect"):
        PgLog(BAD_DSN, "success").read()


def test_missing_driver_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(ValueError, match=r"pip install 'autopatch\[pg\]'"):
        PgLog(BAD_DSN, "success").read()


def test_redact_dsn() -> None:
    assert redact_dsn(BAD_DSN) == "postgresql://team:***@127.0.0.1:1/autopatch"
    assert redact_dsn("postgres://me@db/x") == "postgres://me@db/x"
    assert redact_dsn("host=db password='a b' user=me") == "host=db password=*** user=me"
    assert redact_dsn("postgresql://db/x?password=pw&sslmode=require") == (
        "postgresql://db/x?password=***&sslmode=require"
    )


# -- Memory with the postgres backend ----------------------------------------------------------
@pytest.mark.slow
def test_memory_writes_both_stores(dsn: str, tmp_path: Path) -> None:
    data = tmp_path / ".agent_data"
    docstring_run(data, "20261123-000001-aaaaaa")  # written before the mirror: local only
    memory = Memory(data, MemoryConfig("postgres", dsn))
    memory.record_attempt({"run_id": "20261123-000002-bbbbbb", "role": "slot", "outcome": "ok"})
    success = {f: "x" for f in SUCCESS_FIELDS} | {"run_id": "20261123-000002-bbbbbb"}
    memory.record_success(success)
    memory.record_failure({"run_id": "20261123-000003-cccccc", "reason": "tests failed"})
    memory.record_feedback("20261123-000001-aaaaaa", 5, "good")
    for name in LOG_FILES:
        local, pg = local_and_pg(data, dsn, name)
        assert pg == local[-1:], name  # the new record, in both; the earlier ones local only
    assert memory.feedback()[-1]["rating"] == 5  # reads stay local
    assert memory.mirror is not None and memory.mirror.missed == 0


def test_a_mirror_failure_keeps_the_local_record(
    driver: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    memory = Memory(tmp_path, MemoryConfig("postgres", BAD_DSN))
    with caplog.at_level(logging.WARNING, logger="memory.pg_store"):
        memory.record_attempt({"run_id": "r1", "i": 1})
        memory.record_attempt({"run_id": "r1", "i": 2})  # the mirror rests: no second wait
    assert [a["i"] for a in memory.attempts()] == [1, 2]
    assert memory.mirror is not None and memory.mirror.missed == 2
    (warning,) = caplog.records
    assert "kept locally" in warning.getMessage() and "memory.dsn" in warning.getMessage()
    assert "s3cret-pw" not in caplog.text


# -- config ----------------------------------------------------------------------------------
def test_memory_config_section(tmp_path: Path) -> None:
    assert load_config(tmp_path).memory == MemoryConfig()
    config = load_config(tmp_path, ["memory.backend=postgres", f"memory.dsn={BAD_DSN}"])
    assert config.memory == MemoryConfig("postgres", BAD_DSN)
    assert config.to_dict()["memory"] == {"backend": "postgres", "dsn": redact_dsn(BAD_DSN)}
    assert "s3cret-pw" not in repr(config)
    with pytest.raises(ValueError, match="needs memory.dsn"):
        load_config(tmp_path, ["memory.backend=postgres"])
    with pytest.raises(ValueError, match="jsonl, postgres"):
        load_config(tmp_path, ["memory.backend=mongo"])
    with pytest.raises(ConfigError, match="memory.url"):
        load_config(tmp_path, ["memory.url=x"])


# -- export ----------------------------------------------------------------------------------
def copy_to_pg(memory_dir: Path, dsn: str) -> None:
    """What the mirror would hold: every record of the folder, in file order."""
    for name, fname in LOG_FILES.items():
        log = PgLog(dsn, name)
        for record in JsonlLog(memory_dir / fname):
            log.append(record)


def realistic_memory(data: Path) -> None:
    docstring_run(data, "20261123-000001-aaaaaa")
    repaired_run(data, "20261123-000002-bbbbbb").feedback(5, key="")
    codemod_run(data, "20261123-000003-cccccc")
    docstring_run(data, "20261123-000004-dddddd", name="last").feedback(2)  # filtered out
    repaired_run(data, "20261123-000005-eeeeee").failure("Fix total()", "never validated")


@pytest.mark.slow
def test_export_from_a_dsn_equals_export_from_the_folder(
    dsn: str, pg_server: Any, tmp_path: Path
) -> None:
    data = tmp_path / ".agent_data"
    realistic_memory(data)
    copy_to_pg(data / "memory", dsn)
    options = ExportOptions(val_fraction=0.4)
    folder = export_datasets([data / "memory"], tmp_path / "from_folder", options)
    store = export_datasets([dsn], tmp_path / "from_pg", options)
    assert store["hash"] == folder["hash"]
    for key in ("kinds", "files", "runs", "splits", "provenance", "redactions", "torn_lines"):
        assert store[key] == folder[key], key
    for name in folder["files"]:
        assert (tmp_path / "from_pg" / name).read_bytes() == (
            tmp_path / "from_folder" / name
        ).read_bytes()
    (source,) = store["sources"]
    assert source["dsn"] == redact_dsn(dsn)
    assert {k: v["records"] for k, v in source["files"].items()} == {
        k: v["records"] for k, v in folder["sources"][0]["files"].items()
    }
    with pytest.raises(ValueError, match="holds no memory records"):
        export_datasets([new_database(pg_server)], tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot connect"):
        export_datasets([BAD_DSN], tmp_path / "unreachable")


# -- the command line ------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_with_the_postgres_backend(dsn: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".autopatch.yaml").write_text(
        json.dumps({"memory": {"backend": "postgres", "dsn": dsn}})
    )
    data = repo / ".agent_data"
    realistic_memory(data)
    stats = autopatch("memory", "stats", "--repo", str(repo), "--json", cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout) == json.loads(json.dumps(memory_stats(Memory(data))))
    rated = autopatch(
        "feedback", "20261123-000003-cccccc", "--rating", "4", "--repo", str(repo), cwd=tmp_path
    )
    assert rated.returncode == 0, rated.stderr
    local, pg = local_and_pg(data, dsn, "feedback")
    assert pg == local[-1:] and pg[0]["rating"] == 4  # the CLI's write reached both stores
    copy_to_pg(data / "memory", dsn)
    out = tmp_path / "datasets"
    done = autopatch("export", "--repo", str(repo), "--memory", dsn, "--out", str(out), "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [s.get("dsn") for s in json.loads(done.stdout)["sources"]] == [None, redact_dsn(dsn)]
    learn = autopatch("learn", "--repo", str(repo), "--memory", dsn, cwd=tmp_path)
    assert learn.returncode == 2 and "memory folders only" in learn.stderr


@pytest.mark.slow
def test_fix_writes_its_records_to_both_stores(dsn: str, shop: Path) -> None:  # noqa: F811
    backend = ["--set", "memory.backend=postgres", "--set", f"memory.dsn={dsn}"]
    out = fix(shop, "Rename `calc_total` to `compute_total` everywhere.", "--json", *backend)
    assert out.returncode == 0, out.stderr
    data = shop / ".agent_data"
    for name in LOG_FILES:
        local, pg = local_and_pg(data, dsn, name)
        assert pg == local, name
    assert [r["run_id"] for r in PgLog(dsn, "success")] == [json.loads(out.stdout)["run_id"]]
