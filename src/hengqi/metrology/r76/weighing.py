"""Weighing test: errors at increasing and decreasing loads against the MPE.

The error at each load is found with the rounding error eliminated by change-point weights where the record
gives them (OIML R 76-1:2006, A.4.4.3; SECONDARY, see :mod:`hengqi.metrology.r76.rounding`), corrected by the
error at or near zero ``E0`` determined the same way, and compared with the MPE for that load at the stage
(R 76-1 3.5.1 Table 6, CONFIRMED; in service 2 x the initial MPE, R 76-1 3.5.2).  A point without change-point
data is assessed on ``E = I - L``, and its result says that rounding was not eliminated.

Derived case (class III, e = d = 5 g; ``standards.md`` 1.4, DERIVED): at 5 000 g the indication 5 005 g with
dL = 0.5 g gives E = +7 g > MPE 5 g, a failure the naive ``I - L = +5 g`` would hide.

>>> from decimal import Decimal as D
>>> from hengqi.metrology.r76.common import fixed_tolerances
>>> result = weighing_test([Reading(D("5"), D("5.005"), D("0.0005"))], fixed_tolerances(D("0.005"), D("0.005")))
>>> result.verdict, result.points[0].error_kg
(<Verdict.FAIL: 'fail'>, Decimal('0.0070'))
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import Tolerances, signed, unit_of, within
from hengqi.metrology.r76.results import Check, PointResult, TestResult, Verdict
from hengqi.metrology.r76.rounding import ROUNDING_RULE, Reading, check_change_point_load, reading_error

#: Citation of the weighing test.
WEIGHING_RULE = "OIML R 76-1:2006, A.4.4 (weighing test)"


def zero_error(zero: Reading, tolerances: Tolerances, *, path: str = "zero") -> Decimal:
    """``E0``: the error at or near zero, determined by the changeover-point method (R 76-1 A.4.4.3, SECONDARY).

    The reading must carry its change-point addition: ``E0`` is only meaningful when determined the same way
    as the errors it corrects.

    >>> from decimal import Decimal as D
    >>> from hengqi.metrology.r76.common import fixed_tolerances
    >>> zero_error(Reading(D("0.05"), D("0.05"), D("0.002")), fixed_tolerances(D("0.0025"), D("0.005")))
    Decimal('0.0005')
    """
    if zero.change_point_kg is None:
        raise InputError(f"{path}.change_point", "the error at zero E0 needs the change-point addition dL")
    interval = tolerances.d_at(zero.load_kg)
    check_change_point_load(zero.change_point_kg, interval, path=f"{path}.change_point")
    return reading_error(zero, interval).error_kg


def error_point(
    reading: Reading,
    tolerances: Tolerances,
    zero_error_kg: Decimal | None,
    *,
    rule: str,
    path: str = "point",
) -> PointResult:
    """Check one reading's error against the MPE for its load (``|Ec| <= MPE``, or ``|E|`` without ``E0``).

    The rule citation names the test (``rule``), the MPE table and, where used, the changeover-point method.
    On a multiple-range instrument the MPE, e and d (and so the change-point limit, one d of the range in use)
    are those of the reading's range in use (:attr:`Reading.range_index`).
    """
    tolerances = tolerances.for_range(reading.range_index)
    interval = tolerances.d_at(reading.load_kg)
    if reading.change_point_kg is not None:
        check_change_point_load(reading.change_point_kg, interval, path=f"{path}.change_point")
    found = reading_error(reading, interval, zero_error_kg)
    limit = tolerances.mpe(reading.load_kg)
    ok = within(found.assessed_kg, limit)
    name = "Ec" if found.corrected_error_kg is not None else "E"
    how = "" if found.rounding_eliminated else " (rounding error not eliminated: E = I - L)"
    relation = "within" if ok else "exceeds"
    unit = unit_of(limit)
    message = f"{name} = {signed(found.assessed_kg, unit)} {relation} MPE ±{format_mass(limit, unit)}{how}"
    citation = f"{rule}; {tolerances.mpe_rule}"
    if found.rounding_eliminated:
        citation += f"; {ROUNDING_RULE}"
    return PointResult(
        load_kg=reading.load_kg,
        indication_kg=reading.indication_kg,
        error_kg=found.error_kg,
        corrected_error_kg=found.corrected_error_kg,
        mpe_kg=limit,
        verdict=Verdict.of(ok),
        rule=citation,
        message=message,
        check=Check.ERROR,
        value_kg=found.assessed_kg,
        limit_kg=limit,
        label=reading.label,
    )


def rounding_notes(readings: Sequence[Reading], zero_error_kg: Decimal | None, tolerances: Tolerances) -> list[str]:
    """Notes saying where the rounding error was not eliminated (and whether R 76 asks for it), or ``E0`` not
    determined.  Elimination is asked where d > 0.2 e (R 76-1 3.5.3.2, SECONDARY)."""
    notes = []
    naive = [reading for reading in readings if reading.change_point_kg is None]
    if naive:
        coarse = sum(1 for r in naive if 5 * tolerances.d_at(r.load_kg) > tolerances.e_at(r.load_kg))
        text = f"rounding error not eliminated at {len(naive)} of {len(readings)} points (E = I - L)"
        if coarse:
            text += f"; {coarse} of them with d > 0.2 e, where R 76-1 asks for elimination (3.5.3.2, SECONDARY)"
        else:
            text += "; not needed with d <= 0.2 e (R 76-1 3.5.3.2, SECONDARY)"
        notes.append(text)
    if zero_error_kg is None and len(naive) < len(readings):
        notes.append("error at zero E0 not determined: errors are not corrected (Ec = E)")
    return notes


def weighing_test(
    readings: Sequence[Reading],
    tolerances: Tolerances,
    *,
    zero: Reading | None = None,
    name: str = "weighing",
) -> TestResult:
    """The weighing test (R 76-1 A.4.4): each reading's error within the MPE for its load.

    ``readings`` are the increasing and decreasing loads in the order applied, each labelled with its
    direction; ``zero`` is the reading at or near zero used to determine ``E0``.
    """
    if not readings:
        raise InputError("points", "the weighing test needs at least one load")
    e0 = zero_error(zero, tolerances) if zero is not None else None
    points = [
        error_point(reading, tolerances, e0, rule=WEIGHING_RULE, path=f"points[{index}]")
        for index, reading in enumerate(readings)
    ]
    notes = rounding_notes(readings, e0, tolerances)
    if e0 is not None and zero is not None:
        where = "zero" if zero.load_kg == 0 else format_mass(zero.load_kg)
        notes.append(f"E0 = {signed(e0, unit_of(tolerances.d_at(zero.load_kg)))} at {where}")
    labels = {reading.label for reading in readings}
    if "decreasing" not in labels:
        notes.append("no decreasing loads recorded (the weighing test applies increasing and decreasing loads)")
    return TestResult.of(name, points, notes)
