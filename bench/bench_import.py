"""Bulk import of instruments: the dry run and the atomic commit of N rows, against the one-by-one path; for new
instruments (``create``) and for a file that changes N stored ones (``update``: every row a new verification due
date and status).

The peer is the commit as it was before the bulk path (``registry.create_instrument`` per row: one flush, one
chain-head read and one row read per audit entry), measured in the same run on a fresh store, so the ratio holds on
a loaded machine.  Each store is SQLite in a temporary folder, migrated by Alembic as the server does.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from hengqi.server.admin import verify_audit
from hengqi.server.app import create_app
from hengqi.server.db.models import User
from hengqi.server.demo import seed
from hengqi.server.schemas.registry import InstrumentCreate, InstrumentUpdate
from hengqi.server.services import instrument_import, registry
from hengqi.server.services.accounts import principal_of
from hengqi.server.settings import Settings

HEADER = "make,model,serial,accuracy_class,max,e,status,verification_due\r\n"


def _store(folder: Path) -> tuple[object, object]:
    from argon2 import PasswordHasher

    from hengqi.server import security

    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app(Settings(env="test", data_dir=folder / "data"))
    database = app.state.hengqi.database
    seed(database)
    with database.read_session() as session:
        user = session.scalar(select(User).where(User.username == "demo-technician"))
        assert user is not None
        principal = principal_of(session, user)
    return database, principal


def _rows(rows: int, *, due: str, status: str) -> str:
    return HEADER + "".join(f"Acme,B-30,BULK-{n:05d},III,30,0.01,{status},{due}\r\n" for n in range(rows))


def _run(rows: int, *, bulk: bool, update: bool = False) -> tuple[float, float]:
    text = _rows(rows, due="2027-01-31", status="in-service")
    with tempfile.TemporaryDirectory() as folder:
        database, principal = _store(Path(folder))
        if update:  # the stored instruments first (bulk path, not timed), then the changing file
            with database.write_session() as session:  # type: ignore[attr-defined]
                instrument_import.commit(session, principal, instrument_import.read_table(text.encode()))  # type: ignore[arg-type]
                session.commit()
            text = _rows(rows, due="2027-06-30", status="out-of-service")
        started = time.perf_counter()
        table = instrument_import.read_table(text.encode())
        with database.read_session() as session:  # type: ignore[attr-defined]
            planned = instrument_import.plan(session, principal, table)  # type: ignore[arg-type]
        assert planned.count("change" if update else "create") == rows, planned.rows[:3]
        dry = time.perf_counter() - started
        started = time.perf_counter()
        with database.write_session() as session:  # type: ignore[attr-defined]
            if bulk:
                instrument_import.commit(session, principal, table)  # type: ignore[arg-type]
            else:
                found = instrument_import.plan(session, principal, table)  # type: ignore[arg-type]
                for key, body in found.bodies:
                    if key is None:
                        registry.create_instrument(session, principal, InstrumentCreate.model_validate(body))  # type: ignore[arg-type]
                    else:
                        registry.update_instrument(session, principal, key, InstrumentUpdate.model_validate(body))  # type: ignore[arg-type]
            session.commit()
        wrote = time.perf_counter() - started
        verify_audit(database)  # type: ignore[arg-type]
        database.dispose()  # type: ignore[attr-defined]
    return dry, wrote


def main(short: bool) -> None:
    rows = 200 if short else 10_000
    print(f"load average {os.getloadavg()[0]:.1f}; {rows} rows, SQLite")
    print("| import | path | dry run s | commit s |")
    print("|---|---|---|---|")
    for what, update in (("create", False), ("update", True)):
        dry, bulk = _run(rows, bulk=True, update=update)
        _, single = _run(rows, bulk=False, update=update)
        print(f"| {what} | bulk (this commit) | {dry:.2f} | {bulk:.2f} |")
        print(f"| {what} | one by one (peer) | | {single:.2f} |")
        print(f"{what}: commit speed-up {single / bulk:.1f} x")
