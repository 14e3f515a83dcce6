"""Tampering, drift and availability detectors scored against the field simulator's labelled ground truth.

Two corpora: **A** (seed 20261207, the scenario files as shipped: the corpus the thresholds were looked at on) and
**B** (seed 77, scenario parameters changed, see ``B_PARAMETERS``: smaller resistor steps 500-3 000 kg = 25-150 e,
smaller tare frauds 200-800 kg, shorter cheats of 20 g per press on another key, smaller wheel-off losses
(25-40 % of the axle), milder braking (longer stand, weaker pitching), smaller stored offsets (10-40 g), counters
changed by up to 9 steps; the detectors were not tuned on it).  Per detector and scenario: incidents, detected,
recall (95 % Wilson interval), findings, precision, false alarms per 1 000 weighings (transactions and passages) and
per 1 000 instrument-days, and the median detection delay (hours; the incident's own events; check-weighings and
zero-settings) (:mod:`hengqi.supervision.detectors.evaluation`).  Then throughput, one process: per weighbridge rule
on weight-curve data (curve and per-cell samples) and per detector over the events it reads.

``main(short=True)``: 16 instruments x 5 days, corpus A only (under 20 s); full: 200 instruments x 14 days each.
Command: ``.venv/bin/python bench/bench_detectors.py [--short]`` (or ``bench/run.py --only detectors``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from hengqi.supervision.detectors import availability, drift, retail, seal
from hengqi.supervision.detectors.evaluation import Score, evaluate
from hengqi.supervision.detectors.fleet import incidents_from_field, profiles_from_field, run_field
from hengqi.supervision.detectors.weighbridge import (
    WeighbridgeContext,
    WeighbridgeState,
    cell_steps,
    restless,
    side_imbalance,
    stable_jumps,
)
from hengqi.supervision.detectors.weighbridge import detect as wb_detect
from hengqi.supervision.fieldsim import FieldData, Scenario, builtin_scenarios, simulate_field
from hengqi.supervision.telemetry import CheckWeighing, Passage, TelemetryEvent, Transaction, ZeroSetting

SEED_A, SEED_B = 20261207, 77
B_PARAMETERS: dict[str, dict[str, Any]] = {
    "remote_resistor": {"added_kg": [500, 3000]},
    "tare_fraud": {"added_tare_kg": [200, 800]},
    "cheat_firmware": {"hours": [1, 2], "added_per_press_kg": "0.020", "key": "F9"},
    "counter_without_work_order": {"steps": [1, 9]},
    "wheel_off_platform": {"missing_fraction_of_axle": [0.25, 0.4]},
    "braking_on_platform": {"axle_reduction": [0.05, 0.1], "standing_s": [1.0, 2.0], "pitch_fraction": [0.02, 0.05]},
    "stored_offset": {"offset_kg": ["0.010", "0.040"], "hours": [2, 8]},
}


def corpus_b_scenarios() -> tuple[Scenario, ...]:
    out = []
    for s in builtin_scenarios():
        extra = B_PARAMETERS.get(s.id, {})
        out.append(replace(s, parameters={**s.parameters, **extra}))
    return tuple(out)


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def _median(values: tuple[float, ...] | tuple[int, ...]) -> str:
    return "-" if not values else f"{statistics.median(values):g}"


def table(rows: tuple[Score, ...]) -> str:
    head = (
        f"{'detector':<13}{'scenario':<27}{'inc':>4}{'det':>4}  {'recall':>6} {'95% CI':<13}{'find':>5}"
        f"  {'precision':>9} {'FA/1000 w':>9} {'95% CI':<13}{'FA/1000 d':>9}  {'delay h':>7} {'ev':>3} {'chk':>3}"
    )
    lines = [head]
    for r in rows:
        lo, hi = r.recall_ci
        rec = f"{_pct(r.recall)} [{100 * lo:3.0f},{100 * hi:3.0f}]%" if r.incidents else "   -   " + " " * 13
        prec = f"{_pct(r.precision):>9}" if r.findings else f"{'-':>9}"
        if r.scenario == "all":
            wlo, whi = r.false_per_1000_weighings_ci
            fa = (
                f"{r.false_per_1000_weighings:9.3f} [{wlo:.2f},{whi:.2f}]".ljust(23) + f"{r.false_alarms_per_1000:9.2f}"
            )
        else:
            fa = " " * 32
        delay = f"{_median(tuple(round(h, 1) for h in r.delays_h)):>7} {_median(r.delays_events):>3} "
        delay += f"{_median(r.delays_checks):>3}"
        lines.append(
            f"{r.detector:<13}{r.scenario:<27}{r.incidents:>4}{r.detected:>4}  {rec:<20}{r.findings:>5}  {prec} "
            f"{fa}  {delay}"
        )
    return "\n".join(lines)


def _rate(label: str, samples: int, cpu: float, unit: str = "readings") -> str:
    return f"  {label:<44}{samples:>11} {unit} {cpu:7.2f} CPU-s  {samples / cpu:>14,.0f} {unit}/CPU-s"


def throughput(data: FieldData) -> str:
    """Readings per CPU-second of one process, per weighbridge rule (weight-curve data: the curve and the per-cell
    samples of every passage) and per detector (its whole ``detect`` over the events it reads)."""
    passages = [e for e in data.events if isinstance(e.body, Passage)]
    if not passages:
        return "no passages"
    bodies = [p.body for p in passages if isinstance(p.body, Passage)]
    curves = [np.asarray(b.curve_kg, dtype=np.float64) for b in bodies]
    cells = [np.asarray(b.cells_kg, dtype=np.float64) for b in bodies]
    n_curve = sum(c.size for c in curves)
    n_cells = sum(c.size for c in cells)
    ctx = WeighbridgeContext(e_kg=20.0)
    lag, window = 3, 20
    out = [f"weighbridge: {len(passages)} passages, {n_curve} curve samples, {n_cells} cell samples"]
    rules = (
        ("cell_step_without_partner (cells)", n_cells, lambda: [cell_steps(c, lag, 100.0, 0.2) for c in cells]),
        ("jump_while_stable (curve)", n_curve, lambda: [stable_jumps(c, lag, window, 100.0, 20.0) for c in curves]),
        ("axle_side_imbalance (cells)", n_cells, lambda: [side_imbalance(c, lag, 500.0, 0.3) for c in cells]),
        ("not_at_rest (curve)", n_curve, lambda: [restless(c, window, 60.0) for c in curves]),
    )
    for label, n, run in rules:
        started = time.process_time()
        run()
        out.append(_rate(label, n, time.process_time() - started))
    by: dict[str, list[TelemetryEvent]] = {}
    for e in data.events:
        by.setdefault(e.instrument, []).append(e)
    started = time.process_time()
    for inst, events in by.items():
        if inst.startswith("WB"):
            wb_detect(WeighbridgeState(), events, ctx)
    out.append(_rate("weighbridge detect (all rules, curve + cells)", n_curve + n_cells, time.process_time() - started))
    profiles = {p.instrument: p for p in profiles_from_field(data)}
    others = (
        ("seal", lambda p, ev: seal.detect(seal.SealState(), ev)),
        ("retail", lambda p, ev: retail.detect(retail.RetailState(), ev) if p.site_kind == "market" else None),
        ("drift", lambda p, ev: drift.detect(drift.DriftState(), ev, drift.DriftContext(p.spec()))),
        ("availability", lambda p, ev: availability.detect(availability.AvailabilityState(), ev)),
    )
    for name, fn in others:
        n_events = sum(len(ev) for inst, ev in by.items() if name != "retail" or profiles[inst].site_kind == "market")
        started = time.process_time()
        for inst, events in by.items():
            fn(profiles[inst], events)
        out.append(_rate(f"{name} detect (all events)", n_events, time.process_time() - started, "events"))
    return "\n".join(out)


def corpus(name: str, n: int, days: int, seed: int, scenarios: tuple[Scenario, ...] | None) -> FieldData:
    started = time.perf_counter()
    data = simulate_field(n, seed=seed, days=days, scenarios=scenarios, tamper_fraction=0.5)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    findings = run_field(data)
    ran = time.perf_counter() - started
    kinds = {p.instrument: p.site_kind for p in profiles_from_field(data)}
    weighings: dict[str, int] = {}
    checks: dict[str, list[datetime]] = {}
    for e in data.events:
        if isinstance(e.body, Transaction | Passage):
            weighings[e.instrument] = weighings.get(e.instrument, 0) + 1
        elif isinstance(e.body, CheckWeighing | ZeroSetting):
            checks.setdefault(e.instrument, []).append(e.time)
    print(
        f"-- corpus {name}: seed {seed}, {n} instruments x {days} days, tamper fraction 0.5, "
        f"{len(data.events)} events; simulated in {simulated:.1f} s, detectors {ran:.1f} s"
    )
    rows = evaluate(
        findings, incidents_from_field(data), kinds, days=days, start=data.start, weighings=weighings, checks=checks
    )
    print(table(rows))
    return data


def main(short: bool = False) -> None:
    n, days = (16, 5) if short else (200, 14)
    data = corpus("A", n, days, SEED_A, None)
    print(throughput(data))
    if not short:
        corpus("B", n, days, SEED_B, corpus_b_scenarios())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true")
    main(short=parser.parse_args().short)
