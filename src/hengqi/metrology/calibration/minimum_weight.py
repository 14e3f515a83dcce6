"""Minimum weight: the smallest net load whose weighing meets a relative tolerance.

Two rules:

* **USP <41>** (revision effective 2019-08-01; CONFIRMED for the core rules, see
  ``/work/shared/reference/standards.md`` section 4): repeatability is satisfactory when
  ``2 s / m <= 0.10 %``; where ``s < 0.41 d``, ``0.41 d`` is used instead.  Hence
  ``m_min = 2 max(s, 0.41 d) / 0.001 = 2000 max(s, 0.41 d)``.  A safety factor (USP <1251>, text NOT FOUND
  verbatim; seen in vendor summaries only) multiplies the result.
* **cg-18 style**: the concept (the smallest mass that still meets a predefined relative tolerance given the
  uncertainty of a weighing result) is CONFIRMED (Acta IMEKO 8 (2019) 3, abstract); the cg-18 formula was
  NOT FOUND.  hengqi solves ``SF U(m) / m = tolerance`` with ``U(m)`` from
  :class:`~hengqi.metrology.calibration.result.UncertaintyInUse` (the global ``U_gl`` for uncorrected
  results): for ``U = k sqrt(alpha^2 + beta^2 m^2)`` this gives
  ``m_min = k alpha / sqrt((tol/SF)^2 - k^2 beta^2)`` (hengqi construction).  The safety factor ``SF`` is
  applied as ``SF U(m) / m <= tol`` in both rules (for USP <41> this is exactly ``SF * 2000 s``).

>>> round(usp41_minimum_weight(0.00015e-3, None).value_kg * 1e3, 9)   # s = 0.00015 g -> 0.3 g
0.3
"""

from __future__ import annotations

import math
from decimal import Decimal

from scipy import optimize

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import MinimumWeight, MinimumWeightMethod, UncertaintyInUse

#: USP <41> limits: ``2 s / m <= 0.10 %``, ``s >= 0.41 d`` (CONFIRMED).
USP41_K = 2.0
USP41_TOLERANCE = 0.001
USP41_S_FLOOR_D = Decimal("0.41")
#: USP <41>: repeatability is assessed from at least 10 replicate weighings of one test weight (CONFIRMED,
#: ``/work/shared/reference/standards.md`` section 4); fewer readings certify no USP <41> minimum weight.
USP41_MIN_READINGS = 10

_USP41_RULE = (
    "USP <41> Balances (revision 2019-08-01): 2 s / m <= 0.10 %, s >= 0.41 d (CONFIRMED core rule); "
    "safety factor per USP <1251> (text NOT FOUND verbatim)"
)


def _check_safety_factor(safety_factor: float) -> None:
    if not safety_factor >= 1.0 or not math.isfinite(safety_factor):
        raise InputError("minimum_weight.safety_factor", f"must be at least 1, got {safety_factor!r}")


def usp41_minimum_weight(s_kg: float, d_kg: Decimal | None, *, safety_factor: float = 1.0) -> MinimumWeight:
    """USP <41> minimum weight ``SF * 2000 * max(s, 0.41 d)`` (see the module docstring; CONFIRMED rule).

    ``d_kg`` is the actual scale interval; ``None`` applies no 0.41 d floor (as in the Shimadzu examples).

    >>> round(usp41_minimum_weight(0.03e-6, None).value_kg * 1e6, 6)        # s = 0.03 mg -> 60 mg
    60.0
    >>> round(usp41_minimum_weight(0.02e-6, Decimal("1E-7")).value_kg * 1e6, 6)  # d = 0.1 mg -> 82 mg
    82.0
    """
    if not s_kg >= 0 or not math.isfinite(s_kg):
        raise InputError("repeatability", f"s must be finite and non-negative, got {s_kg!r}")
    if d_kg is not None and d_kg <= 0:
        raise InputError("instrument.d", f"must be positive, got {d_kg}")
    _check_safety_factor(safety_factor)
    s_eff = s_kg if d_kg is None else max(s_kg, float(USP41_S_FLOOR_D * d_kg))
    if s_eff == 0.0:
        raise InputError("repeatability", "s = 0 and no scale interval: the USP <41> minimum weight is undefined")
    return MinimumWeight(
        method=MinimumWeightMethod.USP41,
        value_kg=safety_factor * USP41_K * s_eff / USP41_TOLERANCE,
        tolerance=USP41_TOLERANCE,
        safety_factor=safety_factor,
        s_kg=s_eff,
        d_kg=d_kg,
        rule=_USP41_RULE,
    )


def cg18_minimum_weight(
    in_use: UncertaintyInUse, *, tolerance: float, safety_factor: float = 1.0
) -> MinimumWeight | None:
    """Smallest ``m`` with ``SF U(m) / m <= tolerance`` (``U_gl`` for uncorrected results); ``None`` when the
    tolerance is not met anywhere up to Max.  Hengqi construction after the cg-18 concept (module docstring).

    >>> from hengqi.metrology.calibration.result import UncertaintyInUse
    >>> w = UncertaintyInUse(alpha_kg=1e-7, beta=1e-6, k=2.0, corrected=True, error_curve=None, budget=(),
    ...                      max_kg=0.22, derivation="")
    >>> round(cg18_minimum_weight(w, tolerance=0.001).value_kg * 1e6, 3)   # mg
    200.0
    """
    if not 0.0 < tolerance < 1.0:
        raise InputError("minimum_weight.tolerance", f"a relative tolerance must lie in (0, 1), got {tolerance!r}")
    _check_safety_factor(safety_factor)
    rule = (
        f"SF * U{'' if in_use.corrected else '_gl'}(m) / m = {tolerance:g} with the uncertainty in use "
        "(hengqi construction; minimum-weight concept per Acta IMEKO 8 (2019) 3, cg-18 formula NOT FOUND)"
    )
    limit = tolerance / safety_factor
    if in_use.corrected or in_use.error_curve is None:
        denominator = limit**2 - (in_use.k * in_use.beta) ** 2
        if denominator <= 0:
            return None
        value = in_use.k * in_use.alpha_kg / math.sqrt(denominator)
        if value > in_use.max_kg:
            return None
    else:
        value_or_none = _solve(in_use, limit)
        if value_or_none is None:
            return None
        value = value_or_none
    return MinimumWeight(
        method=MinimumWeightMethod.CG18,
        value_kg=value,
        tolerance=tolerance,
        safety_factor=safety_factor,
        s_kg=None,
        d_kg=None,
        rule=rule,
    )


def _solve(in_use: UncertaintyInUse, limit: float) -> float | None:
    """Smallest ``m`` in (0, Max] beyond which ``U_gl(m) <= limit m`` holds on a fine grid."""
    top = in_use.max_kg

    def excess(m: float) -> float:
        return in_use.global_U_kg(m) - limit * m

    steps = 2000
    grid = [top * i / steps for i in range(1, steps + 1)]
    if excess(top) > 0:
        return None
    index = len(grid) - 1
    while index > 0 and excess(grid[index - 1]) <= 0:
        index -= 1
    if index == 0:
        return float(optimize.brentq(excess, top * 1e-12, grid[0])) if excess(top * 1e-12) > 0 else grid[0]
    return float(optimize.brentq(excess, grid[index - 1], grid[index]))
