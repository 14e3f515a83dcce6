"""Approximation of the errors of indication over the weighing range.

EURAMET cg-18 v4.0 Appendix C is known (from its table of contents and secondary descriptions) to offer
functional relations ``E_appr(R)`` fitted to the calibration results: a straight line through zero, a straight
line, and polynomials, by (weighted / generalised) least squares.  The guide's formulas were NOT available
(``/work/shared/reference/standards.md`` section 7), so this module is a hengqi construction from standard
least-squares theory:

* generalised least squares with the covariance matrix ``V`` of the errors ``E_j`` and the reading
  ``R_j = I_j`` as abscissa: ``a = (X^T V^-1 X)^-1 X^T V^-1 E``, coefficient covariance ``(X^T V^-1 X)^-1``,
  ``chi^2 = r^T V^-1 r``; without ``V``, weighted least squares with ``V = diag(u^2(E_j))``;
* :func:`error_covariance` builds ``V`` from the budgets: the reference-mass, buoyancy and drift terms are
  taken as fully correlated between points (as cg-18 7.1.2.1, SECONDARY, takes different weights within one
  load: added arithmetically), every other term as independent;
* a model-inadequacy term ``u_approx = max|r_j| / sqrt 3`` added where ``chi^2`` exceeds its 95 % quantile
  for ``n - m`` degrees of freedom.

>>> import math
>>> from decimal import Decimal
>>> c = fit_error_curve([Decimal("1"), Decimal("2")], [Decimal("0.001"), Decimal("0.002")], [1e-4, 1e-4])
>>> [round(a, 9) for a in c.coefficients], c.dof
([0.001], 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

import numpy as np

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import CalibrationPoint, ErrorCurve


class CurveModel(StrEnum):
    """Functional relation ``E_appr(R)`` (cg-18 v4.0 Appendix C kinds; formulas a hengqi construction)."""

    LINEAR_THROUGH_ZERO = "linear-through-zero"  #: E = a1 R
    LINEAR = "linear"  #: E = a0 + a1 R
    QUADRATIC = "quadratic"  #: E = a0 + a1 R + a2 R^2


POWERS: dict[CurveModel, tuple[int, ...]] = {
    CurveModel.LINEAR_THROUGH_ZERO: (1,),
    CurveModel.LINEAR: (0, 1),
    CurveModel.QUADRATIC: (0, 1, 2),
}


#: Budget lines taken as fully correlated between calibration points by :func:`error_covariance`.
CORRELATED_TERMS: tuple[str, ...] = ("reference-mass", "buoyancy", "drift")


def error_covariance(points: Sequence[CalibrationPoint]) -> list[list[float]]:
    """Covariance matrix of the errors of indication of ``points`` (hengqi construction, module docstring).

    ``V_jj = u^2(E_j)``; ``V_ij = sum over t in CORRELATED_TERMS of u_t(E_i) u_t(E_j)`` for ``i != j``.

    >>> import math
    >>> from hengqi.metrology.calibration.result import Component, Contribution
    >>> def point(u_ref, u_rep):
    ...     budget = (Contribution("reference-mass", u_ref, math.inf, "", Component.REFERENCE),
    ...               Contribution("repeatability", u_rep, 4.0, "", Component.INDICATION))
    ...     return CalibrationPoint(Decimal(1), Decimal(1), Decimal(0), Decimal(1), Decimal(1), Decimal(0),
    ...                             math.hypot(u_ref, u_rep), math.inf, 2.0, 0.0, budget)
    >>> [[round(v, 12) for v in row] for row in error_covariance([point(3.0, 4.0), point(6.0, 8.0)])]
    [[25.0, 18.0], [18.0, 100.0]]
    """
    n = len(points)
    correlated = [[sum(c.u_kg for c in p.budget if c.name == name) for name in CORRELATED_TERMS] for p in points]
    matrix = [[0.0] * n for _ in range(n)]
    for i in range(n):
        matrix[i][i] = points[i].u_kg ** 2
        for j in range(i + 1, n):
            value = sum(a * b for a, b in zip(correlated[i], correlated[j], strict=True))
            matrix[i][j] = matrix[j][i] = value
    return matrix


def fit_error_curve(
    readings_kg: Sequence[Decimal],
    errors_kg: Sequence[Decimal],
    u_kg: Sequence[float],
    model: CurveModel | str = CurveModel.LINEAR_THROUGH_ZERO,
    *,
    covariance: Sequence[Sequence[float]] | None = None,
) -> ErrorCurve:
    """Fit ``E_appr(R)`` to the errors ``E_j`` at the readings ``R_j`` with standard uncertainties ``u(E_j)``
    (and, where given, their full covariance matrix).

    Generalised / weighted least squares (see the module docstring: hengqi construction; cg-18 Appendix C
    kinds).  Needs at least as many points with a positive uncertainty as the model has coefficients.

    >>> c = fit_error_curve([Decimal("1"), Decimal("2"), Decimal("3")],
    ...                     [Decimal("0.0011"), Decimal("0.0019"), Decimal("0.0031")], [1e-4] * 3, "linear")
    >>> c.model, c.dof, round(c.error_kg(2.0), 6)
    ('linear', 1, 0.002033)
    """
    try:
        model = CurveModel(model)
    except ValueError as err:
        known = ", ".join(m.value for m in CurveModel)
        raise InputError("error_curve", f"unknown model {model!r} (known: {known})") from err
    if not len(readings_kg) == len(errors_kg) == len(u_kg):
        raise InputError("points", "readings, errors and uncertainties differ in number")
    powers = POWERS[model]
    n, m = len(readings_kg), len(powers)
    if n < m:
        raise InputError("error_curve", f"the {model.value} model needs at least {m} calibration points, got {n}")
    for j, u in enumerate(u_kg):
        if not u > 0 or not math.isfinite(u):
            raise InputError(f"points[{j}]", f"a fit needs a positive standard uncertainty, got {u!r}")
    r = np.array([float(x) for x in readings_kg])
    e = np.array([float(x) for x in errors_kg])
    x = np.column_stack([r**p for p in powers])
    if covariance is None:
        v = np.diag(np.array(u_kg, dtype=float) ** 2)
    else:
        v = np.array(covariance, dtype=float)
        if v.shape != (n, n) or not np.allclose(v, v.T, rtol=1e-12, atol=0.0):
            raise InputError("covariance", f"must be a symmetric {n} x {n} matrix")
    try:
        cholesky = np.linalg.cholesky(v)
    except np.linalg.LinAlgError as err:
        raise InputError("covariance", "the covariance matrix of the errors is not positive definite") from err
    a = np.linalg.solve(cholesky, x)  # whitened design matrix L^-1 X
    b = np.linalg.solve(cholesky, e)
    normal = a.T @ a
    if np.linalg.matrix_rank(normal) < m:
        raise InputError(
            "error_curve", f"the readings do not determine the {model.value} model (too few distinct loads)"
        )
    coefficient_covariance = np.linalg.inv(normal)
    coefficients = coefficient_covariance @ (a.T @ b)
    residuals = e - x @ coefficients
    chi2 = float(np.sum((b - a @ coefficients) ** 2))
    dof = n - m
    u_approx = 0.0
    # scipy.stats is imported here, not at the top: it was the largest part of starting a server process (the web
    # pages import this module; python -X importtime: 7 of 21 s on a loaded 2-core machine), yet only a fit uses it
    from scipy import stats

    if dof > 0 and chi2 > float(stats.chi2.ppf(0.95, dof)):
        u_approx = float(np.max(np.abs(residuals))) / math.sqrt(3.0)
    return ErrorCurve(
        model=model.value,
        powers=powers,
        coefficients=tuple(float(c) for c in coefficients),
        covariance=tuple(tuple(float(v) for v in row) for row in coefficient_covariance),
        chi2=chi2,
        dof=dof,
        u_approx_kg=u_approx,
        method=f"{model.value} E_appr(R) by "
        + (
            "generalised least squares with the covariance of the errors"
            if covariance is not None
            else "weighted least squares, weights 1/u^2(E_j)"
        )
        + "; u_approx = max|r_j|/sqrt(3) where chi^2 exceeds its 95 % quantile (hengqi construction; "
        "cg-18 v4.0 Appendix C kinds, formulas not read)",
    )
