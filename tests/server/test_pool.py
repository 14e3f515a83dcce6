"""PostgreSQL's pool without a ping per checkout (issue 19): a connection idle for longer than
``IDLE_PING_S`` is pinged and replaced if the server dropped it; one used moments ago is not pinged, and a
dropped one then fails its first query once, after which the pool hands out a new connection."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from tests.server.conftest import PG_ADMIN

from hengqi.server.db import engine as engine_module
from hengqi.server.db.engine import Database


def _backend_pid(database: Database) -> int:
    with database.read_connection() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_an_idle_connection_dropped_by_the_server_is_pinged_and_replaced(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(pg_database, pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(database)
        _terminate(first)  # the server drops the pooled connection while it is idle
        monkeypatch.setattr(engine_module, "IDLE_PING_S", 0.0)  # every pooled connection counts as idle now
        second = _backend_pid(database)  # pinged at checkout, found dead, replaced: no error
        assert second != first
    finally:
        database.dispose()


def test_a_connection_used_moments_ago_is_not_pinged_and_a_drop_costs_one_query(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_S", 3600.0)  # never idle long enough to be pinged
    database = Database(pg_database, pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(database)
        _terminate(first)
        with pytest.raises(OperationalError):  # no ping: the first query finds the connection gone
            _backend_pid(database)
        assert _backend_pid(database) != first  # the pool was invalidated: the next read gets a new connection
    finally:
        database.dispose()
