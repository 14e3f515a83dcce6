"""Monte Carlo method (JCGM 101:2008, clauses 7-9) against published examples and exact distributions.

Tolerances: Monte Carlo estimates are compared with exact values (derived from the input distributions) within a
few standard deviations of the estimator at the M used, and always within the numerical tolerance delta of
JCGM 101:2008, 7.9.2 for n_dig = 2 where a published value is checked.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from hengqi.metrology.gum import (
    MeasurementModel,
    MonteCarloError,
    MultivariateNormal,
    Normal,
    Rectangular,
    StudentT,
    monte_carlo,
    monte_carlo_adaptive,
    numerical_tolerance,
    propagate,
    validate,
)
from hengqi.metrology.gum.intervals import BLOCK
from hengqi.metrology.gum.montecarlo import GENERATOR, _Trials, random_streams
from hengqi.records.uncertainty_model import load_uncertainty_model

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "uncertainty"
ADDITIVE = MeasurementModel.from_equations([("Y", "X1 + X2 + X3 + X4")])


def _inputs(last: object) -> list[object]:
    return [Normal("X1", 0.0, 1.0), Normal("X2", 0.0, 1.0), Normal("X3", 0.0, 1.0), last]


def test_jcgm101_9_2_2_normal_inputs() -> None:
    # Y ~ N(0, 4): JCGM 101:2008, 9.2.2, Table 2: y = 0.0, u = 2.0, 95 % interval [-3.92, 3.92] for GUF and MCM
    inputs = _inputs(Normal("X4", 0.0, 1.0))
    r = monte_carlo(ADDITIVE, inputs, trials=400_000, p=0.95, seed=922)
    half = 2.0 * stats.norm.ppf(0.975)
    assert round(half, 2) == 3.92
    assert r.value == pytest.approx(0.0, abs=0.015)
    assert r.u == pytest.approx(2.0, abs=0.01)
    assert r.interval_symmetric == pytest.approx((-half, half), abs=0.03)
    # for a symmetric distribution the shortest interval's position is poorly determined (its width changes only
    # to second order with a shift): over 40 seeds at M = 4e5 its endpoints have a standard deviation of 0.026,
    # with numpy's ziggurat as with Box-Muller, so its width is checked to 0.03 and its endpoints to 4 sd
    low, high = r.interval_shortest
    assert high - low == pytest.approx(2.0 * half, abs=0.03)
    assert r.interval_shortest == pytest.approx((-half, half), abs=0.1)
    g = propagate(ADDITIVE, inputs, p=0.95)
    assert validate(g.interval, g.u, r.interval_symmetric, n_dig=2).validated


def _irwin_hall_cdf(x: float, n: int) -> float:
    return sum((-1) ** k * math.comb(n, k) * (x - k) ** n for k in range(math.floor(x) + 1)) / math.factorial(n)


def test_jcgm101_9_2_3_rectangular_inputs() -> None:
    # four rectangular inputs of standard deviation 1: the exact 97.5 % point of their sum (Irwin-Hall, scaled)
    a = math.sqrt(3.0)
    model = ADDITIVE
    inputs = [Rectangular(f"X{i}", -a, a) for i in range(1, 5)]
    exact = optimize.brentq(lambda y: _irwin_hall_cdf((y + 4 * a) / (2 * a), 4) - 0.975, 0.0, 4 * a)
    assert round(exact, 2) == 3.88  # JCGM 101:2008, 9.2.3: MCM interval [-3.88, 3.88]
    r = monte_carlo(model, inputs, trials=400_000, p=0.95, seed=923)
    assert r.u == pytest.approx(2.0, abs=0.01)
    assert r.interval_symmetric == pytest.approx((-exact, exact), abs=0.03)


def test_jcgm101_9_2_4_guf_not_validated_and_mcm_matches_the_exact_distribution() -> None:
    problem = load_uncertainty_model(EXAMPLES / "jcgm101-9.2-additive.yaml").to_problem()
    sigma, a = math.sqrt(3.0), 10.0 * math.sqrt(3.0)

    def cdf(y: float) -> float:  # N(0, 3) convolved with R(-a, a)
        def g(t: float) -> float:
            return t * stats.norm.cdf(t / sigma) + sigma * stats.norm.pdf(t / sigma)

        return (g(y + a) - g(y - a)) / (2 * a)

    exact = optimize.brentq(lambda y: cdf(y) - 0.975, 0.0, 40.0)
    r = monte_carlo(problem.model, problem.distributions, trials=400_000, p=0.95, seed=924)
    assert r.u == pytest.approx(math.sqrt(103.0), abs=0.03)
    assert r.interval_symmetric == pytest.approx((-exact, exact), abs=0.06)
    g = propagate(problem.model, problem.distributions, p=0.95)
    assert g.u == pytest.approx(math.sqrt(103.0), rel=1e-9)
    check = validate(g.interval, g.u, r.interval_symmetric, n_dig=2)
    assert not check.validated  # JCGM 101:2008, 9.2.4: the GUF interval is too wide
    assert check.d_low > 2.5
    assert check.d_high > 2.5


def test_jcgm101_9_3_mass_calibration() -> None:
    problem = load_uncertainty_model(EXAMPLES / "jcgm101-9.3-mass.yaml").to_problem()
    g = propagate(problem.model, problem.distributions, p=0.95)
    # JCGM 101:2008, 9.3, Table 6: GUF (first order) dm = 1.2340 mg, u = 0.0539 mg
    assert round(g.value, 4) == 1.2340
    assert round(g.u, 4) == 0.0539
    r = monte_carlo(problem.model, problem.distributions, trials=1_000_000, p=0.95, seed=93)
    # exact u: Y = M (1 + A B) - 100 000 g with E[A] = 0, so Var Y = Var M + E[M^2] Var(A) E[B^2]
    e_w2, e_r2 = (1 / 7000 - 1 / 9000) / 2000, (1 / 7950 - 1 / 8050) / 100
    e_sq = e_w2 - 2 * (math.log(9000 / 7000) / 2000) * (math.log(8050 / 7950) / 100) + e_r2
    m2 = 100001.234**2 + 0.05**2 + 0.02**2
    exact_u = math.sqrt(0.05**2 + 0.02**2 + (0.2**2 / 12) * e_sq * m2)
    assert r.u == pytest.approx(exact_u, abs=2e-4)
    # JCGM 101:2008, 9.3, Table 6: MCM u = 0.0754 mg, within delta = 0.0005 mg (n_dig = 2)
    assert abs(r.u - 0.0754) <= numerical_tolerance(0.0754, 2)
    assert r.value == pytest.approx(1.2340, abs=5e-4)
    assert not validate(g.interval, g.u, r.interval_symmetric, 2).validated


def test_jcgm101_9_4_comparison_loss_shortest_interval_is_exact() -> None:
    # JCGM 101:2008, 9.4 (x1 = x2 = 0): Y = X1^2 + X2^2, X_i ~ N(0, u^2) -> Y/(u^2) ~ chi^2_2, i.e. exponential
    # with mean 2u^2; the GUF (first order) gives u(y) = 0.  Shortest 95 % interval: [0, -2u^2 ln 0.05].
    u = 0.005
    model = MeasurementModel.from_equations([("Y", "X1**2 + X2**2")])
    inputs = [Normal("X1", 0.0, u), Normal("X2", 0.0, u)]
    assert propagate(model, inputs, p=0.95).u == 0.0
    r = monte_carlo(model, inputs, trials=400_000, p=0.95, seed=94)
    mean = 2 * u * u
    assert r.value == pytest.approx(mean, rel=0.01)
    assert r.u == pytest.approx(mean, rel=0.01)
    assert r.interval_shortest[0] == pytest.approx(0.0, abs=1e-8)
    assert r.interval_shortest[1] == pytest.approx(-mean * math.log(0.05), rel=0.01)
    assert r.interval_symmetric[0] == pytest.approx(-mean * math.log(0.975), rel=0.02)


def test_correlation_changes_the_monte_carlo_result_as_the_lpu_says() -> None:
    model = MeasurementModel.from_equations([("y", "a - b")])
    for r_ab in (-0.8, 0.0, 0.8):
        mv = MultivariateNormal(("a", "b"), (5.0, 2.0), (0.3, 0.4), ((1.0, r_ab), (r_ab, 1.0)))
        g = propagate(model, [mv])
        m = monte_carlo(model, [mv], trials=200_000, seed=31)
        assert m.u == pytest.approx(g.u, rel=0.01)
        assert m.interval_symmetric == pytest.approx(g.interval, abs=0.02)


def test_monte_carlo_agrees_with_lpu_on_random_linear_models() -> None:
    rng = np.random.default_rng(2024)
    for case in range(5):
        c = rng.uniform(-3, 3, 4)
        inputs = [
            Normal("a", rng.uniform(-5, 5), rng.uniform(0.1, 1)),
            Rectangular("b", -1.0, rng.uniform(0, 2)),
            StudentT("t", 1.0, rng.uniform(0.1, 1), 30.0),
            Normal("d", 0.0, rng.uniform(0.1, 1)),
        ]
        model = MeasurementModel(
            lambda a, b, t, d, c=c: c[0] * a + c[1] * b + c[2] * t + c[3] * d, ("a", "b", "t", "d")
        )
        g = propagate(model, inputs)
        m = monte_carlo(model, inputs, trials=200_000, seed=case)
        # MCM propagates the t distribution's variance nu/(nu - 2) x scale^2 (JCGM 101:2008, 6.4.9.4)
        var = g.u**2 + (c[2] * inputs[2].standard_uncertainty) ** 2 * (30 / 28 - 1)  # type: ignore[attr-defined]
        assert m.value == pytest.approx(g.value, abs=4 * g.u / math.sqrt(200_000))
        assert m.u == pytest.approx(math.sqrt(var), rel=0.01)


def test_seed_reproduces_and_is_recorded() -> None:
    inputs = _inputs(Rectangular("X4", -1.0, 1.0))
    a = monte_carlo(ADDITIVE, inputs, trials=50_000, seed=7)
    b = monte_carlo(ADDITIVE, inputs, trials=50_000, seed=7)
    c = monte_carlo(ADDITIVE, inputs, trials=50_000, seed=8)
    assert a == b
    assert a.seed == 7
    assert a.generator == GENERATOR == "SFC64"
    assert a.u != c.u
    drawn = monte_carlo(ADDITIVE, inputs, trials=50_000)
    assert isinstance(drawn.seed, int)
    assert drawn.seed >= 0
    assert monte_carlo(ADDITIVE, inputs, trials=50_000, seed=drawn.seed) == drawn


def test_chunked_unchunked_and_threaded_runs_are_identical() -> None:
    inputs = [
        Normal("X1", 1.0, 0.2),
        MultivariateNormal(("X2", "X3"), (0.0, 1.0), (1.0, 0.5), ((1.0, 0.6), (0.6, 1.0))),
        StudentT("X4", 0.0, 0.3, 5.0),
    ]
    trials = 3 * BLOCK + 12_345
    runs = [
        monte_carlo(ADDITIVE, inputs, trials=trials, seed=11, chunk_size=chunk, workers=workers, bins=30)
        for chunk, workers in ((BLOCK, 1), (BLOCK, 2), (4 * BLOCK, 1), (2 * BLOCK, 2))
    ]
    assert all(run == runs[0] for run in runs[1:])
    histogram = runs[0].histogram
    assert histogram is not None
    assert sum(histogram.counts) + histogram.underflow + histogram.overflow == trials


class _ShiftedNormal(Normal):
    """A subclass with its own sampler: the threads must call it, not the normal transform."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return Normal.sample(self, rng, size) + 1.0


def test_threads_share_chunks_of_every_distribution_kind_with_identical_results() -> None:
    from hengqi.metrology.gum.distributions import Arcsine, CurvilinearTrapezoid, Trapezoidal, Triangular

    model = MeasurementModel.from_callable(lambda a, b, c, d, e, f, g, h, i, j: a * b + c + d * e + f - g + h * i + j)
    inputs = [
        Normal("a", 1.0, 0.2),
        Rectangular("b", -1.0, 2.0),
        StudentT("c", 0.0, 0.3, 5.0),
        Triangular("d", -1.0, 1.0, 0.3),
        Trapezoidal("e", 0.0, 1.0, 0.4),
        Arcsine("f", -1.0, 1.0),
        CurvilinearTrapezoid("g", -1.0, 1.0, 0.2),
        MultivariateNormal(("h", "i"), (0.0, 1.0), (1.0, 0.5), ((1.0, 0.6), (0.6, 1.0))),
        _ShiftedNormal("j", 0.0, 1e-200),
    ]
    trials = 17 * BLOCK - 3
    one = monte_carlo(model, inputs, trials=trials, seed=21, workers=1, bins=20)
    for workers, chunk in ((2, None), (3, None), (2, BLOCK), (2, 3 * BLOCK), (3, 2 * BLOCK)):
        assert monte_carlo(model, inputs, trials=trials, seed=21, workers=workers, chunk_size=chunk, bins=20) == one
    values = _Trials(model, inputs, 21).next(trials)
    assert one.value == pytest.approx(float(np.mean(values)), rel=1e-12)
    # E(a)E(b) + E(d)E(e) + E(h)E(i) + cov(h, i) + 1 (the subclass's shift); tolerance about 7 standard errors
    assert one.value == pytest.approx(1.0 * 0.5 + 0.1 * 0.5 + 0.0 * 1.0 + 0.6 * 1.0 * 0.5 + 1.0, abs=0.02)


def test_intervals_equal_those_from_the_sorted_values() -> None:
    inputs = [Normal("X1", 0.0, 1.0), Rectangular("X2", 0.0, 3.0), Normal("X3", 0.0, 0.1), Normal("X4", 0.0, 0.1)]
    trials = 2 * BLOCK + 1001
    r = monte_carlo(ADDITIVE, inputs, trials=trials, p=0.9, seed=5, chunk_size=BLOCK)
    gens = random_streams(5, 4)
    y = sum(d.sample(g, trials) for d, g in zip(inputs, gens, strict=True))
    y.sort()
    q = math.floor(0.9 * trials + 0.5)
    low = (trials - q + 1) // 2
    assert r.interval_symmetric == (y[low - 1], y[low + q - 1])
    widths = y[q:] - y[: trials - q]
    best = int(np.argmin(widths))
    assert r.interval_shortest == (y[best], y[best + q])
    assert r.value == pytest.approx(float(np.mean(y)), rel=1e-12)
    assert r.u == pytest.approx(float(np.std(y, ddof=1)), rel=1e-10)


def test_adaptive_procedure_meets_its_numerical_tolerance() -> None:
    inputs = _inputs(Rectangular("X4", -1.0, 1.0))
    r = monte_carlo_adaptive(ADDITIVE, inputs, n_dig=1, p=0.95, seed=79)
    assert r.adaptive
    assert r.converged
    assert r.n_dig == 1
    assert r.trials % 10_000 == 0
    assert r.trials >= 20_000
    assert r.tolerance == numerical_tolerance(r.u, 1)
    exact_u = math.sqrt(3 + 1 / 3)
    assert abs(r.u - exact_u) <= r.tolerance
    # the same stream as a fixed-M run of the same length
    fixed = monte_carlo(ADDITIVE, inputs, trials=r.trials, p=0.95, seed=79, workers=1)
    assert fixed.u == pytest.approx(r.u, rel=1e-12)
    assert fixed.interval_symmetric == r.interval_symmetric


def test_adaptive_procedure_stops_at_max_trials_and_says_so() -> None:
    inputs = _inputs(Rectangular("X4", -1.0, 1.0))
    r = monte_carlo_adaptive(ADDITIVE, inputs, n_dig=4, seed=1, max_trials=30_000)
    assert not r.converged
    assert r.trials == 30_000


def test_uncertainty_is_never_negative_and_model_errors_are_named() -> None:
    model = MeasurementModel.from_equations([("y", "sqrt(a)")])
    with pytest.raises(Exception, match="non-finite values"):
        monte_carlo(model, [Normal("a", 0.1, 1.0)], trials=10_000, seed=1)
    r = monte_carlo(MeasurementModel.from_equations([("y", "a * 0 + 3")]), [Normal("a", 1, 1)], trials=1000, seed=1)
    assert r.u == 0.0
    assert r.value == 3.0
    assert r.interval_shortest == (3.0, 3.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"trials": 10}, "too few"),
        ({"trials": 1}, "integer >= 2"),
        ({"seed": -1}, "non-negative integer"),
        ({"chunk_size": 1000}, "multiple of"),
        ({"workers": 0}, "positive integer"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(MonteCarloError, match=match):
        monte_carlo(ADDITIVE, _inputs(Normal("X4", 0, 1)), **kwargs)  # type: ignore[arg-type]


def test_numerical_tolerance_examples() -> None:
    # JCGM 101:2008, 7.9.2: u = c x 10^l with c an n_dig-digit integer, delta = 10^l / 2
    assert numerical_tolerance(0.0539, 2) == 0.0005
    assert numerical_tolerance(2.0, 1) == 0.5
    assert numerical_tolerance(2.0, 2) == 0.05
    assert numerical_tolerance(9.96, 2) == 0.5  # rounds to 10 x 10^0
    assert numerical_tolerance(35e-9, 2) == pytest.approx(5e-10)


def test_jcgm100_h1_end_gauge_monte_carlo_includes_the_second_order_terms() -> None:
    # JCGM 100:2008, H.1.7: with the product terms dalpha*theta and alpha_s*dtheta the combined standard
    # uncertainty grows from 32 nm to 34 nm.  Exact variance of the model for independent inputs (E[dalpha] =
    # E[dtheta] = 0): u²(l_s) + u²(d) + E[l_s²] u²(dalpha) E[theta²] + E[l_s²] E[alpha_s²] u²(dtheta).
    problem = load_uncertainty_model(EXAMPLES / "jcgm100-h1-end-gauge.yaml").to_problem()
    ls2 = 50.000623**2 + 25e-6**2
    var = (25e-6) ** 2 + (9.7e-6) ** 2
    var += ls2 * (1e-6**2 / 3) * (0.1**2 + 0.41**2)
    var += ls2 * (11.5e-6**2 + 2e-6**2 / 3) * (0.05**2 / 3)
    r = monte_carlo(problem.model, problem.distributions, trials=1_000_000, p=0.99, seed=17)
    assert r.u * 1e6 == pytest.approx(math.sqrt(var) * 1e6, abs=0.15)
    assert round(r.u * 1e6) == 34
    assert r.value == pytest.approx(50.000838, abs=1e-7)


def test_adaptive_procedure_with_a_constant_model_stops_after_two_batches() -> None:
    model = MeasurementModel.from_equations([("y", "a * 0 + 1")])
    r = monte_carlo_adaptive(model, [Normal("a", 0.0, 1.0)], seed=3)
    assert r.converged
    assert r.trials == 20_000
    assert r.u == 0.0
    assert r.tolerance is None


def test_model_values_do_not_depend_on_how_trials_are_requested() -> None:
    # normal inputs are drawn in Box-Muller pairs; odd requests (an adaptive batch of odd size) keep the stream
    inputs = [Normal("X1", 0.0, 1.0), StudentT("X2", 0.0, 1.0, 4.0), Rectangular("X3", 0.0, 1.0)]
    inputs.append(MultivariateNormal(("X4",), (0.0,), (2.0,), ((1.0,),)))  # type: ignore[arg-type]
    whole = _Trials(ADDITIVE, inputs, 21).next(30_001)
    source = _Trials(ADDITIVE, inputs, 21)
    parts = [source.next(n) for n in (1, 2, 9_999, 0, 19_998, 1)]
    np.testing.assert_array_equal(whole, np.concatenate(parts))


def test_large_mean_small_uncertainty_intervals_are_not_quantised() -> None:
    # JCGM 100:2008, H.1 scale: l = l_s + d, l_s = 50.000623 mm with u = 25 nm, d = 215 nm with u = 9.7 nm
    # (H.1.3.1, H.1.3.2); l is exactly normal.  float32 values near 50 mm are spaced by 3.8 nm (0.14 u): the
    # draws must not sit on such a grid (shift and scale in float64), and the MCM interval matches the exact one
    # within Monte Carlo noise (the 0.5 % quantile's standard deviation is about 0.01 u at M = 10^6: 0.05 u).
    model = MeasurementModel.from_equations([("l", "l_s + d")])
    inputs = [Normal("l_s", 50.000623, 25e-6), Normal("d", 215e-6, 9.7e-6)]
    draws = inputs[0].sample(random_streams(1, 1)[0], 100_000)
    assert np.unique(draws).size == draws.size  # a float32 grid would leave about 70 distinct values
    u = math.hypot(25e-6, 9.7e-6)
    r = monte_carlo(model, inputs, trials=1_000_000, p=0.99, seed=100)
    half = stats.norm.ppf(0.995) * u
    assert r.value == pytest.approx(50.000838, abs=0.01 * u)
    assert r.u == pytest.approx(u, rel=0.005)
    assert r.interval_symmetric == pytest.approx((50.000838 - half, 50.000838 + half), abs=0.05 * u)


def test_guessed_tail_thresholds_give_the_exact_intervals_or_say_they_failed() -> None:
    from hengqi.metrology.gum.intervals import Accumulator, TailsLost

    rng = np.random.default_rng(8)
    values = rng.standard_normal(20 * 4 * BLOCK)
    summaries = []
    for guess in (True, False):
        acc = Accumulator(values.size, 0.95, 0.0, guess=guess)
        for start in range(0, values.size, 4 * BLOCK):
            acc.add(values[start : start + 4 * BLOCK])
        summaries.append(acc.finish())
    assert summaries[0] == summaries[1]
    y = np.sort(values)
    q = math.floor(0.95 * values.size + 0.5)
    r = (values.size - q + 1) // 2
    assert summaries[0].interval_symmetric == (y[r - 1], y[r + q - 1])
    # a first chunk unlike the rest (not a random sample): the guess is too tight, and finish() says so
    # (p = 0.9: the lower tail needs 0.1 M values, more than the first chunk holds)
    skewed = np.concatenate([values[: 4 * BLOCK], np.full(values.size - 4 * BLOCK, 5.0)])
    acc = Accumulator(skewed.size, 0.9, 0.0)
    for start in range(0, skewed.size, 4 * BLOCK):
        acc.add(skewed[start : start + 4 * BLOCK])
    assert acc.lost
    with pytest.raises(TailsLost):
        acc.finish()


def test_default_workers_follow_the_load_and_never_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from hengqi.metrology.gum import montecarlo

    monkeypatch.setattr(montecarlo.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(montecarlo.os, "getloadavg", lambda: (0.4, 0.4, 0.4))
    assert montecarlo.default_workers() == 2
    idle = monte_carlo(ADDITIVE, _inputs(Rectangular("X4", -1.0, 1.0)), trials=3 * BLOCK, seed=4)
    monkeypatch.setattr(montecarlo.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert montecarlo.default_workers() == 1
    busy = monte_carlo(ADDITIVE, _inputs(Rectangular("X4", -1.0, 1.0)), trials=3 * BLOCK, seed=4)
    assert idle == busy
    monkeypatch.setattr(montecarlo.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(montecarlo.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert montecarlo.default_workers() == 1
