"""Decision rules and risks (hengqi.metrology.conformity) against published examples, an independent peer
(suncal, Sandia PSL) and seeded Monte Carlo."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from suncal import risk as peer

from hengqi.errors import InputError
from hengqi.metrology.conformity import (
    SIMPLE_ACCEPTANCE,
    conformance_probability,
    decide,
    global_risk_monte_carlo,
    global_risk_normal,
    guarded_acceptance,
    nonbinary_status,
    prior_from_measurements,
    specific_risk_normal,
    specific_risk_samples,
)

D = Decimal


# -- ILAC-G8:09/2019 -------------------------------------------------------------------------------------------
# SECONDARY (read through /work/shared/reference/field.md, which cites http://tla.sgs.com/thelabsgs/Decision-Rule.php):
# 4.2.1 simple acceptance: the PFA can reach 50 %; 4.2.2 guard band w = U (k = 2): PFA < 2.5 %.


def test_simple_acceptance_pfa_reaches_50_percent_at_the_limit() -> None:
    d = decide(D("10.0"), D("0.4"), lower=D(0), upper=D(10), rule=SIMPLE_ACCEPTANCE, u=0.2)
    assert d.accepted
    assert d.risk_of_decision == pytest.approx(0.5, abs=1e-12)
    assert d.status == "conditionalPass"


def test_guard_band_w_equals_U_keeps_pfa_below_2_5_percent() -> None:
    rule = guarded_acceptance(D(1))
    U = D("0.4")
    at_limit = decide(D("9.6"), U, lower=D(0), upper=D(10), rule=rule, u=0.2)  # A_U = T_U - U
    assert at_limit.accepted
    assert at_limit.acceptance_upper == D("9.6")
    assert at_limit.risk_of_decision is not None
    assert at_limit.risk_of_decision < 0.025
    assert at_limit.risk_of_decision == pytest.approx(stats.norm.sf(2.0), rel=1e-9)
    just_over = decide(D("9.6000001"), U, lower=D(0), upper=D(10), rule=rule, u=0.2)
    assert not just_over.accepted
    # every accepted value has a PFA below 2.5 %
    for y in np.linspace(0.4, 9.6, 93):
        d = decide(D(repr(float(y))), U, lower=D(0), upper=D(10), rule=rule, u=0.2)
        assert d.accepted
        assert d.risk_of_decision is not None
        assert d.risk_of_decision < 0.025


def test_rule_names_its_source() -> None:
    assert "4.2.1" in str(SIMPLE_ACCEPTANCE)
    assert "ILAC-G8:09/2019" in str(SIMPLE_ACCEPTANCE)
    assert "guarded acceptance, w = 1 U" in str(guarded_acceptance(D(1)))
    assert "guarded rejection" in guarded_acceptance(D("-0.5")).name
    assert guarded_acceptance(D("10")).name == "guarded acceptance, w = 10 U"
    assert guarded_acceptance(D("-0.50")).name == "guarded rejection, w = 0.5 U"
    assert guarded_acceptance(D(0)) is SIMPLE_ACCEPTANCE


def test_guarded_rejection_widens_acceptance() -> None:
    d = decide(D("10.1"), D("0.4"), lower=D(0), upper=D(10), rule=guarded_acceptance(D("-0.5")))
    assert d.acceptance_upper == D("10.20")
    assert d.accepted
    assert d.status == "conditionalFail"


def test_guard_bands_that_close_the_interval_reject_everything() -> None:
    d = decide(D(5), D(6), lower=D(0), upper=D(10), rule=guarded_acceptance(D(1)))
    assert not d.accepted


def test_nonbinary_status_exact_boundaries() -> None:
    lim = {"lower": D("-0.0005"), "upper": D("0.0005")}
    assert nonbinary_status(D("0.0003"), D("0.0002"), **lim) == "pass"  # |E| + U == MPE exactly
    assert nonbinary_status(D("0.00030001"), D("0.0002"), **lim) == "conditionalPass"
    assert nonbinary_status(D("0.0005"), D("0.0002"), **lim) == "conditionalPass"
    assert nonbinary_status(D("0.0007"), D("0.0002"), **lim) == "conditionalFail"
    assert nonbinary_status(D("-0.00070001"), D("0.0002"), **lim) == "fail"
    assert nonbinary_status(D("5"), D("1"), lower=None, upper=D("6")) == "pass"


@pytest.mark.parametrize(("lower", "upper"), [(None, None), (D(2), D(1))])
def test_bad_limits_refused(lower: Decimal | None, upper: Decimal | None) -> None:
    with pytest.raises(InputError):
        decide(D(1), D("0.1"), lower=lower, upper=upper)


def test_bad_uncertainties_refused() -> None:
    with pytest.raises(InputError):
        decide(D(1), D("-0.1"), lower=D(0), upper=D(2))
    with pytest.raises(InputError):
        conformance_probability(1.0, 0.0, lower=0.0, upper=2.0)
    with pytest.raises(InputError):
        conformance_probability(1.0, float("nan"), lower=0.0, upper=2.0)
    with pytest.raises(InputError):
        specific_risk_samples([], lower=0.0, upper=1.0)
    with pytest.raises(InputError):
        global_risk_normal(0.0, -1.0, 1.0, lower=-1.0, upper=1.0)


# -- JCGM 106:2012, 7.4 ----------------------------------------------------------------------------------------
# SECONDARY: inputs y = 13.6, u = 1.8, T_L = 12.5, T_U = 16.3 as quoted from JCGM 106 7.4 by
# https://metrologyrules.com/2022/03 (the guide's text was not read here); the expected value is computed by
# an independent peer (suncal.risk.specific_risk), not copied from the guide.


def test_jcgm106_7_4_conformance_probability_matches_peer() -> None:
    ours = specific_risk_normal(13.6, 1.8, lower=12.5, upper=16.3)
    theirs = peer.specific_risk(stats.norm(13.6, 1.8), LL=12.5, UL=16.3)
    assert ours.pfa == pytest.approx(float(theirs.total), rel=1e-9)
    assert ours.p_conform == pytest.approx(stats.norm.cdf(1.5) - stats.norm.cdf(-1.1 / 1.8), rel=1e-12)


def test_one_sided_limits() -> None:
    assert conformance_probability(0.0, 1.0, lower=None, upper=2.0) == pytest.approx(stats.norm.cdf(2.0))
    assert conformance_probability(0.0, 1.0, lower=-2.0, upper=None) == pytest.approx(stats.norm.cdf(2.0))
    # far tail keeps precision (sf rather than 1 - cdf)
    assert 1 - conformance_probability(0.0, 1.0, lower=-40.0, upper=None) == 0.0
    assert conformance_probability(0.0, 1.0, lower=10.0, upper=None) == pytest.approx(stats.norm.sf(10.0))


def test_monte_carlo_specific_risk_agrees_with_closed_form() -> None:
    seed = 20261207
    rng = np.random.default_rng(seed)
    n = 400_000
    sample = rng.normal(13.6, 1.8, n)
    mc = specific_risk_samples(sample, lower=12.5, upper=16.3)
    exact = specific_risk_normal(13.6, 1.8, lower=12.5, upper=16.3)
    se = (exact.p_conform * (1 - exact.p_conform) / n) ** 0.5
    assert abs(mc.p_conform - exact.p_conform) < 4 * se
    assert mc.samples == n
    assert mc.method == "monte carlo"


# -- global risks (JCGM 106:2012, 9.5) -------------------------------------------------------------------------
# SECONDARY: Deaver, "How to maintain your confidence" (NCSL 1993), p. 7 and p. 10, as quoted in suncal's
# test suite (sandialabs/suncal test/test_risk.py): process N(0, 4^2), measurement u = 1, limits +-8
# (SL = 2, TUR = 4): PFA 0.008, PFR 0.015; SL = 2, TUR = 2 with acceptance limits 0.91 T: PFA 0.008, PFR 0.066.


def test_deaver_page_7() -> None:
    g = global_risk_normal(0.0, 4.0, 1.0, lower=-8.0, upper=8.0)
    assert g.consumer == pytest.approx(0.008, abs=0.0005)
    assert g.producer == pytest.approx(0.015, abs=0.0005)
    assert g.p_conforming == pytest.approx(stats.norm.cdf(2) - stats.norm.cdf(-2))


def test_deaver_page_10_guard_band() -> None:
    g = global_risk_normal(0.0, 1.0, 0.5, lower=-2.0, upper=2.0, acceptance_lower=-1.82, acceptance_upper=1.82)
    assert g.consumer == pytest.approx(0.008, abs=0.0005)
    assert g.producer == pytest.approx(0.066, abs=0.001)


@pytest.mark.parametrize(
    "case",
    [(0.0, 4.0, 1.0, -8.0, 8.0, 0.0), (0.3, 1.0, 0.5, -2.0, 2.0, 0.18), (10.2, 0.4, 0.2, 9.0, 11.0, 0.4)],
)
def test_global_risk_matches_peer(case: tuple[float, float, float, float, float, float]) -> None:
    y0, u0, um, lo, hi, gb = case
    ours = global_risk_normal(y0, u0, um, lower=lo, upper=hi, acceptance_lower=lo + gb, acceptance_upper=hi - gb)
    proc, test = stats.norm(y0, u0), stats.norm(0, um)
    assert ours.consumer == pytest.approx(peer.PFA(proc, test, LL=lo, UL=hi, GBL=gb, GBU=gb), rel=2e-3, abs=1e-7)
    assert ours.producer == pytest.approx(peer.PFR(proc, test, LL=lo, UL=hi, GBL=gb, GBU=gb), rel=2e-3, abs=1e-7)


def test_global_risk_monte_carlo_agrees_with_quadrature() -> None:
    seed = 106
    quad = global_risk_normal(0.3, 1.0, 0.5, lower=-2.0, upper=2.0, acceptance_lower=-1.82, acceptance_upper=1.82)
    mc = global_risk_monte_carlo(
        0.3,
        1.0,
        0.5,
        lower=-2.0,
        upper=2.0,
        acceptance_lower=-1.82,
        acceptance_upper=1.82,
        samples=1_000_000,
        seed=seed,
    )
    assert mc.seed == seed
    assert mc.samples == 1_000_000
    for a, b in ((mc.consumer, quad.consumer), (mc.producer, quad.producer), (mc.p_conforming, quad.p_conforming)):
        assert abs(a - b) < 4 * (b * (1 - b) / mc.samples) ** 0.5


def test_one_sided_global_risk() -> None:
    g = global_risk_normal(1.0, 0.5, 0.1, lower=None, upper=2.0)
    proc, test = stats.norm(1.0, 0.5), stats.norm(0, 0.1)
    assert g.consumer == pytest.approx(peer.PFA(proc, test, LL=-np.inf, UL=2.0), rel=5e-3)


@settings(deadline=None, max_examples=60)
@given(
    st.floats(-5, 5),
    st.floats(0.05, 3),
    st.floats(0.01, 2),
    st.floats(0, 1),
)
def test_global_risks_are_probabilities_and_guarding_lowers_consumer_risk(
    y0: float, u0: float, um: float, r: float
) -> None:
    simple = global_risk_normal(y0, u0, um, lower=-1.0, upper=1.0)
    guarded = global_risk_normal(
        y0, u0, um, lower=-1.0, upper=1.0, acceptance_lower=-1.0 + r * 2 * um, acceptance_upper=1.0 - r * 2 * um
    )
    for g in (simple, guarded):
        assert 0.0 <= g.consumer <= 1 - g.p_conforming + 1e-9
        assert 0.0 <= g.producer <= g.p_conforming + 1e-9
    assert guarded.consumer <= simple.consumer + 1e-9
    assert guarded.producer >= simple.producer - 1e-9


def test_prior_from_fleet_measurements_recovers_the_process() -> None:
    seed = 9  # recorded
    rng = np.random.default_rng(seed)
    n = 200_000
    eta = rng.normal(0.3, 1.0, n)
    y = eta + rng.normal(0.0, 0.5, n)
    prior = prior_from_measurements(y, 0.5)
    assert prior.n == n
    assert abs(prior.y0 - 0.3) < 4 * np.sqrt(1.25 / n)
    assert abs(prior.u0 - 1.0) < 0.01
    # the estimated prior gives the risks of the true one to within the estimation error
    est = global_risk_normal(prior.y0, prior.u0, 0.5, lower=-2.0, upper=2.0)
    true = global_risk_normal(0.3, 1.0, 0.5, lower=-2.0, upper=2.0)
    assert est.consumer == pytest.approx(true.consumer, rel=0.05)
    with pytest.raises(InputError, match="does not exceed"):
        prior_from_measurements([1.0, 1.1, 0.9], 1.0)
    with pytest.raises(InputError):
        prior_from_measurements([1.0], 0.1)
