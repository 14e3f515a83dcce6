"""GUM uncertainty evaluation: law of propagation of uncertainty and Monte Carlo.

JCGM 100:2008 (GUM): :func:`propagate` (clause 5, Annex G), :func:`coverage_factor`, :func:`welch_satterthwaite`.
JCGM 101:2008 (GUM Supplement 1): input distributions (clause 6), :func:`monte_carlo` and
:func:`monte_carlo_adaptive` (clause 7), :func:`validate` (clause 8).  Pure computation (numpy, scipy).

>>> model = MeasurementModel.from_equations([("y", "x1 + x2")])
>>> inputs = [Normal("x1", 1.0, 0.1), Rectangular("x2", -0.2, 0.2)]
>>> g = propagate(model, inputs)
>>> m = monte_carlo(model, inputs, trials=200_000, seed=7)
>>> abs(m.u - g.u) < 0.002
True
"""

from __future__ import annotations

from hengqi.metrology.gum.coverage import K_RULE, coverage_factor, coverage_factor_nu_eff, welch_satterthwaite
from hengqi.metrology.gum.distributions import (
    Arcsine,
    CurvilinearTrapezoid,
    Distribution,
    MultivariateNormal,
    Normal,
    Rectangular,
    StudentT,
    Trapezoidal,
    Triangular,
)
from hengqi.metrology.gum.errors import CorrelationError, DistributionError, ModelError, MonteCarloError
from hengqi.metrology.gum.expression import compile_expression
from hengqi.metrology.gum.intervals import Histogram
from hengqi.metrology.gum.model import MeasurementModel
from hengqi.metrology.gum.montecarlo import McmResult, monte_carlo, monte_carlo_adaptive
from hengqi.metrology.gum.propagation import Contribution, GumResult, UncertaintyBudget, propagate
from hengqi.metrology.gum.validation import Validation, numerical_tolerance, validate

__all__ = [
    "K_RULE",
    "Arcsine",
    "Contribution",
    "CorrelationError",
    "CurvilinearTrapezoid",
    "Distribution",
    "DistributionError",
    "GumResult",
    "Histogram",
    "McmResult",
    "MeasurementModel",
    "ModelError",
    "MonteCarloError",
    "MultivariateNormal",
    "Normal",
    "Rectangular",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "UncertaintyBudget",
    "Validation",
    "compile_expression",
    "coverage_factor",
    "coverage_factor_nu_eff",
    "monte_carlo",
    "monte_carlo_adaptive",
    "numerical_tolerance",
    "propagate",
    "validate",
    "welch_satterthwaite",
]
