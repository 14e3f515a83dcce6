"""Reads run on the driver's connection (:mod:`hengqi.server.db.direct`, issue 19) answer exactly what SQLAlchemy's
``Connection.execute`` answers: the same fields, equal values of the same types, for every column of every table
of a seeded demonstration store (text, numbers as ``Decimal``, aware timestamps, JSON documents, booleans), on
SQLite and PostgreSQL.  A NUL character in a parameter is refused as on every other statement; a driver error
comes out as SQLAlchemy's, and a connection the server dropped is discarded, not lent again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError
from tests.server.conftest import Store, empty_pg

from hengqi.errors import InputError
from hengqi.server.app import create_app
from hengqi.server.db.direct import DirectConnection, DirectSelect
from hengqi.server.db.engine import Database
from hengqi.server.db.models import Base, Instrument
from hengqi.server.demo import seed


def _typed(row: Any) -> list[tuple[type, Any]]:
    return [(type(value), value) for value in row]


def test_every_column_of_every_table_reads_as_sqlalchemy_reads_it(store: Store) -> None:
    app = create_app(store.settings())
    database = app.state.hengqi.database
    try:
        seed(database)
        compared: dict[str, int] = {}
        for table in Base.metadata.sorted_tables:
            statement = select(*table.columns).order_by(*table.primary_key.columns)
            with database.read_connection() as connection:
                expected = connection.execute(statement).all()
            direct = DirectSelect(statement)
            with database.direct_read() as connection:
                got = direct.rows(connection, {})
            assert [list(r._fields) for r in expected[:1]] == [list(r._fields) for r in got[:1]], table.name
            assert [_typed(r) for r in got] == [_typed(r) for r in expected], table.name
            compared[table.name] = len(expected)
        filled = {name for name, count in compared.items() if count}
        # text, Decimal masses, aware timestamps, JSON ranges and audit values, booleans, all compared
        assert {"instruments", "users", "weights", "audit_log", "organisations"} <= filled, compared
        # used per request on SQLite only (hengqi.server.db.direct.DIRECT_DIALECTS says why)
        assert database.direct_reads is (store.backend == "sqlite")
    finally:
        database.dispose()


def test_parameters_are_bound_and_a_nul_is_refused(store: Store) -> None:
    app = create_app(store.settings())
    database = app.state.hengqi.database
    try:
        seed(database)
        by_serial = DirectSelect(select(Instrument.id, Instrument.serial).where(Instrument.serial == bindparam("s")))
        with database.direct_read() as connection:
            (first,) = by_serial.rows(connection, {"s": "DEMO-0001"}) or [None]
            assert by_serial.one_or_none(connection, {"s": "no such serial"}) is None
            with pytest.raises(InputError, match="NUL"):
                by_serial.rows(connection, {"s": "DEMO\x00"})
        with database.read_connection() as connection:
            expected = connection.execute(select(Instrument.id).where(Instrument.serial == "DEMO-0001")).scalar()
        assert (first is None and expected is None) or first.id == expected
    finally:
        database.dispose()


@pytest.fixture
def dropping_database(pg_database: str, tmp_path: Path) -> Iterator[Database]:
    """The app's database on PostgreSQL only (a server that can be made to drop a connection; SQLite has none)."""
    empty_pg(pg_database)
    database = create_app(Store("postgresql", tmp_path / "data", pg_database).settings()).state.hengqi.database
    yield database
    database.dispose()


def _drop(database: Database, pid: int) -> None:
    with database.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()


ONE = DirectSelect(select(Instrument.id).where(Instrument.id == bindparam("key")))


def test_a_dropped_connection_raises_sqlalchemys_error_and_is_not_lent_again(dropping_database: Database) -> None:
    with dropping_database.direct_read() as connection:
        pid = connection.driver.execute("SELECT pg_backend_pid()").fetchone()[0]
    _drop(dropping_database, pid)
    with pytest.raises(DBAPIError) as raised, dropping_database.direct_read() as connection:
        ONE.rows(connection, {"key": 1})
    assert raised.value.connection_invalidated
    with dropping_database.direct_read() as connection:  # a new connection, and the read answers
        assert connection.driver.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
        assert ONE.rows(connection, {"key": 1}) == []


def test_a_dropped_connection_under_sqlalchemy_is_invalidated_as_sqlalchemy_would(dropping_database: Database) -> None:
    """``DirectConnection.of`` (the token lookup's connection on SQLite; a dropped connection is staged on
    PostgreSQL): a connection the server dropped is invalidated, not returned to the pool."""
    with dropping_database.read_connection() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert pid is not None
        _drop(dropping_database, pid)
        with pytest.raises(DBAPIError) as raised:
            ONE.rows(DirectConnection.of(connection), {"key": 1})
        assert raised.value.connection_invalidated
        assert connection.invalidated
    with dropping_database.read_connection() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        assert ONE.rows(DirectConnection.of(connection), {"key": 1}) == []
