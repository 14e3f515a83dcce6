"""Zero-setting accuracy and the weighing test with tare.

Zero-setting (and tare-setting) accuracy: after zero (or tare) setting, the effect of the deviation from zero
on the result must not exceed 0.25 e (SECONDARY: cnrme.com and a third-party document quoting OIML R 76-1:2006;
clause text not read).  The deviation is found by the changeover-point method at zero: with indication
``I = 0`` and ``dL`` the load added until the indication steps to one interval, the deviation is
``E0 = I + 1/2 e - dL - L`` (R 76-1 A.4.4.3, SECONDARY).

Weighing with tare (R 76-1 A.4.6; the MPE applies to net values for all loads except preset tare, R 76-1 3.5.3,
CONFIRMED via the transpositions in ``standards.md`` 1.2): each net indication's error is checked against the
MPE for the net load.

>>> from decimal import Decimal as D
>>> from hengqi.metrology.r76.common import fixed_tolerances
>>> zero_setting_test([Reading(D(0), D(0), D("0.0015"))], fixed_tolerances(D("0.0025"), D("0.005"))).verdict
<Verdict.PASS: 'pass'>
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import Tolerances, signed, unit_of, within
from hengqi.metrology.r76.results import Check, PointResult, TestResult, Verdict
from hengqi.metrology.r76.rounding import ROUNDING_RULE, Reading
from hengqi.metrology.r76.weighing import error_point, rounding_notes, zero_error

#: Citation of the zero-setting accuracy limit.
ZERO_SETTING_RULE = "OIML R 76-1:2006, zero-setting accuracy ±0.25 e (SECONDARY: clause text not read)"
#: Citation of the tare-setting accuracy limit.
TARE_SETTING_RULE = "OIML R 76-1:2006, tare-setting accuracy ±0.25 e (SECONDARY: clause text not read)"
#: Citation of the weighing test with tare.
TARE_RULE = "OIML R 76-1:2006, A.4.6 (weighing with tare; MPE for the net load, 3.5.3)"
#: Zero- and tare-setting accuracy, in e.
SETTING_ACCURACY_E = Decimal("0.25")


def setting_accuracy_point(
    reading: Reading, tolerances: Tolerances, *, rule: str, what: str, path: str = "zero"
) -> PointResult:
    """Check the deviation from zero after zero (or tare) setting: ``|E0| <= 0.25 e``.

    >>> from decimal import Decimal as D
    >>> from hengqi.metrology.r76.common import fixed_tolerances
    >>> p = setting_accuracy_point(Reading(D(0), D(0), D("0.0045")), fixed_tolerances(D("0.0025"), D("0.005")),
    ...                            rule="r", what="zero setting")
    >>> p.verdict, p.message
    (<Verdict.FAIL: 'fail'>, 'zero setting: deviation from zero -2 g exceeds ±0.25 e = 1.25 g')
    """
    deviation = zero_error(reading, tolerances, path=path)
    e = tolerances.e_at(reading.load_kg)
    limit = SETTING_ACCURACY_E * e
    ok = within(deviation, limit)
    relation = "within" if ok else "exceeds"
    unit = unit_of(limit)
    return PointResult(
        load_kg=reading.load_kg,
        indication_kg=reading.indication_kg,
        error_kg=deviation,
        corrected_error_kg=None,
        mpe_kg=None,
        verdict=Verdict.of(ok),
        rule=f"{rule}; {ROUNDING_RULE}",
        message=(
            f"{what}: deviation from zero {signed(deviation, unit)} {relation} ±0.25 e = {format_mass(limit, unit)}"
        ),
        check=Check.ZERO_DEVIATION,
        value_kg=deviation,
        limit_kg=limit,
        label=reading.label or what,
    )


def zero_setting_test(readings: Sequence[Reading], tolerances: Tolerances, *, name: str = "zero-setting") -> TestResult:
    """Zero-setting accuracy, one check per trial (each reading at zero with its change-point addition)."""
    if not readings:
        raise InputError("points", "the zero-setting test needs at least one trial")
    points = [
        setting_accuracy_point(reading, tolerances, rule=ZERO_SETTING_RULE, what="zero setting", path=f"points[{i}]")
        for i, reading in enumerate(readings)
    ]
    return TestResult.of(name, points)


def tare_test(
    readings: Sequence[Reading],
    tolerances: Tolerances,
    *,
    tare_kg: Decimal,
    zero: Reading | None = None,
    name: str = "tare",
) -> TestResult:
    """Weighing with tare: each net indication within the MPE for the net load.

    ``readings`` carry the net load and the net indication; ``zero`` is the net zero after taring, read by the
    changeover-point method: it is checked against the tare-setting accuracy (±0.25 e, SECONDARY) and gives
    the ``E0`` that corrects the net errors.
    """
    if not readings:
        raise InputError("points", "the tare test needs at least one net load")
    points: list[PointResult] = []
    e0 = None
    if zero is not None:
        points.append(setting_accuracy_point(zero, tolerances, rule=TARE_SETTING_RULE, what="tare setting"))
        e0 = zero_error(zero, tolerances)
    points += [
        error_point(reading, tolerances, e0, rule=TARE_RULE, path=f"points[{index}]")
        for index, reading in enumerate(readings)
    ]
    notes = [f"tare {format_mass(tare_kg)}; errors of net indications against the MPE for the net load"]
    notes += rounding_notes(readings, e0, tolerances)
    return TestResult.of(name, points, notes)
