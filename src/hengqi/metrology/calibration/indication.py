"""Contributions to the uncertainty of the indication ``u(I)`` (EURAMET cg-18 v4.0, 7.1.1).

The guide's text was not available; the clause numbers and formulas below are SECONDARY, read in a
third-party template that cites cg-18 v4.0 (``/work/shared/reference/standards.md`` section 3):

* rounding of the no-load indication ``u(dI_dig0) = d0 / (2 sqrt 3)`` and of the load indication
  ``u(dI_digL) = dL / (2 sqrt 3)``, each rectangular (7.1.1);
* repeatability ``u(dI_rep) = s`` for a single indication, ``s / sqrt(N)`` for a mean of ``N`` readings,
  with ``nu = n - 1`` of the series (7.1.1-5 / 7.1.1-6);
* eccentricity ``u(dI_ecc) = I |dI_ecc|max / (2 L_ecc sqrt 3)`` (7.1.1-10).

>>> from decimal import Decimal
>>> r = repeatability_result(Decimal("0.1"), [Decimal(x) for x in
...     ("0.1000006", "0.1000003", "0.1000005", "0.1000004", "0.1000005")])
>>> round(r.s_kg * 1e3, 10), r.dof      # s in g
(0.0001140175, 4)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import (
    Component,
    Contribution,
    EccentricityResult,
    RepeatabilityResult,
    mass_text,
)

_SQRT3 = math.sqrt(3.0)


def repeatability_result(load_kg: Decimal, readings: Sequence[Decimal]) -> RepeatabilityResult:
    """Evaluate a repeatability series: mean and experimental standard deviation ``s`` (n - 1).

    cg-18 v4.0 5.1 (SECONDARY: at least 5 loadings, at least 3 when the test load is 100 kg or more) and
    JCGM 100:2008, 4.2.2 (experimental variance, ``nu = n - 1``).  At least two readings are needed; the guide's
    minimum numbers are checked by the record layer, which knows the context.

    >>> repeatability_result(Decimal("1"), [Decimal("1.001"), Decimal("1.001")]).s_kg
    0.0
    """
    if len(readings) < 2:
        raise InputError("readings", f"a repeatability series needs at least 2 readings, got {len(readings)}")
    values = tuple(readings)
    mean = sum(values, Decimal(0)) / len(values)
    s = float(statistics.stdev(values))
    return RepeatabilityResult(load_kg=load_kg, readings=values, mean_kg=mean, s_kg=s, dof=len(values) - 1)


def eccentricity_result(
    load_kg: Decimal, positions: Sequence[str], indications: Sequence[Decimal]
) -> EccentricityResult:
    """Evaluate an eccentricity test: deviations ``dI_ecc,i = I_i - I_1`` from the first (centre) position.

    cg-18 v4.0 5.3 and 7.1.1-10 (SECONDARY): the deviation of each off-centre indication from the centre one;
    the largest magnitude feeds :func:`eccentricity_contribution`.

    >>> e = eccentricity_result(Decimal("0.1"), ["centre", "front"], [Decimal("0.1000000"), Decimal("0.0999998")])
    >>> e.max_deviation_kg
    Decimal('2E-7')
    """
    if len(positions) != len(indications):
        raise InputError("positions", f"{len(positions)} positions but {len(indications)} indications")
    if len(indications) < 2:
        raise InputError("indications", "an eccentricity test needs the centre and at least one other position")
    first = indications[0]
    deviations = tuple(i - first for i in indications)
    return EccentricityResult(
        load_kg=load_kg,
        positions=tuple(positions),
        indications_kg=tuple(indications),
        deviations_kg=deviations,
        max_deviation_kg=max(abs(x) for x in deviations),
    )


def rounding_contribution(d_kg: Decimal, *, at_load: bool) -> Contribution:
    """Rounding error of a digital indication, rectangular over ``±d/2``: ``u = d / (2 sqrt 3)``.

    cg-18 v4.0 7.1.1 (SECONDARY): one term at no load (``d0``) and one at load (``dL``).

    >>> round(rounding_contribution(Decimal("0.0000001"), at_load=True).u_kg, 16)
    2.88675135e-08
    """
    if d_kg <= 0:
        raise InputError("d", f"the scale interval must be positive, got {d_kg}")
    name, where = ("rounding-load", "dL") if at_load else ("rounding-no-load", "d0")
    return Contribution(
        name=name,
        u_kg=float(d_kg) / (2.0 * _SQRT3),
        dof=math.inf,
        description=f"rounding of the {'load' if at_load else 'no-load'} indication, {where}/(2*sqrt(3)) with "
        f"{where} = {mass_text(d_kg)} (cg-18 v4.0 7.1.1, SECONDARY)",
        component=Component.INDICATION,
    )


def repeatability_contribution(series: RepeatabilityResult, readings_averaged: int = 1) -> Contribution:
    """Repeatability: ``u = s / sqrt(N)`` for an indication that is the mean of ``N`` readings (``N = 1``: ``s``),
    with ``nu = n - 1`` of the series.

    cg-18 v4.0 7.1.1-5 / 7.1.1-6 (SECONDARY).  The series is usually made at one load and applied to all
    test points (cg-18 7.1.1, SECONDARY).

    >>> from decimal import Decimal
    >>> s = repeatability_result(Decimal("1"), [Decimal("1.0"), Decimal("1.2")])
    >>> c = repeatability_contribution(s, 2)
    >>> round(c.u_kg, 12), c.dof
    (0.1, 1.0)
    """
    if readings_averaged < 1:
        raise InputError("readings", f"the number of readings averaged must be at least 1, got {readings_averaged}")
    u = series.s_kg / math.sqrt(readings_averaged)
    how = "s" if readings_averaged == 1 else f"s/sqrt({readings_averaged})"
    return Contribution(
        name="repeatability",
        u_kg=u,
        dof=float(series.dof),
        description=f"repeatability, {how} with s = {mass_text(series.s_kg)} from {len(series.readings)} readings at "
        f"{mass_text(series.load_kg)}, nu = {series.dof} (cg-18 v4.0 7.1.1-5/-6, SECONDARY)",
        component=Component.INDICATION,
        distribution="type-a",
    )


def eccentricity_contribution(indication_kg: Decimal, test: EccentricityResult) -> Contribution:
    """Eccentricity: ``u(dI_ecc) = I |dI_ecc|max / (2 L_ecc sqrt 3)``, rectangular.

    cg-18 v4.0 7.1.1-10 (SECONDARY): the largest deviation found at ``L_ecc`` is scaled to the indication and
    taken as the half-width ``I |dI|max / (2 L_ecc)`` of a rectangular distribution.

    >>> t = eccentricity_result(Decimal("0.1"), ["1", "2"], [Decimal("0.1"), Decimal("0.1000002")])
    >>> round(eccentricity_contribution(Decimal("0.1000006"), t).u_kg * 1e3, 10)  # g
    5.77354e-05
    """
    if test.load_kg <= 0:
        raise InputError("eccentricity.load", f"the eccentricity test load must be positive, got {test.load_kg}")
    u = abs(float(indication_kg)) * float(test.max_deviation_kg) / (2.0 * float(test.load_kg) * _SQRT3)
    return Contribution(
        name="eccentricity",
        u_kg=u,
        dof=math.inf,
        description="eccentricity, I*|dI_ecc|max/(2*L_ecc*sqrt(3)) with "
        f"|dI_ecc|max = {mass_text(test.max_deviation_kg)} at L_ecc = {mass_text(test.load_kg)} "
        "(cg-18 v4.0 7.1.1-10, SECONDARY)",
        component=Component.INDICATION,
    )
