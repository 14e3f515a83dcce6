"""Typed errors of the GUM engine; each names the input (or model element) at fault."""

from __future__ import annotations

from hengqi.errors import InputError

__all__ = ["CorrelationError", "DistributionError", "ModelError", "MonteCarloError"]


class DistributionError(InputError):
    """An input whose probability distribution is ill-defined (negative uncertainty, bad bounds, ...).

    >>> str(DistributionError("m_S", "standard uncertainty must not be negative"))
    'm_S: standard uncertainty must not be negative'
    """

    code = "invalid_distribution"


class CorrelationError(DistributionError):
    """A correlation matrix that is not symmetric, has entries outside [-1, 1] or is not positive definite."""

    code = "invalid_correlation"


class ModelError(InputError):
    """A measurement model that cannot be evaluated: undefined input, forbidden syntax, non-finite values."""

    code = "invalid_model"


class MonteCarloError(InputError):
    """Monte Carlo settings that cannot work (too few trials for the coverage probability, ...)."""

    code = "invalid_monte_carlo"
