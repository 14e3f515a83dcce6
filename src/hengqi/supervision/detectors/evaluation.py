"""Scoring detector findings against labelled ground truth (the field simulator's labels).

Per detector and per scenario it targets:

* **recall** = incidents with at least one matching finding / incidents;
* **precision** = findings that match a targeted incident / all findings of the detector;
* **false-alarm rate** = instrument-days with at least one unmatched finding, per 1 000 instrument-days of the
  instruments the detector runs on.

A finding matches an incident when it is on the same instrument, the incident's scenario is one the detector
targets, and the finding's seqs meet the incident's seqs or its time lies within the incident's [start, end].
Each proportion comes with its 95 % Wilson score interval (Wilson 1927, J. Am. Stat. Assoc. 22:209-212).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hengqi.supervision.detectors import Finding

#: The labelled scenarios each detector is meant to find (ids of hengqi/supervision/scenarios/*.yaml, and "drift").
TARGETS: Mapping[str, tuple[str, ...]] = {
    "seal": ("counter_without_work_order", "software_checksum_change", "case_opened"),
    "weighbridge": ("remote_resistor", "tare_fraud", "wheel_off_platform", "braking_on_platform"),
    "retail": ("cheat_firmware", "stored_offset"),
    "drift": ("drift",),
}
#: The site kinds each detector runs on.
APPLIES: Mapping[str, tuple[str, ...]] = {
    "seal": ("market", "weighbridge"),
    "weighbridge": ("weighbridge",),
    "retail": ("market",),
    "drift": ("market", "weighbridge"),
}
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (0, 1 when n = 0).

    >>> [round(x, 4) for x in wilson(0, 10)]
    [0.0, 0.2775]
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Incident:
    """One labelled incident (instrument, scenario, time window, the seqs of the events that show it)."""

    instrument: str
    scenario: str
    start: datetime
    end: datetime
    seqs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Score:
    """One row of the evaluation: a detector and a scenario (``"all"`` for the detector's whole target set)."""

    detector: str
    scenario: str
    incidents: int
    detected: int
    findings: int
    true_findings: int
    false_alarm_days: int
    instrument_days: int

    @property
    def recall(self) -> float | None:
        return self.detected / self.incidents if self.incidents else None

    @property
    def recall_ci(self) -> tuple[float, float]:
        return wilson(self.detected, self.incidents)

    @property
    def precision(self) -> float | None:
        return self.true_findings / self.findings if self.findings else None

    @property
    def precision_ci(self) -> tuple[float, float]:
        return wilson(self.true_findings, self.findings)

    @property
    def false_alarms_per_1000(self) -> float:
        return 1000 * self.false_alarm_days / self.instrument_days if self.instrument_days else 0.0

    @property
    def false_alarms_ci(self) -> tuple[float, float]:
        lo, hi = wilson(self.false_alarm_days, self.instrument_days)
        return (1000 * lo, 1000 * hi)


def _matches(finding: Finding, incident: Incident) -> bool:
    if finding.instrument != incident.instrument:
        return False
    if set(finding.seqs) & set(incident.seqs):
        return True
    return incident.start <= finding.time <= incident.end


def evaluate(
    findings: Iterable[Finding],
    incidents: Iterable[Incident],
    site_kinds: Mapping[str, str],
    *,
    days: int,
    start: datetime,
    detectors: Sequence[str] = tuple(TARGETS),
) -> tuple[Score, ...]:
    """Score each detector (row ``"all"``) and each targeted scenario (see the module docstring).

    ``site_kinds`` maps every instrument of the field to its kind; ``days`` and ``start`` give the period.
    """
    all_findings = tuple(findings)
    all_incidents = tuple(incidents)
    rows: list[Score] = []
    for name in detectors:
        mine = [f for f in all_findings if f.detector == name]
        targeted = [i for i in all_incidents if i.scenario in TARGETS[name]]
        by_instrument: dict[str, list[Incident]] = {}
        for inc in targeted:
            by_instrument.setdefault(inc.instrument, []).append(inc)
        matched = [any(_matches(f, i) for i in by_instrument.get(f.instrument, ())) for f in mine]
        fa_days = {(f.instrument, (f.time - start).days) for f, ok in zip(mine, matched, strict=True) if not ok}
        inst_days = days * sum(1 for kind in site_kinds.values() if kind in APPLIES[name])
        for scenario in ("all", *TARGETS[name]):
            incs = targeted if scenario == "all" else [i for i in targeted if i.scenario == scenario]
            detected = sum(1 for i in incs if any(_matches(f, i) for f in mine if f.instrument == i.instrument))
            if scenario == "all":
                rows.append(
                    Score(name, scenario, len(incs), detected, len(mine), sum(matched), len(fa_days), inst_days)
                )
            else:
                true = sum(1 for f in mine if any(_matches(f, i) for i in incs))
                rows.append(Score(name, scenario, len(incs), detected, true, true, 0, 0))
    return tuple(rows)
