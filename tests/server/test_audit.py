"""The audit trail: every change recorded in the same transaction, hash-chained; tampering is detected."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from sqlalchemy import func, select, text
from tests.server.conftest import INSTRUMENT, Platform

from hengqi.cli import cli
from hengqi.server import audit
from hengqi.server.db.models import AuditEntry, Instrument
from hengqi.server.errors import AuditChainError


def _verify(platform: Platform, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    store = platform.store
    code = cli(["audit", "verify", "--data-dir", str(store.data_dir), "--database-url", store.database_url])
    return code, capsys.readouterr().out


def _some_history(platform: Platform) -> dict[str, str]:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    for index in range(3):
        key = platform.client.post(
            "/api/v1/instruments", json={**INSTRUMENT, "serial": f"S{index}"}, headers=tech
        ).json()["id"]
        platform.client.patch(f"/api/v1/instruments/{key}", json={"model": f"M{index}"}, headers=tech)
    return tech


def test_every_change_is_recorded_with_old_and_new_values(platform: Platform) -> None:
    _some_history(platform)
    with platform.database.read_session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    updates = [e for e in entries if e.entity == "instruments" and e.action == "update"]
    assert len(updates) == 3
    assert updates[0].old_values == '{"model":"Counter 15","row_version":1}'
    assert updates[0].new_values == '{"model":"M0","row_version":2}'
    assert updates[0].actor == "tech"
    assert entries[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))


def test_editing_an_audit_row_is_detected_and_named(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _some_history(platform)
    assert _verify(platform, capsys)[0] == 0
    with platform.database.engine.begin() as connection:
        connection.execute(text('UPDATE audit_log SET new_values = \'{"model":"forged"}\' WHERE id = 6'))
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "row 6" in out


def test_rehashing_a_row_breaks_the_link_of_the_next(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    """An attacker who recomputes the edited row's own hash still breaks the chain at the following row."""
    _some_history(platform)
    with platform.database.write_session() as session:
        entry = session.get(AuditEntry, 4)
        assert entry is not None
        entry.actor = "somebody-else"
        entry.hash = audit.entry_hash(audit._hashed_fields(entry), entry.prev_hash)
        session.commit()
    with platform.database.read_session() as session, pytest.raises(AuditChainError) as caught:
        audit.verify_chain(session)
    assert caught.value.row_id == 5


def test_deleting_a_row_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _some_history(platform)
    with platform.database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 3"))
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "row 4" in out


def test_audit_write_is_in_the_same_transaction(platform: Platform) -> None:
    """A change whose transaction fails leaves neither the change nor its audit entry."""
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    with platform.database.read_session() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech)
    assert platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).status_code == 409
    with platform.database.read_session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == (before or 0) + 1
        assert session.scalar(select(func.count()).select_from(Instrument)) == 1


def test_concurrent_writers_keep_one_chain(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)

    def create(index: int) -> int:
        return platform.client.post(
            "/api/v1/instruments", json={**INSTRUMENT, "serial": f"P{index}"}, headers=tech
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(create, range(40)))
    assert codes == [201] * 40
    code, out = _verify(platform, capsys)
    assert code == 0, out
    with platform.database.read_session() as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "instruments")) == 40
        )
