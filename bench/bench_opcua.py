"""Latency from a change on the scale to the OPC UA notification (issue 18).

A simulated MT-SICS balance (no settling time) sits behind ``hengqi``'s OPC UA server on loopback; an asyncua
client subscribes to ``CurrentWeight`` (publishing interval 10 ms, sampling on change).  Each round places a new
load on the simulator and times until the notification carrying that net value arrives.  The latency is bounded
by the server's poll interval (the instruments are polled; serial protocols have no push) plus one MT-SICS
exchange and the publishing interval.

    python bench/bench_opcua.py            # poll 0.1 s (default) and 0.02 s, 100 changes each
    python bench/run.py --short --only opcua   # poll 0.02 s, 10 changes
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import time
from typing import Any

from asyncua import Client

from hengqi.instruments.opcua import DI_NS, SCALES_NS
from hengqi.instruments.simulator import Imperfections, Simulator
from hengqi.opcua.config import parse_config
from hengqi.opcua.model import HENGQI_NS
from hengqi.opcua.server import ScaleServer, ServerThread

FAST = Imperfections(settling_s=0.0, stability_timeout_s=1.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Waiter:
    def __init__(self) -> None:
        self.expected: float | None = None
        self.arrived = asyncio.Event()

    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        if self.expected is not None and value.Net == self.expected:
            self.arrived.set()


#: Seed of the random phase of each change against the server's poll cycle.
SEED = 18


async def _measure(sim: Simulator, endpoint: str, n: int, phase: float) -> list[float]:
    rng = random.Random(SEED)
    async with Client(endpoint) as client:
        await client.load_data_type_definitions()
        ns = await client.get_namespace_index(SCALES_NS)
        di = await client.get_namespace_index(DI_NS)
        hq = await client.get_namespace_index(HENGQI_NS)
        current = await client.nodes.objects.get_child([f"{di}:DeviceSet", f"{hq}:Scale1", f"{ns}:CurrentWeight"])
        waiter = _Waiter()
        subscription = await client.create_subscription(10, waiter)
        await subscription.subscribe_data_change(current)
        await asyncio.sleep(0.3)
        latencies = []
        for i in range(n):
            grams = 10 + (i % 2) * 10 + i % 7
            waiter.expected = float(grams)
            waiter.arrived.clear()
            # A random phase against the poll cycle (the notification of the previous round came right after a poll).
            await asyncio.sleep(rng.uniform(0.0, phase))
            started = time.perf_counter()
            sim.place(f"{grams} g")
            await asyncio.wait_for(waiter.arrived.wait(), 10)
            latencies.append(time.perf_counter() - started)
        await subscription.delete()
        return latencies


def run(poll: float, n: int) -> list[float]:
    with Simulator.start(protocol="mt-sics", imperfections=FAST) as sim:
        server = ScaleServer(parse_config({"scales": [sim.url]}), port=_free_port(), poll_interval=poll)
        with ServerThread(server):
            return asyncio.run(_measure(sim, server.endpoint, n, max(poll, 0.05)))


def main(short: bool = False) -> None:
    polls = (0.02,) if short else (0.1, 0.02)
    n = 10 if short else 100
    print(
        f"change on the simulated scale -> OPC UA notification, n = {n} changes, publishing interval 10 ms, "
        f"random phase against the poll cycle (seed {SEED})"
    )
    print(f"{'poll interval':>14}  {'median ms':>10}  {'p90 ms':>8}  {'max ms':>8}")
    for poll in polls:
        ms = sorted(x * 1000 for x in run(poll, n))
        p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
        print(f"{poll:>12g} s  {statistics.median(ms):>10.1f}  {p90:>8.1f}  {ms[-1]:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true")
    main(short=parser.parse_args().short)
