"""Engines and sessions, made from settings when the app starts (never at import time).

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged commit survives a crash of the process or the
machine), foreign keys on, and a busy timeout.  Sessions that write begin with ``BEGIN IMMEDIATE`` on SQLite, so
that a writer takes the write lock before it reads what it will change (no lost updates, no stale-snapshot
failures); on PostgreSQL the audit chain takes a transaction-level advisory lock (:mod:`hengqi.server.audit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hengqi.errors import InputError


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``); creates a SQLite file's folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _refuse_nul(engine)
    return engine


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nul(engine: Engine) -> None:
    """Text with a NUL character (U+0000) is refused before it reaches the database, on every backend alike.

    PostgreSQL cannot store NUL in text (its driver raises, which used to answer 500); SQLite would store it, and
    a C string reader downstream would see the text cut short.  An :class:`~hengqi.errors.InputError` (HTTP 422,
    CLI exit 2) says so instead.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if parameters and _has_nul(parameters):
            raise InputError("text", "a NUL character (U+0000) is not accepted in text")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine and the two session factories of one running app (reading, and writing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.dialect == "sqlite" else self.engine
        self.reading = sessionmaker(self.engine, expire_on_commit=False)
        self.writing = sessionmaker(writer, expire_on_commit=False)

    def read_session(self) -> Session:
        return self.reading()

    def write_session(self) -> Session:
        return self.writing()

    def dispose(self) -> None:
        self.engine.dispose()
