"""Probability distributions assigned to input quantities (JCGM 101:2008, clause 6, Table 1).

Each distribution is a frozen value carrying the input's ``name``, its expectation, its standard uncertainty and
degrees of freedom as the law of propagation of uncertainty uses them (JCGM 100:2008, 4.2, 4.3), and a vectorised
sampler taking a :class:`numpy.random.Generator` (JCGM 101:2008, 6.4 and Annex C).  Type B evaluations have
infinite degrees of freedom unless stated (JCGM 100:2008, G.4.3 allows an estimate from the relative reliability,
eq. G.3).  Invalid parameters raise :class:`DistributionError` (or :class:`CorrelationError`) naming the input.

>>> import numpy as np
>>> r = Rectangular("dB", -0.010, 0.010)
>>> round(r.standard_uncertainty, 6)        # JCGM 101:2008, 6.4.2.3: (b - a)/sqrt(12)
0.005774
>>> r.sample(np.random.default_rng(1), 3).shape
(3,)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.errors import CorrelationError, DistributionError

__all__ = [
    "Arcsine",
    "CurvilinearTrapezoid",
    "Distribution",
    "MultivariateNormal",
    "Normal",
    "Rectangular",
    "ScalarDistribution",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "box_muller",
    "standard_normal",
]

FloatArray = NDArray[np.float64]


def _finite(name: str, what: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise DistributionError(name, f"{what} must be a finite number, got {value!r}")
    return value


def _check_dof(name: str, dof: float) -> None:
    if math.isnan(dof) or dof <= 0.0:
        raise DistributionError(name, f"degrees of freedom must be positive (or inf), got {dof!r}")


def _check_bounds(name: str, lower: float, upper: float) -> None:
    _finite(name, "lower bound", lower)
    _finite(name, "upper bound", upper)
    if upper < lower:
        raise DistributionError(name, f"upper bound {upper!r} is below lower bound {lower!r}")


TWO_PI = 2.0 * math.pi


def standard_normal(rng: np.random.Generator, size: int, scale: float = 1.0) -> FloatArray:
    """``size`` draws of N(0, scale²) by the Box-Muller transform (Box and Muller 1958; JCGM 101:2008, C.4).

    From a pair of uniforms (u, v): sqrt(-2 ln(1 - u)) (cos 2πv, sin 2πv) is a pair of independent N(0, 1)
    values, exactly in distribution.  The JCGM 101:2008 clause number for Box-Muller is SECONDARY (recalled,
    the text of Annex C was not read here).  Pair j takes the uniforms 2j and 2j+1 of ``rng`` and gives draws
    2j (cosine) and 2j+1 (sine), so the draws do not depend on how a run is split into chunks of even size; an odd
    ``size`` draws one more pair and drops its sine.

    Precision: u is a 53-bit float64, so 1 - u is exact and the radius (including ``scale``) is float64; the
    largest |z| is sqrt(106 ln 2) = 8.57 (P(|Z| > 8.57) is about 1e-17).  The angle 2πv is rounded to float32
    and its cosine and sine are taken in float32 (numpy's SIMD loops, about 1 ulp): each draw carries a relative
    error of about 1e-7, which moves any quantile of N(0, 1) by less than 1e-6 standard deviations, far below
    the Monte Carlo noise of 10^8 trials (about 1e-4).  Shifts and scales stay in float64.  This is about twice as
    fast as numpy's ziggurat, whose scalar loop dominates the time of a Monte Carlo run.

    >>> z = standard_normal(np.random.default_rng(1), 200_000)
    >>> round(float(z.mean()), 2) == 0.0, round(float(z.std()), 2)
    (True, 1.0)
    """
    pairs = (size + 1) // 2
    z = box_muller(rng.random(2 * pairs), scale)
    return z[:size] if size < z.size else z


def box_muller(uniform: FloatArray, scale: float = 1.0) -> FloatArray:
    """N(0, scale²) draws from an even number of uniforms on [0, 1), written over them and returned.

    The transform of :func:`standard_normal`: pair j of draws depends only on uniforms 2j and 2j+1, element by
    element, so transforming any slice that starts at an even index gives the same draws as transforming the
    whole array (the Monte Carlo threads transform parts of a chunk this way).

    >>> u = np.random.default_rng(2).random(8)
    >>> whole = box_muller(u.copy(), 2.0)
    >>> bool(np.array_equal(whole[4:], box_muller(u[4:].copy(), 2.0)))
    True
    """
    radius = np.subtract(1.0, uniform[0::2])
    np.log(radius, out=radius)
    folded = 1e-150 < abs(scale) < 1e150  # scale² neither underflows nor overflows: apply it under the root
    radius *= -2.0 * scale * scale if folded else -2.0
    np.sqrt(radius, out=radius)
    if not folded:
        radius *= abs(scale)
    angle = np.multiply(uniform[1::2], TWO_PI, dtype=np.float32, casting="same_kind")
    cosine = np.cos(angle)
    sine = np.sin(angle, out=angle)
    z = uniform  # reuse the buffer: pair j is written back where its uniforms were
    np.multiply(radius, cosine, out=z[0::2])
    np.multiply(radius, sine, out=z[1::2])
    return z


def _check_name(name: str) -> None:
    if not name.isidentifier():
        raise DistributionError(name or "input", f"input name {name!r} is not an identifier")


@runtime_checkable
class ScalarDistribution(Protocol):
    """A distribution of one input quantity ``name``."""

    @property
    def name(self) -> str: ...
    @property
    def expectation(self) -> float: ...
    @property
    def standard_uncertainty(self) -> float: ...
    @property
    def dof(self) -> float: ...
    def sample(self, rng: np.random.Generator, size: int) -> FloatArray: ...


@dataclass(frozen=True, slots=True)
class Normal:
    """Gaussian distribution N(mean, u²) (JCGM 101:2008, 6.4.7; JCGM 100:2008, 4.3.4 for U/k from a certificate).

    >>> Normal("m_S", 10000.005, 0.0225).standard_uncertainty
    0.0225
    """

    name: str
    mean: float
    u: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _finite(self.name, "mean", self.mean)
        if _finite(self.name, "standard uncertainty", self.u) < 0.0:
            raise DistributionError(self.name, f"standard uncertainty must not be negative, got {self.u!r}")
        _check_dof(self.name, self.dof)

    @classmethod
    def from_expanded(cls, name: str, mean: float, expanded: float, k: float, dof: float = math.inf) -> Normal:
        """From an expanded uncertainty ``U`` and its coverage factor ``k``: u = U/k (JCGM 100:2008, 4.3.3)."""
        if not k > 0.0:
            raise DistributionError(name, f"coverage factor must be positive, got {k!r}")
        return cls(name, mean, expanded / k, dof)

    @property
    def expectation(self) -> float:
        return float(self.mean)

    @property
    def standard_uncertainty(self) -> float:
        return float(self.u)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        x = standard_normal(rng, size, self.u)
        x += self.mean
        return x


@dataclass(frozen=True, slots=True)
class Rectangular:
    """Rectangular distribution R(a, b) (JCGM 101:2008, 6.4.2): E = (a+b)/2, u = (b-a)/sqrt(12).

    >>> Rectangular("x", 1.0, 3.0).expectation
    2.0
    """

    name: str
    lower: float
    upper: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_bounds(self.name, self.lower, self.upper)
        _check_dof(self.name, self.dof)

    @property
    def expectation(self) -> float:
        return 0.5 * (self.lower + self.upper)

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) / math.sqrt(12.0)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        x: FloatArray = rng.random(size)
        x *= self.upper - self.lower
        x += self.lower
        return x


@dataclass(frozen=True, slots=True)
class Triangular:
    """Triangular distribution on [a, b] with mode c (JCGM 101:2008, 6.4.5; symmetric when ``mode`` is None).

    E = (a + b + c)/3, u² = (a² + b² + c² - ab - ac - bc)/18; symmetric: u = (b - a)/sqrt(24).

    >>> round(Triangular("x", -1.0, 1.0).standard_uncertainty, 6)
    0.408248
    """

    name: str
    lower: float
    upper: float
    mode: float | None = None
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_bounds(self.name, self.lower, self.upper)
        if self.mode is not None and not self.lower <= _finite(self.name, "mode", self.mode) <= self.upper:
            raise DistributionError(self.name, f"mode {self.mode!r} lies outside [{self.lower!r}, {self.upper!r}]")
        _check_dof(self.name, self.dof)

    @property
    def _c(self) -> float:
        return 0.5 * (self.lower + self.upper) if self.mode is None else float(self.mode)

    @property
    def expectation(self) -> float:
        return (self.lower + self.upper + self._c) / 3.0

    @property
    def standard_uncertainty(self) -> float:
        a, b, c = self.lower, self.upper, self._c
        return math.sqrt(max(a * a + b * b + c * c - a * b - a * c - b * c, 0.0) / 18.0)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        if self.upper == self.lower:
            return np.full(size, float(self.lower))
        return rng.triangular(self.lower, self._c, self.upper, size)


@dataclass(frozen=True, slots=True)
class Trapezoidal:
    """Symmetric trapezoidal distribution on [a, b], top-to-base ratio beta (JCGM 101:2008, 6.4.4).

    E = (a+b)/2, u² = (b-a)²(1+β²)/24 (6.4.4.3); sampled as a + (b-a)/2 [(1+β) r1 + (1-β) r2] (6.4.4.4).

    >>> t = Trapezoidal("x", -1.0, 1.0, 1.0)        # beta = 1: rectangular
    >>> round(t.standard_uncertainty, 6) == round(1 / 3 ** 0.5, 6)
    True
    """

    name: str
    lower: float
    upper: float
    beta: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_bounds(self.name, self.lower, self.upper)
        if not 0.0 <= _finite(self.name, "beta", self.beta) <= 1.0:
            raise DistributionError(self.name, f"beta must lie in [0, 1], got {self.beta!r}")
        _check_dof(self.name, self.dof)

    @property
    def expectation(self) -> float:
        return 0.5 * (self.lower + self.upper)

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) * math.sqrt((1.0 + self.beta**2) / 24.0)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        r: FloatArray = rng.random((size, 2))  # pairs per trial: draws do not depend on chunking
        r1: FloatArray = r[:, 0]
        r2: FloatArray = r[:, 1]
        half = 0.5 * (self.upper - self.lower)
        return self.lower + half * ((1.0 + self.beta) * r1 + (1.0 - self.beta) * r2)


@dataclass(frozen=True, slots=True)
class Arcsine:
    """Arc sine (U-shaped) distribution U(a, b) (JCGM 101:2008, 6.4.6): E = (a+b)/2, u = (b-a)/(2 sqrt 2).

    Sampled as (a+b)/2 + (b-a)/2 sin(2 pi r) (6.4.6.4).

    >>> round(Arcsine("x", -1.0, 1.0).standard_uncertainty, 6)
    0.707107
    """

    name: str
    lower: float
    upper: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_bounds(self.name, self.lower, self.upper)
        _check_dof(self.name, self.dof)

    @property
    def expectation(self) -> float:
        return 0.5 * (self.lower + self.upper)

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) / (2.0 * math.sqrt(2.0))

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return self.expectation + 0.5 * (self.upper - self.lower) * np.sin(2.0 * np.pi * rng.random(size))


@dataclass(frozen=True, slots=True)
class CurvilinearTrapezoid:
    """Rectangular distribution whose semi-width is known only to within ±d (JCGM 101:2008, 6.4.3).

    Bounds [a, b] are the nominal ones; the lower bound lies in [a - d, a + d] (6.4.3.1).
    E = (a+b)/2, u² = (b-a)²/12 + d²/9 (6.4.3.3).  Requires 0 <= d <= (b-a)/2.

    >>> c = CurvilinearTrapezoid("x", -1.0, 1.0, 0.3)
    >>> round(c.standard_uncertainty ** 2, 6)       # 4/12 + 0.09/9
    0.343333
    """

    name: str
    lower: float
    upper: float
    d: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_bounds(self.name, self.lower, self.upper)
        if not 0.0 <= _finite(self.name, "d", self.d) <= 0.5 * (self.upper - self.lower):
            raise DistributionError(self.name, f"d must lie in [0, (upper - lower)/2], got {self.d!r}")
        _check_dof(self.name, self.dof)

    @property
    def expectation(self) -> float:
        return 0.5 * (self.lower + self.upper)

    @property
    def standard_uncertainty(self) -> float:
        return math.sqrt((self.upper - self.lower) ** 2 / 12.0 + self.d**2 / 9.0)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        r: FloatArray = rng.random((size, 2))  # pairs per trial: draws do not depend on chunking
        r1: FloatArray = r[:, 0]
        r2: FloatArray = r[:, 1]
        a_s = (self.lower - self.d) + 2.0 * self.d * r1  # 6.4.3.4: a_s drawn from R(a - d, a + d)
        b_s = (self.lower + self.upper) - a_s
        return a_s + (b_s - a_s) * r2


@dataclass(frozen=True, slots=True)
class StudentT:
    """Scaled and shifted t distribution t_nu(mean, scale²) for a Type A evaluation (JCGM 101:2008, 6.4.9).

    From n indications: mean = x̄, scale = s/sqrt(n), nu = n - 1 (6.4.9.2).  For the law of propagation the
    standard uncertainty is the standard deviation of the mean s/sqrt(n) with nu degrees of freedom
    (JCGM 100:2008, 4.2.3, G.3); the distribution itself has standard deviation scale·sqrt(nu/(nu-2)) for nu > 2
    (JCGM 101:2008, 6.4.9.4), which is what Monte Carlo propagates.

    >>> t = StudentT.from_observations("I", [100.0006, 100.0003, 100.0005, 100.0004, 100.0005])
    >>> round(t.mean, 5), round(t.scale, 7), t.dof
    (100.00046, 5.1e-05, 4.0)
    """

    name: str
    mean: float
    scale: float
    dof: float

    def __post_init__(self) -> None:
        _check_name(self.name)
        _finite(self.name, "mean", self.mean)
        if _finite(self.name, "standard uncertainty", self.scale) < 0.0:
            raise DistributionError(self.name, f"standard uncertainty must not be negative, got {self.scale!r}")
        _check_dof(self.name, self.dof)
        if math.isinf(self.dof):
            raise DistributionError(self.name, "a t distribution needs finite degrees of freedom; use normal")

    @classmethod
    def from_observations(cls, name: str, values: Sequence[float]) -> StudentT:
        """From n >= 2 repeated indications (JCGM 100:2008, 4.2.1-4.2.3; JCGM 101:2008, 6.4.9.2)."""
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 1 or data.size < 2:
            raise DistributionError(name, "a Type A evaluation needs at least 2 observations")
        s = float(np.std(data, ddof=1))
        return cls(name, float(np.mean(data)), s / math.sqrt(data.size), float(data.size - 1))

    @property
    def expectation(self) -> float:
        return float(self.mean)

    @property
    def standard_uncertainty(self) -> float:
        return float(self.scale)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return self.mean + self.scale * rng.standard_t(self.dof, size)


@dataclass(frozen=True, slots=True)
class MultivariateNormal:
    """Joint Gaussian distribution of several inputs with a correlation matrix (JCGM 101:2008, 6.4.8).

    Covariance V = D R D with D = diag(u).  Sampled as x + L z with V = L Lᵀ (Cholesky; 6.4.8.4, C.5).
    ``correlation`` must be symmetric with unit diagonal and positive definite (JCGM 100:2008, 5.2.2).

    >>> mv = MultivariateNormal(("a", "b"), (1.0, 2.0), (0.1, 0.2), ((1.0, 0.5), (0.5, 1.0)))
    >>> mv.sample(np.random.default_rng(3), 4).shape
    (4, 2)
    >>> MultivariateNormal(("a", "b"), (1.0, 2.0), (0.1, 0.2), ((1.0, 1.5), (1.5, 1.0)))
    Traceback (most recent call last):
    ...
    hengqi.metrology.gum.errors.CorrelationError: a, b: correlation coefficients must lie in [-1, 1]
    """

    names: tuple[str, ...]
    means: tuple[float, ...]
    uncertainties: tuple[float, ...]
    correlation: tuple[tuple[float, ...], ...]
    dofs: tuple[float, ...] | None = None
    _cholesky: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = ", ".join(self.names) or "multivariate normal"
        n = len(self.names)
        if n == 0 or len(self.means) != n or len(self.uncertainties) != n:
            raise DistributionError(label, "names, means and uncertainties must have the same non-zero length")
        for name, mean, u in zip(self.names, self.means, self.uncertainties, strict=True):
            _check_name(name)
            _finite(name, "mean", mean)
            if _finite(name, "standard uncertainty", u) < 0.0:
                raise DistributionError(name, f"standard uncertainty must not be negative, got {u!r}")
        for name, dof in zip(self.names, self.dofs or (math.inf,) * n, strict=False):
            _check_dof(name, dof)
        if self.dofs is not None and len(self.dofs) != n:
            raise DistributionError(label, "dofs must have one entry per input")
        r = np.asarray(self.correlation, dtype=np.float64)
        if r.shape != (n, n) or not np.all(np.isfinite(r)):
            raise CorrelationError(label, f"correlation matrix must be {n}x{n} and finite")
        if not np.allclose(r, r.T, rtol=0.0, atol=1e-12):
            raise CorrelationError(label, "correlation matrix must be symmetric")
        if not np.allclose(np.diag(r), 1.0, rtol=0.0, atol=1e-12):
            raise CorrelationError(label, "correlation matrix must have ones on its diagonal")
        if np.any(np.abs(r) > 1.0):
            raise CorrelationError(label, "correlation coefficients must lie in [-1, 1]")
        try:
            chol_r = np.linalg.cholesky(r)
        except np.linalg.LinAlgError as err:
            raise CorrelationError(label, "correlation matrix is not positive definite") from err
        scale = np.asarray(self.uncertainties, dtype=np.float64)
        object.__setattr__(self, "_cholesky", scale[:, None] * chol_r)

    @property
    def covariance(self) -> FloatArray:
        """V = D R D (JCGM 101:2008, 3.21; JCGM 100:2008, 5.2.2)."""
        u = np.asarray(self.uncertainties, dtype=np.float64)
        return np.asarray(self.correlation, dtype=np.float64) * np.outer(u, u)

    def marginal_dofs(self) -> tuple[float, ...]:
        return self.dofs if self.dofs is not None else (math.inf,) * len(self.names)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` draws, one row each, columns in the order of ``names``."""
        z = standard_normal(rng, size * len(self.names)).reshape(size, len(self.names))
        return np.asarray(self.means, dtype=np.float64) + z @ self._cholesky.T


Distribution = ScalarDistribution | MultivariateNormal
"""Any input distribution accepted by the propagation and Monte Carlo functions."""
