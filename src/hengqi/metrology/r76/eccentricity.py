"""Eccentricity test: the same load at different positions of the load receptor.

Test load (CONFIRMED in national texts aligned with OIML R 76-1:2006 A.4.7: NZ Weights and Measures Regulations
1999 reg. 60; UK NISR 2006/5 Sch 2 para 18; see ``standards.md`` 1.4):

- 4 or fewer supports: 1/3 x (Max + maximum additive tare) on each quarter segment of the load receptor;
- more than 4 supports: (Max + T) / (n - 1) over each support, n being the number of supports.

Each indication must be within the MPE for the load applied (SECONDARY).  The load actually used may be rounded
down from the load the rule asks by at most 200 e in class II and 20 e in classes III and IIII (NZ TS-007,
national practice); no allowance was found for class I, so there the full load is asked.  A smaller load makes
the test fail (it is not the test R 76 describes); a larger one is noted.

>>> from decimal import Decimal as D
>>> eccentricity_test_load(D("15"), 4)
Decimal('5')
>>> eccentricity_test_load(D("30000"), 8).quantize(D("0.1"))
Decimal('4285.7')
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import Tolerances, shown
from hengqi.metrology.r76.results import Check, PointResult, TestResult, Verdict
from hengqi.metrology.r76.rounding import Reading
from hengqi.metrology.r76.weighing import error_point, rounding_notes, zero_error

#: Citation of the eccentricity test.
ECCENTRICITY_RULE = "OIML R 76-1:2006, A.4.7 (eccentricity; as implemented in NZ reg. 60 and UK NISR 2006/5)"
#: Citation of the allowance for rounding the test load down.
ALLOWANCE_RULE = "NZ Trading Standards TS-007 (national practice: load may be rounded down by 200 e / 20 e)"

#: How many e the eccentricity load may be rounded down, per accuracy class (NZ TS-007).  Class I: none found.
ROUND_DOWN_ALLOWANCE_E: dict[str, Decimal] = {
    "I": Decimal(0),
    "II": Decimal(200),
    "III": Decimal(20),
    "IIII": Decimal(20),
}


def eccentricity_test_load(max_kg: Decimal, supports: int, max_additive_tare_kg: Decimal = Decimal(0)) -> Decimal:
    """The load the rule asks: (Max + T)/3 for 4 or fewer supports, (Max + T)/(n - 1) for more.

    Exact where the quotient terminates; otherwise to the 28 significant digits of the decimal context.

    >>> from decimal import Decimal as D
    >>> eccentricity_test_load(D("6"), 4, D("3"))
    Decimal('3')
    """
    if supports < 1:
        raise InputError("supports", f"the number of supports must be at least 1, got {supports}")
    total = max_kg + max_additive_tare_kg
    divisor = 3 if supports <= 4 else supports - 1
    quotient = total / divisor
    return quotient.normalize() if quotient == quotient.to_integral_value() else quotient


def eccentricity_positions(supports: int) -> int:
    """How many positions the test uses: the centre and four quarter segments (<= 4 supports), else each support.

    >>> eccentricity_positions(4), eccentricity_positions(8)
    (5, 8)
    """
    return 5 if supports <= 4 else supports


def check_test_load(
    load_kg: Decimal,
    *,
    max_kg: Decimal,
    supports: int,
    max_additive_tare_kg: Decimal,
    accuracy_class: str,
    e_kg: Decimal,
) -> tuple[PointResult, str | None]:
    """Check the load actually used against the load the rule asks, with the NZ TS-007 rounding-down allowance.

    Returns the check and, where the load is larger than asked, a note.

    >>> from decimal import Decimal as D
    >>> point, note = check_test_load(D("4000"), max_kg=D("30000"), supports=8, max_additive_tare_kg=D(0),
    ...                               accuracy_class="III", e_kg=D("10"))
    >>> point.verdict, point.limit_kg
    (<Verdict.FAIL: 'fail'>, Decimal('4085.714285714285714285714286'))
    """
    asked = eccentricity_test_load(max_kg, supports, max_additive_tare_kg)
    allowance = ROUND_DOWN_ALLOWANCE_E.get(accuracy_class, Decimal(0)) * e_kg
    lowest = asked - allowance
    ok = load_kg >= lowest
    how = f"(Max + T)/{3 if supports <= 4 else supports - 1}"
    if ok:
        message = f"test load {format_mass(load_kg)}; the rule asks {how} = {shown(asked)}"
    else:
        message = (
            f"test load {format_mass(load_kg)} is below {shown(lowest)}: the rule asks {how} = "
            f"{shown(asked)}, rounded down by at most {format_mass(allowance)}"
        )
    note = None
    if load_kg > asked:
        note = f"test load {format_mass(load_kg)} is above the {shown(asked)} the rule asks"
    point = PointResult(
        load_kg=load_kg,
        indication_kg=None,
        error_kg=None,
        corrected_error_kg=None,
        mpe_kg=None,
        verdict=Verdict.of(ok),
        rule=f"{ECCENTRICITY_RULE}; {ALLOWANCE_RULE}",
        message=message,
        check=Check.TEST_LOAD,
        value_kg=load_kg,
        limit_kg=lowest,
        label="test load",
    )
    return point, note


def eccentricity_test(
    readings: Sequence[Reading],
    tolerances: Tolerances,
    *,
    max_kg: Decimal,
    supports: int,
    accuracy_class: str,
    max_additive_tare_kg: Decimal = Decimal(0),
    zero: Reading | None = None,
    name: str = "eccentricity",
) -> TestResult:
    """The eccentricity test: the test load checked, then each position's error within the MPE for the load.

    ``readings`` are labelled with their positions and all carry the same load.
    """
    if not readings:
        raise InputError("points", "the eccentricity test needs at least one position")
    load = readings[0].load_kg
    for index, reading in enumerate(readings):
        if reading.load_kg != load:
            raise InputError(f"points[{index}].load", "every position of the eccentricity test uses the same load")
    load_check, load_note = check_test_load(
        load,
        max_kg=max_kg,
        supports=supports,
        max_additive_tare_kg=max_additive_tare_kg,
        accuracy_class=accuracy_class,
        e_kg=tolerances.e_at(load),
    )
    e0 = zero_error(zero, tolerances) if zero is not None else None
    points = [load_check]
    points += [
        error_point(reading, tolerances, e0, rule=ECCENTRICITY_RULE, path=f"points[{index}]")
        for index, reading in enumerate(readings)
    ]
    notes = rounding_notes(readings, e0, tolerances)
    if load_note:
        notes.append(load_note)
    expected = eccentricity_positions(supports)
    if len(readings) < expected:
        where = "the centre and four quarter segments" if supports <= 4 else f"each of the {supports} supports"
        notes.append(f"{len(readings)} positions recorded; the test uses {expected} ({where})")
    return TestResult.of(name, points, notes)
