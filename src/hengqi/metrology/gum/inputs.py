"""The set of input quantities of a model: estimates, uncertainties, degrees of freedom, correlations, sampling.

Flattens a sequence of distributions (scalar ones and :class:`MultivariateNormal` groups) into per-input vectors
in the order of the model's inputs (JCGM 100:2008, 5.1, 5.2: estimates x_i, u(x_i), r(x_i, x_j)), and draws
samples with one independent random stream per distribution, so that the draws for trial r do not depend on
how the trials are split into chunks (JCGM 101:2008, 7.2, C.2 on generator quality).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.distributions import Distribution, MultivariateNormal
from hengqi.metrology.gum.errors import ModelError

__all__ = ["InputSet", "distribution_kind"]

FloatArray = NDArray[np.float64]


def distribution_kind(dist: Distribution) -> str:
    """A short name of the distribution, as used in budgets and model files (``"rectangular"``, ...).

    >>> from hengqi.metrology.gum.distributions import Arcsine
    >>> distribution_kind(Arcsine("x", 0.0, 1.0))
    'arcsine'
    """
    names = {
        "Normal": "normal",
        "Rectangular": "rectangular",
        "Triangular": "triangular",
        "Trapezoidal": "trapezoidal",
        "Arcsine": "arcsine",
        "CurvilinearTrapezoid": "curvilinear-trapezoid",
        "StudentT": "t",
        "MultivariateNormal": "multivariate-normal",
    }
    return names.get(type(dist).__name__, type(dist).__name__)


@dataclass(frozen=True, slots=True)
class InputSet:
    """Inputs of a model, ordered as ``names`` (the model's inputs)."""

    names: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    estimates: tuple[float, ...]
    uncertainties: tuple[float, ...]
    dofs: tuple[float, ...]
    kinds: tuple[str, ...]
    correlation: tuple[tuple[float, ...], ...]

    @classmethod
    def create(cls, model_inputs: Sequence[str], distributions: Sequence[Distribution]) -> InputSet:
        """Match ``distributions`` to ``model_inputs``; a missing, duplicate or unused input raises ModelError."""
        found: dict[str, tuple[float, float, float, str]] = {}
        groups: dict[str, tuple[MultivariateNormal, int]] = {}
        for dist in distributions:
            if isinstance(dist, MultivariateNormal):
                entries = [
                    (name, dist.means[i], dist.uncertainties[i], dist.marginal_dofs()[i], i)
                    for i, name in enumerate(dist.names)
                ]
            else:
                entries = [(dist.name, dist.expectation, dist.standard_uncertainty, dist.dof, -1)]
            for name, mean, u, dof, index in entries:
                if name in found:
                    raise ModelError(name, "input has more than one distribution")
                if name not in model_inputs:
                    raise ModelError(name, "input is not used by the model")
                found[name] = (float(mean), float(u), float(dof), distribution_kind(dist))
                if isinstance(dist, MultivariateNormal):
                    groups[name] = (dist, index)
        missing = [n for n in model_inputs if n not in found]
        if missing:
            raise ModelError(missing[0], "input of the model has no distribution (undefined input)")
        names = tuple(model_inputs)
        n = len(names)
        r = np.eye(n)
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j and a in groups and b in groups and groups[a][0] is groups[b][0]:
                    r[i, j] = groups[a][0].correlation[groups[a][1]][groups[b][1]]
        return cls(
            names,
            tuple(distributions),
            tuple(found[x][0] for x in names),
            tuple(found[x][1] for x in names),
            tuple(found[x][2] for x in names),
            tuple(found[x][3] for x in names),
            tuple(tuple(float(v) for v in row) for row in r),
        )

    def covariance(self) -> FloatArray:
        """V(x) = D R D (JCGM 100:2008, 5.2.2, eq. 14)."""
        u = np.asarray(self.uncertainties, dtype=np.float64)
        return np.asarray(self.correlation, dtype=np.float64) * np.outer(u, u)

    @property
    def correlated(self) -> bool:
        return any(self.correlation[i][j] != 0.0 for i in range(len(self.names)) for j in range(i))

    def sample(self, generators: Sequence[np.random.Generator], size: int) -> dict[str, FloatArray]:
        """``size`` joint draws; ``generators[i]`` feeds ``distributions[i]`` only."""
        return self.sample_from(self.distributions, generators, size)

    @staticmethod
    def sample_from(
        distributions: Sequence[Distribution], generators: Sequence[np.random.Generator], size: int
    ) -> dict[str, FloatArray]:
        """Draws of some of the distributions, each from its own generator."""
        out: dict[str, FloatArray] = {}
        for dist, rng in zip(distributions, generators, strict=True):
            if isinstance(dist, MultivariateNormal):
                block = dist.sample(rng, size)
                for column, name in enumerate(dist.names):
                    out[name] = np.ascontiguousarray(block[:, column])
            else:
                out[dist.name] = dist.sample(rng, size)
        return out
