"""A province's worth of field instruments, simulated with labelled tampering as ground truth.

:func:`simulate_field` makes ``n`` instruments (about two thirds retail scales in markets, one third weighbridges)
and ``days`` of their telemetry in the format of :mod:`hengqi.supervision.telemetry`: identity, counters, event-log
entries for authorised changes (each with a work order), weighings, daily check-weighings, hourly heartbeats.
Retail weighings come from the scale simulator's physics (:class:`~hengqi.instruments.simulator.WeighingModel`,
class III, Max 15 kg, e = 5 g, with repeatability and, on some instruments, zero drift); weighbridge passages are
weight curves at 10 Hz over four load cells built around the static indication of a class III, Max 60 t,
e = 20 kg model.  Tampering follows the scenario files in ``hengqi/supervision/scenarios/`` (one YAML file each,
with the source that describes the trick); each incident is written as a :class:`Label` with the seqs of the
events it affects.  Offline periods and drift are labelled too (``fault``, ``drift``), so that detectors can be
scored on false alarms as well as on misses.  The same seed gives the same data.

The numbers chosen here (weighings per day, loads, noise, vehicle fleet) are this simulator's assumptions, not
statistics of real markets or weighbridges.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import numpy as np
import yaml

from hengqi.errors import InputError
from hengqi.instruments.simulator import Imperfections, ManualClock, WeighingModel
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.supervision.counters import COUNTER_MODULI
from hengqi.supervision.telemetry import (
    Body,
    CheckWeighing,
    Counter,
    Counters,
    EventLogEntry,
    Heartbeat,
    Identity,
    KeyPress,
    Passage,
    StateEvent,
    TelemetryEvent,
    Transaction,
    ZeroSetting,
)

SITE_KINDS = ("market", "weighbridge")
REGIONS = ("610102", "610103", "610104", "610112", "610113", "610116")  # region codes used as labels only


@dataclass(frozen=True, slots=True)
class Scenario:
    """A tampering scenario read from a data file."""

    id: str
    applies_to: str
    label: str
    description: str
    source: str
    parameters: dict[str, Any]
    sha256: str = ""


def parse_scenario(data: Any, *, path: str = "scenario", sha256: str = "") -> Scenario:
    """A scenario from its parsed YAML; :class:`InputError` naming the field otherwise."""
    if not isinstance(data, dict):
        raise InputError(path, "a scenario is a mapping")
    for key in ("id", "applies_to", "label", "description"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise InputError(f"{path}.{key}", "required text")
    if data["applies_to"] not in (*SITE_KINDS, "any"):
        raise InputError(f"{path}.applies_to", "must be market, weighbridge or any")
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError(f"{path}.parameters", "must be a mapping")
    return Scenario(
        data["id"],
        data["applies_to"],
        data["label"],
        data["description"].strip(),
        str(data.get("source", "")),
        parameters,
        sha256,
    )


def builtin_scenarios() -> tuple[Scenario, ...]:
    """The scenario files shipped in ``hengqi/supervision/scenarios/``, sorted by id."""
    folder = resources.files("hengqi.supervision") / "scenarios"
    out = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            text = item.read_bytes()
            out.append(parse_scenario(yaml.safe_load(text), path=item.name, sha256=hashlib.sha256(text).hexdigest()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class FieldInstrument:
    device_id: str
    group: str
    site_kind: str
    region_code: str
    latitude: float
    longitude: float
    max_kg: str
    e_kg: str


@dataclass(frozen=True, slots=True)
class Label:
    """One labelled incident: what happened to which instrument, when, and which events show it."""

    instrument: str
    scenario: str
    label: str
    start: datetime
    end: datetime
    seqs: tuple[int, ...]
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """An authorised repair or verification that explains a counter change."""

    instrument: str
    kind: str
    opened_at: datetime
    closed_at: datetime
    authorised_by: str
    note: str


@dataclass(frozen=True, slots=True)
class FieldData:
    seed: int
    days: int
    start: datetime
    instruments: tuple[FieldInstrument, ...]
    events: tuple[TelemetryEvent, ...]
    labels: tuple[Label, ...]
    work_orders: tuple[WorkOrder, ...]
    scenarios: tuple[Scenario, ...]


@dataclass
class _Raw:
    time: datetime
    body: Body
    incident: int | None = None


@dataclass
class _Incident:
    scenario: str
    label: str
    start: datetime
    end: datetime
    details: dict[str, Any]


@dataclass
class _Sim:
    info: FieldInstrument
    rng: np.random.Generator
    raws: list[_Raw] = field(default_factory=list)
    incidents: list[_Incident] = field(default_factory=list)
    work_orders: list[WorkOrder] = field(default_factory=list)

    def emit(self, time: datetime, body: Body, incident: int | None = None) -> None:
        self.raws.append(_Raw(time.replace(microsecond=time.microsecond // 1000 * 1000), body, incident))

    def incident(self, scenario: str, label: str, start: datetime, end: datetime, **details: Any) -> int:
        self.incidents.append(_Incident(scenario, label, start, end, details))
        return len(self.incidents) - 1

    def uniform(self, bounds: Any) -> float:
        low, high = (float(bounds[0]), float(bounds[1])) if isinstance(bounds, list) else (float(bounds),) * 2
        return float(self.rng.uniform(low, high))

    def integer(self, bounds: Any) -> int:
        low, high = (int(bounds[0]), int(bounds[1])) if isinstance(bounds, list) else (int(bounds),) * 2
        return int(self.rng.integers(low, high + 1))


def _q(value: float | Decimal, d: str) -> Decimal:
    return (Decimal(str(value)) / Decimal(d)).quantize(Decimal(1)) * Decimal(d)


def _common(sim: _Sim, start: datetime, days: int, tamper: Scenario | None) -> tuple[int, int, int, str]:
    """Identity, counters, work orders, counter/software/case tampering, offline periods, heartbeats."""
    rng = sim.rng
    modulus = int(rng.choice(COUNTER_MODULI))
    cal, cfg = int(rng.integers(0, modulus // 2)), int(rng.integers(0, modulus // 2))
    if (
        tamper is not None
        and tamper.id == "counter_without_work_order"
        and rng.random() < float(tamper.parameters.get("across_wrap_probability", 0.5))
    ):
        cal = cfg = modulus - 1
    checksum = f"{int(rng.integers(0, 2**32)):08X}"
    software = "FW 2.1.7"
    sim.emit(
        start,
        Identity(
            production_code=f"P{sim.info.device_id}",
            repair_code="",
            verification_code=f"V{rng.integers(10**6)}",
            seal_id=f"S{rng.integers(10**6)}",
            software_id=software,
            software_checksum=checksum,
        ),
    )
    sim.emit(
        start,
        Counters(calibration=Counter(value=cal, modulus=modulus), configuration=Counter(value=cfg, modulus=modulus)),
    )
    end = start + timedelta(days=days)
    # one authorised configuration change with its work order, on some instruments
    if rng.random() < 0.3:
        t = start + timedelta(seconds=float(rng.uniform(0, days * 86_400)))
        cfg = (cfg + 1) % modulus
        sim.work_orders.append(
            WorkOrder(
                sim.info.device_id,
                "repair",
                t - timedelta(minutes=30),
                t + timedelta(minutes=30),
                "authorised technician 7",
                "unit price decimal point corrected",
            )
        )
        sim.emit(
            t,
            EventLogEntry(counter=cfg % 1000, parameter_id="CFG.PRICE_DP", changed_at=t, old_value="2", new_value="1"),
        )
        sim.emit(
            t,
            Counters(
                calibration=Counter(value=cal, modulus=modulus), configuration=Counter(value=cfg, modulus=modulus)
            ),
        )
    if tamper is not None and tamper.id == "counter_without_work_order":
        t = start + timedelta(seconds=float(rng.uniform(3600, days * 86_400 - 3600)))
        which = str(rng.choice(tamper.parameters.get("counter", ["calibration"])))
        steps = sim.integer(tamper.parameters.get("steps", [1, 1]))
        before = cal if which == "calibration" else cfg
        after = (before + steps) % modulus
        i = sim.incident(
            tamper.id,
            tamper.label,
            t,
            t,
            counter=which,
            before=before,
            after=after,
            modulus=modulus,
            across_wrap=after < before,
        )
        cal, cfg = (after, cfg) if which == "calibration" else (cal, after)
        sim.emit(
            t,
            Counters(
                calibration=Counter(value=cal, modulus=modulus), configuration=Counter(value=cfg, modulus=modulus)
            ),
            i,
        )
    if tamper is not None and tamper.id == "software_checksum_change":
        t = start + timedelta(seconds=float(rng.uniform(3600, days * 86_400 - 3600)))
        new = f"{int(rng.integers(0, 2**32)):08X}"
        i = sim.incident(tamper.id, tamper.label, t, end, before=checksum, after=new)
        sim.emit(t, Identity(production_code=f"P{sim.info.device_id}", software_id=software, software_checksum=new), i)
    if tamper is not None and tamper.id == "case_opened":
        t = start + timedelta(seconds=float(rng.uniform(3600, days * 86_400 - 7200)))
        minutes = sim.uniform(tamper.parameters.get("minutes_open", [5, 60]))
        back = t + timedelta(minutes=minutes)
        i = sim.incident(tamper.id, tamper.label, t, back, minutes_open=round(minutes, 1))
        sim.emit(t, StateEvent(state="case_opened"), i)
        sim.emit(t + timedelta(seconds=1), StateEvent(state="self_lock"), i)
        sim.emit(back - timedelta(seconds=5), StateEvent(state="case_closed"), i)
        sim.emit(back, StateEvent(state="unlock", actor="unknown", detail="no dynamic password"), i)
    # offline periods: the agent keeps events, but sends no heartbeats
    offline: list[tuple[datetime, datetime, int]] = []
    for _ in range(int(rng.integers(0, 3))):
        t = start + timedelta(seconds=float(rng.uniform(0, days * 86_400)))
        back = t + timedelta(minutes=float(rng.uniform(10, 360)))
        offline.append((t, back, sim.incident("offline", "fault", t, back)))
    hour = start
    silent: int | None = None
    while hour < end:
        down = [i for a, b, i in offline if a <= hour < b]
        if not down:
            # the first heartbeat after an offline period is the event that shows it: labelled with it
            sim.emit(hour, Heartbeat(uptime_s=(hour - start).total_seconds(), queue_depth=0), silent)
            silent = None
        else:
            silent = down[-1]
        hour += timedelta(hours=1)
    return cal, cfg, modulus, checksum


def _zero_offset(drift_kg_per_h: float, hours: float, rng: np.random.Generator) -> Decimal:
    """The zero point a power-on or key zero-setting finds: the accumulated zero drift plus noise, reported at
    0.1 g (an assumption of this simulator: internal resolution finer than e)."""
    return _q(drift_kg_per_h * hours + float(rng.normal(0.0, 0.0004)), "0.0001")


def _market(sim: _Sim, start: datetime, days: int, tamper: Scenario | None, seed: int) -> None:
    rng = sim.rng
    drift = 0.0
    if rng.random() < 0.1:
        drift = float(rng.choice([-1, 1])) * float(rng.uniform(0.0002, 0.0006))  # kg per hour
        sim.incident("drift", "drift", start, start + timedelta(days=days), zero_drift_kg_per_h=round(drift, 6))
    clock = ManualClock(start.timestamp())
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    model = WeighingModel(
        spec,
        unit="kg",
        clock=clock,
        seed=seed,
        imperfections=Imperfections(settling_s=0.5, repeatability_kg=0.0015, zero_drift_kg_per_h=drift),
    )
    window: tuple[datetime, datetime] | None = None
    incident = None
    presses = 0
    step = Decimal(0)
    offset = Decimal(0)
    key = "*"
    if tamper is not None and tamper.id in ("cheat_firmware", "stored_offset"):
        day = int(rng.integers(0, days))
        a = start + timedelta(days=day, hours=float(rng.uniform(8, 14)))
        hours = sim.uniform(tamper.parameters.get("hours", [2, 5]))
        window = (a, a + timedelta(hours=hours))
        if tamper.id == "cheat_firmware":
            presses = sim.integer(tamper.parameters.get("presses", [1, 2]))
            step = Decimal(str(tamper.parameters.get("added_per_press_kg", "0.050")))
            key = str(tamper.parameters.get("key", "*"))
            offset = step * presses
        else:
            offset = _q(sim.uniform(tamper.parameters.get("offset_kg", ["0.020", "0.100"])), "0.005")
        incident = sim.incident(tamper.id, tamper.label, window[0], window[1], added_kg=str(offset), presses=presses)
        if tamper.id == "stored_offset":
            # the zero point is set low with the zero key (the empty platform's raw reading minus the offset is called
            # zero), and set back when the trick ends; the stored offset survives power-on zero-setting in between
            hours_in = (window[0] - start).total_seconds() / 3600
            sim.emit(
                window[0], ZeroSetting(source="key", offset_kg=_zero_offset(drift, hours_in, rng) - offset), incident
            )
            hours_out = (window[1] - start).total_seconds() / 3600
            sim.emit(window[1], ZeroSetting(source="key", offset_kg=_zero_offset(drift, hours_out, rng)), incident)
    honest_keys = ("PLU", "PLU", "PLU", "T", "C")
    for day in range(days):
        opening = start + timedelta(days=day, hours=7)
        times = sorted(float(x) for x in rng.uniform(0, 12 * 3600, int(rng.poisson(120))))
        hours_on = (opening - start).total_seconds() / 3600
        zero = _zero_offset(drift, hours_on, rng)
        stored = tamper is not None and tamper.id == "stored_offset" and window is not None
        if stored and window is not None and window[0] <= opening < window[1]:
            sim.emit(opening, ZeroSetting(source="power_on", offset_kg=zero - offset), incident)
        else:
            sim.emit(opening, ZeroSetting(source="power_on", offset_kg=zero))
        check_at = opening + timedelta(minutes=5)
        clock.advance(max(0.0, check_at.timestamp() - clock.now()))
        model.place(Decimal(5))
        clock.advance(2.0)
        sim.emit(
            check_at,
            CheckWeighing(weight_id="M1-5kg", nominal_kg=Decimal(5), indication_kg=model.indication().gross_kg),
        )
        model.remove()
        for seconds in times:
            t = opening + timedelta(seconds=seconds)
            clock.advance(max(0.0, t.timestamp() - clock.now()))
            load = _q(min(14.0, max(0.05, float(rng.lognormal(0.0, 0.7)))), "0.001")
            model.place(load)
            clock.advance(1.0)
            gross = model.indication().gross_kg
            model.remove()
            clock.advance(1.0)
            tagged = None
            # honest keys: a PLU, tare or clear key on the standing load (the gross does not change), and now and then
            # the vendor adds goods while pressing a key (the gross rises by a random amount)
            if rng.random() < 0.5:
                before = gross
                if rng.random() < 0.03:
                    gross = gross + _q(float(rng.uniform(0.01, 0.3)), "0.005")
                k = honest_keys[int(rng.integers(0, len(honest_keys)))]
                sim.emit(t - timedelta(seconds=3), KeyPress(key=k, gross_before_kg=before, gross_after_kg=gross))
            if window is not None and window[0] <= t < window[1]:
                tagged = incident
                if presses:
                    for j in range(presses):
                        sim.emit(
                            t - timedelta(seconds=2) + timedelta(milliseconds=400 * j),
                            KeyPress(key=key, gross_before_kg=gross + j * step, gross_after_kg=gross + (j + 1) * step),
                            incident,
                        )
                gross += offset
            tare = Decimal("0.005") if rng.random() < 0.3 else Decimal(0)
            price = _q(float(rng.uniform(4, 40)), "0.01")
            net = gross - tare
            sim.emit(
                t,
                Transaction(
                    gross_kg=gross, tare_kg=tare, net_kg=net, unit_price=price, price=_q(float(net * price), "0.01")
                ),
                tagged,
            )


def _weighbridge(sim: _Sim, start: datetime, days: int, tamper: Scenario | None, seed: int) -> None:
    rng = sim.rng
    spec = InstrumentSpecification.create(accuracy_class="III", max="60 t", e="20 kg")
    clock = ManualClock(start.timestamp())
    model = WeighingModel(
        spec, unit="kg", clock=clock, seed=seed, imperfections=Imperfections(settling_s=1.0, repeatability_kg=10.0)
    )
    fleet = [
        (f"陕A{int(rng.integers(10000, 99999))}", int(rng.integers(2, 6)), float(rng.uniform(8000, 15000)))
        for _ in range(30)
    ]
    recorded_tare = {plate: _q(tare, "20") for plate, _axles, tare in fleet}
    affected = 0
    wanted = (
        sim.integer(tamper.parameters.get("passages", [1, 3]))
        if tamper is not None and tamper.applies_to == "weighbridge"
        else 0
    )
    first_day = int(rng.integers(0, days)) if wanted else 0
    incident = None
    for day in range(days):
        times = sorted(float(x) for x in rng.uniform(0, 14 * 3600, int(rng.poisson(40))))
        for seconds in times:
            t = start + timedelta(days=day, hours=6, seconds=seconds)
            plate, axles, tare = fleet[int(rng.integers(0, len(fleet)))]
            empty = rng.random() < 0.3
            total = tare if empty else min(59_000.0, tare + float(rng.uniform(10_000, 34_000)))
            shares = rng.dirichlet(np.full(axles, 4.0))
            loads = total * shares
            active = (
                tamper is not None and day >= first_day and affected < wanted and tamper.applies_to == "weighbridge"
            )
            if active and tamper is not None and tamper.id == "tare_fraud" and not empty:
                active = False  # this trick acts on the empty weighing
            extra_cell = 0.0
            cell_hit = 0
            details: dict[str, Any] = {"plate": plate}
            # the load's share on the left side (cells 0 and 2), per axle: the cargo sits a little off centre
            left = np.full(axles, 0.5 + float(np.clip(rng.normal(0.0, 0.03), -0.1, 0.1)))
            stand = 8.0
            pitch = 0.0
            if active and tamper is not None:
                p = tamper.parameters
                if tamper.id == "remote_resistor":
                    extra_cell = sim.uniform(p.get("added_kg", [10000, 15000]))
                    cell_hit = int(p.get("cell", 0))
                    details.update(added_kg=round(extra_cell), cell=cell_hit)
                elif tamper.id == "wheel_off_platform":
                    # one wheel (one side of one axle) stands beside the platform: the missing weight comes off that
                    # side first, then off the other side
                    axle = int(rng.integers(0, axles))
                    side = int(rng.integers(0, 2))  # 0: left (cells 0, 2), 1: right (cells 1, 3)
                    frac = sim.uniform(p.get("missing_fraction_of_axle", [0.4, 0.6]))
                    before = float(loads[axle])
                    sides = [before * left[axle], before * (1 - left[axle])]
                    missing = before * frac
                    taken = min(missing, sides[side])
                    sides[side] -= taken
                    sides[1 - side] -= missing - taken
                    loads[axle] = before - missing
                    left[axle] = sides[0] / loads[axle] if loads[axle] > 0 else 0.5
                    details.update(axle=axle, side="left" if side == 0 else "right", missing_kg=round(missing))
                elif tamper.id == "braking_on_platform":
                    # the driver brakes on the platform and the weight is registered before the vehicle is at rest:
                    # a short stand with a pitching oscillation, and one axle registered light (source in the file)
                    axle = int(rng.integers(0, axles))
                    red = sim.uniform(p.get("axle_reduction", [0.1, 0.2]))
                    stand = sim.uniform(p.get("standing_s", [0.5, 1.5]))
                    pitch = sim.uniform(p.get("pitch_fraction", [0.03, 0.08]))
                    details.update(axle=axle, reduction=round(red, 3), standing_s=round(stand, 2))
                    loads[axle] *= 1 - red
                elif tamper.id == "tare_fraud":
                    added = sim.uniform(p.get("added_tare_kg", [300, 1500]))
                    details.update(added_tare_kg=round(added), history_tare_kg=str(recorded_tare[plate]))
                    loads = loads * (tare + added) / tare
            clock.advance(max(0.0, t.timestamp() - clock.now()))
            model.place(_q(float(loads.sum()), "1"))
            clock.advance(3.0)
            static = float(model.indication().gross_kg)
            model.remove()
            # the curve: 1 s empty, axles drive on one by one (1.5 s apart), stand 8 s, drive off, 1 s empty; 10 Hz
            rate, gap = 10.0, 1.5
            on = 1.0 + np.arange(axles) * gap
            off = on[-1] + gap + stand + np.arange(axles) * gap
            ts = np.arange(0, off[-1] + 1.0, 1 / rate)
            weights = loads * (static / float(loads.sum()))
            positions = np.linspace(0.15, 0.85, axles)
            cells = np.zeros((4, ts.size))
            for k in range(axles):
                present = (ts >= on[k]) & (ts < off[k])
                front, rear = weights[k] * (1 - positions[k]), weights[k] * positions[k]
                lf = left[k]
                for c, share in enumerate((front * lf, front * (1 - lf), rear * lf, rear * (1 - lf))):
                    cells[c] += present * share
            if pitch:
                # braking: the body pitches (1.2 Hz, decaying in 2 s) from the moment the last axle is on
                since = ts - on[-1]
                wobble = np.where(since >= 0, pitch * np.exp(-np.maximum(since, 0) / 2.0), 0.0)
                wobble *= np.sin(2 * np.pi * 1.2 * np.maximum(since, 0))
                cells *= 1 + wobble
            if extra_cell:
                switched = (ts >= on[0] + 1.0) & (ts < off[-1] - 1.0)
                cells[cell_hit] += switched * extra_cell
            cells += rng.normal(0, 3.0, cells.shape)
            curve = cells.sum(axis=0)
            gross = _q(static + extra_cell, "20")
            if empty:
                recorded_tare[plate] = gross
                body = Passage(
                    plate=plate,
                    rate_hz=rate,
                    curve_kg=[round(float(x), 1) for x in curve],
                    cells_kg=[[round(float(x), 1) for x in row] for row in cells],
                    gross_kg=gross,
                    tare_kg=Decimal(0),
                    net_kg=gross,
                )
            else:
                tare_used = recorded_tare[plate]
                body = Passage(
                    plate=plate,
                    rate_hz=rate,
                    curve_kg=[round(float(x), 1) for x in curve],
                    cells_kg=[[round(float(x), 1) for x in row] for row in cells],
                    gross_kg=gross,
                    tare_kg=tare_used,
                    net_kg=gross - tare_used,
                )
            tagged = None
            if active and tamper is not None:
                if incident is None:
                    incident = sim.incident(tamper.id, tamper.label, t, t, passages=[])
                sim.incidents[incident].end = t
                sim.incidents[incident].details["passages"].append(details)
                tagged = incident
                affected += 1
            sim.emit(t, body, tagged)
        check_at = start + timedelta(days=day, hours=5)
        clock.advance(max(0.0, check_at.timestamp() - clock.now()))
        model.place(Decimal(10_000))
        clock.advance(3.0)
        sim.emit(
            check_at,
            CheckWeighing(
                weight_id="M1-test-cart-10t", nominal_kg=Decimal(10_000), indication_kg=model.indication().gross_kg
            ),
        )
        model.remove()


def _drops(sim: _Sim) -> frozenset[int]:
    """On some instruments (10 %), the agent's full queue dropped a run of 1-20 data events (never heartbeats or
    events that show an incident): the seqs are used but the events never arrive.  Labelled ``events_dropped``
    (``fault``) with the seq of the first event after the hole."""
    if len(sim.raws) < 50 or sim.rng.random() >= 0.1:
        return frozenset()
    first = int(sim.rng.integers(10, len(sim.raws) - 30))
    wanted = int(sim.rng.integers(1, 21))
    out: list[int] = []
    index = first
    while index < len(sim.raws) - 1 and len(out) < wanted:
        raw = sim.raws[index]
        if raw.incident is not None:
            break
        if not isinstance(raw.body, Heartbeat):
            out.append(index)
        index += 1
    if not out:
        return frozenset()
    after = out[-1] + 1
    while after in out:
        after += 1
    incident = sim.incident("events_dropped", "fault", sim.raws[out[0]].time, sim.raws[after].time, dropped=len(out))
    sim.raws[after].incident = incident if sim.raws[after].incident is None else sim.raws[after].incident
    return frozenset(out)


def simulate_field(
    n: int,
    *,
    seed: int,
    days: int,
    start: datetime | None = None,
    scenarios: tuple[Scenario, ...] | None = None,
    tamper_fraction: float = 0.3,
) -> FieldData:
    """Simulate ``n`` instruments for ``days`` days (see the module docstring)."""
    if not 1 <= n <= 100_000:
        raise InputError("--instruments", f"must be 1..100000, got {n}")
    if not 1 <= days <= 366:
        raise InputError("--days", f"must be 1..366, got {days}")
    if not 0 <= tamper_fraction <= 1:
        raise InputError("tamper_fraction", "must be within 0..1")
    chosen = builtin_scenarios() if scenarios is None else scenarios
    begin = (start or datetime(2026, 1, 5, tzinfo=UTC)).astimezone(UTC)
    root = np.random.default_rng(seed)
    instruments: list[FieldInstrument] = []
    events: list[TelemetryEvent] = []
    labels: list[Label] = []
    orders: list[WorkOrder] = []
    for index in range(n):
        kind = "weighbridge" if index % 3 == 2 else "market"
        region = REGIONS[int(root.integers(0, len(REGIONS)))]
        info = FieldInstrument(
            device_id=f"{'WB' if kind == 'weighbridge' else 'SC'}-{index:05d}",
            group=f"{kind}-{region}",
            site_kind=kind,
            region_code=region,
            latitude=round(34.26 + float(root.normal(0, 0.08)), 5),
            longitude=round(108.94 + float(root.normal(0, 0.1)), 5),
            max_kg="60000" if kind == "weighbridge" else "15",
            e_kg="20" if kind == "weighbridge" else "0.005",
        )
        instruments.append(info)
        sim = _Sim(info, np.random.default_rng([seed, index]))
        applicable = [s for s in chosen if s.applies_to in (kind, "any")]
        tamper = (
            applicable[int(sim.rng.integers(0, len(applicable)))]
            if applicable and sim.rng.random() < tamper_fraction
            else None
        )
        _common(sim, begin, days, tamper)
        if kind == "market":
            _market(sim, begin, days, tamper, seed * 100_003 + index)
        else:
            _weighbridge(sim, begin, days, tamper, seed * 100_003 + index)
        sim.raws.sort(key=lambda r: r.time)
        dropped = _drops(sim)
        seqs: dict[int, list[int]] = {}
        for seq, raw in enumerate(sim.raws):
            if seq in dropped:
                continue
            events.append(TelemetryEvent(instrument=info.device_id, seq=seq, time=raw.time, body=raw.body))
            if raw.incident is not None:
                seqs.setdefault(raw.incident, []).append(seq)
        for i, inc in enumerate(sim.incidents):
            labels.append(
                Label(info.device_id, inc.scenario, inc.label, inc.start, inc.end, tuple(seqs.get(i, [])), inc.details)
            )
        orders.extend(sim.work_orders)
    return FieldData(seed, days, begin, tuple(instruments), tuple(events), tuple(labels), tuple(orders), chosen)


def field_files(data: FieldData) -> dict[str, bytes]:
    """The files of a simulated field, by name: ``instruments.json``, ``events.jsonl`` (one telemetry event per line),
    ``ground_truth.json`` (the labels), ``work_orders.json`` and ``manifest.json`` (seed, counts, SHA-256 of each)."""
    import json
    from collections import Counter as Tally
    from dataclasses import asdict

    def dump(value: Any) -> bytes:
        return (json.dumps(value, indent=1, ensure_ascii=False, default=str) + "\n").encode()

    files = {
        "instruments.json": dump([asdict(i) for i in data.instruments]),
        "events.jsonl": "".join(e.canonical_json() + "\n" for e in data.events).encode(),
        "ground_truth.json": dump([asdict(label) for label in data.labels]),
        "work_orders.json": dump([asdict(w) for w in data.work_orders]),
    }
    manifest = {
        "format": "hengqi-field-sim/1",
        "seed": data.seed,
        "days": data.days,
        "start": data.start.isoformat(),
        "instruments": len(data.instruments),
        "events": len(data.events),
        "events_by_kind": dict(sorted(Tally(e.kind for e in data.events).items())),
        "labels_by_scenario": dict(sorted(Tally(label.scenario for label in data.labels).items())),
        "scenarios": {s.id: s.sha256 for s in data.scenarios},
        "sha256": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    }
    files["manifest.json"] = dump(manifest)
    return files
