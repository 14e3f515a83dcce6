"""A small simulated field for ``hengqi serve --demo``, ingested through the embedded path (no broker needed).

Six field instruments of the demo organisation (four retail scales, two weighbridges) with one day of simulated
telemetry (:func:`hengqi.supervision.fieldsim.simulate_field`, seed 2026) are registered and their events stored
through the same :class:`~hengqi.server.field.ingest.Ingestor` the MQTT and HTTP paths use; then the detectors run
over them, so that the alert queue starts with alerts (eight with this seed).  With a broker, run
``hengqi field ingest --broker mqtt://...`` beside the server and ``hengqi agent`` at each scale instead.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from hengqi.server.alerts.service import detect_stored
from hengqi.server.audit import Actor
from hengqi.server.db.engine import Database
from hengqi.server.db.models import Instrument, Organisation
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.devices import register_device
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice
from hengqi.supervision.fieldsim import simulate_field

DEMO_SEED = 2026
DEMO_ACTOR = Actor(None, "demo")


def seed_field(database: Database, organisation_name: str, curves: CurveStore | None = None) -> int:
    """Add the demo field unless present; the number of events stored."""
    data = simulate_field(6, seed=DEMO_SEED, days=1, tamper_fraction=0.5)
    devices: dict[str, FieldDevice] = {}
    with database.write_session() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == organisation_name))
        if org is None:
            return 0
        existing = session.scalar(select(FieldDevice.id).where(FieldDevice.organisation_id == org.id).limit(1))
        if existing is not None:
            return 0
        for item in data.instruments:
            weighbridge = item.site_kind == "weighbridge"
            instrument = Instrument(
                organisation_id=org.id,
                make="Demo",
                model="WB-60" if weighbridge else "RS-15",
                serial=item.device_id,
                accuracy_class="III",
                kind="single-interval",
                max_kg=Decimal(item.max_kg),
                min_kg=Decimal(400 if weighbridge else "0.1"),
                e_kg=Decimal(item.e_kg),
                d_kg=Decimal(item.e_kg),
                ranges=[],
            )
            session.add(instrument)
            session.flush()
            device, _token = register_device(
                session,
                organisation_id=org.id,
                instrument_id=instrument.id,
                device_id=item.device_id,
                group_id=item.group,
                site_kind=item.site_kind,
                region_code=item.region_code,
            )
            devices[item.device_id] = device
        session.commit()
    ingestor = Ingestor(database, curves=curves)
    stored = 0
    for device_id, device in devices.items():
        events = [(i, e) for i, e in enumerate(e for e in data.events if e.instrument == device_id)]
        for start in range(0, len(events), 500):
            stored += ingestor.handle_batch(device, events[start : start + 500]).stored
    # the detectors over what was stored, so that the alert queue has its first alerts
    with database.write_session() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.name == organisation_name))
        detect_stored(session, actor=DEMO_ACTOR, organisation_id=org_id, curves=curves)
        session.commit()
    return stored
