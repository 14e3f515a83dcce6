"""``hengqi field register|acl`` and ``hengqi agent`` on the command line, against the system broker."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.field.conftest import make_platform, unique

from hengqi.cli import cli
from hengqi.instruments.simulator import Simulator
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice, FieldEvent
from hengqi.server.field.mqtt import IngestWorker
from hengqi.supervision.broker import parse_broker_url


def test_register_acl_and_agent(tmp_path: Path, system_broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    existing, group = unique("SC"), unique("market")
    platform = make_platform(url, [existing], group=group)
    with platform.database.read_session() as session:
        instrument_id = session.scalar(select(FieldDevice.instrument_id).where(FieldDevice.device_id == existing))
    store = ["--database-url", url, "--data-dir", str(tmp_path)]
    device = unique("SC")
    # one instrument may report through a second device id (e.g. after an indicator swap)
    assert (
        cli(["field", "register", *store, "--instrument", str(instrument_id), "--device-id", device, "--group", group])
        == 0
    )
    out = capsys.readouterr().out
    assert re.search(r"HTTP token \(shown once\): hqd_\S{20,}", out)
    assert (
        cli(["field", "register", *store, "--instrument", str(instrument_id), "--device-id", device, "--group", group])
        == 2
    )
    assert (
        cli(["field", "register", *store, "--instrument", "999999", "--device-id", unique("X"), "--group", group]) == 2
    )
    assert (
        cli(["field", "register", *store, "--instrument", str(instrument_id), "--device-id", "a/b", "--group", group])
        == 2
    )
    capsys.readouterr()
    assert cli(["field", "acl", *store]) == 0
    acl = capsys.readouterr().out
    assert f"topic write spBv1.0/{group}/DDATA/{device}/{device}" in acl
    worker = IngestWorker(
        Ingestor(platform.database), parse_broker_url(system_broker), client_id=unique("ingest")
    ).start()
    simulator = Simulator.start("sbi", seed=4, unit="g")
    try:
        simulator.place("120 g")
        code = cli(
            [
                "agent",
                "--scale",
                simulator.url,
                "--instrument",
                device,
                "--broker",
                system_broker,
                "--group",
                group,
                "--queue",
                str(tmp_path / "q.sqlite3"),
                "--poll",
                "0.1",
                "--heartbeat",
                "1",
                "--duration",
                "4",
            ]
        )
        assert code == 0
        deadline = time.monotonic() + 15
        kinds: list[str] = []
        while time.monotonic() < deadline:
            with platform.database.read_session() as session:
                pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == device))
                kinds = list(session.scalars(select(FieldEvent.kind).where(FieldEvent.device_pk == pk)))
            if "transaction" in kinds and kinds.count("heartbeat") >= 2:
                break
            time.sleep(0.1)
        assert kinds[0] == "identity"
        assert "transaction" in kinds
        assert kinds.count("heartbeat") >= 2
    finally:
        worker.stop()
        simulator.stop()
        platform.database.dispose()


def test_sim_field_publishes_over_mqtt(tmp_path: Path, system_broker: str) -> None:
    from decimal import Decimal

    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.db.models import Instrument, Organisation
    from hengqi.server.field.devices import register_device
    from hengqi.supervision.fieldsim import simulate_field

    data = simulate_field(3, seed=9, days=1)  # what the command will simulate
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    upgrade(database.engine)
    with database.write_session() as session:
        org = Organisation(name="province")
        session.add(org)
        session.flush()
        for item in data.instruments:
            instrument = Instrument(organisation_id=org.id, make="Sim", model="S", serial=item.device_id,
                                    accuracy_class="III", kind="single-interval", max_kg=Decimal(item.max_kg),
                                    min_kg=Decimal(1), e_kg=Decimal(item.e_kg), d_kg=Decimal(item.e_kg),
                                    ranges=[])  # fmt: skip
            session.add(instrument)
            session.flush()
            register_device(session, organisation_id=org.id, instrument_id=instrument.id, device_id=item.device_id,
                            group_id=item.group, site_kind=item.site_kind, region_code=item.region_code)  # fmt: skip
        session.commit()
    worker = IngestWorker(Ingestor(database), parse_broker_url(system_broker), client_id=unique("ingest")).start()
    try:
        out = tmp_path / "field"
        assert (
            cli(
                [
                    "sim",
                    "field",
                    "--instruments",
                    "3",
                    "--seed",
                    "9",
                    "--days",
                    "1",
                    "--out",
                    str(out),
                    "--broker",
                    system_broker,
                ]
            )
            == 0
        )
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline:
            with database.read_session() as session:
                count = len(list(session.scalars(select(FieldEvent.id))))
            if count == len(data.events):
                break
            time.sleep(0.2)
        assert count == len(data.events)
        assert worker.stats.total.refused == {}
    finally:
        worker.stop()
        database.dispose()
    assert cli(["sim", "field", "--instruments", "1", "--out", str(tmp_path / "x"), "--broker", "http://nope"]) == 2


def test_ingest_refuses_a_bad_host_id_and_bad_tls_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--database-url", f"sqlite:///{tmp_path / 'db.sqlite3'}"]
    cases = [
        (["--broker", "mqtt://127.0.0.1:1", "--host-id", "bad/id"], "--host-id"),
        (["--broker", f"mqtts://127.0.0.1:1?ca={tmp_path / 'missing.pem'}"], "TLS"),
        (["--broker", "mqtts://127.0.0.1:1?cert=/a.pem"], "both cert= and key="),
        (["--broker", "mqtt://127.0.0.1:1?ca=/a.pem"], "only with mqtts://"),
    ]
    for args, message in cases:
        assert cli(["field", "ingest", *store, *args]) == 2
        assert message in capsys.readouterr().err
