"""The detectors held to their documented rules on hand-made event sequences (wraps, resets, clock skew, the first
event after a gap, off-centre loads), and on small seeded simulated fields (seeds stated in each test)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from hengqi.metrology.classes import InstrumentSpecification
from hengqi.supervision.detectors import Finding, drift, retail, seal, weighbridge
from hengqi.supervision.detectors.evaluation import evaluate, wilson
from hengqi.supervision.detectors.fleet import (
    DetectorStates,
    incidents_from_field,
    profiles_from_field,
    run_field,
    run_instrument,
)
from hengqi.supervision.fieldsim import builtin_scenarios, simulate_field
from hengqi.supervision.telemetry import (
    Body,
    CheckWeighing,
    Counter,
    Counters,
    EventLogEntry,
    Identity,
    Passage,
    StateEvent,
    TelemetryEvent,
    Transaction,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def ev(seq: int, body: Body, minutes: float = 0.0, instrument: str = "X-1") -> TelemetryEvent:
    return TelemetryEvent(instrument=instrument, seq=seq, time=T0 + timedelta(minutes=minutes), body=body)


def counters(cal: int, cfg: int = 0, modulus: int = 1000) -> Counters:
    return Counters(calibration=Counter(value=cal, modulus=modulus), configuration=Counter(value=cfg, modulus=modulus))


# --- seal ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after", "modulus"), [(999, 0, 1000), (9998, 1, 10000), (99999, 2, 100000)])
def test_seal_counter_change_across_wrap_without_work_order(before: int, after: int, modulus: int) -> None:
    _, found = seal.detect(
        seal.SealState(), [ev(0, counters(before, modulus=modulus)), ev(1, counters(after, modulus=modulus), 60)]
    )
    assert [(f.rule, f.seqs) for f in found] == [("counter_without_work_order", (1,))]
    assert json.loads(dict(found[0].details)["wrapped"]) is True


def test_seal_change_inside_work_order_is_silent_but_reset_is_not() -> None:
    order = seal.WorkOrderWindow(T0 + timedelta(minutes=30), T0 + timedelta(minutes=90), "tech 7")
    ctx = seal.SealContext(work_orders=(order,))
    events = [ev(0, counters(500)), ev(1, counters(501), 60)]
    assert seal.detect(seal.SealState(), events, ctx)[1] == ()
    reset = [ev(0, counters(500)), ev(1, counters(0), 60)]
    found = seal.detect(seal.SealState(), reset, ctx)[1]
    assert [f.rule for f in found] == ["counter_without_work_order"]
    assert json.loads(dict(found[0].details)["reset"]) is True


def test_seal_clock_skew_tolerance_is_the_boundary() -> None:
    order = seal.WorkOrderWindow(T0, T0 + timedelta(minutes=10))
    ctx = seal.SealContext(work_orders=(order,), tolerance_s=120)
    inside = [ev(0, counters(5)), ev(1, counters(6), 12)]  # 120 s after closing: still covered
    outside = [ev(0, counters(5)), ev(1, counters(6), 12.05)]  # 123 s after closing
    assert seal.detect(seal.SealState(), inside, ctx)[1] == ()
    assert len(seal.detect(seal.SealState(), outside, ctx)[1]) == 1


def test_seal_first_event_after_long_gap_and_state_carried_between_batches() -> None:
    state, found = seal.detect(seal.SealState(), [ev(0, counters(10, 20))])
    assert found == ()
    state = seal.SealState.from_json(json.loads(json.dumps(state.to_json())))
    _, found = seal.detect(state, [ev(1, counters(13, 20), 60 * 24 * 40)])  # 40 days offline, 3 changes meanwhile
    assert [(f.rule, dict(f.details)["steps"]) for f in found] == [("counter_without_work_order", "3")]


def test_seal_modulus_change_event_log_software_and_case() -> None:
    events = [
        ev(0, Identity(software_id="FW 2.1.7", software_checksum="ab12")),
        ev(1, counters(1, modulus=1000)),
        ev(2, counters(1, modulus=10000), 5),
        ev(3, EventLogEntry(counter=4, parameter_id="CAL.SPAN", changed_at=T0, new_value="1.0002"), 6),
        ev(4, Identity(software_id="FW 2.1.7", software_checksum="AB12"), 7),  # same checksum, other case: fine
        ev(5, Identity(software_id="FW 2.1.7", software_checksum="CD34"), 8),
        ev(6, StateEvent(state="case_opened"), 9),
        ev(7, StateEvent(state="unlock", actor="unknown"), 10),
    ]
    found = seal.detect(seal.SealState(), events)[1]
    assert [(f.rule, f.seqs) for f in found] == [
        ("counter_without_work_order", (2,)),
        ("parameter_change_without_work_order", (3,)),
        ("software_not_approved", (5,)),
        ("case_opened", (6,)),
        ("unlock_without_work_order", (7,)),
    ]
    approved = seal.SealContext(approved_software_id="FW 2.1.7", approved_checksum="CD34")
    only = seal.detect(seal.SealState(), events[:1], approved)[1]
    assert [f.observed for f in only] == ["checksum CD34 -> AB12"]


# --- weighbridge ----------------------------------------------------------------------------------------------------


def passage(cells: np.ndarray, plate: str = "V1", tare: Decimal = Decimal(1)) -> Passage:
    curve = cells.sum(axis=0)
    gross = Decimal(round(float(curve.max())))
    return Passage(
        plate=plate,
        rate_hz=10,
        curve_kg=curve.tolist(),
        cells_kg=cells.tolist(),
        gross_kg=gross,
        tare_kg=tare,
        net_kg=gross - tare,
    )


def truck_cells(rng: np.random.Generator, lateral: float = 0.5, axles: int = 3) -> np.ndarray:
    """Axles drive on 1.5 s apart, stand 8 s, leave; ``lateral`` = share carried by the left cells (0 and 2)."""
    ts = np.arange(0, 1.0 + 3 * axles + 8 + 1.0, 0.1)
    cells = np.zeros((4, ts.size))
    for k, pos in enumerate(np.linspace(0.15, 0.85, axles)):
        w = 8000.0
        on = (ts >= 1.0 + 1.5 * k) & (ts < 1.0 + 1.5 * axles + 8 + 1.5 * k)
        front, rear = w * (1 - pos), w * pos
        for c, share in enumerate((front * lateral, front * (1 - lateral), rear * lateral, rear * (1 - lateral))):
            cells[c] += on * share
    return cells + rng.normal(0, 3.0, cells.shape)


def test_weighbridge_clean_passages_even_off_centre_raise_nothing() -> None:
    rng = np.random.default_rng(14)
    ctx = weighbridge.WeighbridgeContext(e_kg=20)
    events = [ev(i, passage(truck_cells(rng, lateral=lat)), i) for i, lat in enumerate((0.5, 0.3, 0.7, 0.25))]
    assert weighbridge.detect(weighbridge.WeighbridgeState(), events, ctx)[1] == ()


def test_weighbridge_remote_resistor_on_one_cell_at_five_e() -> None:
    rng = np.random.default_rng(15)
    cells = truck_cells(rng)
    cells[0, 30:120] += 100.0  # 5 e, switched on after the front axle, off before the rear axle leaves
    found = weighbridge.detect(
        weighbridge.WeighbridgeState(), [ev(0, passage(cells))], weighbridge.WeighbridgeContext(e_kg=20)
    )[1]
    rules = {f.rule: f for f in found}
    assert "cell_step_without_partner" in rules
    hit = rules["cell_step_without_partner"]
    assert dict(hit.details)["cell"] == "0"
    assert hit.excerpt
    assert hit.excerpt_rate_hz == 10
    cells_small = truck_cells(rng)
    cells_small[0, 30:120] += 60.0  # 3 e: below the threshold
    assert (
        weighbridge.detect(
            weighbridge.WeighbridgeState(), [ev(0, passage(cells_small))], weighbridge.WeighbridgeContext(e_kg=20)
        )[1]
        == ()
    )


def test_weighbridge_tare_outside_history() -> None:
    rng = np.random.default_rng(16)
    ctx = weighbridge.WeighbridgeContext(e_kg=20)

    def empty(weight: float) -> Passage:
        body = passage(truck_cells(rng, axles=2), plate="陕A12345", tare=Decimal(0))
        return body.model_copy(update={"gross_kg": Decimal(weight), "net_kg": Decimal(weight)})

    history = [ev(i, empty(w), i) for i, w in enumerate((9000, 9020, 8980))]
    state, found = weighbridge.detect(weighbridge.WeighbridgeState(), history, ctx)
    assert found == ()
    state = weighbridge.WeighbridgeState.from_json(json.loads(json.dumps(state.to_json())))
    limit = max(5 * 20, 0.02 * 9000)  # 180 kg
    _, at_limit = weighbridge.detect(state, [ev(3, empty(9000 + limit), 5)], ctx)
    _, above = weighbridge.detect(state, [ev(3, empty(9000 + limit + 20), 5)], ctx)
    assert at_limit == ()
    assert [f.rule for f in above] == ["tare_outside_history"]


# --- retail --------------------------------------------------------------------------------------------------------


def test_retail_price_and_net_consistency() -> None:
    tie = Transaction(
        gross_kg=Decimal("1.235"), net_kg=Decimal("1.235"), unit_price=Decimal("10.00"), price=Decimal("12.35")
    )  # exact 12.350
    half = Transaction(
        gross_kg=Decimal("0.500"), net_kg=Decimal("0.500"), unit_price=Decimal("0.01"), price=Decimal("0.00")
    )  # exact 0.005: either rounding passes
    shifted = Transaction(
        gross_kg=Decimal("1.200"), net_kg=Decimal("1.200"), unit_price=Decimal("25.00"), price=Decimal("3.00")
    )  # decimal point of the unit price moved
    bad_net = Transaction(gross_kg=Decimal("1.200"), tare_kg=Decimal("0.005"), net_kg=Decimal("1.200"))
    state, found = retail.detect(retail.RetailState(), [ev(0, tie), ev(1, half), ev(2, shifted), ev(3, bad_net)])
    assert [(f.rule, f.seqs) for f in found] == [("price_inconsistent", (2,)), ("net_inconsistent", (3,))]
    assert state.transactions == 4


# --- drift ---------------------------------------------------------------------------------------------------------


def test_cusum_decision_interval_gives_the_stated_in_control_arl() -> None:
    """Seeded Monte Carlo (seed 370, 4000 runs of normal in-control data): mean run length to a false signal of
    the two-sided CUSUM with k = 0.5, h from decision_interval(0.5, 370), within 10 % of 370."""
    k = 0.5
    h = drift.decision_interval(k, 370)
    rng = np.random.default_rng(370)
    runs, steps = 4000, 4000
    high = np.zeros(runs)
    low = np.zeros(runs)
    length = np.full(runs, steps)
    alive = np.ones(runs, dtype=bool)
    for t in range(steps):
        x = rng.standard_normal(runs)
        high = np.maximum(0, high + x - k)
        low = np.maximum(0, low - x - k)
        signal = alive & ((high > h) | (low > h))
        length[signal] = t + 1
        alive &= ~signal
        if not alive.any():
            break
    assert not alive.any()
    assert 333 <= length.mean() <= 407


def test_drift_half_mpe_shift_found_within_ten_checks() -> None:
    """Class III, Max 15 kg, e = 5 g, check at 5 kg: in-service MPE 10 g, shift 5 g.  Errors: normal, sigma 1.5 g,
    rounded to e.  Seeded (seed 10); 100 instruments, 10 in-control checks then the shift."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    ctx = drift.DriftContext(spec)
    rng = np.random.default_rng(10)
    delays = []
    for _ in range(100):
        raw = np.r_[rng.normal(0, 0.0015, 10), rng.normal(0.005, 0.0015, 40)]
        errors = [Decimal(str(round(x / 0.005) * 5)) / 1000 for x in raw]
        events = [
            ev(i, CheckWeighing(nominal_kg=Decimal(5), indication_kg=Decimal(5) + x), 60 * 24 * i)
            for i, x in enumerate(errors)
        ]
        found = [f for f in drift.detect(drift.DriftState(), events, ctx)[1] if f.rule == "cusum_shift"]
        first = min((f.seqs[0] for f in found), default=99)
        delays.append(first - 9)
    assert sorted(delays)[50] <= 10  # median delay within 10 checks
    assert all(d > 0 for d in delays)  # nothing signalled during the in-control checks here


def test_drift_check_outside_in_service_mpe() -> None:
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    events = [
        ev(0, CheckWeighing(nominal_kg=Decimal(5), indication_kg=Decimal("5.010"))),
        ev(1, CheckWeighing(nominal_kg=Decimal(5), indication_kg=Decimal("5.015")), 1),
    ]
    found = drift.detect(drift.DriftState(), events, drift.DriftContext(spec))[1]
    assert [(f.rule, f.seqs) for f in found] == [("check_outside_mpe", (1,))]  # 10 g is the MPE itself: passes


# --- simulated fields -------------------------------------------------------------------------------------------


def _one(scenario_id: str) -> tuple:
    return tuple(s for s in builtin_scenarios() if s.id == scenario_id)


@pytest.mark.parametrize(
    ("scenario", "seed", "rule"),
    [
        ("counter_without_work_order", 3, "counter_without_work_order"),
        ("software_checksum_change", 4, "software_not_approved"),
        ("case_opened", 5, "case_opened"),
        ("remote_resistor", 6, "cell_step_without_partner"),
        ("wheel_off_platform", 3, "axle_side_imbalance"),
        ("braking_on_platform", 3, "not_at_rest"),
        ("cheat_firmware", 3, "weight_added_on_key"),
        ("stored_offset", 3, "zero_offset_step"),
    ],
)
def test_each_detector_finds_its_scenario_and_nothing_on_clean_instruments(scenario: str, seed: int, rule: str) -> None:
    """Three instruments (two market scales, one weighbridge), 3 days, every applicable instrument tampered; the
    instruments the scenario does not apply to are clean and must raise nothing."""
    data = simulate_field(3, seed=seed, days=3, scenarios=_one(scenario), tamper_fraction=1.0)
    findings = run_field(data)
    tampered = {lb.instrument for lb in data.labels if lb.scenario == scenario}
    assert tampered
    assert {f.instrument for f in findings if f.rule == rule} == tampered
    clean = {i.device_id for i in data.instruments} - {lb.instrument for lb in data.labels if lb.label != "fault"}
    assert [f for f in findings if f.instrument in clean and f.detector != "availability"] == []
    faults = [lb for lb in data.labels if lb.label == "fault"]
    for f in findings:  # availability findings only where an offline period or a drop is labelled
        if f.detector == "availability":
            assert any(
                lb.instrument == f.instrument and (set(f.seqs) & set(lb.seqs) or lb.start <= f.time <= lb.end)
                for lb in faults
            )
    kinds = {i.device_id: i.site_kind for i in data.instruments}
    scores = {
        (s.detector, s.scenario): s
        for s in evaluate(findings, incidents_from_field(data), kinds, days=3, start=data.start)
    }
    hit = next(s for (d, sc), s in scores.items() if sc == scenario)
    assert hit.detected == hit.incidents > 0


def test_batches_give_the_same_findings_as_one_pass() -> None:
    """Seed 8: a weighbridge and two market scales for 3 days, run whole and in five batches with the state
    serialised to JSON between batches."""
    data = simulate_field(3, seed=8, days=3, scenarios=_one("remote_resistor"), tamper_fraction=1.0)
    for profile in profiles_from_field(data):
        events = [e for e in data.events if e.instrument == profile.instrument]
        whole = run_instrument(profile, events)[1]
        state = DetectorStates()
        parts: list[Finding] = []
        for chunk in np.array_split(np.arange(len(events)), 5):
            state, found = run_instrument(profile, [events[i] for i in chunk], state)
            state = DetectorStates.from_json(json.loads(json.dumps(state.to_json())))
            parts.extend(found)
        assert parts == list(whole)


def test_wilson_interval_bounds() -> None:
    lo, hi = wilson(95, 100)
    assert 0.88 < lo < 0.95 < hi < 0.99
    assert wilson(0, 0) == (0.0, 1.0)
