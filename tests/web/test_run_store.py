"""The database RunStore of guided runs, on SQLite and on the real PostgreSQL server: compare-and-set saves."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hengqi.procedures.errors import ConcurrentUpdateError, RunExistsError, UnknownRunError
from hengqi.procedures.state import RunState, StepRecord
from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import downgrade, upgrade
from hengqi.server.demo import seed
from hengqi.server.services.guided_runs import DbRunStore, NewRun

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'hengqi.sqlite3'}")
        name = None
    else:
        name = f"hengqi_web_{secrets.token_hex(5)}"
        _pg(f'CREATE DATABASE "{name}"')
        db = Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    upgrade(db.engine)
    seed(db)
    yield db
    db.dispose()
    if name is not None:
        _pg(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        _pg(f'DROP DATABASE IF EXISTS "{name}"')


def _new_run(database: Database) -> NewRun:
    from sqlalchemy import select

    from hengqi.server.db.models import Instrument, User

    with database.read_session() as session:
        instrument = session.scalars(select(Instrument)).first()
        user = session.scalars(select(User)).first()
        assert instrument is not None
        assert user is not None
        return NewRun(instrument.organisation_id, instrument.id, "manual", None, user.id, 3)


def _answer(state: RunState, n: int) -> RunState:
    return state.with_answer(
        StepRecord(f"{n}:abcdef0123", "prompt", None, "operator", "tina", "2026-11-25T12:00:00+00:00")
    )


def test_states_are_saved_with_a_compare_and_set(database: Database) -> None:
    store = DbRunStore(database, _new_run(database))
    state = RunState.new("run-1", "calibration", {"record": {"date": "2026-11-25"}})
    store.create(state)
    with pytest.raises(RunExistsError):
        store.create(state)
    one = _answer(state, 0)
    store.save(one, expected_version=0)
    assert store.load("run-1") == one
    with pytest.raises(ConcurrentUpdateError) as stale:
        store.save(_answer(state, 0), expected_version=0)  # a second writer that loaded version 0
    assert stale.value.found_version == 1
    with pytest.raises(UnknownRunError):
        store.load("no-such-run")
    with pytest.raises(UnknownRunError):
        store.save(_answer(RunState.new("ghost", "calibration", {}), 0), expected_version=0)
    assert store.run_ids() == ("run-1",)


def test_of_racing_writers_exactly_one_wins(database: Database) -> None:
    store = DbRunStore(database, _new_run(database))
    state = RunState.new("race", "calibration", {})
    store.create(state)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def write(n: int) -> None:
        barrier.wait()
        try:
            DbRunStore(database).save(_answer(state, n), expected_version=0)
            outcomes.append("saved")
        except ConcurrentUpdateError:
            outcomes.append("refused")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 5 + ["saved"]
    assert store.load("race").version == 1


def test_the_migration_goes_down_and_up_again(database: Database) -> None:
    downgrade(database.engine, "0001")
    upgrade(database.engine)
    store = DbRunStore(database, _new_run(database))
    store.create(RunState.new("after", "calibration", {}))
    assert store.run_ids() == ("after",)
