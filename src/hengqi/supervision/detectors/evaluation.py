"""Scoring detector findings against labelled ground truth (the field simulator's labels).

Per detector and per scenario it targets:

* **recall** = incidents with at least one matching finding / incidents;
* **precision** = findings that match a targeted incident / all findings of the detector;
* **false-alarm rate** = instrument-days with at least one unmatched finding, per 1 000 instrument-days of the
  instruments the detector runs on; and unmatched findings per 1 000 weighings (transactions and passages) of
  those instruments;
* **detection delay** per detected incident: hours from its start to the first matching finding, the number of
  the incident's own events up to the first one named by a finding, and (drift) the check-weighings and
  zero-settings from its start to the finding.

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
    "drift": ("drift", "stored_offset"),
    "availability": ("offline", "events_dropped"),
}
#: The site kinds each detector runs on.
APPLIES: Mapping[str, tuple[str, ...]] = {
    "seal": ("market", "weighbridge"),
    "weighbridge": ("weighbridge",),
    "retail": ("market",),
    "drift": ("market", "weighbridge"),
    "availability": ("market", "weighbridge"),
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
    """One row of the evaluation: a detector and a scenario (``"all"`` for the detector's whole target set).

    ``false_findings`` and ``weighings`` (transactions and passages of the instruments the detector runs on) give
    the false alarms per 1 000 weighings; ``delays_h`` is, per detected incident, the hours from its start to the
    first matching finding, ``delays_events`` the number of the incident's own events up to and including the
    first one a finding names (where the incident has events), ``delays_checks`` the check-weighings and
    zero-settings of the instrument from the incident's start up to the finding (drift).
    """

    detector: str
    scenario: str
    incidents: int
    detected: int
    findings: int
    true_findings: int
    false_alarm_days: int
    instrument_days: int
    false_findings: int = 0
    weighings: int = 0
    delays_h: tuple[float, ...] = ()
    delays_events: tuple[int, ...] = ()
    delays_checks: tuple[int, ...] = ()

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

    @property
    def false_per_1000_weighings(self) -> float:
        return 1000 * self.false_findings / self.weighings if self.weighings else 0.0

    @property
    def false_per_1000_weighings_ci(self) -> tuple[float, float]:
        lo, hi = wilson(min(self.false_findings, self.weighings), self.weighings)
        return (1000 * lo, 1000 * hi)


def _matches(finding: Finding, incident: Incident) -> bool:
    if finding.instrument != incident.instrument:
        return False
    if set(finding.seqs) & set(incident.seqs):
        return True
    return incident.start <= finding.time <= incident.end


#: Incidents shorter than this do not count towards recall (a finding on them is still not a false alarm):
#: an offline period shorter than the availability detector's 2 h threshold is not one it should report.
MIN_DURATION_S: Mapping[str, float] = {"offline": 7200.0}


def _delays(
    incident: Incident, hits: Sequence[Finding], checks: Mapping[str, Sequence[datetime]]
) -> tuple[float, int | None, int]:
    first = min(hits, key=lambda f: f.time)
    hours = max(0.0, (first.time - incident.start).total_seconds() / 3600)
    named = sorted(set(incident.seqs) & {q for f in hits for q in f.seqs})
    events = incident.seqs.index(named[0]) + 1 if named and named[0] in incident.seqs else None
    times = checks.get(incident.instrument, ())
    n_checks = sum(1 for t in times if incident.start <= t <= first.time)
    return hours, events, n_checks


def evaluate(
    findings: Iterable[Finding],
    incidents: Iterable[Incident],
    site_kinds: Mapping[str, str],
    *,
    days: int,
    start: datetime,
    detectors: Sequence[str] = tuple(TARGETS),
    weighings: Mapping[str, int] | None = None,
    checks: Mapping[str, Sequence[datetime]] | None = None,
) -> tuple[Score, ...]:
    """Score each detector (row ``"all"``) and each targeted scenario (see the module docstring).

    ``site_kinds`` maps every instrument of the field to its kind; ``days`` and ``start`` give the period;
    ``weighings`` the number of weighings per instrument, ``checks`` the times of its check-weighings and
    zero-settings (both optional, for the per-weighing false-alarm rate and the delays in checks).
    """
    all_findings = tuple(findings)
    all_incidents = tuple(incidents)
    counts = weighings or {}
    check_times = checks or {}
    rows: list[Score] = []
    for name in detectors:
        mine = [f for f in all_findings if f.detector == name]
        targeted = [i for i in all_incidents if i.scenario in TARGETS[name]]
        by_instrument: dict[str, list[Incident]] = {}
        for inc in targeted:
            by_instrument.setdefault(inc.instrument, []).append(inc)
        matched = [any(_matches(f, i) for i in by_instrument.get(f.instrument, ())) for f in mine]
        fa_days = {(f.instrument, (f.time - start).days) for f, ok in zip(mine, matched, strict=True) if not ok}
        applies = [i for i, kind in site_kinds.items() if kind in APPLIES[name]]
        inst_days = days * len(applies)
        n_weighings = sum(counts.get(i, 0) for i in applies)
        false = sum(1 for ok in matched if not ok)
        for scenario in ("all", *TARGETS[name]):
            incs = [
                i
                for i in targeted
                if (scenario in ("all", i.scenario))
                and (i.end - i.start).total_seconds() >= MIN_DURATION_S.get(i.scenario, 0.0)
            ]
            hours: list[float] = []
            events: list[int] = []
            n_checks: list[int] = []
            detected = 0
            for inc in incs:
                hits = [f for f in mine if f.instrument == inc.instrument and _matches(f, inc)]
                if not hits:
                    continue
                detected += 1
                h, ev, ck = _delays(inc, hits, check_times)
                hours.append(h)
                if ev is not None:
                    events.append(ev)
                n_checks.append(ck)
            delays = (tuple(hours), tuple(events), tuple(n_checks))
            if scenario == "all":
                rows.append(
                    Score(
                        name,
                        scenario,
                        len(incs),
                        detected,
                        len(mine),
                        sum(matched),
                        len(fa_days),
                        inst_days,
                        false,
                        n_weighings,
                        *delays,
                    )
                )
            else:
                every = [i for i in targeted if i.scenario == scenario]
                true = sum(1 for f in mine if any(_matches(f, i) for i in every))
                rows.append(Score(name, scenario, len(incs), detected, true, true, 0, 0, 0, 0, *delays))
    return tuple(rows)
