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
import multiprocessing
import os
import secrets
import signal
import time
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from hengqi.server.field import jetstream as js
from hengqi.server.field.consumer import DetectorWorker
from hengqi.supervision.detectors.fleet import profiles_from_field, run_field
from hengqi.supervision.fieldsim import FieldData, simulate_field
from hengqi.supervision.streams import finding_id, parse_stream_url, partition_of, partitions_of, position_key

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
            try:
                for p in range(PARTITIONS):
                    await jet.consumer_info(layout.stream, f"{layout.namespace}-p{p}")
            except js.js_errors.NotFoundError:
                pass
            else:
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
        procs, stop, out = _start(layout.namespace, workers)
        await _ready(nc, layout, kv)
        started = time.monotonic()
        last = await _publish(nc, layout, data, None)
        published = time.monotonic()
        await _drain(kv, last)
        drained = time.monotonic()
        results = await asyncio.to_thread(_collect, procs, stop, out)
        events = sum(r["events"] for r in results.values())
        cpu = sum(r["cpu_s"] for r in results.values())
        return {"events": events, "wall_s": drained - started, "publish_s": published - started, "cpu_s": cpu}
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


def main(short: bool = False) -> None:
    instruments, days, rate = (12, 1, 500.0) if short else (48, 2, 500.0)
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
    print("throughput: workers ready on every partition, then the corpus published at full speed (pipelined)")
    print(f"{'workers':<10}{'events':>8}{'publish s':>11}{'drained s':>11}{'events/s':>10}{'worker CPU s':>14}"
          f"{'events/CPU-s':>14}")  # fmt: skip
    for label, r in (("1", one), ("2", two)):
        print(f"{label:<10}{r['events']:>8.0f}{r['publish_s']:>11.2f}{r['wall_s']:>11.2f}"
              f"{r['events'] / r['wall_s']:>10.0f}{r['cpu_s']:>14.2f}{r['events'] / r['cpu_s']:>14.0f}")  # fmt: skip
    ratio = (two["events"] / two["wall_s"]) / (one["events"] / one["wall_s"])
    print(f"ratio 2 workers : 1 worker (events/s) = {ratio:.2f}; 1 worker per CPU-s : floor = "
          f"{one['events'] / one['cpu_s'] / floor:.2f}")  # fmt: skip
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
    print(f"  the survivor took {len(taken)} of the dead worker's {PARTITIONS // 2} partitions, "
          f"{min(taken, default=float('nan')):+.2f} .. {max(taken, default=float('nan')):+.2f} s after the kill"
          + (f" ({early} before it: the worker missed its lease renewals)" if early else ""))  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if kill["lost"] or kill["doubled"] or kill["extra"]:
        raise AssertionError("alerts lost or doubled after a worker was killed")


if __name__ == "__main__":
    main()
