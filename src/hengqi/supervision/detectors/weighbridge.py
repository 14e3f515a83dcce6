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

Wheel-off-platform and braking are not detected here: see ``docs/detectors.md`` for why the simulated injections
leave no per-passage trace these rules could see.
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
        curve = np.asarray(body.curve_kg, dtype=np.float64)
        window = max(2, round(context.stable_s * rate))
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
