"""Field supervision on the real NATS JetStream at 127.0.0.1:4222: the MQTT bridge, sharded detector workers,
fail-over of a killed worker, and the same findings as the embedded detectors for the same simulated corpus.

Every test uses its own namespace (streams, subjects, bucket) and deletes it afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from hengqi.cli.app import cli
from hengqi.edge.replay import publish_events as publish_mqtt
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.db.engine import Database
from hengqi.server.field import jetstream as js
from hengqi.server.field.bridge import MqttBridge
from hengqi.server.field.consumer import DetectorWorker
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice
from hengqi.supervision.broker import parse_broker_url
from hengqi.supervision.detectors.fleet import profiles_from_field, run_field
from hengqi.supervision.fieldsim import FieldData, simulate_field
from hengqi.supervision.streams import finding_id, parse_stream_url, partition_of, position_key
from hengqi.supervision.telemetry import parse_event

from .conftest import Broker, make_broker, make_platform, port_open, unique

NATS = parse_stream_url("nats://127.0.0.1:4222")
T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]], timeout_s: float = 60) -> T:
    async def main() -> T:
        return await asyncio.wait_for(make(), timeout_s)

    return asyncio.run(main())


@pytest.fixture
def namespace() -> Iterator[str]:
    assert port_open(4222), "no NATS at 127.0.0.1:4222 (run scripts/ensure-services.sh)"
    name = f"t{secrets.token_hex(5)}"
    yield name

    async def clean() -> None:
        nc = await js.connect(NATS)
        await js.remove(nc, js.StreamLayout(name, 1))
        await nc.close()

    run(clean)


@pytest.fixture(scope="module")
def corpus() -> FieldData:
    return simulate_field(12, seed=7, days=1, tamper_fraction=0.5)


T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)


def ev(device: str, seq: int, body: dict[str, Any], minutes: float = 0) -> dict[str, Any]:
    return {"instrument": device, "seq": seq, "time": (T0 + timedelta(minutes=minutes)).isoformat(), "body": body}


def counters(cal: int) -> dict[str, Any]:
    return {
        "kind": "counters",
        "calibration": {"value": cal, "modulus": 1000},
        "configuration": {"value": 0, "modulus": 1000},
    }


def embedded(data: FieldData) -> dict[str, dict[str, Any]]:
    """The embedded path's findings (every detector over each instrument's events), by finding id."""
    return {finding_id(f): f.to_json() for f in run_field(data)}


async def drain(workers: list[DetectorWorker], expected: dict[int, int], timeout_s: float = 30) -> None:
    """Run workers until every partition's committed position reaches its last stream sequence."""
    kv = workers[0].kv
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            done = 0
            for partition, last in expected.items():
                with contextlib.suppress(js.js_errors.KeyNotFoundError):
                    done += int((await kv.get(position_key(partition))).value or b"0") >= last
            if done == len(expected):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"workers did not drain in {timeout_s} s")
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def drain_running(kv: Any, expected: dict[int, int], timeout_s: float = 30) -> None:
    """Wait until every partition's committed position reaches its last stream sequence (workers run elsewhere)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = 0
        for partition, last in expected.items():
            with contextlib.suppress(js.js_errors.KeyNotFoundError):
                done += int((await kv.get(position_key(partition))).value or b"0") >= last
        if done == len(expected):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workers did not drain in {timeout_s} s")


async def publish_corpus(layout: js.StreamLayout, data: FieldData) -> tuple[Any, dict[int, int]]:
    """Profiles and events into JetStream; the last stream sequence of each partition."""
    nc = await js.connect(NATS)
    kv = await js.ensure(nc, layout)
    await js.put_profiles(kv, profiles_from_field(data))
    groups = {i.device_id: i.group for i in data.instruments}
    futures = []
    for org, event in js.pairs(data.events, groups):
        subject = js.instrument_subject(layout.prefix, org, event.instrument, layout.partitions)
        headers = {"Nats-Msg-Id": f"{event.instrument}:{event.seq}"}
        futures.append(await nc.jetstream().publish_async(subject, event.canonical_json().encode(), headers=headers))
    last: dict[int, int] = {}
    for event, ack in zip(data.events, await asyncio.gather(*futures), strict=True):
        partition = partition_of(event.instrument, layout.partitions)
        last[partition] = max(last.get(partition, 0), ack.seq)
    return nc, last


def test_events_are_stored_once_per_instrument_subject(namespace: str, corpus: FieldData) -> None:
    layout = js.StreamLayout(namespace, partitions=4)

    async def main() -> None:
        nc = await js.connect(NATS)
        try:
            await js.ensure(nc, layout)
            groups = {i.device_id: i.group for i in corpus.instruments}
            first = await js.publish_events(nc.jetstream(), layout, js.pairs(corpus.events, groups))
            again = await js.publish_events(nc.jetstream(), layout, js.pairs(corpus.events[:50], groups))
            assert (first.stored, first.duplicates) == (len(corpus.events), 0)
            assert (again.stored, again.duplicates) == (0, 50)
            info = await nc.jetstream().stream_info(layout.stream, subjects_filter=f"{layout.prefix}.>")
            assert info.state.messages == len(corpus.events)
            assert info.state.subjects is not None
            assert len(info.state.subjects) == len(corpus.instruments)  # one subject per instrument
            one = corpus.instruments[0]
            subject = js.instrument_subject(layout.prefix, one.group, one.device_id, 4)
            assert info.state.subjects[subject] == sum(1 for e in corpus.events if e.instrument == one.device_id)
            with pytest.raises(js.InputError, match="made with 4 partitions"):
                await js.ensure(nc, js.StreamLayout(namespace, partitions=8))
        finally:
            await nc.close()

    run(main)


def test_sharded_workers_split_partitions_and_find_what_the_embedded_path_finds(
    namespace: str, corpus: FieldData
) -> None:
    layout = js.StreamLayout(namespace, partitions=4)

    async def main() -> tuple[list[DetectorWorker], list[dict[str, Any]]]:
        nc, last = await publish_corpus(layout, corpus)
        try:
            kv = await js.ensure(nc, layout)
            workers = [
                DetectorWorker(nc, kv, layout, name=f"w{i}", worker=i, workers=2, batch=64, take_over=False)
                for i in range(2)
            ]
            await drain(workers, last)
            return workers, await js.read_alerts(nc, layout)
        finally:
            await nc.close()

    workers, alerts = run(main)
    served = [{p for p, _t in w.stats.acquired} for w in workers]
    assert served == [{0, 2}, {1, 3}]
    assert sum(w.stats.events for w in workers) == len(corpus.events)
    assert all(w.stats.events > 0 for w in workers)
    expected = embedded(corpus)
    assert expected, "the corpus must make findings"
    assert {a["id"]: {k: v for k, v in a.items() if k not in ("id", "org")} for a in alerts} == expected
    assert len(alerts) == len(expected)


def test_replaying_after_a_crash_before_commit_publishes_no_alert_twice(namespace: str, corpus: FieldData) -> None:
    """A worker that published its alerts and died before writing state: the replacement starts from nothing,
    reprocesses every event and its alerts are dropped by their ids."""
    layout = js.StreamLayout(namespace, partitions=2)

    async def main() -> tuple[int, int, DetectorWorker]:
        nc, last = await publish_corpus(layout, corpus)
        try:
            kv = await js.ensure(nc, layout)
            await drain([DetectorWorker(nc, kv, layout, name="first")], last)
            before = len(await js.read_alerts(nc, layout))
            for key in await kv.keys():
                if key.startswith(("state.", "position.")):
                    await kv.delete(key)
            second = DetectorWorker(nc, kv, layout, name="second")
            await drain([second], last)
            return before, len(await js.read_alerts(nc, layout)), second
        finally:
            await nc.close()

    before, after, second = run(main)
    assert before == after == len(embedded(corpus))
    assert second.stats.events == len(corpus.events)
    assert second.stats.alerts_duplicate == before
    assert second.stats.alerts_published == 0


def _consume(args: list[str]) -> None:
    """A worker process: ``hengqi field consume`` (forked, so it starts without importing anything again)."""
    os.setpgid(0, 0)
    sys.exit(cli(args))


def test_a_killed_worker_is_replaced_with_no_lost_and_no_doubled_alerts(namespace: str, corpus: FieldData) -> None:
    data = corpus
    layout = js.StreamLayout(namespace, partitions=4)

    async def publish() -> dict[int, int]:
        conn, partitions = await publish_corpus(layout, data)
        await conn.close()
        return partitions

    last = run(publish)
    total = sum(last.values())
    args = ["field", "consume", "--stream", "nats://127.0.0.1:4222", "--namespace", namespace, "--batch", "5"]
    victim = multiprocessing.get_context("fork").Process(target=_consume, args=([*args, "--name", "victim"],))
    victim.start()

    async def kill_mid_stream() -> int:
        conn = await js.connect(NATS)
        kv = await js.ensure(conn, layout)

        async def committed() -> int:
            done = 0
            for p in last:
                with contextlib.suppress(js.js_errors.KeyNotFoundError):
                    done += int((await kv.get(position_key(p))).value or b"0")
            return done

        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and await committed() < total * 0.05:
                await asyncio.sleep(0.01)
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            await asyncio.to_thread(victim.join, 10)
            return await committed()
        finally:
            await conn.close()

    try:
        at_kill = run(kill_mid_stream)
    finally:
        if victim.is_alive():
            victim.kill()
    assert victim.exitcode == -signal.SIGKILL
    assert 0 < at_kill < total, "the worker must die mid-stream"

    async def replace() -> tuple[DetectorWorker, list[dict[str, Any]]]:
        conn = await js.connect(NATS)
        try:
            kv = await js.ensure(conn, layout)
            heir = DetectorWorker(conn, kv, layout, name="heir", ttl_s=1.0, renew_s=0.2)
            await drain([heir], last)
            return heir, await js.read_alerts(conn, layout)
        finally:
            await conn.close()

    heir, alerts = run(replace)
    ids = [a["id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert was published twice"
    assert set(ids) == set(embedded(data)), "an alert was lost"
    assert {p for p, _t in heir.stats.acquired} == set(range(4))
    assert heir.stats.events < len(data.events)  # it resumed from the committed positions, not from the start


def test_a_paused_worker_that_lost_its_lease_neither_loses_nor_doubles_alerts(
    namespace: str, corpus: FieldData
) -> None:
    """A worker stopped (SIGSTOP, not dead) mid-stream loses its partitions to another; resumed, it finishes the
    batch it held and tries to go on: its commits fail or are harmless, it cannot pull its successor's events."""
    layout = js.StreamLayout(namespace, partitions=4)

    async def publish() -> dict[int, int]:
        conn, partitions = await publish_corpus(layout, corpus)
        await conn.close()
        return partitions

    last = run(publish)
    total = sum(last.values())
    args = ["field", "consume", "--stream", "nats://127.0.0.1:4222", "--namespace", namespace, "--batch", "5"]
    zombie = multiprocessing.get_context("fork").Process(target=_consume, args=([*args, "--name", "zombie"],))
    zombie.start()
    assert zombie.pid is not None

    async def main() -> tuple[int, DetectorWorker, list[dict[str, Any]]]:
        conn = await js.connect(NATS)
        kv = await js.ensure(conn, layout)

        async def committed() -> int:
            done = 0
            for p in last:
                with contextlib.suppress(js.js_errors.KeyNotFoundError):
                    done += int((await kv.get(position_key(p))).value or b"0")
            return done

        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and await committed() < total * 0.05:
                await asyncio.sleep(0.01)
            os.kill(zombie.pid, signal.SIGSTOP)
            paused_at = await committed()
            heir = DetectorWorker(conn, kv, layout, name="heir", ttl_s=0.5, renew_s=0.1, batch=20)
            stop = asyncio.Event()
            task = asyncio.create_task(heir.run(stop))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (len(heir.stats.acquired) < 4 or heir.stats.batches < 1):
                await asyncio.sleep(0.01)
            os.kill(zombie.pid, signal.SIGCONT)
            try:
                await drain_running(kv, last)
            finally:
                stop.set()
                await task
            return paused_at, heir, await js.read_alerts(conn, layout)
        finally:
            await conn.close()

    try:
        paused_at, heir, alerts = run(main)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(zombie.pid, signal.SIGCONT)
            zombie.terminate()
        zombie.join(10)
        if zombie.is_alive():
            zombie.kill()
    assert 0 < paused_at < total, "the worker must be paused mid-stream"
    assert {p for p, _t in heir.stats.acquired} == set(range(4))
    ids = [a["id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert was published twice"
    assert set(ids) == set(embedded(corpus)), "an alert was lost"


def test_mqtt_bridge_into_jetstream_gives_the_embedded_findings(
    namespace: str, corpus: FieldData, tmp_path: Path
) -> None:
    broker: Broker = make_broker(tmp_path / "mqtt")
    layout = js.StreamLayout(namespace, partitions=2)
    groups = {i.device_id: i.group for i in corpus.instruments}

    async def main() -> tuple[MqttBridge, list[dict[str, Any]]]:
        nc = await js.connect(NATS)
        try:
            kv = await js.ensure(nc, layout)
            await js.put_profiles(kv, profiles_from_field(corpus))
            bridge = await MqttBridge(
                nc.jetstream(), layout, parse_broker_url(broker.url()), client_id=namespace
            ).start()
            stop = asyncio.Event()
            task = asyncio.create_task(bridge.run(stop))
            await asyncio.to_thread(publish_mqtt, corpus.events, groups, parse_broker_url(broker.url()))
            bad = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            bad.connect("127.0.0.1", broker.port)
            bad.loop_start()
            bad.publish(
                f"spBv1.0/{corpus.instruments[0].group}/DDATA/n/{corpus.instruments[0].device_id}", b"\xff\x00", qos=1
            ).wait_for_publish(5)
            bad.disconnect()
            bad.loop_stop()
            deadline = time.monotonic() + 30
            while (
                bridge.stats.events < len(corpus.events) or not bridge.stats.refused
            ) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stop.set()
            await task
            bridge.stop()
            info = await nc.jetstream().stream_info(layout.stream)
            last = {}
            for p in range(layout.partitions):
                msg = await nc.jetstream().get_last_msg(layout.stream, f"{layout.prefix}.*.*.{p}")
                last[p] = msg.seq
            assert info.state.messages == len(corpus.events)
            await drain([DetectorWorker(nc, kv, layout, name="w")], last)
            return bridge, await js.read_alerts(nc, layout)
        finally:
            await nc.close()
            broker.stop()

    bridge, alerts = run(main)
    assert bridge.stats.events == len(corpus.events)
    assert sum(bridge.stats.refused.values()) == 1
    assert {a["id"]: {k: v for k, v in a.items() if k not in ("id", "org")} for a in alerts} == embedded(corpus)


def test_cli_refuses_bad_stream_urls_and_unreachable_servers(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["field", "ingest", "--broker", "mqtt://127.0.0.1:1883", "--stream", "nats//x"]) == 2
    assert "--stream: use nats://host[:port]" in capsys.readouterr().err
    assert cli(["field", "consume", "--stream", "nats://127.0.0.1:1", "--duration", "0"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach NATS at nats://127.0.0.1:1" in err
    assert "Traceback" not in err


def test_cli_simulates_into_jetstream_and_consumes(
    namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--stream", "nats://127.0.0.1:4222", "--namespace", namespace]
    out = tmp_path / "sim"
    assert (
        cli(["sim", "field", "--instruments", "6", "--seed", "5", "--out", str(out), *args, "--partitions", "2"]) == 0
    )
    events = len((out / "events.jsonl").read_text().splitlines())
    assert "events stored" in capsys.readouterr().err
    assert cli(["field", "consume", *args, "--duration", "2"]) == 0
    totals = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert totals["acquired"] == [0, 1]
    assert totals["events"] == events > 0


@pytest.mark.slow  # two databases migrated, three command runs against NATS: about 8 s on the loaded machine
def test_stream_sync_gives_the_alerts_the_embedded_detection_stores(
    namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Registry profiles into the bucket, a worker, the alerts stream into the database: the same alert rows as
    ``hengqi field detect`` over the same events ingested embedded."""
    device_id, group = unique("SC"), unique("market")
    urls = {name: f"sqlite:///{tmp_path / name / 'db.sqlite3'}" for name in ("embedded", "stream")}
    for url in urls.values():
        Path(url.removeprefix("sqlite:///")).parent.mkdir()
        make_platform(url, [device_id], group=group).database.dispose()
    raw = [
        ev(device_id, 0, {"kind": "identity", "software_id": "FW 1", "software_checksum": "AA"}),
        ev(device_id, 1, counters(5)),
        ev(device_id, 2, {"kind": "identity", "software_id": "FW 1", "software_checksum": "BB"}, 5),
        ev(device_id, 3, counters(6), 9),
        ev(device_id, 4, {"kind": "state", "state": "case_opened"}, 12),
    ]
    events = [parse_event(e) for e in raw]
    database = Database(urls["embedded"])
    with database.read_session() as session:
        device = session.scalar(select(FieldDevice).where(FieldDevice.device_id == device_id))
        assert device is not None
        session.expunge(device)
    Ingestor(database).handle_batch(device, list(enumerate(events)))
    database.dispose()
    assert cli(["field", "detect", "--database-url", urls["embedded"], "--data-dir", str(tmp_path)]) == 0

    sync = ["field", "stream-sync", "--database-url", urls["stream"], "--data-dir", str(tmp_path)]
    sync += ["--stream", "nats://127.0.0.1:4222", "--namespace", namespace, "--partitions", "2"]
    assert cli([*sync, "--duration", "0"]) == 0
    assert "1 profiles" in capsys.readouterr().out
    layout = js.StreamLayout(namespace, 2)

    async def detect() -> None:
        nc = await js.connect(NATS)
        try:
            kv = await js.ensure(nc, layout)
            await js.publish_events(nc.jetstream(), layout, [(group, e) for e in events])
            await drain([DetectorWorker(nc, kv, layout, name="w")], {partition_of(device_id, 2): len(events)})
        finally:
            await nc.close()

    run(detect)
    assert cli([*sync, "--duration", "1.5"]) == 0
    assert cli([*sync, "--duration", "0.5"]) == 0  # nothing new: the durable consumer has acknowledged them
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith("alerts: 0 created, 0 updated, 0 unchanged")

    def alerts(url: str) -> list[tuple[Any, ...]]:
        db = Database(url)
        try:
            with db.read_session() as session:
                rows = session.scalars(select(FieldAlert).order_by(FieldAlert.alert_key)).all()
                return [
                    (
                        a.alert_key,
                        a.detector,
                        a.severity,
                        a.finding_count,
                        sorted(json.dumps(f, sort_keys=True) for f in a.findings),
                    )
                    for a in rows
                ]
        finally:
            db.dispose()

    embedded_rows = alerts(urls["embedded"])
    assert embedded_rows, "the events must raise alerts"
    assert alerts(urls["stream"]) == embedded_rows


def test_cli_ingest_with_stream_bridges_mqtt_into_jetstream(
    namespace: str, corpus: FieldData, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    broker = make_broker(tmp_path / "mqtt")
    events = [e for e in corpus.events if e.instrument == corpus.instruments[0].device_id][:40]
    groups = {i.device_id: i.group for i in corpus.instruments}
    args = ["field", "ingest", "--broker", broker.url(), "--client-id", namespace, "--duration", "4"]
    args += ["--stream", "nats://127.0.0.1:4222", "--namespace", namespace, "--partitions", "2"]
    codes: list[int] = []
    try:
        runner = threading.Thread(target=lambda: codes.append(cli(args)))
        runner.start()
        time.sleep(1.5)  # the bridge subscribes first (a new persistent session holds nothing before that)
        publish_mqtt(events, groups, parse_broker_url(broker.url()))
        runner.join(30)
    finally:
        broker.stop()
    assert codes == [0]
    assert f"{len(events)} events into {namespace.upper()}_FIELD, 0 duplicates, refused: none" in capfd.readouterr().err

    async def stored() -> int:
        nc = await js.connect(NATS)
        try:
            return (await nc.jetstream().stream_info(js.StreamLayout(namespace, 2).stream)).state.messages
        finally:
            await nc.close()

    assert run(stored) == len(events)


def test_serve_refuses_bad_or_unreachable_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "--data-dir", str(tmp_path), "--port", "0"]
    assert cli([*base, "--stream", "nats//x"]) == 2
    assert "--stream: use nats://host[:port]" in capsys.readouterr().err
    assert cli([*base, "--stream", "nats://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach NATS at nats://127.0.0.1:1" in err
    assert "Traceback" not in err


@pytest.mark.slow  # a server process started and migrated: a few seconds
def test_serve_with_stream_puts_the_registry_profiles_into_the_bucket(namespace: str, tmp_path: Path) -> None:
    """``hengqi serve --stream``: the platform side of the stream runs beside the server (profiles in)."""
    import subprocess

    device_id = unique("SV")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    make_platform(url, [device_id], group=unique("market")).database.dispose()
    launch = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"
    args = [sys.executable, "-c", launch, "serve", "--database-url", url, "--data-dir", str(tmp_path)]
    args += ["--port", "0", "--stream", "nats://127.0.0.1:4222", "--stream-namespace", namespace]
    server = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env={**os.environ, "HENGQI_WORKERS": "1"})
    try:
        layout = js.StreamLayout(namespace, js.DEFAULT_PARTITIONS)

        async def profile_keys() -> list[str]:
            nc = await js.connect(NATS)
            try:
                kv = await js.ensure(nc, layout)
                end = time.monotonic() + 30
                while time.monotonic() < end:
                    with contextlib.suppress(Exception):
                        keys = [k for k in await kv.keys() if device_id in k]
                        if keys:
                            return keys
                    await asyncio.sleep(0.2)
                return []
            finally:
                await nc.close()

        assert run(profile_keys), "the server's stream sync did not write the device's profile"
        assert server.poll() is None
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "field alerts from nats://127.0.0.1:4222" in err
