"""Tampering and drift detectors scored against the field simulator's labelled ground truth.

Two corpora: **A** (seed 20261207, the scenario files as shipped: the corpus the thresholds were looked at on) and
**B** (seed 77, scenario parameters changed: smaller resistor steps 500-3 000 kg = 25-150 e, smaller tare frauds
200-800 kg, shorter cheats, counters changed by up to 9 steps; the detectors were not tuned on it).  Per detector
and scenario: incidents, detected, recall, findings, precision and false alarms per 1 000 instrument-days, each
with its 95 % Wilson interval (:mod:`hengqi.supervision.detectors.evaluation`), then the weighbridge detector's
throughput on weight-curve samples (curve and per-cell samples together, one core).

``main(short=True)``: 30 instruments x 7 days, corpus A only (under 20 s); full: 200 instruments x 14 days each.
Command: ``.venv/bin/python bench/bench_detectors.py [--short]`` (or ``bench/run.py --only detectors``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from hengqi.supervision.detectors.evaluation import Score, evaluate
from hengqi.supervision.detectors.fleet import incidents_from_field, profiles_from_field, run_field
from hengqi.supervision.detectors.weighbridge import WeighbridgeContext, WeighbridgeState, detect
from hengqi.supervision.fieldsim import FieldData, Scenario, builtin_scenarios, simulate_field
from hengqi.supervision.telemetry import Passage, TelemetryEvent

SEED_A, SEED_B = 20261207, 77
B_PARAMETERS = {
    "remote_resistor": {"added_kg": [500, 3000]},
    "tare_fraud": {"added_tare_kg": [200, 800]},
    "cheat_firmware": {"hours": [1, 2]},
    "counter_without_work_order": {"steps": [1, 9]},
}


def corpus_b_scenarios() -> tuple[Scenario, ...]:
    out = []
    for s in builtin_scenarios():
        extra = B_PARAMETERS.get(s.id, {})
        out.append(replace(s, parameters={**s.parameters, **extra}))
    return tuple(out)


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def table(rows: tuple[Score, ...]) -> str:
    head = (
        f"{'detector':<12}{'scenario':<28}{'inc':>4}{'det':>4}  {'recall':>6} {'95% CI':<13}{'find':>5}"
        f"  {'precision':>9} {'95% CI':<13}{'FA/1000 d':>9} {'95% CI':<12}"
    )
    lines = [head]
    for r in rows:
        lo, hi = r.recall_ci
        plo, phi = r.precision_ci
        rec = f"{_pct(r.recall)} [{100 * lo:3.0f},{100 * hi:3.0f}]%" if r.incidents else "   -   " + " " * 13
        prec = f"{_pct(r.precision):>9} [{100 * plo:3.0f},{100 * phi:3.0f}]%" if r.findings else f"{'-':>9}" + " " * 14
        if r.scenario == "all":
            flo, fhi = r.false_alarms_ci
            fa = f"{r.false_alarms_per_1000:9.2f} [{flo:.2f},{fhi:.2f}]"
        else:
            fa = ""
        lines.append(
            f"{r.detector:<12}{r.scenario:<28}{r.incidents:>4}{r.detected:>4}  {rec:<20}{r.findings:>5}  {prec:<23}{fa}"
        )
    return "\n".join(lines)


def throughput(data: FieldData) -> str:
    passages = [e for e in data.events if isinstance(e.body, Passage)]
    if not passages:
        return "no passages"
    samples = sum(len(p.body.curve_kg) * (1 + len(p.body.cells_kg)) for p in passages if isinstance(p.body, Passage))
    by: dict[str, list[TelemetryEvent]] = {}
    for p in passages:
        by.setdefault(p.instrument, []).append(p)
    started = time.process_time()
    for events in by.values():
        detect(WeighbridgeState(), events, WeighbridgeContext(e_kg=20.0))
    cpu = time.process_time() - started
    return (
        f"weighbridge detector: {len(passages)} passages, {samples} samples in {cpu:.2f} CPU-s = "
        f"{samples / cpu:,.0f} samples/CPU-s ({len(passages) / cpu:,.0f} passages/CPU-s)"
    )


def corpus(name: str, n: int, days: int, seed: int, scenarios: tuple[Scenario, ...] | None) -> FieldData:
    started = time.perf_counter()
    data = simulate_field(n, seed=seed, days=days, scenarios=scenarios, tamper_fraction=0.5)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    findings = run_field(data)
    ran = time.perf_counter() - started
    kinds = {p.instrument: p.site_kind for p in profiles_from_field(data)}
    print(
        f"-- corpus {name}: seed {seed}, {n} instruments x {days} days, tamper fraction 0.5, "
        f"{len(data.events)} events; simulated in {simulated:.1f} s, detectors {ran:.1f} s"
    )
    print(table(evaluate(findings, incidents_from_field(data), kinds, days=days, start=data.start)))
    return data


def main(short: bool = False) -> None:
    n, days = (30, 7) if short else (200, 14)
    data = corpus("A", n, days, SEED_A, None)
    print(throughput(data))
    if not short:
        corpus("B", n, days, SEED_B, corpus_b_scenarios())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true")
    main(short=parser.parse_args().short)
