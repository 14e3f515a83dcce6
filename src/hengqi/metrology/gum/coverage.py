"""Coverage factors and effective degrees of freedom.

JCGM 100:2008 (GUM) Annex G: the coverage factor :math:`k_p = t_p(\\nu_{eff})` is the two-sided quantile of
Student's t distribution for coverage probability ``p`` (G.3, Table G.2), with ``nu_eff`` from the
Welch-Satterthwaite formula (G.4.1, eq. G.2b).  For ``nu = inf`` the t distribution becomes the normal
distribution (G.3.2, last row of Table G.2).  EURAMET cg-18 v4.0 uses ``p = 95.45 %`` so that ``k = 2`` for
``nu = inf`` (SECONDARY: see /work/shared/reference/standards.md section 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hengqi.errors import InputError

__all__ = ["K_RULE", "coverage_factor", "coverage_factor_nu_eff", "welch_satterthwaite"]

#: The one rule for k used by every expanded uncertainty hengqi states (calibration and uncertainty budgets).
K_RULE = (
    "k = t_p(nu), nu = nu_eff (Welch-Satterthwaite) truncated to the next lower integer (JCGM 100:2008 G.4.1 "
    "note 1; EA-4/02 practice, its text not read)"
)


def coverage_factor(dof: float, p: float = 0.9545) -> float:
    """Two-sided coverage factor ``t_p(nu)`` of Student's t distribution (JCGM 100:2008, G.3, G.4, Table G.2).

    ``dof`` may be ``math.inf`` (normal distribution) or a non-integer effective number of degrees of freedom
    (JCGM 100:2008, G.4.1 allows interpolation or truncation; here the t quantile is evaluated at the real
    ``dof``, which lies between the values for the truncated and the next integer).

    >>> round(coverage_factor(math.inf), 4)
    2.0
    >>> round(coverage_factor(math.inf, 0.95), 3)
    1.96
    >>> round(coverage_factor(16, 0.99), 2)   # JCGM 100:2008 H.1.6: t_99(16) = 2.92
    2.92
    >>> round(coverage_factor(10, 0.9545), 2)  # JCGM 100:2008 Table G.2: t_95.45(10) = 2.28
    2.28
    """
    if not 0.0 < p < 1.0 or math.isnan(p):
        raise InputError("p", f"coverage probability must lie in (0, 1), got {p!r}")
    if math.isnan(dof) or dof <= 0.0:
        raise InputError("dof", f"degrees of freedom must be positive, got {dof!r}")
    from scipy import stats  # imported when first needed: it is slow to import

    q = 0.5 * (1.0 + p)
    if math.isinf(dof):
        return float(stats.norm.ppf(q))
    return float(stats.t.ppf(q, dof))


def coverage_factor_nu_eff(nu_eff: float, p: float = 0.9545) -> float:
    """The coverage factor for an effective number of degrees of freedom: the one rule for ``k`` in hengqi.

    ``nu_eff`` (from :func:`welch_satterthwaite`, generally not an integer) is truncated to the next lower
    integer, at least 1, before Student's t is read (:data:`K_RULE`): JCGM 100:2008 G.4.1 note 1 allows
    interpolation or truncation, and H.1.6 truncates (16.7 -> 16); truncation is the rule of EA-4/02 (as
    widely applied in calibration laboratories; the EA-4/02 M:2022 text itself was not read).  It gives the
    larger (safer) ``k``.  ``nu_eff = inf`` gives the normal quantile.  Both ``hengqi calibrate`` (EURAMET
    cg-18 budgets) and ``hengqi uncertainty`` (GUM propagation) use it.

    >>> round(coverage_factor_nu_eff(16.7, 0.99), 2), round(coverage_factor(16.7, 0.99), 3)   # GUM H.1.6
    (2.92, 2.905)
    >>> coverage_factor_nu_eff(0.4) == coverage_factor(1)
    True
    """
    if math.isnan(nu_eff) or nu_eff <= 0.0:
        raise InputError("dof", f"degrees of freedom must be positive, got {nu_eff!r}")
    if math.isinf(nu_eff):
        return coverage_factor(nu_eff, p)
    return coverage_factor(max(float(math.floor(nu_eff)), 1.0), p)


def welch_satterthwaite(contributions: Sequence[tuple[float, float]], *, combined: float | None = None) -> float:
    """Effective degrees of freedom by the Welch-Satterthwaite formula (JCGM 100:2008, G.4.1, eq. G.2b).

    ``contributions`` are pairs ``(u_i(y), nu_i)`` with ``u_i(y) = |c_i| u(x_i)``; ``nu_i`` may be
    ``math.inf`` (Type B components taken as exactly known, G.4.3).  The result is
    ``u_c^4 / sum(u_i^4 / nu_i)``, ``math.inf`` when every component has infinite degrees of freedom or when
    ``u_c = 0``.  The result is not truncated (G.4.1 note: truncate or interpolate when reading Table G.2).
    ``combined`` is the combined standard uncertainty u_c(y) when it differs from the root sum of squares of the
    ``u_i(y)`` (correlated inputs, JCGM 100:2008, 5.2.2); otherwise u_c² = sum of u_i(y)² (eq. G.2b).

    >>> round(welch_satterthwaite([(0.3, 4), (0.4, math.inf)]), 6)  # (0.5^4) / (0.3^4 / 4)
    30.864198
    >>> welch_satterthwaite([(1.0, math.inf), (2.0, math.inf)])
    inf
    """
    pairs = list(contributions)
    for index, (u_i, nu_i) in enumerate(pairs):
        if math.isnan(u_i) or u_i < 0.0:
            raise InputError(f"contributions[{index}]", f"u_i(y) must be non-negative, got {u_i!r}")
        if math.isnan(nu_i) or nu_i <= 0.0:
            raise InputError(f"contributions[{index}]", f"degrees of freedom must be positive, got {nu_i!r}")
    if combined is not None and (math.isnan(combined) or combined < 0.0):
        raise InputError("combined", f"combined standard uncertainty must be non-negative, got {combined!r}")
    scale = max([u for u, _ in pairs] + [combined or 0.0], default=0.0)
    if scale == 0.0 or math.isinf(scale):
        return math.inf
    # scaled by the largest component so that fourth powers neither underflow nor overflow
    total = sum((u / scale) ** 2 for u, _ in pairs) if combined is None else (combined / scale) ** 2
    denominator = sum((u / scale) ** 4 / nu for u, nu in pairs if not math.isinf(nu))
    if denominator == 0.0 or total == 0.0:
        return math.inf
    return total * total / denominator
