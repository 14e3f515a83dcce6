"""Adaptive intervals between inspections: intervals that lengthen for instruments or populations that keep
passing and shorten for those that fail.  Pure functions, no I/O.

The principle is OIML D 16:2011's adaptive system of metrological control (``/work/shared/reference/field.md``;
the document itself was not read here).  The rule is **Method 1, "automatic adjustment or staircase"
(calendar-time)** of ILAC-G24 / OIML D 10 (2007, section 3; 2022, 6.2), SECONDARY: its text was not read, only a
quotation of ILAC G24:2007 section 3 (richardrandall.com, article "optimizing calibration intervals"): "Each time
an instrument is calibrated on a routine basis, the subsequent interval is extended if it is found to be within a
certain percentage (e.g., 80%) of the maximum permissible error that is required for measurement, or reduced if it
is found to be outside this maximum permissible error."

The guide gives no amounts: by how much an interval is extended or reduced, its bounds and the percentage are the
authority's choice and are parameters here, with no defaults (:class:`StaircaseRule`).  hengqi's own choices,
not from the guide: between the percentage and the MPE the interval is kept; new intervals are rounded down to
whole days and kept within the rule's bounds; a population (model × age × region) takes the step of its sample:
"outside" when its sampling plan rejected it, "within the margin" when the plan accepted it and every sampled
instrument was within the margin, "within the MPE" otherwise (:func:`population_finding`).

>>> rule = StaircaseRule(margin=Decimal("0.8"), extend=Decimal("1.5"), reduce=Decimal("0.5"),
...                      min_days=90, max_days=1095)
>>> [s.days for s in run_staircase(365, [Finding.WITHIN_MARGIN, Finding.WITHIN_MARGIN, Finding.OUTSIDE_MPE], rule)]
[547, 820, 410]
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import Enum

from hengqi.errors import InputError

__all__ = [
    "Finding",
    "IntervalStep",
    "PopulationSchedule",
    "StaircaseRule",
    "classify",
    "due_in_month",
    "next_interval",
    "population_finding",
    "run_staircase",
]


#: Plausibility bounds on the authority's parameters (hengqi's, to refuse typing errors): a factor of at most 100
#: either way, intervals of at most 100 years.
MAX_FACTOR = Decimal(100)
MAX_DAYS = 36525


class Finding(Enum):
    """What an inspection found, as the staircase reads it."""

    WITHIN_MARGIN = "within_margin"  # within margin x MPE: extend
    WITHIN_MPE = "within_mpe"  # above the margin, within the MPE: keep (hengqi's choice)
    OUTSIDE_MPE = "outside_mpe"  # outside the MPE (or a rejected population): reduce


@dataclass(frozen=True, slots=True)
class StaircaseRule:
    """The authority's parameters: ``margin`` the fraction of the MPE within which an interval is extended
    (ILAC-G24's example: 0.8), ``extend`` (> 1) and ``reduce`` (< 1) the factors applied to the interval,
    ``min_days`` and ``max_days`` its bounds."""

    margin: Decimal
    extend: Decimal
    reduce: Decimal
    min_days: int
    max_days: int

    def __post_init__(self) -> None:
        for name in ("margin", "extend", "reduce"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise InputError(name, f"expected a finite Decimal, got {value!r}")
        if not 0 < self.margin <= 1:
            raise InputError("margin", f"must lie in (0, 1] (a fraction of the MPE), got {self.margin}")
        if not 1 < self.extend <= MAX_FACTOR:
            raise InputError("extend", f"must exceed 1 and be at most {MAX_FACTOR}, got {self.extend}")
        if not 1 / MAX_FACTOR <= self.reduce < 1:
            raise InputError("reduce", f"must lie in [{1 / MAX_FACTOR}, 1), got {self.reduce}")
        if not 1 <= self.min_days <= self.max_days <= MAX_DAYS:
            raise InputError(
                "min_days", f"need 1 <= min_days <= max_days <= {MAX_DAYS}, got {self.min_days} and {self.max_days}"
            )


@dataclass(frozen=True, slots=True)
class IntervalStep:
    """The interval after one inspection: ``days``, the ``finding`` that set it and the reason in words."""

    days: int
    finding: Finding
    reason: str


def classify(error: Decimal, mpe: Decimal, rule: StaircaseRule) -> Finding:
    """The finding for one instrument whose largest error (in absolute value) was ``error`` against ``mpe``:
    ``|error| <= margin x mpe`` within the margin, ``|error| <= mpe`` within the MPE, else outside (exact
    Decimal comparisons: a value on a boundary belongs to the better finding)."""
    if not isinstance(error, Decimal) or not isinstance(mpe, Decimal) or not error.is_finite() or not mpe.is_finite():
        raise InputError("error", f"expected finite Decimals, got {error!r} and {mpe!r}")
    if mpe <= 0:
        raise InputError("mpe", f"must be positive, got {mpe}")
    if abs(error) <= rule.margin * mpe:
        return Finding.WITHIN_MARGIN
    return Finding.WITHIN_MPE if abs(error) <= mpe else Finding.OUTSIDE_MPE


def population_finding(accepted: bool, worst_fraction: Decimal, rule: StaircaseRule) -> Finding:
    """The finding for a population from its sample: ``accepted`` by its sampling plan, and ``worst_fraction``
    the largest ``|error| / MPE`` among the sampled instruments (hengqi's mapping, see the module's docstring)."""
    if not isinstance(worst_fraction, Decimal) or not worst_fraction.is_finite() or worst_fraction < 0:
        raise InputError("worst_fraction", f"expected a finite Decimal >= 0, got {worst_fraction!r}")
    if not accepted:
        return Finding.OUTSIDE_MPE
    return Finding.WITHIN_MARGIN if worst_fraction <= rule.margin else Finding.WITHIN_MPE


def next_interval(days: int, finding: Finding, rule: StaircaseRule) -> IntervalStep:
    """The interval after an inspection with ``finding``, from the current ``days`` (ILAC-G24 Method 1)."""
    if not isinstance(finding, Finding):
        raise InputError("finding", f"expected a Finding, got {finding!r}")
    if not 1 <= days <= MAX_DAYS:
        raise InputError("days", f"must be 1 to {MAX_DAYS}, got {days}")
    if finding is Finding.WITHIN_MPE:
        return IntervalStep(days, finding, f"within the MPE but above {rule.margin} x MPE: kept at {days} d")
    factor = rule.extend if finding is Finding.WITHIN_MARGIN else rule.reduce
    raw = int((Decimal(days) * factor).to_integral_value(rounding=ROUND_FLOOR))
    new = min(rule.max_days, max(rule.min_days, raw))
    bound = "" if new == raw else f", held at the bound {new} d"
    verb = "extended" if finding is Finding.WITHIN_MARGIN else "reduced"
    return IntervalStep(new, finding, f"{verb}: {days} d x {factor} = {raw} d{bound}")


def run_staircase(initial_days: int, findings: Iterable[Finding], rule: StaircaseRule) -> tuple[IntervalStep, ...]:
    """The interval after each inspection of a sequence, starting from ``initial_days``."""
    steps: list[IntervalStep] = []
    days = initial_days
    for i, finding in enumerate(findings):
        try:
            step = next_interval(days, finding, rule)
        except InputError as err:
            raise InputError(f"findings[{i}]", err.reason) from None
        steps.append(step)
        days = step.days
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class PopulationSchedule:
    """A population (e.g. ``"model X / 5-10 / region 31"``), its current interval and its last inspection."""

    population: str
    interval_days: int
    last_inspected: date | None


def due_in_month(schedules: Sequence[PopulationSchedule], year: int, month: int) -> tuple[tuple[str, date | None], ...]:
    """The populations due for inspection in ``year``-``month``: never inspected (due ``None``, listed first) or
    with ``last_inspected + interval_days`` on or before the month's last day; earliest due first, then by name."""
    if not 1 <= month <= 12:
        raise InputError("month", f"must be 1 to 12, got {month}")
    end = date(year, month, calendar.monthrange(year, month)[1])
    due: list[tuple[str, date | None]] = []
    for s in schedules:
        if s.interval_days < 1:
            raise InputError(s.population, f"interval_days must be at least 1, got {s.interval_days}")
        when = None if s.last_inspected is None else s.last_inspected + timedelta(days=s.interval_days)
        if when is None or when <= end:
            due.append((s.population, when))
    due.sort(key=lambda d: (d[1] is not None, d[1] or date.min, d[0]))
    return tuple(due)
