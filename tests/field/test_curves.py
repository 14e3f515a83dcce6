"""Weight curves in Parquet partitions: written by the ingest, read back exactly with DuckDB, retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.field.conftest import make_platform, unique

from hengqi.errors import InputError
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice, FieldEvent
from hengqi.supervision.mapping import payload_from_events
from hengqi.supervision.sparkplug import encode_payload
from hengqi.supervision.telemetry import Passage, TelemetryEvent


def passage(device: str, seq: int, day: datetime, jump: float) -> TelemetryEvent:
    n = 150
    cells = [[1000.0 * k + i + (jump if k == 0 and 40 <= i < 110 else 0.0) for i in range(n)] for k in range(4)]
    curve = [sum(c[i] for c in cells) for i in range(n)]
    body = Passage(
        plate="陕A12345",
        rate_hz=10,
        curve_kg=curve,
        cells_kg=cells,
        gross_kg=Decimal(30000),
        net_kg=Decimal(18000),
        tare_kg=Decimal(12000),
    )
    return TelemetryEvent(instrument=device, seq=seq, time=day, body=body)


def test_ingest_writes_curves_to_parquet_and_reads_them_back(tmp_path: Path, db_url: str) -> None:
    device = unique("WB")
    platform = make_platform(db_url, [device], group=unique("wb"))
    store = CurveStore(tmp_path / "field")
    ingest = Ingestor(platform.database, curves=store)
    old = datetime(2026, 1, 1, 8, tzinfo=UTC)
    new = datetime(2026, 3, 1, 8, tzinfo=UTC)
    events = [
        passage(device, 0, old, 12000.0),
        passage(device, 1, new, 0.0),
        passage(device, 2, new + timedelta(hours=1), 500.0),
    ]
    topic = f"spBv1.0/{platform.group}/DDATA/{device}/{device}"
    result = ingest.handle_messages([(topic, encode_payload(payload_from_events(events, seq=1, timestamp=0)))])
    assert result.stored == 3
    again = ingest.handle_messages([(topic, encode_payload(payload_from_events(events[1:2], seq=2, timestamp=0)))])
    assert again.duplicates == 1
    with platform.database.read_session() as session:
        pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == device))
        bodies = list(
            session.scalars(select(FieldEvent.body).where(FieldEvent.device_pk == pk).order_by(FieldEvent.seq))
        )
    assert all("curve_kg" not in b and b["samples"] == 150 for b in bodies)
    assert bodies[0]["curve_file"].startswith("date=2026-01-01/")
    assert bodies[1]["curve_file"] == bodies[2]["curve_file"]  # one file per batch and day
    for seq, body in enumerate(bodies):
        curve = store.curve(body["curve_file"], device, seq)
        assert curve is not None
        assert curve.weight_kg == events[seq].body.curve_kg  # type: ignore[union-attr]
        assert curve.cells_kg == events[seq].body.cells_kg  # type: ignore[union-attr]
        assert curve.t_s[1] == pytest.approx(0.1)
    # a jump on one cell alone, found with SQL over every partition
    rows = store.query(
        "SELECT seq, max(cells_kg[1] - sample) - min(cells_kg[1] - sample) FROM curves"
        " WHERE device_id = ? GROUP BY seq ORDER BY seq",
        [device],
    )
    assert [(s, round(j)) for s, j in rows] == [(0, 12000), (1, 0), (2, 500)]
    assert store.query("SELECT count(DISTINCT date) FROM curves") == [(2,)]
    with pytest.raises(InputError):
        store.curve("../../etc/passwd.parquet", device, 0)
    removed = store.apply_retention(30, date(2026, 3, 10))
    assert removed == ["date=2026-01-01"]
    assert store.curve(bodies[0]["curve_file"], device, 0) is None
    assert store.curve(bodies[1]["curve_file"], device, 1) is not None
    platform.database.dispose()


def test_detectors_read_stored_passages_back_from_parquet(tmp_path: Path) -> None:
    """The resistor step on cell 0 (12 t, seq 0) is found from the Parquet samples; without the store the passage
    keeps only its registered weights: nothing is found and nothing fails."""
    from hengqi.server.alerts.service import detect_stored
    from hengqi.server.audit import Actor

    device = unique("WB")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device], group=unique("wb"))
    from hengqi.server.db.models import Instrument

    with platform.database.write_session() as session:  # a weighbridge: Max 60 t, e = 20 kg
        row = session.scalar(select(FieldDevice).where(FieldDevice.device_id == device))
        assert row is not None
        row.site_kind = "weighbridge"
        instrument = session.get(Instrument, row.instrument_id)
        assert instrument is not None
        instrument.max_kg, instrument.e_kg, instrument.d_kg = Decimal(60000), Decimal(20), Decimal(20)
        instrument.min_kg = Decimal(400)
        session.commit()
    store = CurveStore(tmp_path / "field")
    day = datetime(2026, 3, 1, 8, tzinfo=UTC)
    Ingestor(platform.database, curves=store).handle_messages(
        [
            (
                f"spBv1.0/{platform.group}/DDATA/{device}/{device}",
                encode_payload(payload_from_events([passage(device, 0, day, 12000.0)], seq=1, timestamp=0)),
            )
        ]
    )
    actor = Actor(None, "test")
    with platform.database.write_session() as session:
        blind = detect_stored(session, actor=actor, device_ids=[device])
        assert blind.created == 0
        seeing = detect_stored(session, actor=actor, device_ids=[device], curves=store)
        assert seeing.created == 1
        session.commit()
    platform.database.dispose()
