"""Migration 0112_record_versions on a store that already holds records, both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from tests.server.conftest import _pg_admin

from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision, downgrade, upgrade

BEFORE = "0100"
REVISION = "0112_record_versions"
VERSIONED = ("organisations", "users", "sites", "instruments", "laboratories", "weight_sets", "weights")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema at all (PostgreSQL: one made for this test)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'data' / 'hengqi.sqlite3'}")
        yield database
        database.dispose()
        return
    name = f"hengqi_migration_{secrets.token_hex(6)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        yield database
    finally:
        database.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def _columns(database: Database, table: str) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns(table)}


def test_existing_records_get_version_one_and_the_migration_reverses(empty_database: Database) -> None:
    database = empty_database
    upgrade(database.engine, BEFORE)
    now = datetime(2026, 12, 1, 8, 0, 0)
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisations (id, name, created_at, updated_at) VALUES (7, 'Lab', :t, :t)"), {"t": now}
        )
    upgrade(database.engine, REVISION)
    assert current_revision(database.engine) == REVISION
    for table in VERSIONED:
        assert "row_version" in _columns(database, table), table
    assert {"row_version", "supersedes_id", "revision_reason"} <= _columns(database, "runs")
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT row_version FROM organisations WHERE id = 7")).scalar() == 1
    foreign = [
        key
        for key in inspect(database.engine).get_foreign_keys("runs")
        if key["constrained_columns"] == ["supersedes_id"]
    ]
    assert [key["referred_table"] for key in foreign] == ["runs"]
    downgrade(database.engine, BEFORE)
    assert "row_version" not in _columns(database, "organisations")
    assert not {"row_version", "supersedes_id", "revision_reason"} & _columns(database, "runs")
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM organisations WHERE id = 7")).scalar() == "Lab"
