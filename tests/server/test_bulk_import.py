"""The bulk path of an instrument import on SQLite and PostgreSQL: ``registry.create_instruments`` with
``audit.record_many`` writes one audit entry per instrument, chained, MAC'd and bound to its row exactly as one by
one would (``hengqi audit verify`` passes after it, and after single changes on top); a duplicate refuses all."""

from __future__ import annotations

import pytest

from hengqi.server.admin import verify_audit
from hengqi.server.db.models import AuditEntry, Instrument
from hengqi.server.errors import ConflictError
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.registry import InstrumentCreate, InstrumentUpdate
from hengqi.server.services import registry

from .conftest import Platform


def _items(prefix: str, count: int) -> list[InstrumentCreate]:
    return [
        InstrumentCreate(
            make="Acme", model="B-30", serial=f"{prefix}-{n:04d}", accuracy_class="III", max="30", e="0.01"
        )
        for n in range(count)
    ]


def test_bulk_create_is_audited_as_one_by_one(platform: Platform) -> None:
    org = platform.organisation("Bulk Lab")
    user, _ = platform.user("bulk-tech", Role.TECHNICIAN, org)
    tech = Principal(user, "bulk-tech", Role.TECHNICIAN, org)
    with platform.database.write_session() as session:
        before = session.query(AuditEntry).count()
        made = registry.create_instruments(session, tech, _items("BULK", 1200))  # more than one chunk of digests
        session.commit()
        assert len({i.id for i in made}) == 1200
    with platform.database.write_session() as session:
        entries = session.query(AuditEntry).order_by(AuditEntry.id).all()[before:]
        assert [e.action for e in entries] == ["create"] * 1200
        assert [e.entity_id for e in entries] == [str(i.id) for i in made]
        assert all(e.row_sha256 for e in entries)
        registry.update_instrument(session, tech, made[5].id, InstrumentUpdate(status="out-of-service"))
        session.commit()
    verify_audit(platform.database)
    # one duplicate (of an existing serial) refuses the whole batch
    with platform.database.write_session() as session, pytest.raises(ConflictError):
        registry.create_instruments(session, tech, [*_items("NEW", 3), *_items("BULK", 1)])
    with platform.database.read_session() as session:
        assert session.query(Instrument).filter(Instrument.serial.like("NEW-%")).count() == 0


def test_bulk_update_is_batched_and_audited_as_one_by_one(platform: Platform) -> None:
    """``registry.update_instruments``: one audit entry per changed instrument with its old and new values, bound
    to the row (``verify_audit`` passes); the UPDATEs go to the database as batches, not one statement per row."""
    from sqlalchemy import event

    org = platform.organisation("Bulk Update Lab")
    user, _ = platform.user("bulk-upd", Role.TECHNICIAN, org)
    tech = Principal(user, "bulk-upd", Role.TECHNICIAN, org)
    with platform.database.write_session() as session:
        made = registry.create_instruments(session, tech, _items("UPD", 600))
        session.commit()
        ids = [i.id for i in made]
    statements: list[tuple[str, bool]] = []

    def seen(_conn: object, _cursor: object, statement: str, _params: object, _context: object, many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE INSTRUMENTS"):
            statements.append((statement, many))

    engine = platform.database.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with platform.database.write_session() as session:
            before = session.query(AuditEntry).count()
            changes = [(k, InstrumentUpdate(status="out-of-service")) for k in ids[:400]]
            changes += [(k, InstrumentUpdate(max="60", e="0.02")) for k in ids[400:]]
            registry.update_instruments(session, tech, changes)
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert 0 < len(statements) <= 4, len(statements)  # two column sets: two batches (600 rows one by one before)
    with platform.database.read_session() as session:
        entries = session.query(AuditEntry).order_by(AuditEntry.id).all()[before:]
        assert [e.entity_id for e in entries] == [str(k) for k in ids]
        assert {e.action for e in entries} == {"update"}
        assert '"status":"out-of-service"' in entries[0].new_values
        assert '"status":"in-service"' in entries[0].old_values
        assert '"max_kg":"60"' in entries[-1].new_values
        stored = {i.id: i for i in session.query(Instrument).filter(Instrument.id.in_(ids))}
        assert stored[ids[0]].status == "out-of-service"
        assert stored[ids[0]].row_version == 2
        assert str(stored[ids[-1]].max_kg) == "60"
    verify_audit(platform.database)


def test_bulk_update_refuses_all_on_one_bad_item(platform: Platform) -> None:
    org = platform.organisation("Bulk Refusal Lab")
    user, _ = platform.user("bulk-ref", Role.TECHNICIAN, org)
    tech = Principal(user, "bulk-ref", Role.TECHNICIAN, org)
    other_org = platform.organisation("Elsewhere Lab")
    other_user, _ = platform.user("elsewhere", Role.TECHNICIAN, other_org)
    outsider = Principal(other_user, "elsewhere", Role.TECHNICIAN, other_org)
    with platform.database.write_session() as session:
        ids = [i.id for i in registry.create_instruments(session, tech, _items("REF", 5))]
        foreign = registry.create_instruments(session, outsider, _items("FOREIGN", 1))[0].id
        session.commit()
    from hengqi.errors import HengqiError

    for bad in (
        (foreign, InstrumentUpdate(status="withdrawn")),  # another organisation's instrument: not found
        (ids[4], InstrumentUpdate(e="0.000001")),  # n = 30 000 000 > 10 000 for class III (OIML R 76-1 Table 3)
    ):
        with platform.database.write_session() as session, pytest.raises(HengqiError):
            registry.update_instruments(
                session, tech, [(k, InstrumentUpdate(status="withdrawn")) for k in ids[:3]] + [bad]
            )
    with platform.database.read_session() as session:
        assert {i.status for i in session.query(Instrument).filter(Instrument.serial.like("REF-%"))} == {"in-service"}
        assert session.get(Instrument, foreign).status == "in-service"  # type: ignore[union-attr]
    verify_audit(platform.database)
