"""Numerical tolerance and validation of the GUM uncertainty framework by Monte Carlo (JCGM 101:2008, 7.9.2, 8).

>>> numerical_tolerance(1.04, 2)            # 7.9.2: u = 10 x 10^-1, delta = 1/2 x 10^-1
0.05
>>> numerical_tolerance(0.0275, 2)
0.0005
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hengqi.metrology.gum.errors import MonteCarloError

__all__ = ["Validation", "numerical_tolerance", "validate"]


def numerical_tolerance(u: float, n_dig: int = 2) -> float:
    """δ = 10^l / 2 where u = c x 10^l with c an n_dig-digit integer (JCGM 101:2008, 7.9.2)."""
    if not math.isfinite(u) or u <= 0.0:
        raise MonteCarloError("u", f"the numerical tolerance needs a positive standard uncertainty, got {u!r}")
    if not 1 <= n_dig <= 15:
        raise MonteCarloError("n_dig", f"number of significant digits must be 1..15, got {n_dig!r}")
    exponent = math.floor(math.log10(u)) - n_dig + 1
    if round(u / 10.0**exponent) >= 10**n_dig:  # rounding carried into one more digit (e.g. 9.96 -> 10)
        exponent += 1
    return float(f"5e{exponent - 1}")


@dataclass(frozen=True, slots=True)
class Validation:
    """JCGM 101:2008, 8.2: d_low = |y - U_p - y_low|, d_high = |y + U_p - y_high|; validated if both <= δ."""

    d_low: float
    d_high: float
    tolerance: float
    n_dig: int
    validated: bool


def validate(
    gum_interval: tuple[float, float], gum_u: float, mcm_interval: tuple[float, float], n_dig: int = 2
) -> Validation:
    """Compare the GUF interval y ± U_p with the probabilistically symmetric MCM interval (JCGM 101:2008, 8.2).

    δ is the numerical tolerance of the GUF u(y) with ``n_dig`` significant digits (8.1 b, 7.9.2).

    >>> validate((-1.96, 1.96), 1.0, (-1.955, 1.962), n_dig=1).validated
    True
    >>> validate((-1.96, 1.96), 1.0, (-1.70, 1.70), n_dig=2).validated
    False
    """
    tolerance = numerical_tolerance(gum_u, n_dig)
    d_low = abs(gum_interval[0] - mcm_interval[0])
    d_high = abs(gum_interval[1] - mcm_interval[1])
    return Validation(d_low, d_high, tolerance, n_dig, d_low <= tolerance and d_high <= tolerance)
