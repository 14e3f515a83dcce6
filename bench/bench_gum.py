"""GUM engine benchmark: hengqi against suncal, MetroloPy, GTC and a bare numpy floor.

Two models, run in one process by every tool with the same input distributions:
- ``additive``: Y = X1 + X2 + X3 + X4, X1..X3 ~ N(0, 1), X4 ~ R(-10 sqrt 3, 10 sqrt 3) (JCGM 101:2008, 9.2.4);
- ``mass``: the non-linear mass-calibration model of JCGM 101:2008, 9.3 (five inputs).
The ``hengqi`` row runs with the default ``workers=None`` (a second thread only when the load average shows
an idle core); the ``1 thread`` and ``2 threads`` rows fix it.
Monte Carlo tools report y, u(y), the 95.45 % probabilistically symmetric interval and the wall time; GTC
(no Monte Carlo) reports its first-order result.  ``ratio`` = tool time / hengqi time for the same model and M.
The numpy floor draws the same inputs with ``default_rng``, evaluates the model and sorts (no chunking).
Random numbers: hengqi uses SFC64 streams and Box-Muller normals (see ``hengqi.metrology.gum.montecarlo``);
MetroloPy uses ``default_rng()`` (PCG64, ziggurat normals); suncal uses ``scipy.stats`` ``rvs``.
Peak memory: a child process runs hengqi at the largest M and reports ``ru_maxrss``.

Full: ``nice .venv/bin/python bench/run.py --only gum``; short (CI): ``--short``.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hengqi.metrology.gum import MeasurementModel, Normal, Rectangular, monte_carlo, propagate
from hengqi.metrology.gum.montecarlo import GENERATOR

P = 0.9545
H4 = 10.0 * math.sqrt(3.0)

Row = tuple[str, str, int, float, float, tuple[float, float] | None, float]


def _hengqi_one_thread(model: str, trials: int) -> Row:
    row = _hengqi(model, trials, workers=1)
    return ("hengqi, 1 thread", *row[1:])


def _hengqi_two_threads(model: str, trials: int) -> Row:
    row = _hengqi(model, trials, workers=2)
    return ("hengqi, 2 threads", *row[1:])


def _hengqi(model: str, trials: int, workers: int | None = None) -> Row:
    if model == "additive":
        m = MeasurementModel.from_callable(lambda x1, x2, x3, x4: x1 + x2 + x3 + x4)
        inputs: list[Any] = [Normal("x1", 0, 1), Normal("x2", 0, 1), Normal("x3", 0, 1), Rectangular("x4", -H4, H4)]
    else:
        m = MeasurementModel.from_callable(
            lambda mr, dmr, rhoa, rhow, rhor: (mr + dmr) * (1 + (rhoa - 1.2) * (1 / rhow - 1 / rhor)) - 100000
        )
        inputs = [
            Normal("mr", 100000.0, 0.05),
            Normal("dmr", 1.234, 0.02),
            Rectangular("rhoa", 1.1, 1.3),
            Rectangular("rhow", 7000, 9000),
            Rectangular("rhor", 7950, 8050),
        ]
    t = time.perf_counter()
    r = monte_carlo(m, inputs, trials=trials, p=P, seed=12345, workers=workers)
    return ("hengqi", model, trials, r.value, r.u, r.interval_symmetric, time.perf_counter() - t)


def _numpy_floor(model: str, trials: int) -> Row:
    t = time.perf_counter()
    rng = np.random.default_rng(12345)
    if model == "additive":
        y = rng.standard_normal(trials) + rng.standard_normal(trials) + rng.standard_normal(trials)
        y += rng.uniform(-H4, H4, trials)
    else:
        mr = rng.normal(100000.0, 0.05, trials) + rng.normal(1.234, 0.02, trials)
        rhoa, rhow, rhor = (
            rng.uniform(1.1, 1.3, trials),
            rng.uniform(7000, 9000, trials),
            rng.uniform(7950, 8050, trials),
        )
        y = mr * (1 + (rhoa - 1.2) * (1 / rhow - 1 / rhor)) - 100000
    y.sort()
    q = math.floor(P * trials + 0.5)
    r = (trials - q + 1) // 2
    u = float(np.std(y, ddof=1))
    return (
        "numpy floor",
        model,
        trials,
        float(np.mean(y)),
        u,
        (float(y[r - 1]), float(y[r + q - 1])),
        time.perf_counter() - t,
    )


def _suncal(model: str, trials: int) -> Row:
    from suncal import Model

    t = time.perf_counter()
    if model == "additive":
        m = Model("Y = X1 + X2 + X3 + X4")
        for name in ("X1", "X2", "X3"):
            m.var(name).measure(0).typeb(unc=1, k=1)
        m.var("X4").measure(0).typeb(dist="uniform", a=H4)
    else:
        m = Model("Y = (mR + dmR)*(1 + (rhoa - 1.2)*(1/rhoW - 1/rhoR)) - 100000")
        m.var("mR").measure(100000).typeb(unc=0.05, k=1)
        m.var("dmR").measure(1.234).typeb(unc=0.02, k=1)
        m.var("rhoa").measure(1.2).typeb(dist="uniform", a=0.1)
        m.var("rhoW").measure(8000).typeb(dist="uniform", a=1000)
        m.var("rhoR").measure(8000).typeb(dist="uniform", a=50)
    r = m.monte_carlo(samples=trials)
    e = r.expanded(conf=P)["Y"]
    elapsed = time.perf_counter() - t
    return ("suncal", model, trials, float(r.expected["Y"]), float(r.uncertainty["Y"]), (e.low, e.high), elapsed)


def _metrolopy(model: str, trials: int) -> Row:
    import metrolopy as uc

    t = time.perf_counter()
    if model == "additive":
        x = [uc.gummy(0, 1) for _ in range(3)] + [uc.gummy(uc.UniformDist(lower_limit=-H4, upper_limit=H4))]
        y = x[0] + x[1] + x[2] + x[3]
    else:
        mr, dmr = uc.gummy(100000.0, 0.05), uc.gummy(1.234, 0.02)
        rhoa = uc.gummy(uc.UniformDist(lower_limit=1.1, upper_limit=1.3))
        rhow = uc.gummy(uc.UniformDist(lower_limit=7000, upper_limit=9000))
        rhor = uc.gummy(uc.UniformDist(lower_limit=7950, upper_limit=8050))
        y = (mr + dmr) * (1 + (rhoa - 1.2) * (1 / rhow - 1 / rhor)) - 100000
    y.p = P
    uc.gummy.simulate([y], n=trials)
    low, high = y.cisim
    elapsed = time.perf_counter() - t
    return ("metrolopy", model, trials, float(y.xsim), float(y.usim), (float(low), float(high)), elapsed)


def _gtc(model: str) -> Row:
    import GTC

    t = time.perf_counter()
    if model == "additive":
        x = [GTC.ureal(0, 1) for _ in range(3)] + [GTC.ureal(0, H4 / math.sqrt(3))]
        y = x[0] + x[1] + x[2] + x[3]
    else:
        mr, dmr = GTC.ureal(100000.0, 0.05), GTC.ureal(1.234, 0.02)
        rhoa, rhow, rhor = (
            GTC.ureal(1.2, 0.2 / math.sqrt(12)),
            GTC.ureal(8000, 2000 / math.sqrt(12)),
            GTC.ureal(8000, 100 / math.sqrt(12)),
        )
        y = (mr + dmr) * (1 + (rhoa - 1.2) * (1 / rhow - 1 / rhor)) - 100000
    value, u = GTC.value(y), GTC.uncertainty(y)
    elapsed = time.perf_counter() - t
    return ("GTC (first order)", model, 0, float(value), float(u), None, elapsed)


def _hengqi_gum(model: str) -> Row:
    if model == "additive":
        m = MeasurementModel.from_equations([("Y", "x1 + x2 + x3 + x4")])
        inputs: list[Any] = [Normal("x1", 0, 1), Normal("x2", 0, 1), Normal("x3", 0, 1), Rectangular("x4", -H4, H4)]
    else:
        m = MeasurementModel.from_equations([("Y", "(mr + dmr)*(1 + (rhoa - 1.2)*(1/rhow - 1/rhor)) - 100000")])
        inputs = [
            Normal("mr", 100000.0, 0.05),
            Normal("dmr", 1.234, 0.02),
            Rectangular("rhoa", 1.1, 1.3),
            Rectangular("rhow", 7000, 9000),
            Rectangular("rhor", 7950, 8050),
        ]
    t = time.perf_counter()
    r = propagate(m, inputs, p=P)
    return ("hengqi (GUF)", model, 0, r.value, r.u, r.interval, time.perf_counter() - t)


def _run(function: Callable[..., Row], *args: Any, repeat: int = 1) -> Row | str:
    """Best of ``repeat`` runs (the machine is shared: the minimum is the least disturbed time)."""
    return _best([function], args, repeat)[0]


def _best(functions: list[Callable[..., Row]], args: tuple[Any, ...], repeat: int) -> list[Row | str]:
    """Best of ``repeat`` rounds; each round runs every function once, in turn, so that a change of load on the
    shared machine falls on all tools alike instead of on whichever ran at that moment."""
    best: list[Row | str | None] = [None] * len(functions)
    for _ in range(repeat):
        for index, function in enumerate(functions):
            if isinstance(best[index], str):
                continue
            try:
                row = function(*args)
            except Exception as err:  # a peer that breaks is reported, not fatal
                best[index] = f"{function.__name__.strip('_')}: failed: {type(err).__name__}: {err}"
                continue
            current = best[index]
            if current is None or (not isinstance(current, str) and row[6] < current[6]):
                best[index] = row
    return [row if row is not None else "no run" for row in best]


_CHILD = """
import sys, time
from hengqi.metrology.gum import MeasurementModel, Normal, Rectangular, monte_carlo
m = MeasurementModel.from_callable(lambda x1, x2, x3, x4: x1 + x2 + x3 + x4)
inputs = [Normal("x1", 0, 1), Normal("x2", 0, 1), Normal("x3", 0, 1), Rectangular("x4", -17.32, 17.32)]
t = time.perf_counter()
r = monte_carlo(m, inputs, trials=int(sys.argv[1]), seed=1)
elapsed = time.perf_counter() - t
status = open("/proc/self/status").read().split("\\n")
peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(elapsed, r.u, peak)
"""


def _memory(trials: int) -> str:
    """Peak resident memory (VmHWM, KiB) of a fresh child process running hengqi at ``trials``.

    ``getrusage`` cannot be used here: Linux carries ``ru_maxrss`` across fork and exec, so a child of this
    process (which has imported the peers) would report at least this process's own size.
    """
    done = subprocess.run([sys.executable, "-c", _CHILD, str(trials)], capture_output=True, text=True, check=True)
    elapsed, u, child_kib = done.stdout.split()
    return (
        f"hengqi additive M = {trials:.0e}: {float(elapsed):.1f} s, u = {float(u):.4f}, "
        f"peak RSS of the child process (VmHWM) {int(child_kib) / 1024:.0f} MiB; "
        f"all M outputs as float64 alone would take {8 * trials / 2**20:.0f} MiB"
    )


def main(short: bool) -> None:
    sizes = (10_000, 100_000) if short else (1_000_000, 10_000_000)
    repeat = 1 if short else 5
    print(
        f"hengqi random numbers: {GENERATOR} streams, Box-Muller normals; time s = best of {repeat} rounds, "
        "each round running every tool once in turn"
    )
    print(
        f"{'tool':<18} {'model':<9} {'M':>9} {'y':>14} {'u(y)':>10} {'95.45 % interval (symmetric)':>30} "
        f"{'time s':>8} {'ratio':>6}"
    )
    for model in ("additive", "mass"):
        guf = _run(_hengqi_gum, model, repeat=repeat)
        guf_time = guf[6] if not isinstance(guf, str) else None
        for row in (guf, _run(_gtc, model, repeat=repeat)):
            _print(row, guf_time)
        for trials in sizes:
            _hengqi(model, min(trials, 10_000))  # warm-up (imports, thread pool)
            tools = [_hengqi, _hengqi_one_thread, _hengqi_two_threads, _numpy_floor, _suncal, _metrolopy]
            rows = _best(tools, (model, trials), repeat)
            base = rows[0]
            reference = base[6] if not isinstance(base, str) else None
            fastest = math.inf
            for row in rows:
                _print(row, reference)
                if not isinstance(row, str) and row[0] in ("suncal", "metrolopy"):
                    fastest = min(fastest, row[6])
            if reference:
                print(f"{'':<18} {model:<9} {trials:>9} fastest Monte Carlo peer / hengqi = {fastest / reference:.2f}")
    print(_memory(200_000 if short else 100_000_000))


def _print(row: Row | str, reference: float | None) -> None:
    if isinstance(row, str):
        print(row)
        return
    tool, model, trials, y, u, interval, elapsed = row
    shown = f"[{interval[0]:.5g}, {interval[1]:.5g}]" if interval else "-"
    ratio = f"{elapsed / reference:.2f}" if reference else "-"
    print(f"{tool:<18} {model:<9} {trials or '-':>9} {y:>14.7g} {u:>10.5g} {shown:>30} {elapsed:>8.3f} {ratio:>6}")


if __name__ == "__main__":
    main(short="--short" in sys.argv)
