"""PostgreSQL's pool without a ping per checkout (issue 19): a connection idle for longer than
``IDLE_PING_S`` is pinged and replaced if the server dropped it; one used moments ago is not pinged, and a
dropped one then fails its first query once, after which the pool hands out a new connection."""

from __future__ import annotations

import psycopg
import pytest
from pydantic import ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from tests.server.conftest import PG_ADMIN

from hengqi.server.db import engine as engine_module
from hengqi.server.db.engine import Database
from hengqi.server.settings import Settings


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


def _transaction_ids(connection: Connection) -> tuple[int, int]:
    first = int(connection.execute(text("SELECT txid_current()")).scalar_one())
    return first, int(connection.execute(text("SELECT txid_current()")).scalar_one())


def test_reads_have_an_autocommit_pool_of_their_own_and_sessions_keep_their_transactions(pg_database: str) -> None:
    """The reading pool's connections are in autocommit from the start (each statement its own transaction);
    the sessions' pool is untouched by it: two statements of a session share one transaction, before and after
    reads took and returned their connections."""
    database = Database(pg_database, pool_size=2, max_overflow=0, read_pool_size=3)
    try:
        assert database.autocommit is not database.engine
        assert database.autocommit.pool.size() == 3
        with database.read_connection() as connection:
            assert connection.connection.driver_connection.autocommit is True
            first, second = _transaction_ids(connection)
            assert second != first  # no transaction spans the two statements
        for _ in range(5):
            with database.write_session() as session:
                first, second = _transaction_ids(session.connection())
                assert second == first  # one transaction for the session's statements
                assert session.connection().connection.driver_connection.autocommit is False
                session.rollback()
        with database.read_connection() as connection:
            assert connection.connection.driver_connection.autocommit is True
    finally:
        database.dispose()
    assert database.autocommit.pool.checkedin() == 0  # disposed too
    assert database.engine.pool.checkedin() == 0


def test_the_read_pool_setting_is_bounded() -> None:
    with pytest.raises(ValidationError, match="db_read_pool_size"):
        Settings(db_read_pool_size=0)
    assert Settings(db_read_pool_size=12).db_read_pool_size == 12
