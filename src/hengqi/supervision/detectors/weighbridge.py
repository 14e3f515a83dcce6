"""Weighbridge detector: remote-controlled resistors, jumps on a stable platform, tare outside the vehicle's history.

Rules (thresholds in verification scale intervals ``e`` of the instrument; the numbers are this project's choices,
measured in ``bench/bench_detectors.py``):

``cell_step_without_partner``
    one load cell's signal steps by at least ``step_e`` x e (over ``lag_s``) while its lateral partner moves by less
    than ``partner_ratio`` of that step.  A vehicle's axle loads a platform through both sides, so the two cells of a
    pair (0-1, 2-3, ...: left and right at one end) move together; a resistor spliced onto one analog cell and
    switched by radio moves one cell alone (field.md section 2: "A remote receiver spliced onto one analog cell turned
    30 t into 40-45 t", http://www.wthqgs.cn/tech/detail.asp?id=333; per-cell weight-transfer patterns:
    MT patent US9194737B2).  Needs per-cell signals; the cell order is left/right pairs, as the field simulator and
    most 4-cell junction boxes number them.
``jump_while_stable``
    the total weight curve steps by at least ``step_e`` x e between two stretches of at least ``stable_s`` each in
    which it stays within ``stable_e`` x e: the vehicle is standing, so nothing legitimate changes the load (vendor
    practice "weight-curve slope alarm", https://efanyiqi.cn/xianyue-Article-732138).
``tare_outside_history``
    an empty weighing (registered tare 0, a plate given) exceeds the median of that vehicle's last ``history``
    empty weighings by more than max(``tare_e`` x e, ``tare_fraction`` of the median); needs ``min_history``
    earlier weighings.  Tare checked against the vehicle's history is vendor practice (same source); water tanks and
    hidden passengers make the tare heavy (https://m.zidiansheji.cn/xianyue-Article-732148).  Only a heavier tare
    is reported (it lowers the later net).  Every empty weighing, flagged or not, enters the history, so that a
    vehicle whose tare really changed stops being flagged once the median follows (a frozen history flagged every
    later weighing of one simulated vehicle whose early empty weighings were light).

``axle_side_imbalance``
    at each axle's step onto or off the platform (the total of the cells changes by at least ``axle_e`` x e over
    ``lag_s``; both cells of the heavier side must take part, so that one cell moving alone, the resistor above, is not
    counted here), the asymmetry (left - right) / step is taken, left = cells 0 and 2, right = cells 1 and 3; the
    rule fires when the asymmetries of one passage spread by more than ``side_ratio``.  Off-centre cargo shifts all
    axles alike and does not fire it.  An axle stands on two wheels, one on each side; a wheel kept beside the
    platform (field.md section 2: "a wheel off the platform", https://m.zidiansheji.cn/xianyue-Article-732148)
    leaves its side's cells without that wheel's load.  Per-cell weight transfer as the vehicle enters: MT patent
    US9194737B2.  0.3 is this project's threshold (axles of one vehicle whose side shares differ by up to 30 % of
    their load pass).
``not_at_rest``
    the weight curve never holds still while the vehicle is on: no stretch of ``stable_s`` within ``rest_e`` x e
    at a level of at least half the curve's maximum.  Braking on the platform (拖秤, field.md section 2: it lowers
    an axle's weight by more than 10 %, http://m.xwjzc.cn/html/news/dynamics/1181.html) registers a weight before
    the vehicle is at rest; a static weighing is only valid at equilibrium (OIML R 76-1:2006 4.4.2 stable
    equilibrium, recalled, not read).  The band is wider than the jump rule's because the summed noise of four
    cells spans about 1 e over 2 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from statistics import median
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import Passage, TelemetryEvent

NAME = "weighbridge"
RESISTOR = "field.md s.2: remote receiver on one analog cell (wthqgs.cn id=333); MT patent US9194737B2"
CURVE = "field.md s.2: vendor weight-curve slope alarm (efanyiqi.cn 732138)"
WHEEL = "field.md s.2: wheel off the platform (zidiansheji.cn 732148); MT patent US9194737B2"
REST = "field.md s.2: braking on the platform (xwjzc.cn 1181); OIML R 76-1:2006 4.4.2 stable equilibrium (recalled)"
TARE = "field.md s.2: tare checked against the vehicle's history (efanyiqi.cn 732138; zidiansheji.cn 732148)"
MAX_EXCERPT = 600


@dataclass(frozen=True, slots=True)
class WeighbridgeContext:
    """The instrument's verification scale interval and the rule parameters."""

    e_kg: float
    step_e: float = 5.0
    lag_s: float = 0.3
    partner_ratio: float = 0.2
    stable_s: float = 2.0
    stable_e: float = 1.0
    tare_e: float = 5.0
    tare_fraction: float = 0.02
    history: int = 10
    min_history: int = 3
    max_plates: int = 1000
    axle_e: float = 25.0
    side_ratio: float = 0.3
    rest_e: float = 3.0


@dataclass(frozen=True, slots=True)
class WeighbridgeState:
    """Per plate, the last empty weighings (kg, oldest first); plates in order of last use."""

    tares: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"tares": [[plate, list(values)] for plate, values in self.tares]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeighbridgeState:
        return cls(tuple((str(p), tuple(float(v) for v in values)) for p, values in data.get("tares", [])))


def _excerpt(values: NDArray[np.float64], centre: int, rate: float) -> tuple[float, ...]:
    half = min(MAX_EXCERPT // 2, int(3 * rate))
    lo, hi = max(0, centre - half), min(values.size, centre + half)
    return tuple(round(float(v), 3) for v in values[lo:hi])


def _finding(  # noqa: PLR0917 (private: one positional per evidence field)
    event: TelemetryEvent,
    rule: str,
    threshold: str,
    observed: str,
    source: str,
    message: str,
    excerpt: tuple[float, ...] = (),
    rate: float | None = None,
    **details: Any,
) -> Finding:
    return Finding(
        instrument=event.instrument,
        detector=NAME,
        rule=rule,
        time=event.time,
        seqs=(event.seq,),
        threshold=threshold,
        observed=observed,
        source=source,
        message=message,
        excerpt=excerpt,
        excerpt_rate_hz=rate,
        details=tuple((k, v if isinstance(v, str) else json.dumps(v)) for k, v in sorted(details.items())),
    )


def cell_steps(cells: NDArray[np.float64], lag: int, step_kg: float, partner_ratio: float) -> list[tuple[int, int]]:
    """(cell, sample) of every lag-difference step of at least ``step_kg`` whose lateral partner (cell index xor 1)
    moved by less than ``partner_ratio`` of it; vectorised over all cells and samples.

    >>> c = np.zeros((4, 20)); c[0, 10:] = 500.0
    >>> cell_steps(c, 1, 100.0, 0.2)
    [(0, 10)]
    """
    if cells.shape[0] < 2 or cells.shape[1] <= lag:
        return []
    diff = cells[:, lag:] - cells[:, :-lag]
    pairs = cells.shape[0] - cells.shape[0] % 2
    partner = diff[np.arange(pairs) ^ 1]
    mine = diff[:pairs]
    hit = (np.abs(mine) >= step_kg) & (np.abs(partner) < partner_ratio * np.abs(mine))
    cell_idx, sample = np.nonzero(hit)
    out: dict[int, int] = {}
    for c, s in zip(cell_idx.tolist(), sample.tolist(), strict=True):
        out.setdefault(c, s + lag)
    return sorted(out.items())


def stable_jumps(curve: NDArray[np.float64], lag: int, window: int, step_kg: float, band_kg: float) -> list[int]:
    """Samples where the curve steps by at least ``step_kg`` (over ``lag``) between two stretches of ``window``
    samples each whose range is within ``band_kg``.

    >>> c = np.r_[np.zeros(5), np.full(30, 1000.0), np.full(30, 1500.0), np.zeros(5)]
    >>> stable_jumps(c, 1, 20, 100.0, 20.0)  # the step lies between samples 34 and 35
    [34]
    """
    n = curve.size
    if n < 2 * window + lag:
        return []
    view = np.lib.stride_tricks.sliding_window_view(curve, window)
    spread = view.max(axis=1) - view.min(axis=1)
    level = view.mean(axis=1)
    stable = spread <= band_kg
    before = np.arange(0, n - 2 * window - lag + 1)
    after = before + window + lag
    ok = stable[before] & stable[after] & (np.abs(level[after] - level[before]) >= step_kg)
    hits = before[ok] + window + lag // 2
    out: list[int] = []
    for h in hits.tolist():
        if not out or h - out[-1] > window:
            out.append(h)
    return out


def side_imbalance(
    cells: NDArray[np.float64], lag: int, step_kg: float, ratio: float
) -> tuple[int, float, float, float] | None:
    """Axle steps (|total change over ``lag``| >= ``step_kg``, one per run of such samples, at its largest) in which
    both cells of the heavier side carry at least 5 % of that side's change; each step's asymmetry is (left - right) /
    total, left = cells 0 and 2, right = cells 1 and 3.  When the asymmetries of one passage spread by more than
    ``ratio``, the step farthest from their median: (sample, left kg, right kg, spread); else None.  Off-centre
    cargo moves every axle's asymmetry alike; a wheel beside the platform moves one axle's.

    >>> c = np.zeros((4, 60)); c[:, 10:] += [[600.0], [1400.0], [400.0], [1000.0]]
    >>> c[:, 30:] += [[1000.0], [1000.0], [1000.0], [1000.0]]
    >>> side_imbalance(c, 3, 500.0, 0.3)
    (10, 1000.0, 2400.0, 0.4117647058823529)
    """
    if cells.shape[0] < 4 or cells.shape[1] <= lag:
        return None
    d = cells[:4, lag:] - cells[:4, :-lag]
    left, right = d[0] + d[2], d[1] + d[3]
    total = left + right
    idx = np.flatnonzero(np.abs(total) >= step_kg)
    if idx.size == 0:
        return None
    steps: list[tuple[int, float]] = []
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
        i = int(run[np.argmax(np.abs(total[run]))])
        heavy, side = ((0, 2), left[i]) if abs(left[i]) >= abs(right[i]) else ((1, 3), right[i])
        if all(abs(d[c, i]) >= 0.05 * abs(side) for c in heavy):
            steps.append((i, float((left[i] - right[i]) / total[i])))
    if len(steps) < 2:
        return None
    asym = np.array([a for _, a in steps])
    spread = float(asym.max() - asym.min())
    if spread <= ratio:
        return None
    far = int(np.argmax(np.abs(asym - np.median(asym))))
    i = steps[far][0]
    return i + lag, float(left[i]), float(right[i]), spread


def restless(curve: NDArray[np.float64], window: int, band_kg: float) -> bool:
    """True when the curve, where it is at least half its maximum, has no ``window`` samples within ``band_kg``.

    >>> restless(np.r_[np.zeros(5), np.full(30, 9000.0), np.zeros(5)], 20, 60.0)
    False
    >>> restless(np.r_[np.zeros(5), 9000 + 500 * np.sin(np.arange(30.0)), np.zeros(5)], 20, 60.0)
    True
    """
    if curve.size < window:
        return False
    view = np.lib.stride_tricks.sliding_window_view(curve, window)
    low, high = view.min(axis=1), view.max(axis=1)
    on = low >= 0.5 * float(curve.max())
    return bool(on.any()) and not bool((on & (high - low <= band_kg)).any())


def _tares(
    state: WeighbridgeState, event: TelemetryEvent, body: Passage, ctx: WeighbridgeContext
) -> tuple[WeighbridgeState, Finding | None]:
    history = dict(state.tares)
    past = history.pop(body.plate, ())
    weight = float(body.gross_kg)
    finding = None
    if len(past) >= ctx.min_history:
        mid = median(past)
        limit = max(ctx.tare_e * ctx.e_kg, ctx.tare_fraction * mid)
        if weight - mid > limit:
            finding = _finding(
                event,
                "tare_outside_history",
                f"empty weight - median > max({ctx.tare_e:g} e, {ctx.tare_fraction:.0%} of median) = {limit:.0f} kg",
                f"{weight:.0f} kg vs median {mid:.0f} kg of {len(past)}",
                TARE,
                f"vehicle {body.plate} weighed empty {weight - mid:.0f} kg above its history",
                excerpt=(*tuple(past), weight),
                plate=body.plate,
                median_kg=mid,
                empty_kg=weight,
            )
    kept = (*past, weight)[-ctx.history :]
    history[body.plate] = kept
    items = list(history.items())[-ctx.max_plates :]
    return replace(state, tares=tuple(items)), finding


def detect(
    state: WeighbridgeState, events: Iterable[TelemetryEvent], context: WeighbridgeContext
) -> tuple[WeighbridgeState, tuple[Finding, ...]]:
    """Run the weighbridge rules over one instrument's passages (other events are ignored).

    >>> from datetime import UTC, datetime
    >>> cells = [[0.0] * 10 + [2000.0] * 60 + [0.0] * 10 for _ in range(4)]
    >>> cells[0] = [v + (3000.0 if 35 <= i < 80 else 0.0) for i, v in enumerate(cells[0])]
    >>> p = Passage(rate_hz=10, curve_kg=[sum(c[i] for c in cells) for i in range(80)], cells_kg=cells,
    ...     gross_kg=Decimal(11000), net_kg=Decimal(11000))
    >>> ev = TelemetryEvent(instrument="WB", seq=1, time=datetime(2026, 1, 5, tzinfo=UTC), body=p)
    >>> sorted({f.rule for f in detect(WeighbridgeState(), [ev], WeighbridgeContext(e_kg=20))[1]})
    ['cell_step_without_partner', 'jump_while_stable']
    """
    found: list[Finding] = []
    step_kg = context.step_e * context.e_kg
    for event in events:
        body = event.body
        if not isinstance(body, Passage):
            continue
        rate = body.rate_hz
        lag = max(1, round(context.lag_s * rate))
        if body.cells_kg:
            cells = np.asarray(body.cells_kg, dtype=np.float64)
            for cell, sample in cell_steps(cells, lag, step_kg, context.partner_ratio):
                jump = float(cells[cell, sample] - cells[cell, sample - lag])
                found.append(
                    _finding(
                        event,
                        "cell_step_without_partner",
                        f"|step| >= {context.step_e:g} e = {step_kg:g} kg, partner < {context.partner_ratio:.0%}",
                        f"cell {cell} stepped {jump:+.0f} kg at {sample / rate:.1f} s, cell {cell ^ 1} did not",
                        RESISTOR,
                        f"load cell {cell} changed alone by {jump:+.0f} kg during passage {body.plate}",
                        excerpt=_excerpt(cells[cell], sample, rate),
                        rate=rate,
                        cell=cell,
                        sample=sample,
                        step_kg=round(jump, 1),
                        plate=body.plate,
                    )
                )
                break  # one finding per passage is enough evidence
        if len(body.cells_kg) >= 4:
            cells = np.asarray(body.cells_kg, dtype=np.float64)
            hit = side_imbalance(cells, lag, context.axle_e * context.e_kg, context.side_ratio)
            if hit is not None:
                sample, left, right, spread = hit
                found.append(
                    _finding(
                        event,
                        "axle_side_imbalance",
                        f"axle side asymmetries spread <= {context.side_ratio:.0%} "
                        f"(axle steps >= {context.axle_e:g} e)",
                        f"axle step at {sample / rate:.1f} s: left {left:+.0f} kg, right {right:+.0f} kg; "
                        f"spread {spread:.0%}",
                        WHEEL,
                        f"one axle of {body.plate} loaded its sides unlike the others ({spread:.0%}): wheel off?",
                        excerpt=_excerpt(cells[0] + cells[2] - cells[1] - cells[3], sample, rate),
                        rate=rate,
                        sample=sample,
                        left_kg=round(left, 1),
                        right_kg=round(right, 1),
                        plate=body.plate,
                    )
                )
        curve = np.asarray(body.curve_kg, dtype=np.float64)
        window = max(2, round(context.stable_s * rate))
        if float(curve.max()) >= context.axle_e * context.e_kg and restless(
            curve, window, context.rest_e * context.e_kg
        ):
            peak = int(np.argmax(curve))
            found.append(
                _finding(
                    event,
                    "not_at_rest",
                    f"a {context.stable_s:g} s stretch within {context.rest_e:g} e at >= half the maximum",
                    f"none; maximum {float(curve.max()):.0f} kg, registered {body.gross_kg} kg",
                    REST,
                    f"the vehicle {body.plate} was weighed without coming to rest (braking on the platform?)",
                    excerpt=_excerpt(curve, peak, rate),
                    rate=rate,
                    sample=peak,
                    plate=body.plate,
                )
            )
        for sample in stable_jumps(curve, lag, window, step_kg, context.stable_e * context.e_kg)[:1]:
            found.append(
                _finding(
                    event,
                    "jump_while_stable",
                    f"|step| >= {context.step_e:g} e between {context.stable_s:g} s stretches within "
                    f"{context.stable_e:g} e",
                    f"curve stepped at {sample / rate:.1f} s",
                    CURVE,
                    f"weight changed while the vehicle {body.plate} stood still",
                    excerpt=_excerpt(curve, sample, rate),
                    rate=rate,
                    sample=sample,
                    plate=body.plate,
                )
            )
        if body.plate and body.tare_kg == Decimal(0):
            state, finding = _tares(state, event, body, context)
            if finding is not None:
                found.append(finding)
    return state, tuple(found)
