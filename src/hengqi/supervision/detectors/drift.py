"""Drift detector: check-weighings with a known test weight, read against the in-service MPE and with a CUSUM.

Rules:

``check_outside_mpe``
    the error of a check-weighing (indication - conventional mass of the test weight) exceeds the in-service MPE at
    that load (OIML R 76-1:2006 3.5.2: twice the MPE on verification; :func:`hengqi.metrology.mpe.mpe` with
    ``stage="in-service"``).  No statistics: the instrument is out of tolerance now.
``cusum_shift``
    a two-sided tabular CUSUM of the check errors, per test weight, crosses its decision interval (NISTIR 6969
    SOP 9 control charts for check standards; CUSUM defaults k = 0.5, h = 4-5 from
    https://www.sigmaxl.com/CusumARL.shtml as summarised in /work/shared/reference/field.md section 6).
    Parameters: target error 0; the shift to detect is ``shift_mpe`` x in-service MPE (default 0.5: the
    reference notes' target "a 0.5 MPE shift"); the reference value K is half that shift; sigma is estimated from
    the first ``warmup`` checks by the average moving range / 1.128 (d2 for n = 2), floored at e / 2 (this
    project's choice: indications are rounded to e, so an in-control error is 0 or +-e, and with the floor
    e / sqrt(12) of rounding alone a single +-1 e reading crossed h on the simulator's market scales: the normal-data
    approximation below overstates the in-control ARL of such coarse data); the decision interval h is solved so
    that the two-sided in-control ARL is ``arl0``
    (default 370) by Siegmund's approximation, ARL(one side) = (exp(2kb) - 2kb - 1) / (2k^2), b = h + 1.166, with
    k = K / sigma (:func:`decision_interval`).  The approximation assumes normal errors; a seeded Monte Carlo test
    checks the in-control ARL on normal data.  After a signal the sums restart at 0.
``ewma_shift``
    beside the CUSUM, an EWMA of the same errors, z = lambda x + (1 - lambda) z (z starting at the target 0),
    signals when |z| > L sigma sqrt(lambda / (2 - lambda)) (asymptotic limits).  lambda = 0.2 (this project's
    choice); L is solved so that the in-control ARL is ``arl0`` by the Markov-chain method that Lucas & Saccucci
    (Technometrics 32(1), 1990, pp. 1-12) used for their ARL tables, after Brook & Evans (Biometrika 59, 1972):
    the in-control band split into 201 states (:func:`ewma_arl`, :func:`ewma_limit`).  Their table itself was not
    read here; the value is computed, and a seeded Monte Carlo test checks it.  After a signal z restarts at 0.

Charts: one per test weight (check-weighings) and one for the zero point (``zero_setting`` events, the offset from
the calibration zero; in-service MPE at zero load; sigma floored at half the ``zero_resolution_kg`` the instrument
reports zero offsets in, instead of e / 2).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
from scipy.special import ndtr

from hengqi.errors import InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import CheckWeighing, TelemetryEvent, ZeroSetting

NAME = "drift"
R76 = "OIML R 76-1:2006 3.5.2 (in-service MPE = 2 x MPE on verification)"
CUSUM = "NISTIR 6969 SOP 9; tabular CUSUM, h for in-control ARL by Siegmund's approximation"
EWMA = "EWMA, L for in-control ARL by the Markov chain of Lucas & Saccucci (1990) / Brook & Evans (1972)"
D2 = 1.128  # control-chart constant d2 for moving ranges of 2


def one_sided_arl(k: float, h: float) -> float:
    """Siegmund's approximation of the in-control ARL of a one-sided CUSUM with reference k and interval h (sigma
    units).

    >>> round(one_sided_arl(0.5, 4.77))
    743
    """
    b = h + 1.166
    return (math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k)


@functools.lru_cache(maxsize=4096)
def decision_interval(k: float, arl0: float) -> float:
    """The h (sigma units) giving a two-sided CUSUM the in-control ARL ``arl0`` (each side 2 x arl0), by bisection.

    >>> round(decision_interval(0.5, 370), 2)
    4.77
    """
    if k <= 0 or arl0 <= 1:
        raise InputError("cusum", f"needs k > 0 and arl0 > 1, got k={k}, arl0={arl0}")
    lo, hi = 0.0, 1.0
    while one_sided_arl(k, hi) < 2 * arl0:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if one_sided_arl(k, mid) < 2 * arl0 else (lo, mid)
    return hi


def ewma_arl(lam: float, limit: float, shift: float = 0.0, states: int = 201) -> float:
    """ARL of a two-sided EWMA with weight ``lam`` and limits +-``limit`` sigma sqrt(lam / (2 - lam)) for normal
    data shifted by ``shift`` sigma, starting at 0: the Markov chain of Brook & Evans (1972) as used by Lucas &
    Saccucci (1990), with ``states`` (odd) cells over the in-control band.

    >>> round(ewma_arl(0.2, ewma_limit(0.2, 370.0)))
    370
    """
    h = limit * math.sqrt(lam / (2 - lam))
    w = 2 * h / states
    centres = -h + w * (np.arange(states) + 0.5)
    upper = (centres[None, :] + w / 2 - (1 - lam) * centres[:, None]) / lam - shift
    lower = (centres[None, :] - w / 2 - (1 - lam) * centres[:, None]) / lam - shift
    q = ndtr(upper) - ndtr(lower)
    return _solve_dominant(np.eye(states) - q, np.ones(states))[states // 2]


def _solve_dominant(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Gaussian elimination without pivoting, for I - Q with Q substochastic (diagonally dominant, so no pivoting is
    needed), in element-wise numpy: no threaded BLAS, which on a loaded machine made one 201 x 201 solve take
    0.16 s instead of 2 ms."""
    a = a.astype(np.float64, copy=True)
    b = b.astype(np.float64, copy=True)
    n = b.size
    for k in range(n - 1):
        f = a[k + 1 :, k] / a[k, k]
        a[k + 1 :, k:] -= f[:, None] * a[k, k:]
        b[k + 1 :] -= f * b[k]
    x = np.zeros(n)
    for k in range(n - 1, -1, -1):
        x[k] = (b[k] - float((a[k, k + 1 :] * x[k + 1 :]).sum())) / a[k, k]
    return [float(v) for v in x]


@functools.lru_cache(maxsize=64)
def ewma_limit(lam: float, arl0: float) -> float:
    """The L (sigma units of the asymptotic EWMA standard deviation) giving in-control ARL ``arl0``, by bisection
    over :func:`ewma_arl`.

    >>> round(ewma_limit(0.2, 370.0), 3)
    2.859
    >>> [round(ewma_limit(lam, 500.0), 3) for lam in (0.05, 0.1, 0.2)]
    [2.616, 2.815, 2.962]
    """
    if not 0 < lam <= 1 or arl0 <= 1:
        raise InputError("ewma", f"needs 0 < lambda <= 1 and arl0 > 1, got {lam}, {arl0}")
    lo, hi = 0.5, 6.0
    for _ in range(25):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ewma_arl(lam, mid) < arl0 else (lo, mid)
    return hi


@dataclass(frozen=True, slots=True)
class DriftContext:
    """The instrument's specification and the CUSUM design values."""

    spec: InstrumentSpecification
    shift_mpe: float = 0.5
    arl0: float = 370.0
    warmup: int = 10
    ewma_lambda: float = 0.2
    zero_resolution_kg: float = 0.0001


@dataclass(frozen=True, slots=True)
class Chart:
    """CUSUM state of one test weight: warm-up errors (kg), sigma once estimated, the two sums (kg)."""

    nominal: str
    warm: tuple[float, ...] = ()
    sigma: float | None = None
    high: float = 0.0
    low: float = 0.0
    checks: int = 0
    z: float = 0.0


@dataclass(frozen=True, slots=True)
class DriftState:
    charts: tuple[Chart, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "charts": [
                {
                    "nominal": c.nominal,
                    "warm": list(c.warm),
                    "sigma": c.sigma,
                    "high": c.high,
                    "low": c.low,
                    "checks": c.checks,
                    "z": c.z,
                }
                for c in self.charts
            ]
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DriftState:
        return cls(
            tuple(
                Chart(
                    str(c["nominal"]),
                    tuple(float(v) for v in c.get("warm", [])),
                    c.get("sigma"),
                    float(c.get("high", 0.0)),
                    float(c.get("low", 0.0)),
                    int(c.get("checks", 0)),
                    float(c.get("z", 0.0)),
                )
                for c in data.get("charts", [])
            )
        )


def _sigma(warm: tuple[float, ...], floor: float) -> float:
    ranges = [abs(b - a) for a, b in itertools.pairwise(warm)]
    estimate = (sum(ranges) / len(ranges)) / D2 if ranges else 0.0
    return max(estimate, floor)


def _update(
    chart: Chart, event: TelemetryEvent, body: CheckWeighing | ZeroSetting, ctx: DriftContext
) -> tuple[Chart, list[Finding]]:
    found: list[Finding] = []
    if isinstance(body, ZeroSetting):
        nominal, error, what = Decimal(0), body.offset_kg, "zero point"
        floor = ctx.zero_resolution_kg / 2
    else:
        nominal, error = body.nominal_kg, body.indication_kg - body.nominal_kg
        what = f"check-weighings at {nominal} kg"
        floor = float(ctx.spec.e_kg) / 2
    limit = mpe(nominal, ctx.spec, stage="in-service")
    common = {"instrument": event.instrument, "detector": NAME, "time": event.time, "seqs": (event.seq,)}
    if isinstance(body, CheckWeighing) and abs(error) > limit:
        found.append(
            Finding(
                rule="check_outside_mpe",
                threshold=f"|error| <= in-service MPE {limit} kg",
                observed=f"error {error:+} kg at {body.nominal_kg} kg",
                source=R76,
                message=f"check-weighing with {body.weight_id or body.nominal_kg} kg out of tolerance: {error:+} kg",
                details=(("error_kg", str(error)), ("mpe_kg", str(limit)), ("nominal_kg", str(body.nominal_kg))),
                **common,  # type: ignore[arg-type]
            )
        )
    x = float(error)
    chart = replace(chart, checks=chart.checks + 1)
    if chart.sigma is None:
        warm = (*chart.warm, x)
        if len(warm) < ctx.warmup:
            return replace(chart, warm=warm), found
        return replace(chart, warm=warm, sigma=_sigma(warm, floor)), found
    big_k = ctx.shift_mpe * float(limit) / 2
    h = decision_interval(big_k / chart.sigma, ctx.arl0) * chart.sigma
    high = max(0.0, chart.high + x - big_k)
    low = max(0.0, chart.low - x - big_k)
    if high > h or low > h:
        side = "up" if high > h else "down"
        found.append(
            Finding(
                rule="cusum_shift",
                threshold=f"h = {h:.6g} kg (K = {big_k:.6g} kg, sigma = {chart.sigma:.6g} kg, ARL0 = {ctx.arl0:g})",
                observed=f"sum {max(high, low):.6g} kg {side}",
                source=CUSUM,
                message=f"{what} shifted {side} (CUSUM)",
                excerpt=(*chart.warm[-10:], x),
                details=(("side", side), ("k_kg", f"{big_k:.6g}"), ("h_kg", f"{h:.6g}"), ("checks", str(chart.checks))),
                **common,  # type: ignore[arg-type]
            )
        )
        high = low = 0.0
    lam = ctx.ewma_lambda
    bound = ewma_limit(lam, ctx.arl0) * chart.sigma * math.sqrt(lam / (2 - lam))
    z = lam * x + (1 - lam) * chart.z
    if abs(z) > bound:
        side = "up" if z > 0 else "down"
        found.append(
            Finding(
                rule="ewma_shift",
                threshold=f"|z| <= {bound:.6g} kg (lambda = {lam:g}, sigma = {chart.sigma:.6g} kg, "
                f"ARL0 = {ctx.arl0:g})",
                observed=f"z = {z:.6g} kg",
                source=EWMA,
                message=f"{what} shifted {side} (EWMA)",
                excerpt=(*chart.warm[-10:], x),
                details=(("side", side), ("lambda", f"{lam:g}"), ("limit_kg", f"{bound:.6g}")),
                **common,  # type: ignore[arg-type]
            )
        )
        z = 0.0
    return replace(chart, high=high, low=low, z=z, warm=(*chart.warm, x)[-10:]), found


def detect(
    state: DriftState, events: Iterable[TelemetryEvent], context: DriftContext
) -> tuple[DriftState, tuple[Finding, ...]]:
    """Run the drift rules over one instrument's check-weighings (one chart per nominal value).

    >>> from datetime import UTC, datetime, timedelta
    >>> from decimal import Decimal
    >>> spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    >>> t0 = datetime(2026, 1, 5, tzinfo=UTC)
    >>> errs = ["0", "0.005", "0", "-0.005", "0", "0", "0.005", "0", "0", "-0.005"] + ["0.005"] * 6
    >>> evs = [TelemetryEvent(instrument="SC", seq=i, time=t0 + timedelta(days=i), body=CheckWeighing(
    ...     nominal_kg=Decimal(5), indication_kg=Decimal(5) + Decimal(x))) for i, x in enumerate(errs)]
    >>> [(f.rule, f.seqs) for f in detect(DriftState(), evs, DriftContext(spec))[1]]
    [('cusum_shift', (14,)), ('ewma_shift', (14,))]
    """
    charts = {c.nominal: c for c in state.charts}
    found: list[Finding] = []
    for event in events:
        body = event.body
        if isinstance(body, ZeroSetting):
            key = "zero"
        elif isinstance(body, CheckWeighing):
            key = str(body.nominal_kg.normalize())
        else:
            continue
        chart, new = _update(charts.get(key, Chart(key)), event, body, context)
        charts[key] = chart
        found.extend(new)
    return DriftState(tuple(charts.values())), tuple(found)
