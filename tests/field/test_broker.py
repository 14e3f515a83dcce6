"""Against real Mosquitto brokers: device authentication and ACL, the agent end to end with the simulator behind it,
broker and ingest restarts losing nothing."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from tests.field.conftest import Broker, Platform, make_broker, make_platform, unique

from hengqi.edge.agent import Agent
from hengqi.edge.publisher import Publisher
from hengqi.edge.queue import ForwardQueue
from hengqi.instruments.simulator import Simulator
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldRefusal
from hengqi.server.field.mqtt import IngestWorker
from hengqi.supervision.admission import digest_of
from hengqi.supervision.broker import parse_broker_url
from hengqi.supervision.mapping import payload_from_events
from hengqi.supervision.sparkplug import HostState, decode_state, encode_payload, encode_state
from hengqi.supervision.telemetry import Heartbeat, TelemetryEvent, Transaction


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def stored(platform: Platform, device: str) -> list[tuple[int, str, dict[str, object]]]:
    with platform.database.read_session() as session:
        pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == device))
        rows = session.execute(
            select(FieldEvent.seq, FieldEvent.kind, FieldEvent.body)
            .where(FieldEvent.device_pk == pk)
            .order_by(FieldEvent.seq)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def connack(url: str) -> tuple[bool, str]:
    """Connect once; (accepted, reason) from the broker's CONNACK."""
    address = parse_broker_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("probe"), protocol=mqtt.MQTTv5)
    if address.username:
        client.username_pw_set(address.username, address.password)
    done = threading.Event()
    outcome: list[tuple[bool, str]] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
        outcome.append((not reason.is_failure, str(reason)))
        done.set()

    client.on_connect = on_connect
    client.connect(address.host, address.port)
    client.loop_start()
    done.wait(5)
    client.disconnect()
    client.loop_stop()
    return outcome[0]


def raw_publish(url: str, topic: str, payload: bytes) -> None:
    address = parse_broker_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("raw"), protocol=mqtt.MQTTv5)
    client.username_pw_set(address.username, address.password)
    client.connect(address.host, address.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_devices_authenticate_and_publish_only_on_their_own_topics(tmp_path: Path) -> None:
    group = unique("market")
    a, b = unique("SC"), unique("SC")
    broker = make_broker(tmp_path / "broker", acl=[(group, a), (group, b)])
    try:
        assert connack(broker.url()) == (False, "Not authorized")
        broker.users["mallory"] = "guess"
        assert connack(broker.url("mallory"))[0] is False
        assert connack(broker.url(a))[0] is True
        platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [a, b], group=group)
        worker = IngestWorker(
            Ingestor(platform.database), parse_broker_url(broker.url("ingest")), client_id=unique("ingest")
        ).start()
        try:
            t = datetime(2026, 12, 7, tzinfo=UTC)
            forged = TelemetryEvent(
                instrument=b, seq=0, time=t, body=Transaction(gross_kg=Decimal(9), net_kg=Decimal(9))
            )
            own = TelemetryEvent(instrument=a, seq=0, time=t, body=Heartbeat())
            # device a, with its own credentials, tries b's topic first, then its own
            raw_publish(
                broker.url(a),
                f"spBv1.0/{group}/DDATA/{b}/{b}",
                encode_payload(payload_from_events([forged], seq=1, timestamp=0)),
            )
            raw_publish(
                broker.url(a),
                f"spBv1.0/{group}/DDATA/{a}/{a}",
                encode_payload(payload_from_events([own], seq=1, timestamp=0)),
            )
            wait_for(lambda: len(stored(platform, a)) == 1)
            time.sleep(0.3)
            assert stored(platform, b) == []
            # nor can a device read another device's messages
            address = parse_broker_url(broker.url(a))
            spy = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("spy"), protocol=mqtt.MQTTv5)
            spy.username_pw_set(address.username, address.password)
            seen: list[str] = []
            spy.on_message = lambda _c, _u, m: seen.append(m.topic)
            spy.connect(address.host, address.port)
            spy.loop_start()
            spy.subscribe("spBv1.0/#", qos=1)
            time.sleep(0.3)
            legit = TelemetryEvent(instrument=b, seq=0, time=t, body=Heartbeat())
            raw_publish(
                broker.url(b),
                f"spBv1.0/{group}/DDATA/{b}/{b}",
                encode_payload(payload_from_events([legit], seq=1, timestamp=0)),
            )
            wait_for(lambda: len(stored(platform, b)) == 1)
            time.sleep(0.3)
            spy.disconnect()
            spy.loop_stop()
            assert seen == []
            assert stored(platform, b)[0][1] == "heartbeat"
        finally:
            worker.stop()
        platform.database.dispose()
    finally:
        broker.stop()


def _running_agent(agent: Agent, stop: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stop.is_set():
            agent.step()
            time.sleep(agent.poll_s)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_agent_end_to_end_through_the_system_broker(tmp_path: Path, system_broker: str) -> None:
    group, device = unique("market"), unique("SC")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device], group=group)
    worker = IngestWorker(
        Ingestor(platform.database), parse_broker_url(system_broker), client_id=unique("ingest")
    ).start()
    simulator = Simulator.start("mt-sics", seed=3)
    queue = ForwardQueue(tmp_path / "queue.sqlite3", device)
    publisher = Publisher(queue, parse_broker_url(system_broker), group=group).start()
    agent = Agent(simulator.url, queue, publisher, poll_s=0.05, heartbeat_s=60)
    stop = threading.Event()
    thread = _running_agent(agent, stop)
    try:
        for load in ("100 g", "50 g"):
            simulator.place(load)
            wait_for(
                lambda load=load: any(  # type: ignore[misc]
                    k == "transaction" and Decimal(str(b["net_kg"])) * 1000 == Decimal(load.split()[0])
                    for _s, k, b in stored(platform, device)
                ),
                20,
            )
            simulator.remove()
            time.sleep(0.5)
        rows = stored(platform, device)
        kinds = [k for _s, k, _b in rows]
        assert kinds[0] == "identity"
        assert kinds.count("transaction") == 2
        assert "heartbeat" in kinds
        assert [s for s, _k, _b in rows] == list(range(len(rows)))
        wait_for(lambda: queue.depth() == 0)
    finally:
        stop.set()
        thread.join(5)
        publisher.stop()
        worker.stop()
        simulator.stop()
        platform.database.dispose()


def test_broker_and_ingest_restarts_lose_nothing(tmp_path: Path) -> None:
    group, device = unique("weighbridges"), unique("WB")
    broker: Broker = make_broker(tmp_path / "broker")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device], group=group)
    ingest_id = unique("ingest")
    worker = IngestWorker(Ingestor(platform.database), parse_broker_url(broker.url()), client_id=ingest_id).start()
    queue = ForwardQueue(tmp_path / "queue.sqlite3", device, capacity=10_000)
    publisher = Publisher(queue, parse_broker_url(broker.url()), group=group, batch=10, window=5).start()
    t = datetime(2026, 12, 7, tzinfo=UTC)

    def produce(n: int) -> None:
        for i in range(n):
            queue.append(t, Transaction(gross_kg=Decimal(i), net_kg=Decimal(i)))

    try:
        produce(200)
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 200)
        # the broker goes away while the scale keeps weighing: events wait in the queue
        broker.stop()
        produce(300)
        for _ in range(20):
            publisher.pump()
            time.sleep(0.05)
        assert queue.depth() >= 300
        broker.start()
        assert publisher.drain(timeout_s=30)
        wait_for(lambda: len(stored(platform, device)) == 500, 30)
        # the ingest goes away: the broker keeps its persistent session's messages until it is back
        worker.stop()
        produce(250)
        assert publisher.drain(timeout_s=20)
        time.sleep(0.3)
        assert len(stored(platform, device)) == 500
        worker = IngestWorker(Ingestor(platform.database), parse_broker_url(broker.url()), client_id=ingest_id).start()
        wait_for(lambda: len(stored(platform, device)) == 750, 30)
        # the agent restarts too: same queue file, the sequence goes on
        publisher.stop()
        queue.close()
        queue = ForwardQueue(tmp_path / "queue.sqlite3", device, capacity=10_000)
        publisher = Publisher(queue, parse_broker_url(broker.url()), group=group).start()
        produce(50)
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 800, 30)
        rows = stored(platform, device)
        assert [s for s, _k, _b in rows] == list(range(800))  # every event exactly once, none lost
        with platform.database.read_session() as session:
            reasons = {r.reason for r in session.scalars(select(FieldRefusal).where(FieldRefusal.device_key == device))}
        assert reasons <= {"out_of_order"} or reasons == set()
    finally:
        publisher.stop()
        worker.stop()
        broker.stop()
        platform.database.dispose()


def test_agent_keeps_events_nobody_subscribed_to(tmp_path: Path) -> None:
    """A broker answers 'no matching subscribers' (MQTT 5, 0x10) while the platform has no session: keep the events."""
    group, device = unique("market"), unique("SC")
    broker = make_broker(tmp_path / "broker")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device], group=group)
    queue = ForwardQueue(tmp_path / "queue.sqlite3", device)
    publisher = Publisher(queue, parse_broker_url(broker.url()), group=group).start()
    worker = None
    try:
        t = datetime(2026, 12, 7, tzinfo=UTC)
        for i in range(20):
            queue.append(t, Transaction(gross_kg=Decimal(i), net_kg=Decimal(i)))
        assert not publisher.drain(timeout_s=3)
        assert queue.depth() == 20
        assert publisher.refused_acks >= 1
        worker = IngestWorker(
            Ingestor(platform.database), parse_broker_url(broker.url()), client_id=unique("ingest")
        ).start()
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 20)
    finally:
        publisher.stop()
        if worker is not None:
            worker.stop()
        broker.stop()
        platform.database.dispose()


def _checksum(items: list[tuple[str, int, str]]) -> str:
    return hashlib.sha256("".join(f"{d}/{s}/{h}\n" for d, s, h in sorted(items)).encode()).hexdigest()


@pytest.mark.slow
def test_broker_killed_under_load_then_ingest_killed_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL the broker while agents publish, start it again, then SIGKILL the ingest process and start it again:
    every event the agents produced is stored exactly once (count and checksum over device, seq and digest)."""
    group = unique("market")
    devices = [unique("SC"), unique("SC")]
    broker = make_broker(tmp_path / "broker")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", devices, group=group)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    ingest_id = unique("ingest")
    launch = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"

    def start_ingest() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-c", launch, "field", "ingest", "--database-url", url, "--data-dir", str(tmp_path),
             "--broker", broker.url(), "--client-id", ingest_id],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        assert line.startswith("ingest: mqtt://"), line
        threading.Thread(target=process.stderr.read, daemon=True).start()
        return process

    ingest = start_ingest()
    queues = [ForwardQueue(tmp_path / f"q-{d}.sqlite3", d) for d in devices]
    publishers = [Publisher(q, parse_broker_url(broker.url()), group=group, batch=20).start() for q in queues]
    produced: list[tuple[str, int, str]] = []
    t0 = time.monotonic()
    steps = [(1.0, broker.kill), (3.0, broker.start), (4.0, ingest.kill), (4.5, None), (5.5, None)]
    try:
        k = 0
        for at, action in steps:
            while time.monotonic() - t0 < at:
                queue = queues[k % len(queues)]
                event = queue.append(datetime.now(UTC), Transaction(gross_kg=Decimal(k), net_kg=Decimal(k)))
                produced.append((event.instrument, event.seq, digest_of(event.canonical_json())))
                for publisher in publishers:
                    publisher.pump()
                k += 1
                time.sleep(0.005)
            if action is not None:
                action()
            elif at == 4.5:
                ingest.wait(10)
                ingest = start_ingest()
        assert all(p.drain(timeout_s=60) for p in publishers)
        wait_for(lambda: len(stored(platform, devices[0])) + len(stored(platform, devices[1])) >= len(produced), 60)
        with platform.database.read_session() as session:
            names = dict(session.execute(select(FieldDevice.id, FieldDevice.device_id)).all())
            rows = session.execute(select(FieldEvent.device_pk, FieldEvent.seq, FieldEvent.digest)).all()
        got = [(names[pk], seq, digest) for pk, seq, digest in rows]
        assert len(produced) > 100
        assert len(got) == len(set(got)) == len(produced)
        assert _checksum(got) == _checksum(produced)
        assert sum(p.resent for p in publishers) > 0  # what the killed broker may have forgotten was sent again
    finally:
        for publisher in publishers:
            publisher.stop()
        ingest.kill()
        ingest.wait(10)
        broker.stop()
        platform.database.dispose()


def retained_state(url: str, topic: str) -> HostState | None:
    """The retained STATE on ``topic`` (None if none arrives within 2 s)."""
    address = parse_broker_url(url)
    got: list[HostState] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("state"), protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, m: got.append(decode_state(bytes(m.payload)))
    client.connect(address.host, address.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    deadline = time.monotonic() + 2
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    return got[-1] if got else None


@pytest.mark.slow
def test_agents_publish_only_while_the_primary_host_is_online(tmp_path: Path) -> None:
    """Sparkplug B 3.0 STATE: the ingest is the primary host (retained birth/death, death as its will); an agent
    waits for it before its births, leaves when it goes offline, ignores a stale offline STATE, and comes back."""
    group, device, host = unique("market"), unique("SC"), unique("host")
    broker = make_broker(tmp_path / "broker")
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device], group=group)
    topic = f"spBv1.0/STATE/{host}"
    queue = ForwardQueue(tmp_path / "queue.sqlite3", device)
    publisher = Publisher(queue, parse_broker_url(broker.url()), group=group, primary_host=host).start()
    ingest_id = unique("ingest")

    def start_worker() -> IngestWorker:
        return IngestWorker(
            Ingestor(platform.database), parse_broker_url(broker.url()), client_id=ingest_id, host_id=host
        ).start()

    worker: IngestWorker | None = None
    t = datetime(2026, 12, 7, tzinfo=UTC)
    try:
        for i in range(5):
            queue.append(t, Transaction(gross_kg=Decimal(i), net_kg=Decimal(i)))
        time.sleep(1.0)
        assert not publisher.connected.is_set()  # connected to the broker, but no host: no birth, no data
        assert publisher.pump() == 0
        worker = start_worker()
        born = retained_state(broker.url(), topic)
        assert born is not None
        assert born.online
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 5)
        # an offline STATE older than the host's birth is stale: ignored
        raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("stale"), protocol=mqtt.MQTTv5)
        raw.connect("127.0.0.1", broker.port)
        raw.loop_start()
        raw.publish(topic, encode_state(HostState(False, born.timestamp - 1000)), qos=1).wait_for_publish(5)
        raw.disconnect()
        raw.loop_stop()
        time.sleep(0.5)
        assert publisher.connected.is_set()
        assert publisher.host_offline_disconnects == 0
        # the host stops cleanly: its offline STATE is retained, the agent leaves and keeps its events
        worker.stop()
        worker = None
        died = retained_state(broker.url(), topic)
        assert died == HostState(False, born.timestamp)
        wait_for(lambda: publisher.host_offline_disconnects == 1, 10)
        for i in range(5, 8):
            queue.append(t, Transaction(gross_kg=Decimal(i), net_kg=Decimal(i)))
        time.sleep(1.0)
        assert not publisher.connected.is_set()
        assert queue.depth() == 3
        # the host comes back (a newer birth): the agent is born again and sends what waited
        worker = start_worker()
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 8)
        with platform.database.read_session() as session:
            assert session.scalar(select(FieldRefusal).where(FieldRefusal.reason == "topic")) is None
    finally:
        publisher.stop()
        if worker is not None:
            worker.stop()
        broker.stop()
        platform.database.dispose()
