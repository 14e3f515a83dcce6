"""Field telemetry ingest through a real Mosquitto broker into the platform's database (SQLite and PostgreSQL).

A publisher process (standing in for many agents: 20 devices) sends Sparkplug B DDATA messages of small transaction
events at QoS 1 to a Mosquitto started for the run on a free loopback port; the ingest worker in this process
(:class:`hengqi.server.field.mqtt.IngestWorker`: persistent session, manual PUBACK after commit) stores them with
deduplication on (device, seq).  Measured: events stored per second of wall time, per CPU-second of the ingest
process (this process: the paho network thread and the writer thread; the publisher and the broker run in their
own processes and are not counted), and publish-to-stored latency percentiles (the publisher's send time to the
commit of the batch that stored the message, both on the machine's monotonic clock; the broker delivers one
connection's messages in order, so the k-th message stored is the k-th published).  Scenarios: all events offered
at once with 50 and with 1 event per message (throughput; the latency is then the time to drain the backlog), and
1 000 events/s offered at a steady pace with 50 events per message (latency below saturation).
``main(short=True)`` sends 2 000 events per scenario on SQLite; the full run 100 000 (20 000 for the other two) on
SQLite and on PostgreSQL (a database made for the run on 127.0.0.1:5432, dropped after), then the outage test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import upgrade
from hengqi.server.db.models import Instrument, Organisation
from hengqi.server.field.devices import register_device
from hengqi.server.field.ingest import Ingestor, IngestResult
from hengqi.server.field.models import FieldEvent
from hengqi.server.field.mqtt import IngestWorker
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.telemetry import Transaction

DEVICES = 20
GROUP = "bench"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def broker_config(port: int, folder: Path | None = None) -> str:
    """A loopback Mosquitto configuration; with ``folder``, persistent (saved every second and at exit).

    Mosquitto started as root switches to the user ``mosquitto`` unless told otherwise, and that user cannot write
    a temporary folder of ours: persistence then fails on every save (the log says "Error saving in-memory
    database ... Permission denied") and a restarted broker has forgotten every session.  So it runs as us.
    """
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "max_queued_messages 0",
        "max_inflight_messages 1000",
    ]
    lines.append(f"user {os.environ.get('USER') or __import__('getpass').getuser()}")
    if folder is not None:
        lines += ["persistence true", f"persistence_location {folder}/", "autosave_interval 1"]
    return "\n".join(lines) + "\n"


class TimedIngestor(Ingestor):
    """Records the commit time of each batch and its size."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.commits: list[tuple[float, int]] = []

    def handle_messages(
        self, messages: Sequence[tuple[str, bytes]], received_at: datetime | None = None
    ) -> IngestResult:
        result = super().handle_messages(messages, received_at)
        self.commits.append((time.perf_counter(), len(messages)))
        return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _platform(folder: Path, url: str | None = None) -> Database:
    database = Database(url or f"sqlite:///{folder / 'bench.sqlite3'}")
    upgrade(database.engine)
    with database.write_session() as session:
        org = Organisation(name="bench")
        session.add(org)
        session.flush()
        for i in range(DEVICES):
            instrument = Instrument(
                organisation_id=org.id,
                make="B",
                model="B",
                serial=f"B{i}",
                accuracy_class="III",
                kind="single-interval",
                max_kg=Decimal(15),
                min_kg=Decimal("0.1"),
                e_kg=Decimal("0.005"),
                d_kg=Decimal("0.005"),
                ranges=[],
            )
            session.add(instrument)
            session.flush()
            register_device(
                session, organisation_id=org.id, instrument_id=instrument.id, device_id=f"D{i:03d}", group_id=GROUP
            )
        session.commit()
    return database


def run(
    total: int, per_message: int, folder: Path, port: int, *, rate: float | None = None, url: str | None = None
) -> dict[str, float]:
    database = _platform(folder, url)
    ingestor = TimedIngestor(database)
    broker = BrokerAddress("127.0.0.1", port)
    worker = IngestWorker(ingestor, broker, client_id=f"bench-ingest-{per_message}", batch_size=1000).start()
    times = folder / f"sent-{per_message}.bin"
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("field_publisher.py")), str(port), str(total), str(per_message),
         str(rate or 0), str(times)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise RuntimeError("the publisher did not start")
    expected_messages = total // per_message
    cpu0, wall0 = time.process_time(), time.perf_counter()
    child.stdin.write("go\n")
    child.stdin.flush()
    deadline = time.monotonic() + 600
    while sum(n for _t, n in ingestor.commits) < expected_messages and time.monotonic() < deadline:
        time.sleep(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    publisher_cpu = float(child.stdout.readline().strip() or "nan")
    child.wait(60)
    worker.stop()
    with database.read_session() as session:
        stored = int(session.scalar(select(func.count()).select_from(FieldEvent)) or 0)
    database.dispose()
    data = times.read_bytes()
    sent = struct.unpack(f"<{len(data) // 8}d", data)
    latencies: list[float] = []
    k = 0
    for at, n in ingestor.commits:
        latencies.extend(at - sent[i] for i in range(k, min(k + n, len(sent))))
        k += n
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "events": float(stored),
        "expected": float(expected_messages * per_message),
        "wall_s": wall,
        "cpu_s": cpu,
        "publisher_cpu_s": publisher_cpu,
        "per_s": stored / wall,
        "per_cpu_s": stored / cpu if cpu else float("nan"),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
    }


def _start_broker(conf: Path, port: int) -> subprocess.Popen[bytes]:
    log = (conf.parent / "mosquitto.log").open("ab")
    process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not start: {(conf.parent / 'mosquitto.log').read_text()[-500:]}")


def _pg_database() -> str | None:
    """A new PostgreSQL database for one run (None where no server answers)."""
    try:
        import psycopg

        name = f"hengqi_bench_field_{secrets.token_hex(5)}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    except Exception as err:  # no server: the PostgreSQL rows are left out, with the reason
        print(f"PostgreSQL rows left out: {type(err).__name__}: {err}")
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_pg(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")  # type: ignore[arg-type]
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]


def main(short: bool = False) -> None:
    throughput(short)
    if not short:
        with tempfile.TemporaryDirectory() as tmp:
            outage(Path(tmp))


def throughput(short: bool) -> None:
    """The ingest table: SQLite (and PostgreSQL in the full run), three offered loads each."""
    total = 2_000 if short else 100_000
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'database':>10} {'offered':>12} {'events/msg':>10} {'events':>8} {'wall s':>7} {'events/s':>9}"
        f" {'ingest CPU-s':>12} {'ev/CPU-s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    )
    backends = ["sqlite"] if short else ["sqlite", "postgresql"]
    for backend in backends:
        for per_message, rate in ((50, None), (1, None), (50, 1000.0)):
            url = None
            if backend == "postgresql":
                url = _pg_database()
                if url is None:
                    break
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                port = _free_port()
                (folder / "m.conf").write_text(broker_config(port))
                process = _start_broker(folder / "m.conf", port)
                try:
                    n = total if per_message > 1 else total // (2 if short else 5)
                    if rate is not None:
                        n = 2_000 if short else 20_000
                    r = run(n, per_message, folder, port, rate=rate, url=url)
                finally:
                    process.terminate()
                    process.wait(10)
                    if url is not None:
                        _drop_pg(url)
            if r["events"] != r["expected"]:
                raise RuntimeError(f"stored {r['events']:.0f} of {r['expected']:.0f} events")
            offered = "all at once" if rate is None else f"{rate:.0f}/s"
            print(
                f"{backend:>10} {offered:>12} {per_message:>10} {r['events']:>8.0f} {r['wall_s']:>7.2f}"
                f" {r['per_s']:>9.0f} {r['cpu_s']:>12.2f} {r['per_cpu_s']:>9.0f} {r['p50_ms']:>8.1f}"
                f" {r['p99_ms']:>8.1f}",
                flush=True,
            )
    load = os.getloadavg()
    print(f"load average after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


def outage(
    folder: Path,
    *,
    devices: int = 5,
    rate: float = 100.0,
    before_s: float = 20.0,
    down_s: float = 60.0,
    step_s: float = 10.0,
    broker_signal: str = "SIGKILL",
    resend_window_s: float = 30.0,
    as_mosquitto_user: bool = False,
) -> None:
    """Agents publish through their store-and-forward queues at ``rate`` events/s in all; the broker is killed
    (``broker_signal``: SIGKILL, no save at exit; or SIGTERM) and stays down ``down_s`` seconds, then the ingest
    process is killed (SIGKILL) and started again.  After recovery every event the agents produced must be stored
    exactly once: count and SHA-256 over the sorted (device, seq, event digest) of what was produced and of what
    was stored.  The broker's log is searched for failed saves of its persistence file.  ``as_mosquitto_user``
    writes the configuration of the first version of this benchmark (no ``user`` line: Mosquitto started as root
    runs as ``mosquitto``, which cannot write our temporary folder), to show what that did."""
    import hashlib
    import os
    import signal
    import sys
    import threading

    from hengqi.edge.publisher import Publisher
    from hengqi.edge.queue import ForwardQueue
    from hengqi.supervision.admission import digest_of

    port = _free_port()
    conf = folder / "persist.conf"
    text = broker_config(port, folder)
    if as_mosquitto_user:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("user ")) + "\n"
    conf.write_text(text)

    def start_broker() -> subprocess.Popen[bytes]:
        return _start_broker(conf, port)

    database = _platform(folder)
    database.dispose()
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    launch = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"

    def start_ingest() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", launch, "field", "ingest", "--database-url", url, "--data-dir", str(folder),
             "--broker", f"mqtt://127.0.0.1:{port}", "--client-id", "bench-outage-ingest"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ},
        )  # fmt: skip

    def wait_ready(process: subprocess.Popen[bytes]) -> None:
        """Until the ingest has subscribed (its first line): its persistent session exists from then on."""
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        if not line.startswith("ingest: mqtt://"):
            raise RuntimeError(f"the ingest did not start: {line.strip()}")
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained

    broker = start_broker()
    ingest: subprocess.Popen[bytes] | None = None
    publishers: list[Publisher] = []
    try:
        ingest = start_ingest()
        wait_ready(ingest)
        queues = [ForwardQueue(folder / f"q{i}.sqlite3", f"D{i:03d}") for i in range(devices)]
        publishers = [
            Publisher(q, BrokerAddress("127.0.0.1", port), group=GROUP, resend_window_s=resend_window_s).start()
            for q in queues
        ]
        produced: list[tuple[str, int, str]] = []
        t0 = time.monotonic()
        phase = "before"
        interval = 1 / rate
        k = 0
        timeline = {"broker stopped": before_s, "broker started": before_s + down_s,
                    "ingest killed": before_s + down_s + step_s, "ingest started": before_s + down_s + 1.5 * step_s,
                    "production ends": before_s + down_s + 2.5 * step_s}  # fmt: skip
        while True:
            now = time.monotonic() - t0
            if phase == "before" and now >= timeline["broker stopped"]:
                broker.send_signal(getattr(signal, broker_signal))
                broker.wait(10)
                phase = "down"
            elif phase == "down" and now >= timeline["broker started"]:
                broker = start_broker()
                phase = "up"
            elif phase == "up" and now >= timeline["ingest killed"]:
                ingest.send_signal(signal.SIGKILL)
                ingest.wait(10)
                phase = "no ingest"
            elif phase == "no ingest" and now >= timeline["ingest started"]:
                ingest = start_ingest()
                phase = "recovered"
            elif now >= timeline["production ends"]:
                break
            queue = queues[k % devices]
            event = queue.append(datetime.now(UTC), Transaction(gross_kg=Decimal(k % 1000), net_kg=Decimal(k % 1000)))
            produced.append((event.instrument, event.seq, digest_of(event.canonical_json())))
            for publisher in publishers:
                publisher.pump()
            k += 1
            pause = t0 + k * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        drained = all(p.drain(timeout_s=120) for p in publishers)
        database = Database(url)
        deadline = time.monotonic() + 180
        stored: list[tuple[str, int, str]] = []
        while time.monotonic() < deadline:
            with database.read_session() as session:
                rows = session.execute(
                    select(FieldEvent.seq, FieldEvent.digest, FieldEvent.device_pk).order_by(FieldEvent.id)
                ).all()
            if len(rows) >= len(produced):
                break
            time.sleep(1)
        from hengqi.server.field.models import FieldDevice

        with database.read_session() as session:
            names = dict(session.execute(select(FieldDevice.id, FieldDevice.device_id)).all())
            rows = session.execute(select(FieldEvent.device_pk, FieldEvent.seq, FieldEvent.digest)).all()
        stored = [(names[r[0]], r[1], r[2]) for r in rows]
        database.dispose()
    finally:
        for publisher in publishers:
            publisher.stop()
        ingest_log = ""
        if ingest is not None:
            ingest.terminate()
            ingest.wait(10)
            if ingest.stderr is not None and phase == "recovered":
                ingest_log = ingest.stderr.read().decode(errors="replace")[-2000:]
        broker.terminate()
        broker.wait(10)

    def checksum(items: list[tuple[str, int, str]]) -> str:
        return hashlib.sha256("".join(f"{d}/{s}/{h}\n" for d, s, h in sorted(items)).encode()).hexdigest()

    print(
        f"outage: {len(produced)} events from {devices} agents at {rate:.0f}/s; broker killed ({broker_signal}) and "
        f"down {down_s:.0f} s, ingest "
        f"killed (SIGKILL) and restarted; queues drained: {drained}; stored {len(stored)} "
        f"(distinct {len(set(stored))}); checksum produced {checksum(produced)[:16]} stored {checksum(stored)[:16]}"
    )
    log = (folder / "mosquitto.log").read_text(errors="replace") if (folder / "mosquitto.log").exists() else ""
    print(
        f"outage: the agents sent again {sum(p.resent for p in publishers)} events acknowledged before a lost "
        f"connection (window {resend_window_s:.0f} s); PUBACKs 'no matching subscribers' (kept and retried): "
        f"{sum(p.refused_acks for p in publishers)}; failed broker saves in its log: {log.count('Error saving')}"
    )
    if sorted(stored) != sorted(produced):
        missing = sorted(set(produced) - set(stored))
        from hengqi.server.field.models import FieldRefusal

        database = Database(url)
        with database.read_session() as session:
            refusals = session.execute(select(FieldRefusal.device_key, FieldRefusal.reason, FieldRefusal.count)).all()
        database.dispose()
        raise RuntimeError(
            f"the stored events differ from the produced ones: {len(missing)} missing, first {missing[:5]}, "
            f"refusals {refusals[:10]}, queues left {[q.depth() for q in queues]}; "
            f"the restarted ingest said: {ingest_log}"
        )


if __name__ == "__main__":
    main(short="--short" in sys.argv)
