"""Law of propagation of uncertainty, the GUM uncertainty framework (GUF) (JCGM 100:2008, clause 5, Annex G).

y = f(x) (4.1.4); sensitivity coefficients c_i = ∂f/∂x_i at x (5.1.3), analytic when the model gives a
gradient, otherwise by Richardson-extrapolated central differences with step h_i = rel_step · u(x_i)
(JCGM 100:2008, 5.1.3 note 2 uses h_i = u(x_i)); u_c²(y) = Σ Σ c_i c_j u(x_i) u(x_j) r(x_i, x_j) (5.2.2,
eq. 16); effective degrees of freedom by Welch-Satterthwaite (G.4.1, eq. G.2b);
k = t_p(ν_eff) (G.3, G.4); U = k u_c (6.2.1).

>>> from hengqi.metrology.gum.distributions import Normal, Rectangular
>>> from hengqi.metrology.gum.model import MeasurementModel
>>> model = MeasurementModel.from_equations([("y", "a + b")])
>>> r = propagate(model, [Normal("a", 1.0, 0.3, dof=4), Rectangular("b", -0.4 * 3**0.5, 0.4 * 3**0.5)])
>>> round(r.value, 12), round(r.u, 12), round(r.dof, 2)
(1.0, 0.5, 30.86)
>>> [round(c.share, 2) for c in r.budget.contributions]
[0.36, 0.64]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hengqi.metrology.gum.coverage import coverage_factor, coverage_factor_nu_eff, welch_satterthwaite
from hengqi.metrology.gum.distributions import Distribution
from hengqi.metrology.gum.errors import ModelError
from hengqi.metrology.gum.inputs import InputSet
from hengqi.metrology.gum.model import MeasurementModel

__all__ = ["Contribution", "GumResult", "UncertaintyBudget", "propagate"]

DEFAULT_REL_STEP = 1e-2
"""Default central-difference step as a fraction of u(x_i)."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One row of an uncertainty budget (JCGM 100:2008, 5.1.3, Table H.1 layout).

    ``u_y`` = |c_i| u(x_i) is the uncertainty component u_i(y) (5.1.3, eq. 11b); ``share`` = u_i(y)²/u_c²(y)
    (the shares sum to 1 for uncorrelated inputs; correlation terms are in the budget separately).
    """

    name: str
    value: float
    u: float
    sensitivity: float
    u_y: float
    dof: float
    share: float
    distribution: str


@dataclass(frozen=True, slots=True)
class UncertaintyBudget:
    """The contributions of all inputs and the variance from correlations (JCGM 100:2008, 5.2.2, eq. 16)."""

    contributions: tuple[Contribution, ...]
    correlation_variance: float

    def __getitem__(self, name: str) -> Contribution:
        for c in self.contributions:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class GumResult:
    """Result of the GUM uncertainty framework for a scalar measurand.

    ``derivatives`` is ``"analytic"`` or ``"central-difference"``; ``rel_step`` is the step used (fraction of
    u(x_i)), None for analytic derivatives.
    """

    measurand: str
    value: float
    u: float
    dof: float
    k: float
    U: float
    interval: tuple[float, float]
    p: float
    budget: UncertaintyBudget
    derivatives: str
    rel_step: float | None


def _finite_scalar(value: object, what: str) -> float:
    try:
        number = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError) as err:
        raise ModelError("model", f"{what} is not a single number") from err
    if not math.isfinite(number):
        raise ModelError("model", f"{what} is not finite ({number!r})")
    return number


def sensitivities(model: MeasurementModel, inputs: InputSet, rel_step: float = DEFAULT_REL_STEP) -> tuple[float, ...]:
    """c_i = ∂f/∂x_i at the estimates by central differences (JCGM 100:2008, 5.1.3), in one vectorised call.

    Steps h_i = rel_step · u(x_i) (rel_step · max(|x_i|, 1) when u(x_i) = 0) and h_i/2, combined by Richardson
    extrapolation, c_i = (4 D(h_i/2) - D(h_i))/3 with D(h) = (f(x + h) - f(x - h))/(2h): the truncation error is
    of order h^4, so a step of a percent of u(x_i) keeps both truncation and rounding errors far below the
    digits a budget shows.
    """
    if not 0.0 < rel_step <= 1.0:
        raise ModelError("rel_step", f"relative step must lie in (0, 1], got {rel_step!r}")
    n = len(inputs.names)
    x = np.asarray(inputs.estimates, dtype=np.float64)
    u = np.asarray(inputs.uncertainties, dtype=np.float64)
    h = rel_step * np.where(u > 0.0, u, np.maximum(np.abs(x), 1.0))
    points = np.repeat(x[None, :], 4 * n, axis=0)
    index = np.arange(n)
    for offset, step in enumerate((h, -h, 0.5 * h, -0.5 * h)):
        points[4 * index + offset, index] += step
    values = np.asarray(model.evaluate({name: points[:, i] for i, name in enumerate(inputs.names)}), dtype=np.float64)
    if values.shape != (4 * n,):
        values = np.broadcast_to(values, (4 * n,))
    bad = np.flatnonzero(~np.all(np.isfinite(values.reshape(n, 4)), axis=1) & (u > 0.0))
    if bad.size:
        raise ModelError(inputs.names[int(bad[0])], "model is not finite near the estimates (no sensitivity)")
    with np.errstate(all="ignore"):
        wide = (values[0::4] - values[1::4]) / (2.0 * h)
        narrow = (values[2::4] - values[3::4]) / h
        c = (4.0 * narrow - wide) / 3.0
    return tuple(float(ci) if np.isfinite(ci) else 0.0 for ci in c)  # not finite only where u(x_i) = 0


def _analytic(model: MeasurementModel, names: tuple[str, ...], estimates: dict[str, float]) -> tuple[float, ...]:
    """The model's own gradient at the estimates (may hold inf or nan where the derivative is undefined)."""
    if model.gradient is None:
        return (math.nan,) * len(names)
    try:
        grad = model.gradient(**estimates)
    except ModelError:
        return (math.nan,) * len(names)
    missing = [n for n in names if n not in grad]
    if missing:
        raise ModelError(missing[0], "the model gradient gives no derivative for this input")
    return tuple(float(grad[n]) for n in names)


def propagate(
    model: MeasurementModel,
    distributions: Sequence[Distribution],
    *,
    p: float = 0.9545,
    rel_step: float = DEFAULT_REL_STEP,
    truncate_dof: bool = True,
) -> GumResult:
    """Evaluate y, u_c(y), ν_eff, k_p and U_p by the law of propagation of uncertainty (JCGM 100:2008, 5, G).

    With ``truncate_dof`` (default) k_p follows hengqi's one rule for k, :func:`coverage_factor_nu_eff` (ν_eff
    truncated to the next lower integer: JCGM 100:2008 G.4.1 note 1, as in H.1.6; EA-4/02 practice); otherwise
    (for comparisons only) Student's t is read at the real ν_eff.  The result reports the untruncated ν_eff.
    """
    inputs = InputSet.create(model.inputs, distributions)
    estimates = dict(zip(inputs.names, inputs.estimates, strict=True))
    value = _finite_scalar(model.evaluate(estimates), "the model value at the estimates")
    # analytic derivatives where the model has them; a derivative that is not finite is taken by differences,
    # and one that cannot be formed is irrelevant (set to 0) for an input with u(x_i) = 0
    c = _analytic(model, inputs.names, estimates)
    derivatives, step = "analytic", None
    defined = all(math.isfinite(ci) or ui == 0.0 for ci, ui in zip(c, inputs.uncertainties, strict=True))
    if model.gradient is None or not defined:
        c = sensitivities(model, inputs, rel_step)
        derivatives, step = "central-difference", rel_step
    c = tuple(ci if math.isfinite(ci) else 0.0 for ci in c)
    cv = np.asarray(c, dtype=np.float64)
    variance = max(float(cv @ inputs.covariance() @ cv), 0.0)
    u_c = math.sqrt(variance)
    components = [abs(ci) * ui for ci, ui in zip(c, inputs.uncertainties, strict=True)]
    rows = tuple(
        Contribution(
            name=name,
            value=x,
            u=ux,
            sensitivity=ci,
            u_y=uy,
            dof=dof,
            share=(uy * uy / variance) if variance > 0.0 else 0.0,
            distribution=kind,
        )
        for name, x, ux, ci, uy, dof, kind in zip(
            inputs.names, inputs.estimates, inputs.uncertainties, c, components, inputs.dofs, inputs.kinds, strict=True
        )
    )
    correlated = variance - sum(uy * uy for uy in components) if inputs.correlated else 0.0
    budget = UncertaintyBudget(rows, correlated)
    dof = welch_satterthwaite(list(zip(components, inputs.dofs, strict=True)), combined=u_c)
    k = coverage_factor_nu_eff(dof, p) if truncate_dof else coverage_factor(dof, p)
    expanded = k * u_c
    return GumResult(
        measurand=model.name,
        value=value,
        u=u_c,
        dof=dof,
        k=k,
        U=expanded,
        interval=(value - expanded, value + expanded),
        p=p,
        budget=budget,
        derivatives=derivatives,
        rel_step=step,
    )
