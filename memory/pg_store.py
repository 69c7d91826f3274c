"""Memory logs in PostgreSQL (the team's training store), behind ``JsonlLog``'s interface.

One table, ``autopatch_memory(id bigserial, log, created, schema_version, record jsonb)``,
indexed by ``(log, id)`` and created on the first append. ``PgLog(dsn, name).append``
is one INSERT in its own transaction (a crash loses at most that record; concurrent
writers never mix records); ``read`` returns a log's records in insertion order.

``PgMirror`` copies the records ``Memory`` writes locally into such a store; a failed
copy is logged and never fails the run (the local JSONL files stay the source of truth).
``psycopg`` (v3) is imported on first use: ``pip install 'autopatch[pg]'``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from memory.jsonl import SCHEMA_VERSION, ReadReport

log = logging.getLogger(__name__)

TABLE = "autopatch_memory"
INSTALL_HINT = "pip install 'autopatch[pg]'"
DSN_SCHEMES = ("postgres://", "postgresql://")
CONNECT_TIMEOUT_S = 5
_LOCK_KEY = 0x6175746F7061  # advisory lock taken while the table is created ("autopa")

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, log text NOT NULL, "
    "created timestamptz NOT NULL DEFAULT now(), schema_version int, record jsonb NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_log_id ON {TABLE} (log, id)",
)


class PgStoreError(ValueError):
    """The store cannot be used; ``unreachable`` when no connection could be made."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def is_dsn(value: object) -> bool:
    """Whether ``value`` is a PostgreSQL URL (``postgres://…`` / ``postgresql://…``)."""
    return isinstance(value, str) and value.startswith(DSN_SCHEMES)


def redact_dsn(dsn: str) -> str:
    """``dsn`` with its password (URL or ``password=`` form) replaced by ``***``."""
    if is_dsn(dsn):
        parts = urlsplit(dsn)
        if parts.password is not None:
            user, _, host = parts.netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}"
            parts = parts._replace(netloc=netloc)
        dsn = urlunsplit(parts)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", r"\1***", dsn, flags=re.I)


def _password(dsn: str) -> str | None:
    if is_dsn(dsn):
        return urlsplit(dsn).password
    found = re.search(r"password\s*=\s*'?([^'\s&]+)", dsn, flags=re.I)
    return found.group(1) if found else None


class PgConnection:
    """One autocommit connection to ``dsn``, opened on first use and shared by the logs
    of one store; once broken, it is closed and the next call opens a new one."""

    def __init__(self, dsn: str) -> None:
        if not dsn or not isinstance(dsn, str):
            raise PgStoreError("no postgres DSN given; set memory.dsn (postgresql://user@host/db)")
        self.dsn = dsn
        self.where = redact_dsn(dsn)
        self._conn: Any = None
        self._table_ready = False
        self._lock = threading.Lock()

    def _scrub(self, exc: BaseException) -> str:
        text = str(exc).strip().replace("\n", " ")
        secret = _password(self.dsn)
        return text.replace(secret, "***") if secret else text

    def _open(self) -> Any:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        try:
            import psycopg
        except ImportError:
            raise PgStoreError(
                f"the postgres memory store needs psycopg: {INSTALL_HINT}", unreachable=True
            ) from None
        try:
            self._conn = psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            raise PgStoreError(
                f"cannot connect to the postgres memory store {self.where}: {self._scrub(exc)}; "
                "check memory.dsn (host, port, user, password, database) and that the server runs",
                unreachable=True,
            ) from None
        self._table_ready = False
        return self._conn

    def execute(self, sql: str, params: tuple[Any, ...] = (), *, create: bool = False) -> list[Any]:
        """Run one statement (after creating the table when ``create``); its rows, if any."""
        with self._lock:
            conn = self._open()
            import psycopg  # imported by _open

            try:
                if create and not self._table_ready:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                        for statement in _CREATE:
                            conn.execute(statement)
                    self._table_ready = True
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
            except psycopg.Error as exc:
                broken = bool(conn.broken or conn.closed)
                if broken:
                    self.close()
                raise PgStoreError(
                    f"postgres memory store {self.where}: {self._scrub(exc)}", unreachable=broken
                ) from None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class PgLog:
    """One named log (``success``, ``attempts``, ``failures``, ``feedback``) in the table."""

    def __init__(self, dsn: str, name: str, *, connection: PgConnection | None = None) -> None:
        self.name = name
        self.connection = connection or PgConnection(dsn)

    def append(self, record: Mapping[str, Any]) -> None:
        """Insert one record (with ``schema_version``) in its own transaction."""
        data = {"schema_version": SCHEMA_VERSION, **record}
        version = data["schema_version"] if isinstance(data["schema_version"], int) else None
        text = json.dumps(data, ensure_ascii=False, default=str)
        self.connection.execute(
            f"INSERT INTO {TABLE} (log, schema_version, record) VALUES (%s, %s, %s::jsonb)",
            (self.name, version, text),
            create=True,
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self.read()[0]

    def read(self) -> tuple[list[dict[str, Any]], ReadReport]:
        """All records of this log, oldest first (there are never torn ones)."""
        exists = self.connection.execute("SELECT to_regclass(%s)", (TABLE,))
        if not exists or exists[0][0] is None:
            return [], ReadReport(0, 0)
        rows = self.connection.execute(
            f"SELECT record FROM {TABLE} WHERE log = %s ORDER BY id", (self.name,)
        )
        records = [r[0] for r in rows if isinstance(r[0], dict)]
        return records, ReadReport(len(records), 0)


class PgMirror:
    """Copies memory records into a postgres store; never raises on a failed copy.

    After a failed connection the mirror rests for ``retry_after_s`` (records written
    meanwhile stay local only) so that an offline run does not wait on every record.
    """

    def __init__(self, dsn: str, names: tuple[str, ...], *, retry_after_s: float = 60.0) -> None:
        self.connection = PgConnection(dsn)
        self.logs = {name: PgLog(dsn, name, connection=self.connection) for name in names}
        self.retry_after_s = retry_after_s
        self.missed = 0  # records that reached only the local memory
        self._rest_until = 0.0

    def append(self, name: str, record: Mapping[str, Any]) -> bool:
        """Copy one record; False (and a logged warning) when it could not be stored."""
        if time.monotonic() < self._rest_until:
            self.missed += 1
            log.debug("postgres memory mirror resting; %s record kept locally only", name)
            return False
        try:
            self.logs[name].append(record)
            return True
        except PgStoreError as exc:
            self.missed += 1
            rest = ""
            if exc.unreachable:
                self._rest_until = time.monotonic() + self.retry_after_s
                rest = f"; not retried for {self.retry_after_s:.0f}s"
            log.warning(
                "%s record not copied to the postgres memory store (kept locally): %s%s",
                name,
                exc,
                rest,
            )
            return False

    def close(self) -> None:
        self.connection.close()
