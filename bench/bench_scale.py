"""Reading loop against the simulator over loopback TCP: stable readings per second, and no leak.

Target (issue 4): at least 200 stable readings per second over TCP.  For each protocol the loop reads ``n`` stable
readings through hengqi's driver; for MT-SICS the same loop through InstrumentKit (a peer, test/bench only) gives
the ratio.  Resident memory, open file descriptors and threads are taken before and after (after a warm-up, and
after closing every connection and simulator), so a leak shows as growth.

    python bench/bench_scale.py            # full
    python bench/run.py --short --only scale
"""

from __future__ import annotations

import gc
import os
import threading
import time

from hengqi.instruments.probe import open_scale
from hengqi.instruments.simulator import Imperfections, Simulator
from hengqi.metrology.classes import InstrumentSpecification

FAST = Imperfections(settling_s=0.0, stability_timeout_s=1.0)


def _resources() -> tuple[int, int, int]:
    with open("/proc/self/status", encoding="ascii") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return rss, len(os.listdir("/proc/self/fd")), threading.active_count()


def _hengqi_rate(protocol: str, n: int) -> float:
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    with Simulator.start(protocol, spec=spec, unit="kg", imperfections=FAST) as sim:
        sim.place("2.5 kg")
        with open_scale(sim.url) as scale:
            for _ in range(20):
                scale.read()
            started = time.perf_counter()
            for _ in range(n):
                reading = scale.read()
                if not reading.stable:
                    raise RuntimeError("an unstable reading in a stable loop")
            return n / (time.perf_counter() - started)


def _instrumentkit_rate(n: int) -> float:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import instruments as ik
    with Simulator.start("mt-sics", imperfections=FAST) as sim:
        sim.place("100 g")
        bal = ik.mettler_toledo.MTSICS.open_tcpip("127.0.0.1", sim.port)
        for _ in range(20):
            _ = bal.weight
        started = time.perf_counter()
        for _ in range(n):
            _ = bal.weight
        rate = n / (time.perf_counter() - started)
        bal._file.close()
        return rate


def main(short: bool) -> None:
    n = 300 if short else 5000
    protocols = ("mt-sics",) if short else ("mt-sics", "sbi", "and", "toledo-continuous")
    _hengqi_rate("mt-sics", 50)  # warm-up: imports (the peer's too), first threads, allocator
    _instrumentkit_rate(50)
    gc.collect()
    before = _resources()
    rates = {
        protocol: _hengqi_rate(protocol, n if protocol != "toledo-continuous" else n // 25) for protocol in protocols
    }
    peer = _instrumentkit_rate(n)
    deadline = time.monotonic() + 3.0  # let the simulators' threads finish
    while True:
        gc.collect()
        after = _resources()
        if (after[1] <= before[1] and after[2] <= before[2]) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print(f"stable readings over loopback TCP, n = {n} per protocol (toledo-continuous: n/25, it streams 20 frames/s)")
    print(f"{'client':<34}{'readings/s':>12}{'vs InstrumentKit':>18}")
    for protocol, rate in rates.items():
        print(f"{'hengqi ' + protocol:<34}{rate:>12.0f}{rate / peer:>17.2f}x")
    print(f"{'InstrumentKit 1.0.0b2 (MT-SICS)':<34}{peer:>12.0f}{1:>17.2f}x")
    print(f"{'resource':<34}{'before':>12}{'after':>18}")
    for name, b, a in zip(("RSS (kB)", "open fds", "threads"), before, after, strict=True):
        print(f"{name:<34}{b:>12}{a:>18}")
    if rates["mt-sics"] < 200:
        raise RuntimeError(f"MT-SICS loop below 200 readings/s: {rates['mt-sics']:.0f}")
    if after[1] > before[1] or after[2] > before[2]:
        raise RuntimeError(f"leak: fds {before[1]} -> {after[1]}, threads {before[2]} -> {after[2]}")


if __name__ == "__main__":
    main(short=False)
