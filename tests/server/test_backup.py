"""Backup and restore of the whole store, across backends (SQLite <-> PostgreSQL), with files and audit chain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.server.conftest import INSTRUMENT, Platform, Store

from hengqi.server.backup import backup, restore
from hengqi.server.errors import BackupError


def _fill(platform: Platform) -> dict[str, object]:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    client = platform.client
    nmi = client.post("/api/v1/laboratories", json={"name": "NMI"}, headers=tech).json()["id"]
    cal = client.post("/api/v1/laboratories", json={"name": "Cal", "traceable_to_id": nmi}, headers=tech).json()["id"]
    # a forward self-reference: the first laboratory now points at the second's parent chain member made later
    third = client.post("/api/v1/laboratories", json={"name": "Top"}, headers=tech).json()["id"]
    client.patch(f"/api/v1/laboratories/{nmi}", json={"traceable_to_id": third}, headers=tech)
    instrument = client.post("/api/v1/instruments", json={**INSTRUMENT, "max": "15.000 kg"}, headers=tech).json()["id"]
    cert = client.post(
        "/api/v1/certificates", json={"number": "C1", "kind": "calibration", "instrument_id": instrument}, headers=tech
    ).json()["id"]
    client.put(
        f"/api/v1/certificates/{cert}/file", files={"file": ("c.pdf", b"%PDF body", "application/pdf")}, headers=tech
    )
    return {"tech": tech, "instrument": instrument, "cert": cert, "cal": cal}


def test_round_trip_between_backends(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    source = Platform(store)
    facts = _fill(source)
    archive = tmp_path / "backup.zip"
    summary = backup(source.database, source.app.state.hengqi.files, archive)
    assert summary.files == 1
    assert summary.rows["instruments"] == 1
    from hengqi.server.admin import verify_audit as verify_source

    assert summary.audit_head == verify_source(source.database).head
    source.close()
    if store.backend == "sqlite":
        from tests.server.conftest import empty_pg

        url = request.getfixturevalue("pg_database")
        empty_pg(url)
        other = Store("postgresql", tmp_path / "other", url)
    else:
        other = Store("sqlite", tmp_path / "other", f"sqlite:///{tmp_path / 'other' / 'h.sqlite3'}")
    other.data_dir.mkdir(parents=True)
    shutil.copy2(store.data_dir / "audit-key.pem", other.data_dir / "audit-key.pem")  # the key travels apart
    target = Platform(other)
    restore(target.database, target.app.state.hengqi.files, archive)
    tech = facts["tech"]
    got = target.client.get(f"/api/v1/instruments/{facts['instrument']}", headers=tech)  # type: ignore[arg-type]
    assert got.status_code == 200
    assert got.json()["max_kg"] == "15"
    download = target.client.get(f"/api/v1/certificates/{facts['cert']}/file", headers=tech)  # type: ignore[arg-type]
    assert download.content == b"%PDF body"
    chain = target.client.get("/api/v1/weight-sets/1/traceability", headers=tech)  # type: ignore[arg-type]
    assert chain.status_code == 404  # no weight set was made; the laboratories are there:
    labs = target.client.get("/api/v1/laboratories", headers=tech).json()  # type: ignore[arg-type]
    assert [lab["traceable_to_id"] for lab in labs["items"]] == [3, 1, None]
    from hengqi.server.admin import verify_audit

    assert verify_audit(target.database).entries > 5
    # new rows continue after the restored ids (sequences reset on PostgreSQL)
    made = target.client.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "new"}, headers=tech)  # type: ignore[arg-type]
    assert made.status_code == 201
    assert made.json()["id"] == 2
    with pytest.raises(BackupError, match="--force"):
        restore(target.database, target.app.state.hengqi.files, archive)
    target.close()


def test_any_single_byte_corruption_is_refused_or_harmless(sqlite_store: Store, tmp_path: Path) -> None:
    """Flip one byte anywhere: restore either refuses with BackupError, or (a flip in ZIP metadata such as a
    timestamp) restores exactly the same rows."""
    import random

    from sqlalchemy import func, select

    from hengqi.server.admin import verify_audit
    from hengqi.server.db.models import AuditEntry

    source = Platform(sqlite_store)
    _fill(source)
    archive = tmp_path / "backup.zip"
    backup(source.database, source.app.state.hengqi.files, archive)
    with source.database.read_session() as session:
        expected = session.scalar(select(func.count()).select_from(AuditEntry))
    source.close()
    (tmp_path / "t").mkdir()
    shutil.copy2(sqlite_store.data_dir / "audit-key.pem", tmp_path / "t" / "audit-key.pem")  # the same audit key
    target = Platform(Store("sqlite", tmp_path / "t", f"sqlite:///{tmp_path / 't' / 'h.sqlite3'}"))
    data = archive.read_bytes()
    rng = random.Random(20261125)
    refused = 0
    for _ in range(60):
        position = rng.randrange(len(data))
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
        try:
            restore(target.database, target.app.state.hengqi.files, tmp_path / "damaged.zip", force=True)
        except BackupError:
            refused += 1
            continue
        with target.database.read_session() as session:
            assert session.scalar(select(func.count()).select_from(AuditEntry)) == expected, position
        assert verify_audit(target.database).entries == expected
    assert refused >= 30
    target.close()
