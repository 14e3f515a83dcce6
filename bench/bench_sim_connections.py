"""The simulator under many short connections: memory and threads stay flat (issue 12, item 6).

A demo fleet serves connections for weeks; each connection gets a thread, which must be forgotten when the
connection ends.  ``n`` clients connect one after another, ask ``SI`` and hang up (half of them abruptly, without
reading the reply); resident memory, live threads and the simulator's own thread set are taken after a warm-up
and at the end.

    python bench/bench_sim_connections.py          # 10 000 connections
    python bench/run.py --short --only sim_connections
"""

from __future__ import annotations

import gc
import socket
import threading
import time

from hengqi.instruments.simulator import Imperfections, Simulator

FAST = Imperfections(settling_s=0.0, stability_timeout_s=1.0)


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _connect(port: int, n: int) -> None:
    for i in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"SI\r\n")
            if i % 2 == 0:
                conn.recv(64)


def _settle(sim: Simulator, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while len(sim._threads) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()


def main(short: bool) -> None:
    n = 500 if short else 10_000
    with Simulator.start("mt-sics", imperfections=FAST) as sim:
        _connect(sim.port, 200)  # warm-up: allocator arenas, thread stacks
        _settle(sim)
        before = (_rss_kb(), threading.active_count(), len(sim._threads))
        started = time.perf_counter()
        _connect(sim.port, n)
        elapsed = time.perf_counter() - started
        _settle(sim)
        after = (_rss_kb(), threading.active_count(), len(sim._threads))
    growth_per_1000 = (after[0] - before[0]) * 1000 / n
    print(f"{n} connections to the simulator (connect, SI, half hang up unread) in {elapsed:.1f} s")
    print(f"{'resource':<28}{'before':>10}{'after':>10}")
    for name, b, a in zip(("RSS (kB)", "live threads", "simulator's thread set"), before, after, strict=True):
        print(f"{name:<28}{b:>10}{a:>10}")
    print(f"RSS growth: {growth_per_1000:.0f} kB per 1 000 connections")
    # a connection or two may still be closing on a loaded machine; a leak leaves one thread per connection (n)
    if after[2] > 3 or after[1] > before[1] + 2:
        raise RuntimeError(f"threads pile up: {before} -> {after}")
    if growth_per_1000 > 500:
        raise RuntimeError(f"memory grows {growth_per_1000:.0f} kB per 1 000 connections")


if __name__ == "__main__":
    main(short=False)
