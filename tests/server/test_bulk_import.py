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
