"""Discrimination test: an extra load of 1.4 d at the change point must change the indication.

Rule (CONFIRMED: Measurement Canada LG-3.02 and STP-14, implementing OIML R 76-1:2006 A.4.8): adding or removing
an extra load of 1.4 d, gently, at the change point must change the indication by at least d (the actual scale
interval at that load).  Procedure: bring the indication to a change point with 0.1 d weights, remove one
0.1 d weight, then add (or remove) 1.4 d.  Test points (SECONDARY, R 76-1 A.4.8 per a secondary source): Min,
50 % Max and Max.

>>> from decimal import Decimal as D
>>> point = DiscriminationReading(D("7.5"), D("7.5"), D("7.505"), D("0.007"))
>>> discrimination_test([point], d_at=lambda load: D("0.005")).verdict
<Verdict.PASS: 'pass'>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import LoadFunction, unit_of
from hengqi.metrology.r76.results import Check, PointResult, TestResult, Verdict

#: Citation of the discrimination test.
DISCRIMINATION_RULE = "OIML R 76-1:2006, A.4.8 (discrimination; per Measurement Canada LG-3.02, STP-14)"
#: The extra load, in actual scale intervals d.
EXTRA_LOAD_D = Decimal("1.4")


@dataclass(frozen=True, slots=True)
class DiscriminationReading:
    """The indication at the change point (``indication_kg``) and after the extra load (``indication_after_kg``).

    ``extra_load_kg`` is the load added (or removed, with ``removed``): it must be 1.4 d.
    """

    load_kg: Decimal
    indication_kg: Decimal
    indication_after_kg: Decimal
    extra_load_kg: Decimal
    removed: bool = False
    label: str = ""


def discrimination_point(reading: DiscriminationReading, d_kg: Decimal, *, path: str = "point") -> PointResult:
    """Check one discrimination reading: the indication moves by at least d in the direction of the extra load.

    >>> from decimal import Decimal as D
    >>> r = DiscriminationReading(D("7.5"), D("7.5"), D("7.5"), D("0.007"))
    >>> discrimination_point(r, D("0.005")).message
    'adding 7 g (1.4 d) changed the indication by 0 g, less than d = 5 g'
    """
    asked = EXTRA_LOAD_D * d_kg
    if reading.extra_load_kg != asked:
        raise InputError(
            f"{path}.extra_load",
            f"the extra load must be 1.4 d = {format_mass(asked)}, got {format_mass(reading.extra_load_kg)}",
        )
    change = reading.indication_after_kg - reading.indication_kg
    if reading.removed:
        change = -change
    ok = change >= d_kg
    verb = "removing" if reading.removed else "adding"
    unit = unit_of(d_kg)
    relation = "at least" if ok else "less than"
    return PointResult(
        load_kg=reading.load_kg,
        indication_kg=reading.indication_after_kg,
        error_kg=None,
        corrected_error_kg=None,
        mpe_kg=None,
        verdict=Verdict.of(ok),
        rule=DISCRIMINATION_RULE,
        message=(
            f"{verb} {format_mass(asked, unit)} (1.4 d) changed the indication by {format_mass(abs(change), unit)}, "
            f"{relation} d = {format_mass(d_kg, unit)}"
        ),
        check=Check.CHANGE,
        value_kg=change,
        limit_kg=d_kg,
        label=reading.label,
    )


def discrimination_test(
    readings: Sequence[DiscriminationReading], *, d_at: LoadFunction, name: str = "discrimination"
) -> TestResult:
    """The discrimination test at each load given."""
    if not readings:
        raise InputError("points", "the discrimination test needs at least one load")
    points = [
        discrimination_point(reading, d_at(reading.load_kg), path=f"points[{index}]")
        for index, reading in enumerate(readings)
    ]
    return TestResult.of(name, points)
