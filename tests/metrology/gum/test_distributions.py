"""Input distributions (JCGM 101:2008, 6.4): moments of the samplers, validation, chunk independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hengqi.metrology.gum import (
    Arcsine,
    CorrelationError,
    CurvilinearTrapezoid,
    DistributionError,
    MultivariateNormal,
    Normal,
    Rectangular,
    StudentT,
    Trapezoidal,
    Triangular,
)
from hengqi.metrology.gum.distributions import standard_normal

SCALARS = [
    Normal("a", 3.0, 0.5),
    Rectangular("b", -2.0, 4.0),
    Triangular("c", 0.0, 3.0),
    Triangular("d", 0.0, 3.0, mode=0.5),
    Trapezoidal("e", 1.0, 5.0, 0.4),
    Arcsine("f", -1.0, 3.0),
    CurvilinearTrapezoid("g", -1.0, 1.0, 0.4),
]


@pytest.mark.parametrize("dist", SCALARS, ids=lambda d: type(d).__name__ + d.name)
def test_sample_moments_match_expectation_and_uncertainty(dist: object) -> None:
    x = dist.sample(np.random.default_rng(5), 400_000)  # type: ignore[attr-defined]
    u = dist.standard_uncertainty  # type: ignore[attr-defined]
    assert np.mean(x) == pytest.approx(dist.expectation, abs=5 * u / math.sqrt(x.size))  # type: ignore[attr-defined]
    assert np.std(x, ddof=1) == pytest.approx(u, rel=0.01)


def test_t_distribution_uses_s_over_sqrt_n_for_the_gum_and_a_t_for_monte_carlo() -> None:
    t = StudentT("r", 10.0, 0.2, 4.0)
    x = t.sample(np.random.default_rng(2), 400_000)
    # JCGM 101:2008, 6.4.9.4: the t distribution has variance scale^2 nu/(nu - 2)
    assert np.std(x, ddof=1) == pytest.approx(0.2 * math.sqrt(2.0), rel=0.02)
    assert t.standard_uncertainty == 0.2
    assert t.dof == 4.0


def test_t_from_observations() -> None:
    t = StudentT.from_observations("I", [1.0, 2.0, 3.0, 4.0])
    assert t.mean == 2.5
    assert t.scale == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert t.dof == 3


@pytest.mark.parametrize("dist", [*SCALARS, StudentT("t", 0.0, 1.0, 3.0)], ids=lambda d: type(d).__name__)
def test_draws_do_not_depend_on_chunking(dist: object) -> None:
    # normal draws come in Box-Muller pairs: chunks of even size (the engine's chunks are multiples of BLOCK)
    sizes = (2, 298, 699) if isinstance(dist, Normal) else (1, 299, 699)
    whole = dist.sample(np.random.default_rng(9), 999)  # type: ignore[attr-defined]
    rng = np.random.default_rng(9)
    parts = [dist.sample(rng, n) for n in sizes]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(whole, np.concatenate(parts))


def test_multivariate_normal_draws_do_not_depend_on_even_chunking() -> None:
    mv = MultivariateNormal(("a", "b", "c"), (1.0, 2.0, 3.0), (0.1, 0.2, 0.3), ((1, 0.5, 0), (0.5, 1, 0), (0, 0, 1)))
    whole = mv.sample(np.random.default_rng(4), 1001)
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(whole, np.concatenate([mv.sample(rng, n) for n in (64, 936, 1)]))


def test_box_muller_normal_matches_the_normal_distribution_in_the_tails() -> None:
    # Kolmogorov-Smirnov over 2 x 10^6 draws, and tail frequencies beyond 2, 3 and 4 standard deviations against
    # the exact N(0, 1) probabilities within 5 binomial standard deviations (JCGM 101:2008, 7.7 intervals live there)
    z = standard_normal(np.random.default_rng(12), 2_000_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    for x in (2.0, 3.0, 4.0):
        p = 2.0 * stats.norm.sf(x)
        n = int(np.count_nonzero(np.abs(z) > x))
        assert abs(n - p * z.size) <= 5.0 * math.sqrt(p * (1.0 - p) * z.size)
    # cosine and sine halves are uncorrelated and each N(0, 1)
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 5.0 / math.sqrt(z.size / 2)
    assert stats.kstest(z[1::2], "norm").pvalue > 1e-3
    assert float(np.abs(z).max()) < math.sqrt(-2.0 * math.log(2.0**-53))


def test_bounded_samples_stay_inside_their_limits() -> None:
    rng = np.random.default_rng(3)
    for dist in SCALARS[1:]:
        x = dist.sample(rng, 100_000)
        lower = dist.lower - getattr(dist, "d", 0.0)  # type: ignore[attr-defined]
        upper = dist.upper + getattr(dist, "d", 0.0)  # type: ignore[attr-defined]
        assert lower <= x.min()
        assert x.max() <= upper


def test_multivariate_normal_reproduces_its_covariance() -> None:
    mv = MultivariateNormal(
        ("a", "b", "c"), (1.0, 2.0, 3.0), (0.1, 0.2, 0.3), ((1, 0.8, -0.3), (0.8, 1, 0), (-0.3, 0, 1))
    )
    x = mv.sample(np.random.default_rng(4), 400_000)
    np.testing.assert_allclose(np.cov(x.T), mv.covariance, atol=3e-4)
    np.testing.assert_allclose(x.mean(axis=0), mv.means, atol=2e-3)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Normal("m_S", 1.0, -0.1), "m_S: standard uncertainty must not be negative"),
        (lambda: Normal("x", math.nan, 0.1), "x: mean must be a finite number"),
        (lambda: Normal("x", 1.0, 0.1, dof=0), "x: degrees of freedom must be positive"),
        (lambda: Rectangular("dB", 1.0, -1.0), "dB: upper bound"),
        (lambda: Triangular("x", 0.0, 1.0, mode=2.0), "x: mode"),
        (lambda: Trapezoidal("x", 0.0, 1.0, 1.5), "x: beta"),
        (lambda: CurvilinearTrapezoid("x", 0.0, 1.0, 0.6), "x: d must lie"),
        (lambda: StudentT("x", 0.0, 1.0, math.inf), "x: a t distribution needs finite"),
        (lambda: StudentT.from_observations("x", [1.0]), "x: a Type A evaluation needs at least 2"),
        (lambda: Normal("not a name", 1.0, 0.1), "is not an identifier"),
    ],
)
def test_invalid_parameters_raise_typed_errors_naming_the_input(make: object, match: str) -> None:
    with pytest.raises(DistributionError, match=match):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("r", "match"),
    [
        (((1, 0.5), (0.4, 1)), "symmetric"),
        (((1, 1.2), (1.2, 1)), r"\[-1, 1\]"),
        (((0.9, 0), (0, 1)), "ones on its diagonal"),
        (((1, 1), (1, 1)), "not positive definite"),
        (((1, 0), (0, 1), (0, 0)), "2x2"),
    ],
)
def test_bad_correlation_matrices_are_refused(r: tuple[tuple[float, ...], ...], match: str) -> None:
    with pytest.raises(CorrelationError, match=f"a, b: .*{match}"):
        MultivariateNormal(("a", "b"), (0.0, 0.0), (1.0, 1.0), r)


def test_three_by_three_not_positive_definite() -> None:
    r = ((1, 0.9, -0.9), (0.9, 1, 0.9), (-0.9, 0.9, 1))
    with pytest.raises(CorrelationError, match="not positive definite"):
        MultivariateNormal(("a", "b", "c"), (0, 0, 0), (1, 1, 1), r)


@pytest.mark.parametrize("u", [1e-200, 1e-3, 1e200])
def test_normal_draws_scale_without_overflow_or_underflow(u: float) -> None:
    x = Normal("x", 0.0, u).sample(np.random.default_rng(6), 100_000)
    assert np.all(np.isfinite(x))
    assert np.std(x / u) == pytest.approx(1.0, rel=0.01)
