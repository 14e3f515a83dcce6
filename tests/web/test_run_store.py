"""The database RunStore of guided runs, on SQLite and on the real PostgreSQL server: compare-and-set saves;
and run integrity in the database: gapless certificate numbers under rollbacks and concurrent issues, one running
run per instrument even when the service check is bypassed, one audit entry per recorded step, the 0117
migration."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from hengqi.procedures.errors import ConcurrentUpdateError, RunExistsError, UnknownRunError
from hengqi.procedures.state import RunState, StepRecord
from hengqi.server.audit import Actor
from hengqi.server.db.engine import Database
from hengqi.server.db.guided import CertificateCounter, GuidedRun
from hengqi.server.db.migrate import downgrade, upgrade
from hengqi.server.db.models import AuditEntry, Organisation
from hengqi.server.demo import seed
from hengqi.server.services import numbering
from hengqi.server.services.guided_runs import DbRunStore, InstrumentBusyError, NewRun

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


NOW = "2026-12-07T08:00:00+00:00"


def _org(database: Database) -> int:
    with database.read_session() as session:
        org = session.scalar(select(Organisation.id))
    assert org is not None
    return org


def test_numbers_are_gapless_under_rollbacks_and_concurrent_issues(database: Database) -> None:
    org = _org(database)
    with database.write_session() as session:
        assert numbering.draw_number(session, org, "HQ-CAL-2026") == "HQ-CAL-2026-00001"
        session.rollback()
    drawn: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issue(fail: bool) -> None:
        try:
            with database.write_session() as session:
                number = numbering.draw_number(session, org, "HQ-CAL-2026")
                if fail:
                    session.rollback()
                    return
                session.commit()
            with lock:
                drawn.append(number)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=issue, args=(n % 3 == 0,)) for n in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(drawn) == [f"HQ-CAL-2026-{n:05d}" for n in range(1, 7)]  # 6 committed, no gap, no repeat
    with database.read_session() as session:
        assert session.scalar(select(CertificateCounter.last)) == 6


def test_one_running_run_per_instrument_even_when_the_check_is_bypassed(database: Database) -> None:
    info = _new_run(database)
    DbRunStore(database, info).create(RunState.new("first", "calibration", {}))
    with pytest.raises(InstrumentBusyError, match="in use by"):
        DbRunStore(database, info).create(RunState.new("second", "calibration", {}))
    with database.write_session() as session:  # the database itself refuses a second running run
        row = session.scalar(select(GuidedRun).where(GuidedRun.run_id == "first"))
        assert row is not None
        values: dict[str, Any] = {
            column: getattr(row, column)
            for column in ("organisation_id", "instrument_id", "kind", "version", "total_steps", "state", "mode")
        }
        with pytest.raises(IntegrityError):
            session.execute(
                insert(GuidedRun).values(
                    run_id="raced",
                    status="running",
                    started_by_id=row.started_by_id,
                    receptor_kg="0",
                    receptor_position="centre",
                    problem="",
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    **values,
                )
            )
        session.rollback()
    with database.write_session() as session:
        session.execute(text("UPDATE guided_runs SET status = 'abandoned' WHERE run_id = 'first'"))
        session.commit()
    DbRunStore(database, info).create(RunState.new("third", "calibration", {}))  # the instrument is free again


def test_every_recorded_step_is_one_audit_entry(database: Database) -> None:
    info = _new_run(database)
    store = DbRunStore(database, info, actor=Actor(info.started_by_id, "tina"))
    state = RunState.new("audited", "calibration", {})
    store.create(state)
    for n in range(3):
        new = state.with_answer(StepRecord(f"{n}:abcdef0123", "read", "0.11", "operator", "tina", NOW))
        store.save(new, expected_version=state.version)
        state = new
    corrected = state.with_correction(
        1,
        StepRecord("1:abcdef0123", "read", "0.1100001", "operator", "tina", NOW, (), "misread"),
        reason="misread",
        by="tina",
        now=NOW,
    )
    store.save(corrected, expected_version=state.version)
    with database.read_session() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.entity_id == "audited").order_by(AuditEntry.id))
        )
    assert [e.action for e in entries] == ["start", "record_step", "record_step", "record_step", "correct_step"]
    assert all(e.actor == "tina" for e in entries[1:])
    assert '"0.1100001"' in entries[-1].new_values
    assert '"0.11"' in entries[-1].old_values


def test_the_migration_abandons_all_but_the_newest_of_runs_left_running_side_by_side(database: Database) -> None:
    info = _new_run(database)
    # back to just before the run-integrity migration (0117); the runs' tables are as before it there
    downgrade(database.engine, "0116_customers")
    with database.write_session() as session:
        for run_id in ("older", "newer"):
            session.execute(
                text(
                    "INSERT INTO guided_runs (run_id, organisation_id, instrument_id, kind, status, version, "
                    "total_steps, state, mode, started_by_id, receptor_kg, receptor_position, problem, created_at, "
                    "updated_at) VALUES (:run_id, :org, :instrument, 'calibration', 'running', 0, 3, '{}', "
                    "'manual', :user, '0', 'centre', '', :now, :now)"
                ),
                {
                    "run_id": run_id,
                    "org": info.organisation_id,
                    "instrument": info.instrument_id,
                    "user": info.started_by_id,
                    "now": "2026-12-07 08:00:00",
                },
            )
        session.commit()
    upgrade(database.engine)
    with database.read_session() as session:
        statuses = dict(session.execute(select(GuidedRun.run_id, GuidedRun.status)).all())
    assert statuses == {"older": "abandoned", "newer": "running"}
