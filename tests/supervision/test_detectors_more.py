"""The wheel-off, braking, key-press, stored-offset, EWMA and availability rules held to their documented behaviour on
hand-made event sequences: thresholds at their boundary, clock skew, the first event after a long gap, state carried
between batches through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from hengqi.metrology.classes import InstrumentSpecification
from hengqi.supervision.detectors import Finding, availability, drift, retail, weighbridge
from hengqi.supervision.telemetry import (
    Body,
    CheckWeighing,
    Heartbeat,
    KeyPress,
    Passage,
    TelemetryEvent,
    Transaction,
    ZeroSetting,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WB = weighbridge.WeighbridgeContext(e_kg=20)


def ev(seq: int, body: Body, seconds: float = 0.0) -> TelemetryEvent:
    return TelemetryEvent(instrument="X-1", seq=seq, time=T0 + timedelta(seconds=seconds), body=body)


def passage(cells: np.ndarray) -> Passage:
    curve = cells.sum(axis=0)
    gross = Decimal(round(float(curve.max())))
    return Passage(plate="V1", rate_hz=10, curve_kg=curve.tolist(), cells_kg=cells.tolist(), gross_kg=gross,
                   net_kg=gross)  # fmt: skip


def truck(
    rng: np.random.Generator, left: tuple[float, ...] = (0.5, 0.5, 0.5), stand_s: float = 8.0, pitch: float = 0.0
) -> np.ndarray:
    """Axles of 8 t drive on 1.5 s apart, stand, leave; ``left[k]`` = share of axle k on the left cells (0, 2)."""
    axles = len(left)
    ts = np.arange(0, 1.0 + 3 * axles + stand_s + 1.0, 0.1)
    cells = np.zeros((4, ts.size))
    last_on = 1.0 + 1.5 * (axles - 1)
    for k, pos in enumerate(np.linspace(0.15, 0.85, axles)):
        on = (ts >= 1.0 + 1.5 * k) & (ts < last_on + 1.5 + stand_s + 1.5 * k)
        front, rear = 8000.0 * (1 - pos), 8000.0 * pos
        lf = left[k]
        for c, share in enumerate((front * lf, front * (1 - lf), rear * lf, rear * (1 - lf))):
            cells[c] += on * share
    if pitch:
        since = np.maximum(ts - last_on, 0)
        cells *= 1 + np.where(ts >= last_on, pitch * np.exp(-since / 2) * np.sin(2 * np.pi * 1.2 * since), 0)
    return cells + rng.normal(0, 3.0, cells.shape)


def rules(found: tuple[Finding, ...]) -> list[str]:
    return sorted({f.rule for f in found})


# --- weighbridge: wheel off the platform, braking ---------------------------------------------------------------


def test_off_centre_cargo_is_not_a_wheel_off() -> None:
    rng = np.random.default_rng(1)
    events = [ev(i, passage(truck(rng, left=(lat,) * 3)), i) for i, lat in enumerate((0.5, 0.3, 0.7, 0.2))]
    assert weighbridge.detect(weighbridge.WeighbridgeState(), events, WB)[1] == ()


@pytest.mark.parametrize(("light_side", "fires"), [(0.38, False), (0.32, True), (0.0, True)])
def test_wheel_off_spread_boundary(light_side: float, fires: bool) -> None:
    """Axle 1 puts ``light_side`` of its load on the left, the others 0.5: spread 2 x (0.5 - x), threshold 0.3."""
    rng = np.random.default_rng(2)
    found = weighbridge.detect(weighbridge.WeighbridgeState(), [ev(0, passage(truck(rng, (0.5, light_side, 0.5))))], WB)
    hit = [f for f in found[1] if f.rule == "axle_side_imbalance"]
    assert bool(hit) is fires
    if fires:
        assert hit[0].excerpt
        assert hit[0].excerpt_rate_hz == 10
        assert "wheel off" in hit[0].message


def test_braking_not_at_rest_and_its_boundary() -> None:
    rng = np.random.default_rng(3)
    moving = weighbridge.detect(
        weighbridge.WeighbridgeState(), [ev(0, passage(truck(rng, stand_s=1.0, pitch=0.05)))], WB
    )
    assert rules(moving[1]) == ["not_at_rest"]
    # a stand of 2.5 s without pitching holds a 2 s stretch within 3 e: at rest
    calm = weighbridge.detect(weighbridge.WeighbridgeState(), [ev(0, passage(truck(rng, stand_s=2.5)))], WB)
    assert calm[1] == ()
    # an empty platform (nothing above 25 e) is never "not at rest"
    noise = rng.normal(0, 3.0, (4, 100))
    assert weighbridge.detect(weighbridge.WeighbridgeState(), [ev(0, passage(noise))], WB)[1] == ()


# --- retail: weight added on a key, stored offset ---------------------------------------------------------------


def key(gross: str, step: str, k: str = "*") -> KeyPress:
    return KeyPress(key=k, gross_before_kg=Decimal(gross), gross_after_kg=Decimal(gross) + Decimal(step))


def test_key_presses_adding_the_same_step_fire_once_per_window() -> None:
    events = [
        ev(0, key("0.500", "0.050"), 0),
        ev(1, Transaction(gross_kg=Decimal("0.550"), net_kg=Decimal("0.550")), 2),
        ev(2, key("0.800", "0.050"), 600),
        ev(3, key("0.850", "0.050"), 601),
    ]
    state, found = retail.detect(retail.RetailState(), events)
    assert [(f.rule, f.seqs) for f in found] == [("weight_added_on_key", (0, 2))]  # not again at seq 3
    assert found[0].excerpt == (0.05, 0.05)
    # the window is over an hour after the alarm: a new pair fires again, state carried through JSON
    state = retail.RetailState.from_json(json.loads(json.dumps(state.to_json())))
    later = [ev(4, key("0.300", "0.050"), 601 + 3601), ev(5, key("0.350", "0.050"), 601 + 3602)]
    assert [f.seqs for f in retail.detect(state, later)[1]] == [(3, 4, 5)] or [
        f.seqs for f in retail.detect(state, later)[1]
    ] == [(4, 5)]


def test_key_press_rule_needs_the_same_step_within_the_window() -> None:
    ctx = retail.RetailContext()
    honest = [
        ev(0, key("0.500", "0.000", "PLU"), 0),  # no change
        ev(1, key("0.500", "0.035", "PLU"), 10),  # goods added while pressing
        ev(2, key("0.700", "0.120", "PLU"), 20),  # another amount: not the same step
        ev(3, key("0.900", "0.004", "PLU"), 30),  # below e
        ev(4, key("1.000", "0.035", "PLU"), 40 + 3600),  # the same 35 g, but more than an hour after seq 1
    ]
    assert retail.detect(retail.RetailState(), honest, ctx)[1] == ()
    # within e / 2 counts as the same step (readings are in e)
    near = [ev(0, key("0.500", "0.050"), 0), ev(1, key("0.600", "0.0525"), 30)]
    assert len(retail.detect(retail.RetailState(), near, ctx)[1]) == 1


def test_key_press_clock_skew_does_not_lose_the_pair() -> None:
    """The second press is stamped 20 s before the first (the scale's clock was set back): still one pair."""
    events = [ev(0, key("0.500", "0.050"), 100), ev(1, key("0.600", "0.050"), 80)]
    found = retail.detect(retail.RetailState(), events)[1]
    assert [f.seqs for f in found] == [(0, 1)]


@pytest.mark.parametrize(("after", "fires"), [("-0.0199", False), ("-0.0200", True), ("0.0200", True)])
def test_zero_offset_step_boundary(after: str, fires: bool) -> None:
    """4 e = 20 g between two zero-settings: 19.9 g passes, 20 g fires, in either direction."""
    events = [ev(0, ZeroSetting(source="power_on", offset_kg=Decimal(0))), ev(1, ZeroSetting(source="key",
              offset_kg=Decimal(after)), 3600)]  # fmt: skip
    found = retail.detect(retail.RetailState(), events)[1]
    assert bool(found) is fires
    if fires:
        assert found[0].rule == "zero_offset_step"
        assert found[0].seqs == (0, 1)
        assert ("read high" in found[0].message) is after.startswith("-")


def test_first_zero_setting_has_nothing_to_compare_with() -> None:
    big = [ev(0, ZeroSetting(source="power_on", offset_kg=Decimal("-0.100")))]
    assert retail.detect(retail.RetailState(), big)[1] == ()


# --- drift: EWMA beside the CUSUM ---------------------------------------------------------------------------------


def test_ewma_limit_gives_the_stated_in_control_arl() -> None:
    """Seeded Monte Carlo (seed 371, 4000 runs of normal in-control data): mean run length to a false signal of
    the EWMA with lambda 0.2 and L = ewma_limit(0.2, 370) within 10 % of 370.  The Markov chain also gives, for
    ARL0 = 500, L = 2.615 / 2.814 / 2.962 at lambda 0.05 / 0.1 / 0.2: the values recalled (not read here) from
    Lucas & Saccucci's 1990 table as reproduced in textbooks."""
    lam = 0.2
    limit = drift.ewma_limit(lam, 370.0) * np.sqrt(lam / (2 - lam))
    rng = np.random.default_rng(371)
    runs = 4000
    z = np.zeros(runs)
    length = np.zeros(runs)
    alive = np.ones(runs, dtype=bool)
    for t in range(6000):
        z = lam * rng.standard_normal(runs) + (1 - lam) * z
        signal = alive & (np.abs(z) > limit)
        length[signal] = t + 1
        alive &= ~signal
        if not alive.any():
            break
    assert not alive.any()
    assert 333 <= length.mean() <= 407
    assert [round(drift.ewma_limit(x, 500.0), 2) for x in (0.05, 0.1, 0.2)] == [2.62, 2.81, 2.96]


def test_ewma_and_cusum_on_the_zero_point_and_checks_are_separate_charts() -> None:
    """Zero offsets at 0.1 g, then drifting 1 g per setting (in-service MPE at zero for class III, e = 5 g: 5 g,
    shift to find 2.5 g); the 5 kg checks stay in control and their chart raises nothing."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    rng = np.random.default_rng(5)
    events: list[TelemetryEvent] = []
    for day in range(30):
        offset = (rng.normal(0, 0.0002) + (0.001 * (day - 14) if day >= 15 else 0.0)) // 0.0001 * 0.0001
        events.append(ev(2 * day, ZeroSetting(source="power_on", offset_kg=Decimal(f"{offset:.4f}")), day * 86400))
        events.append(ev(2 * day + 1, CheckWeighing(nominal_kg=Decimal(5), indication_kg=Decimal(5)), day * 86400 + 1))
    state, found = drift.detect(drift.DriftState(), events, drift.DriftContext(spec))
    assert {c.nominal for c in state.charts} == {"zero", "5"}
    by_rule = {f.rule: f for f in found}
    assert {"ewma_shift", "cusum_shift"} <= set(by_rule)
    assert all("zero point" in f.message for f in found)
    first = min(f.seqs[0] for f in found)
    assert 30 <= first <= 40  # after the drift starts (day 15, seq 30), within 5 settings
    back = drift.DriftState.from_json(json.loads(json.dumps(state.to_json())))
    assert back == state


# --- availability -------------------------------------------------------------------------------------------------


def hb(seq: int, seconds: float) -> TelemetryEvent:
    return ev(seq, Heartbeat(), seconds)


def test_offline_boundary_and_first_heartbeat_after_a_long_gap() -> None:
    exactly = [hb(0, 0), hb(1, 7200)]
    assert availability.detect(availability.AvailabilityState(), exactly)[1] == ()
    beyond = [hb(0, 0), hb(1, 7200.001)]
    assert [f.rule for f in availability.detect(availability.AvailabilityState(), beyond)[1]] == ["offline_longer_than"]
    # thirty days of silence, then one heartbeat: found, with the gap in the evidence
    state, _ = availability.detect(availability.AvailabilityState(), [hb(0, 0)])
    state = availability.AvailabilityState.from_json(json.loads(json.dumps(state.to_json())))
    (f,) = availability.detect(state, [hb(1, 30 * 86400)])[1]
    assert f.observed == "no heartbeat for 720.00 h"
    assert dict(f.details)["previous_seq"] == "0"


def test_clock_skew_opens_no_gap() -> None:
    """A heartbeat stamped an hour early (clock set back), then on time again: no gap is measured from it."""
    events = [hb(0, 0), hb(1, 3600), hb(2, 3600 * 2 - 3600), hb(3, 3600 * 3), hb(4, 3600 * 4)]
    assert availability.detect(availability.AvailabilityState(), events)[1] == ()


def test_sequence_gaps_duplicates_and_the_first_event() -> None:
    events = [
        ev(5, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),  # first event seen: seq 5, nothing before it
        ev(6, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),
        ev(6, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),  # re-delivered: ignored
        ev(3, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),  # older: ignored, not a wrap
        ev(10, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),
        ev(2**63 - 1, Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))),
    ]
    found = availability.detect(availability.AvailabilityState(), events)[1]
    assert [(f.rule, f.seqs, dict(f.details)["missing"]) for f in found] == [
        ("sequence_gap", (10,), "3"),
        ("sequence_gap", (2**63 - 1,), str(2**63 - 1 - 10 - 1)),
    ]


def test_ewma_finds_half_mpe_shift_within_ten_checks() -> None:
    """As the CUSUM test in test_detectors.py: class III, e = 5 g, checks at 5 kg (in-service MPE 10 g), a 5 g shift
    after 10 in-control checks, sigma 1.5 g, readings rounded to e; seeded (seed 11), 100 instruments."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    rng = np.random.default_rng(11)
    delays = []
    for _ in range(100):
        raw = np.r_[rng.normal(0, 0.0015, 10), rng.normal(0.005, 0.0015, 40)]
        events = [
            ev(i, CheckWeighing(nominal_kg=Decimal(5), indication_kg=Decimal(5) + Decimal(round(x / 0.005) * 5) / 1000),
               86400 * i)
            for i, x in enumerate(raw)
        ]  # fmt: skip
        found = [
            f for f in drift.detect(drift.DriftState(), events, drift.DriftContext(spec))[1] if f.rule == "ewma_shift"
        ]
        delays.append(min((f.seqs[0] for f in found), default=99) - 9)
    assert sorted(delays)[50] <= 10  # median delay within 10 checks (the warm-up ends before the shift starts)
