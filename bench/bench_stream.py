"""Field events through NATS JetStream into the detectors: 1 and 2 worker processes, latency, a killed worker.

Corpus: a simulated field (:func:`hengqi.supervision.fieldsim.simulate_field`, seed 2026, tamper fraction 0.5:
retail transactions, weighbridge passages with 10 Hz curves over four cells, counters, checks, heartbeats), its
profiles in the bucket, every event on its instrument's subject of the real NATS at 127.0.0.1:4222 (a namespace of
its own per scenario, deleted afterwards).  Detector workers are forked processes running
:class:`hengqi.server.field.consumer.DetectorWorker` (16 partitions; lease time-out 2 s).

1. **Throughput**: the corpus is published first; then 1 worker (all partitions), then on a fresh namespace 2
   workers (8 partitions each), drain it.  events/s = events / (drained - first lease taken); per CPU-second of the
   worker processes (their own ``process_time``); the ratio 2 workers : 1 worker.
2. **Latency**: 1 worker, the corpus offered at a steady rate; publish -> state committed per event (each event
   carries its publish time in a header) and publish of a finding's last event -> its alert acknowledged, p50/p99.
3. **Kill one of two workers** while the corpus is offered at a steady rate: SIGKILL at 40 %; the survivor takes
   over the dead worker's partitions after 2 lease time-outs.  Lost = embedded findings missing from the alerts
   stream, doubled = alert messages - distinct alert ids; "served again" = kill -> first committed batch on a
   partition of the dead worker.

The embedded reference is :func:`hengqi.supervision.detectors.fleet.run_field` over the same corpus.  The machine is
shared (2 cores, other engineers' jobs): compare the per-CPU-second figures and the ratio, not the wall rates alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from datetime import timedelta
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hengqi.edge.replay import publish_events as publish_mqtt
from hengqi.server.field import jetstream as js
from hengqi.server.field.bridge import MqttBridge
from hengqi.server.field.consumer import DetectorWorker
from hengqi.supervision.broker import parse_broker_url
from hengqi.supervision.detectors.fleet import profiles_from_field, run_field
from hengqi.supervision.fieldsim import FieldData, simulate_field
from hengqi.supervision.mapping import payload_from_events
from hengqi.supervision.sparkplug import encode_payload
from hengqi.supervision.streams import finding_id, parse_stream_url, partition_of, partitions_of, position_key
from hengqi.supervision.telemetry import Heartbeat, TelemetryEvent

NATS = parse_stream_url("nats://127.0.0.1:4222")
PARTITIONS = 16
TTL_S = 1.0
SEED = 2026


def _worker(namespace: str, worker: int, workers: int, *, stop: MpEvent, out: Any) -> None:
    """A forked detector worker; puts its statistics on ``out`` when ``stop`` is set."""
    name = f"w{worker}"

    async def main() -> dict[str, Any]:
        nc = await js.connect(NATS)
        layout = js.StreamLayout(namespace, PARTITIONS)
        kv = await js.ensure(nc, layout)
        runner = DetectorWorker(
            nc, kv, layout, name=name, worker=worker, workers=workers, ttl_s=TTL_S, renew_s=TTL_S / 5,
            keep_latencies=True,
        )  # fmt: skip
        halt = asyncio.Event()
        task = asyncio.create_task(runner.run(halt))
        while not stop.is_set():
            await asyncio.sleep(0.02)
        halt.set()
        await task
        await nc.close()
        s = runner.stats
        return {
            "events": s.events,
            "skipped": s.skipped,
            "acquired": s.acquired,
            "first_batch_at": s.first_batch_at,
            "latencies": s.latencies_s,
            "alert_latencies": s.alert_latencies_s,
            "alerts_duplicate": s.alerts_duplicate,
        }

    started = time.process_time()
    result = asyncio.run(main())
    result["cpu_s"] = time.process_time() - started
    out.put((name, result))


async def _publish(nc: Any, layout: js.StreamLayout, data: FieldData, rate: float | None) -> dict[int, int]:
    """Profiles, then the events (pipelined; paced to ``rate`` events/s where given)."""
    kv = await js.ensure(nc, layout)
    await js.put_profiles(kv, profiles_from_field(data))
    groups = {i.device_id: i.group for i in data.instruments}
    jet = nc.jetstream()
    futures = []
    started = time.monotonic()
    for n, event in enumerate(data.events):
        subject = js.instrument_subject(layout.prefix, groups[event.instrument], event.instrument, PARTITIONS)
        headers = {"Nats-Msg-Id": f"{event.instrument}:{event.seq}", js.PUBLISHED_HEADER: str(time.time_ns())}
        futures.append(await jet.publish_async(subject, event.canonical_json().encode(), headers=headers))
        if rate is not None and n % 10 == 9:
            pause = started + (n + 1) / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
    last: dict[int, int] = {}
    for event, ack in zip(data.events, await asyncio.gather(*futures), strict=True):
        p = partition_of(event.instrument, PARTITIONS)
        last[p] = max(last.get(p, 0), ack.seq)
    return last


async def _positions(kv: Any, partitions: list[int]) -> dict[int, int]:
    out = {}
    for p in partitions:
        try:
            out[p] = int((await kv.get(position_key(p))).value or b"0")
        except js.js_errors.KeyNotFoundError:
            out[p] = 0
    return out


def _start(namespace: str, workers: int) -> tuple[list[multiprocessing.process.BaseProcess], MpEvent, Any]:
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(namespace, i, workers), kwargs={"stop": stop, "out": out}, daemon=True)
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    return procs, stop, out


def _collect(procs: list[Any], stop: MpEvent, out: Any) -> dict[str, dict[str, Any]]:
    stop.set()
    alive = [p for p in procs if p.exitcode is None]
    results = dict(out.get(timeout=60) for _p in alive)
    for p in procs:
        p.join(10)
    return results


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _ready(nc: Any, layout: js.StreamLayout, kv: Any) -> None:
    """Wait until every partition's lease is held and its durable consumer exists."""
    jet = nc.jetstream()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(await _held(kv)) == PARTITIONS:
            names = {c.name for c in await jet.consumers_info(layout.stream)}
            served = {int(n.split("-p")[1].split("-")[0]) for n in names if n.startswith(f"{layout.namespace}-p")}
            if len(served) == PARTITIONS:
                return
        await asyncio.sleep(0.05)
    raise TimeoutError("workers did not take every partition")


async def _drain(kv: Any, last: dict[int, int]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        positions = await _positions(kv, list(last))
        if all(positions[p] >= s for p, s in last.items()):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("workers did not drain the stream")


async def _throughput(data: FieldData, workers: int) -> dict[str, float]:
    layout = js.StreamLayout(f"b{secrets.token_hex(4)}", PARTITIONS)
    nc = await js.connect(NATS)
    try:
        kv = await js.ensure(nc, layout)
        server_before = _server_cpu_s()
        started = time.monotonic()
        last = await _publish(nc, layout, data, None)
        published = time.monotonic()
        procs, stop, out = _start(layout.namespace, workers)
        await _drain(kv, last)
        drained = time.time()
        server_after = _server_cpu_s()
        results = await asyncio.to_thread(_collect, procs, stop, out)
        first = min(r["first_batch_at"] for r in results.values() if r["first_batch_at"] is not None)
        events = sum(r["events"] for r in results.values())
        cpu = sum(r["cpu_s"] for r in results.values())
        stream = (await nc.jetstream().stream_info(layout.stream)).state
        bucket = (await nc.jetstream().stream_info(f"KV_{layout.bucket}")).state
        return {
            "events": events,
            "wall_s": drained - first,
            "publish_s": published - started,
            "cpu_s": cpu,
            "stream_bytes": stream.bytes,
            "stream_messages": stream.messages,
            "bucket_bytes": bucket.bytes,
            "bucket_messages": bucket.messages,
            "server_cpu_s": float("nan")
            if server_before is None or server_after is None
            else server_after - server_before,
        }
    finally:
        await js.remove(nc, layout)
        await nc.close()


async def _latency(data: FieldData, rate: float) -> dict[str, Any]:
    layout = js.StreamLayout(f"b{secrets.token_hex(4)}", PARTITIONS)
    nc = await js.connect(NATS)
    try:
        await js.ensure(nc, layout)
        kv = await js.ensure(nc, layout)
        procs, stop, out = _start(layout.namespace, 1)
        await _ready(nc, layout, kv)
        last = await _publish(nc, layout, data, rate)
        await _drain(kv, last)
        results = await asyncio.to_thread(_collect, procs, stop, out)
        r = results["w0"]
        return {"latencies": r["latencies"], "alert_latencies": r["alert_latencies"]}
    finally:
        await js.remove(nc, layout)
        await nc.close()


async def _held(kv: Any) -> list[int]:
    held = []
    for p in range(PARTITIONS):
        with contextlib.suppress(js.js_errors.KeyNotFoundError):
            if (await kv.get(f"lease.{p}")).value:
                held.append(p)
    return held


async def _kill(data: FieldData, rate: float) -> dict[str, Any]:
    layout = js.StreamLayout(f"b{secrets.token_hex(4)}", PARTITIONS)
    nc = await js.connect(NATS)
    try:
        kv = await js.ensure(nc, layout)
        procs, stop, out = _start(layout.namespace, 2)
        await _ready(nc, layout, kv)
        publisher = asyncio.create_task(_publish(nc, layout, data, rate))
        await asyncio.sleep(0.4 * len(data.events) / rate)
        dead = list(partitions_of(1, 2, PARTITIONS))
        pid = procs[1].pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        killed_wall = time.time()
        await asyncio.to_thread(procs[1].join, 10)
        before = await _positions(kv, dead)  # what the dead worker committed (read after it is gone)
        served_again = float("nan")
        while time.monotonic() - killed < 60:
            now = await _positions(kv, dead)
            if any(now[p] > before[p] for p in dead):
                served_again = time.monotonic() - killed
                break
            await asyncio.sleep(0.01)
        last = await publisher
        await _drain(kv, last)
        results = await asyncio.to_thread(_collect, procs, stop, out)
        takeovers = [t - killed_wall for p, t in results["w0"]["acquired"] if p in dead]
        alerts = await js.read_alerts(nc, layout)
        ids = [a["id"] for a in alerts]
        expected = {finding_id(f) for f in run_field(data)}
        return {
            "expected": len(expected),
            "lost": len(expected - set(ids)),
            "doubled": len(ids) - len(set(ids)),
            "extra": len(set(ids) - expected),
            "served_again_s": served_again,
            "takeovers_s": takeovers,
        }
    finally:
        await js.remove(nc, layout)
        await nc.close()


def _server_cpu_s() -> float | None:
    """CPU seconds (user + system) of the NATS server on port 4222 so far, from /proc; None where not readable."""
    tick = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if not argv or not argv[0].endswith(b"nats-server") or b"4222" not in argv:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / tick
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int) -> None:
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


async def _bridge_rate(data: FieldData, folder: Path, per_message: int) -> dict[str, float]:
    """Mosquitto (ours, free port) -> MqttBridge -> JetStream: events/s from the first publish to the last stored."""
    port = _free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n"
                    f"user {getpass.getuser()}\n")  # fmt: skip
    broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    layout = js.StreamLayout(f"b{secrets.token_hex(4)}", PARTITIONS)
    nc = await js.connect(NATS)
    try:
        _wait_port(port)
        await js.ensure(nc, layout)
        address = parse_broker_url(f"mqtt://127.0.0.1:{port}")
        bridge = await MqttBridge(nc.jetstream(), layout, address, client_id=layout.namespace).start()
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        groups = {i.device_id: i.group for i in data.instruments}
        cpu, started = time.process_time(), time.monotonic()
        sent = asyncio.create_task(asyncio.to_thread(publish_mqtt, data.events, groups, address, batch=per_message))
        while bridge.stats.events < len(data.events) and time.monotonic() - started < 300:
            await asyncio.sleep(0.01)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        await sent
        stop.set()
        await task
        bridge.stop()
        return {"events": bridge.stats.events, "messages": bridge.stats.messages, "wall_s": wall, "cpu_s": cpu}
    finally:
        await js.remove(nc, layout)
        await nc.close()
        broker.terminate()
        broker.wait(10)


async def _gateway_rate(data: FieldData, folder: Path, per_message: int) -> dict[str, Any]:
    """NATS's own MQTT gateway (a nats-server of ours with ``mqtt {}``): the same Sparkplug payloads at QoS 1 into a
    stream of raw messages.  2.9.10 refuses '.' in MQTT topics, so Sparkplug's ``spBv1.0`` namespace is sent as
    ``spBv1_0`` here; the messages stay whole (not yet one subject per instrument)."""
    client_port, mqtt_port = _free_port(), _free_port()
    conf = folder / "nats.conf"
    store = folder / "js"
    conf.write_text(f"listen: 127.0.0.1:{client_port}\nserver_name: hengqi_bench_gw\n"
                    f"jetstream {{ store_dir: \"{store}\" }}\nmqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n")  # fmt: skip
    server = subprocess.Popen(["nats-server", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(mqtt_port)
        nc = await js.connect(parse_stream_url(f"nats://127.0.0.1:{client_port}"))
        await nc.jetstream().add_stream(name="RAW", subjects=["spBv1_0.>"])
        by: dict[str, list[Any]] = {}
        for event in data.events:
            by.setdefault(event.instrument, []).append(event)
        groups = {i.device_id: i.group for i in data.instruments}
        messages = []
        for instrument, items in by.items():
            for k in range(0, len(items), per_message):
                payload = encode_payload(payload_from_events(items[k : k + per_message], seq=k % 256, timestamp=0))
                messages.append((f"spBv1_0/{groups[instrument]}/DDATA/{instrument}/{instrument}", payload))
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-gw", protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(100)
        client.connect("127.0.0.1", mqtt_port)
        client.loop_start()
        started = time.monotonic()
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            await asyncio.to_thread(info.wait_for_publish, 60)
        stored = 0
        while time.monotonic() - started < 120:
            stored = (await nc.jetstream().stream_info("RAW")).state.messages
            if stored >= len(messages):
                break
            await asyncio.sleep(0.01)
        wall = time.monotonic() - started
        client.disconnect()
        client.loop_stop()
        await nc.close()
        return {"messages": stored, "events": len(data.events) if stored == len(messages) else 0, "wall_s": wall}
    finally:
        server.terminate()
        server.wait(10)


def _heartbeats(data: FieldData, per_instrument: int) -> FieldData:
    """The same instruments and profiles with heartbeats only, every 10 s (the issue's province has 6 per event)."""
    events = tuple(
        TelemetryEvent(
            instrument=i.device_id,
            seq=n,
            time=data.start + timedelta(seconds=10 * n),
            body=Heartbeat(uptime_s=10.0 * n, queue_depth=0),
        )
        for i in data.instruments
        for n in range(per_instrument)
    )
    return dataclasses.replace(data, events=events, labels=(), work_orders=())


def main(short: bool = False) -> None:
    instruments, days, rate = (6, 1, 800.0) if short else (48, 2, 500.0)
    started = time.perf_counter()
    data = simulate_field(instruments, seed=SEED, days=days, tamper_fraction=0.5)
    sim_s = time.perf_counter() - started
    n = len(data.events)
    print(f"corpus: simulate_field({instruments}, seed={SEED}, days={days}, tamper_fraction=0.5): {n} events "
          f"({sim_s:.1f} s to simulate); {PARTITIONS} partitions, lease time-out {TTL_S} s")  # fmt: skip
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cpu = time.process_time()
    run_field(data)
    floor = n / (time.process_time() - cpu)
    print(f"floor: the embedded detectors alone (run_field, no I/O) {floor:.0f} events/CPU-s")
    one = asyncio.run(_throughput(data, 1))
    two = asyncio.run(_throughput(data, 2))
    print("throughput: the corpus published first (pipelined, one publisher), then the workers started; drained s =")
    print("first batch fetched -> every partition's position committed at its last event")
    print(f"{'workers':<10}{'events':>8}{'publish s':>11}{'drained s':>11}{'events/s':>10}{'worker CPU s':>14}"
          f"{'events/CPU-s':>14}")  # fmt: skip
    for label, r in (("1", one), ("2", two)):
        print(f"{label:<10}{r['events']:>8.0f}{r['publish_s']:>11.2f}{r['wall_s']:>11.2f}"
              f"{r['events'] / r['wall_s']:>10.0f}{r['cpu_s']:>14.2f}{r['events'] / r['cpu_s']:>14.0f}")  # fmt: skip
    if not short:
        beats = _heartbeats(data, 250)
        hb = asyncio.run(_throughput(beats, 1))
        print(f"heartbeats only (250 per instrument, {len(beats.events)} events), 1 worker: {hb['wall_s']:.2f} s, "
              f"{hb['events'] / hb['wall_s']:.0f} events/s, {hb['cpu_s']:.2f} worker CPU s = "
              f"{hb['events'] / hb['cpu_s']:.0f} events/CPU-s; NATS server {hb['server_cpu_s']:.2f} s = "
              f"{hb['events'] / hb['server_cpu_s']:.0f} events/CPU-s")  # fmt: skip
    ratio = (two["events"] / two["wall_s"]) / (one["events"] / one["wall_s"])
    print(f"ratio 2 workers : 1 worker (events/s) = {ratio:.2f}; 1 worker per CPU-s : floor = "
          f"{one['events'] / one['cpu_s'] / floor:.2f}")  # fmt: skip
    for label, r in (("1", one), ("2", two)):
        print(f"  NATS server CPU during the {label}-worker run (publish + consume; the server is shared, so an upper "
              f"bound): {r['server_cpu_s']:.2f} s = {r['events'] / r['server_cpu_s']:.0f} events/CPU-s")  # fmt: skip
    payload = sum(len(e.canonical_json().encode()) for e in data.events)
    overhead = (one["stream_bytes"] - payload) / one["stream_messages"]
    sizes: dict[str, list[int]] = {}
    for e in data.events:
        sizes.setdefault(e.kind, []).append(len(e.canonical_json().encode()))
    print(f"storage: stream {one['stream_bytes']} B for {one['stream_messages']} events (payload {payload} B; "
          f"subject, headers and record overhead {overhead:.0f} B per event); bucket {one['bucket_bytes']} B for "
          f"{one['bucket_messages']} keys (states, profiles, positions, leases; {instruments} instr.)")  # fmt: skip
    print("  payload by kind (mean B): " + ", ".join(
        f"{k} {sum(v) / len(v):.0f} (n={len(v)})" for k, v in sorted(sizes.items())))  # fmt: skip
    lat = asyncio.run(_latency(data, rate))
    events_ms = [x * 1000 for x in lat["latencies"]]
    alerts_ms = [x * 1000 for x in lat["alert_latencies"]]
    print(f"latency at {rate:.0f} events/s offered, 1 worker: publish -> committed p50 {_pct(events_ms, 0.5):.1f} ms, "
          f"p99 {_pct(events_ms, 0.99):.1f} ms (n = {len(events_ms)}); publish -> alert p50 "
          f"{_pct(alerts_ms, 0.5):.1f} ms, p99 {_pct(alerts_ms, 0.99):.1f} ms, max "
          f"{max(alerts_ms, default=float('nan')):.1f} ms (n = {len(alerts_ms)})")  # fmt: skip
    kill = asyncio.run(_kill(data, rate))
    print(f"kill 1 of 2 workers at 40 % ({rate:.0f} events/s offered): alerts expected {kill['expected']}, "
          f"lost {kill['lost']}, doubled {kill['doubled']}, not in the embedded set {kill['extra']}; "
          f"dead worker's partitions served again after {kill['served_again_s']:.2f} s")  # fmt: skip
    taken = kill["takeovers_s"]
    early = sum(1 for t in taken if t < 0)
    print(f"  the survivor took {len(taken)} of the dead worker's {PARTITIONS // 2} partitions by the end of the run, "
          f"{min(taken, default=float('nan')):+.2f} .. {max(taken, default=float('nan')):+.2f} s after the kill"
          + (f" ({early} before it: the worker missed its lease renewals)" if early else ""))  # fmt: skip
    per_message = 10
    with tempfile.TemporaryDirectory() as folder:
        bridge = asyncio.run(_bridge_rate(data, Path(folder), per_message))
    gateway = None
    if not short:  # a NATS server of its own: seconds to start on a loaded machine
        with tempfile.TemporaryDirectory() as folder:
            gateway = asyncio.run(_gateway_rate(data, Path(folder), per_message))
    print(f"MQTT in ({per_message} events per Sparkplug DDATA message, QoS 1, one publishing client):")
    print(f"  Mosquitto -> bridge -> JetStream (one subject per instrument): {bridge['events']:.0f} events in "
          f"{bridge['wall_s']:.2f} s = {bridge['events'] / bridge['wall_s']:.0f} events/s, "
          f"{bridge['messages'] / bridge['wall_s']:.0f} messages/s; bridge + publisher process "
          f"{bridge['events'] / bridge['cpu_s']:.0f} events/CPU-s")  # fmt: skip
    if gateway is not None:
        print(f"  NATS 2.9.10 MQTT gateway -> stream of raw messages (topic spBv1_0, '.' refused): "
              f"{gateway['messages']} messages in {gateway['wall_s']:.2f} s = "
              f"{gateway['messages'] / gateway['wall_s']:.0f} messages/s ({gateway['events'] / gateway['wall_s']:.0f} "
              f"events/s, still whole messages: splitting per instrument left to do)")  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if kill["lost"] or kill["doubled"] or kill["extra"]:
        raise AssertionError("alerts lost or doubled after a worker was killed")


if __name__ == "__main__":
    main()
