"""Repeatability test: several weighings of the same load.

Criterion (CONFIRMED: Measurement Canada STP-16, NZ TS-008, implementing OIML R 76-1:2006 A.4.10): the
difference between the results for the same load (max - min) must not exceed the absolute value of the MPE for
that load (the in-service MPE when in service), and each result must be within the MPE.  Series (SECONDARY,
R 76-1 A.4.10): about 50 % and close to 100 % of Max, 10 weighings per series when Max < 1 000 kg, otherwise at
least 3.

With change-point data the spread is taken over the errors ``E`` (equal to the spread of the indications before
rounding, the load being the same); ``E0`` cancels in a difference.

>>> from decimal import Decimal as D
>>> from hengqi.metrology.r76.common import fixed_tolerances
>>> series = [Reading(D("10"), D(i)) for i in ("10", "10.005", "10.005")]
>>> repeatability_test([series], fixed_tolerances(D("0.005"), D("0.005"))).verdict
<Verdict.PASS: 'pass'>
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import Tolerances, unit_of
from hengqi.metrology.r76.results import Check, PointResult, TestResult, Verdict
from hengqi.metrology.r76.rounding import Reading, reading_error
from hengqi.metrology.r76.weighing import error_point, rounding_notes, zero_error

#: Citation of the repeatability test.
REPEATABILITY_RULE = "OIML R 76-1:2006, A.4.10 (repeatability; criterion per Measurement Canada STP-16, NZ TS-008)"


def spread_point(series: Sequence[Reading], tolerances: Tolerances, *, label: str) -> PointResult:
    """The spread (max - min) of a series' errors, checked against ``|MPE|`` for the load.

    >>> from decimal import Decimal as D
    >>> from hengqi.metrology.r76.common import fixed_tolerances
    >>> series = [Reading(D("10"), D(i)) for i in ("9.995", "10.005")]
    >>> spread_point(series, fixed_tolerances(D("0.005"), D("0.005")), label="series 1").message
    'spread 10 g exceeds |MPE| 5 g'
    """
    load = series[0].load_kg
    errors = [reading_error(reading, tolerances.d_at(load)).error_kg for reading in series]
    spread = max(errors) - min(errors)
    limit = tolerances.mpe(load)
    ok = spread <= limit
    relation = "within" if ok else "exceeds"
    return PointResult(
        load_kg=load,
        indication_kg=None,
        error_kg=None,
        corrected_error_kg=None,
        mpe_kg=limit,
        verdict=Verdict.of(ok),
        rule=f"{REPEATABILITY_RULE}; {tolerances.mpe_rule}",
        message=f"spread {format_mass(spread, unit_of(limit))} {relation} |MPE| {format_mass(limit, unit_of(limit))}",
        check=Check.SPREAD,
        value_kg=spread,
        limit_kg=limit,
        label=label,
    )


def repeatability_test(
    series: Sequence[Sequence[Reading]],
    tolerances: Tolerances,
    *,
    zero: Reading | None = None,
    max_kg: Decimal | None = None,
    name: str = "repeatability",
) -> TestResult:
    """The repeatability test: for each series, every result within the MPE and the spread within ``|MPE|``."""
    if not series:
        raise InputError("series", "the repeatability test needs at least one series")
    e0 = zero_error(zero, tolerances) if zero is not None else None
    points: list[PointResult] = []
    notes: list[str] = []
    for number, readings in enumerate(series, start=1):
        path = f"series[{number - 1}]"
        if len(readings) < 2:
            raise InputError(f"{path}.points", "a repeatability series needs at least two weighings")
        load = readings[0].load_kg
        for index, reading in enumerate(readings):
            if reading.load_kg != load:
                raise InputError(f"{path}.points[{index}].load", "every weighing of a series uses the same load")
        label = f"series {number}"
        # the MPE of the range in use where the series names one (multiple-range instruments)
        in_use = tolerances.for_range(readings[0].range_index) if readings else tolerances
        points.append(spread_point(readings, in_use, label=label))
        points += [
            error_point(reading, tolerances, e0, rule=REPEATABILITY_RULE, path=f"{path}.points[{index}]")
            for index, reading in enumerate(readings)
        ]
        notes += [f"{label}: {note}" for note in rounding_notes(readings, e0, tolerances)]
        if max_kg is not None:
            asked = 10 if max_kg < 1000 else 3
            if len(readings) < asked:
                notes.append(
                    f"{label}: {len(readings)} weighings; R 76-1 A.4.10 asks {'' if asked == 10 else 'at least '}"
                    f"{asked} when Max {'<' if asked == 10 else '>='} 1 000 kg (SECONDARY)"
                )
    return TestResult.of(name, points, notes)
