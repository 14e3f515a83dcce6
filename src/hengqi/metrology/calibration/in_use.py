"""Uncertainty of a weighing result in use over the weighing range.

EURAMET cg-18 v4.0 section 7.4 / 7.5 and Appendix C are known to give the uncertainty of a weighing result
``W`` made later with the calibrated instrument, approximated over the range by a simple formula, and a
"global" uncertainty for results that are not corrected by the error curve.  The guide's formulas were NOT
available (``/work/shared/reference/standards.md`` section 7, "the global uncertainty U(W) and its
approximation formulas").  Everything below is therefore a **hengqi construction**, following that known
structure:

``u^2(W; R) = (d0/(2 sqrt 3))^2 + (d/(2 sqrt 3))^2 + s^2 + (R |dI_ecc|max / (2 L_ecc sqrt 3))^2
+ (R TC dT / (2 sqrt 3))^2 + u^2(E_appr(R))``

(rounding at zero and at the reading, repeatability of a single reading, eccentricity in use, a stated
temperature effect, and the uncertainty of the error curve); at each reading the expanded uncertainty
``U(W; R) = t_95.45(nu_eff(R)) u(W; R)`` (Welch-Satterthwaite, JCGM 100:2008 G.4).  The simple formula
``U(W) = 2 sqrt(alpha^2 + beta^2 R^2)`` is the envelope of ``U(W; R)`` on a grid of 201 readings from 0 to Max
plus every calibration reading: ``alpha = U(W; 0) / 2`` and
``beta^2 = max over 0 < R <= Max of ((U(W; R)/2)^2 - alpha^2) / R^2``, so it never understates the computed
expanded uncertainty on the grid, Student factors included (``sqrt(alpha^2 + beta^2 R^2)`` is then an
effective standard uncertainty, never smaller than ``u(W; R)``).  The global uncertainty of an uncorrected
result is ``U(W) + |E_appr(R)|``.

>>> from decimal import Decimal
>>> from hengqi.metrology.calibration.curve import fit_error_curve
>>> curve = fit_error_curve([Decimal("100")], [Decimal("0.02")], [0.01])
>>> w = uncertainty_in_use(max_kg=Decimal("200"), d0_kg=Decimal("0.01"), d_kg=Decimal("0.01"), s_kg=0.005,
...                        s_dof=9, curve=curve)
>>> round(w.alpha_kg, 6), round(w.beta, 9), w.U_kg(100.0) > w.U_kg(0.0)
(0.006809, 9.9461e-05, True)
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import partial

import numpy as np

from hengqi.errors import InputError
from hengqi.metrology.calibration.point import combine
from hengqi.metrology.calibration.result import (
    Component,
    Contribution,
    EccentricityResult,
    ErrorCurve,
    UncertaintyInUse,
)

_SQRT3 = math.sqrt(3.0)
_GRID = 200
#: ``U(W) = 2 sqrt(alpha^2 + beta^2 R^2)``: the factor of the simple formula (t_95.45 for nu = inf, rounded).
COVERAGE_K = 2.0


def _terms(
    reading: float,
    *,
    d0: float,
    d: float,
    s: float,
    s_dof: float,
    ecc_rel: float,
    temp_rel: float,
    curve: ErrorCurve | None,
) -> list[Contribution]:
    terms = [
        Contribution(
            "rounding-no-load",
            d0 / (2 * _SQRT3),
            math.inf,
            "rounding of the zero indication in use, d0/(2*sqrt(3))",
            Component.INDICATION,
        ),
        Contribution(
            "rounding-load",
            d / (2 * _SQRT3),
            math.inf,
            "rounding of the reading in use, d/(2*sqrt(3))",
            Component.INDICATION,
        ),
        Contribution(
            "repeatability", s, s_dof, "repeatability of a single reading in use, s", Component.INDICATION, "type-a"
        ),
        Contribution(
            "eccentricity",
            reading * ecc_rel,
            math.inf,
            "eccentricity in use, R*|dI_ecc|max/(2*L_ecc*sqrt(3))",
            Component.INDICATION,
        ),
    ]
    if temp_rel > 0:
        terms.append(
            Contribution(
                "temperature",
                reading * temp_rel,
                math.inf,
                "temperature effect in use, R*TC*dT/(2*sqrt(3)) (rectangular over the stated range)",
                Component.INDICATION,
            )
        )
    if curve is not None:
        terms.append(
            Contribution(
                "approximation",
                curve.u_kg(reading),
                math.inf,
                f"uncertainty of the error curve E_appr(R) ({curve.model})",
                Component.REFERENCE,
                "normal",
            )
        )
    return terms


def uncertainty_in_use(
    *,
    max_kg: Decimal,
    d0_kg: Decimal,
    d_kg: Decimal,
    s_kg: float,
    s_dof: float,
    curve: ErrorCurve | None,
    eccentricity: EccentricityResult | None = None,
    temperature_coefficient_per_k: float = 0.0,
    temperature_range_k: float = 0.0,
    corrected: bool = False,
    calibration_readings_kg: tuple[float, ...] = (),
) -> UncertaintyInUse:
    """The uncertainty of a weighing result in use, ``u(W) = sqrt(alpha^2 + beta^2 R^2)`` (hengqi construction
    after cg-18 v4.0 7.4/7.5 and Appendix C; see the module docstring for every term and its source).
    """
    if max_kg <= 0:
        raise InputError("instrument.max", f"must be positive, got {max_kg}")
    if d0_kg <= 0 or d_kg <= 0:
        raise InputError("instrument.d", "the scale interval must be positive")
    if not s_kg >= 0 or not math.isfinite(s_kg):
        raise InputError("repeatability", f"s must be finite and non-negative, got {s_kg!r}")
    if temperature_coefficient_per_k < 0 or temperature_range_k < 0:
        raise InputError("in_use.temperature", "the temperature coefficient and range must not be negative")
    ecc_rel = 0.0
    if eccentricity is not None:
        if eccentricity.load_kg <= 0:
            raise InputError("eccentricity.load", "must be positive")
        ecc_rel = float(eccentricity.max_deviation_kg) / (2.0 * float(eccentricity.load_kg) * _SQRT3)
    temp_rel = temperature_coefficient_per_k * temperature_range_k / (2.0 * _SQRT3)
    top = float(max_kg)
    grid = sorted({*np.linspace(0.0, top, _GRID + 1).tolist(), *(r for r in calibration_readings_kg if 0 < r <= top)})
    terms_at = partial(
        _terms, d0=float(d0_kg), d=float(d_kg), s=s_kg, s_dof=s_dof, ecc_rel=ecc_rel, temp_rel=temp_rel, curve=curve
    )
    k = COVERAGE_K
    u0, _, k0 = combine(terms_at(0.0))
    alpha2 = (k0 * u0 / k) ** 2
    beta2 = 0.0
    for reading in grid:
        terms = terms_at(reading)
        u, _, k_here = combine(terms)
        if reading > 0:
            beta2 = max(beta2, ((k_here * u / k) ** 2 - alpha2) / (reading * reading))
    at_max = tuple(terms_at(top))
    return UncertaintyInUse(
        alpha_kg=math.sqrt(alpha2),
        beta=math.sqrt(max(beta2, 0.0)),
        k=k,
        corrected=corrected,
        error_curve=curve,
        budget=at_max,
        max_kg=top,
        derivation="u^2(W) = rounding at zero and at R + s^2 + eccentricity and temperature in use + "
        "u^2(E_appr(R)); U(W; R) = t_95.45(nu_eff(R))*u(W; R); U(W) = 2*sqrt(alpha^2 + beta^2*R^2) is the "
        "envelope of U(W; R) over 0 <= R <= Max (alpha = U(W; 0)/2); U_gl = U(W) + |E_appr(R)| for "
        "uncorrected results "
        "(hengqi construction after the known structure of cg-18 v4.0 7.4/7.5 and Appendix C; the guide's "
        "formulas were not available)",
    )
