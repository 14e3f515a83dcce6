"""Sampling plans (two-point OC design, conformance demonstration) and the inspection ranking."""

from __future__ import annotations

import itertools
import math
from datetime import date

import pytest
from scipy.stats import binom, hypergeom

from hengqi.errors import InputError
from hengqi.supervision.sampling import (
    RiskWeights,
    attribute_plan,
    conformance_plan,
    operating_characteristic,
    rank_for_inspection,
)


def _brute_force_binomial(aql: float, lq: float, alpha: float, beta: float) -> tuple[int, int]:
    """Independent search: every n, every c."""
    for n in range(1, 5000):
        for c in range(n + 1):
            if binom.cdf(c, n, aql) >= 1 - alpha:
                if binom.cdf(c, n, lq) <= beta:
                    return n, c
                break  # a larger c only raises OC(LQ)
    raise AssertionError("no plan")


@pytest.mark.parametrize(
    ("aql", "lq", "alpha", "beta"), [(0.01, 0.05, 0.05, 0.10), (0.025, 0.10, 0.05, 0.10), (0.0, 0.05, 0.05, 0.05)]
)
def test_attribute_plan_is_the_smallest_meeting_both_risks(aql: float, lq: float, alpha: float, beta: float) -> None:
    plan = attribute_plan(aql, lq, producer_risk=alpha, consumer_risk=beta)
    assert (plan.n, plan.c) == _brute_force_binomial(aql, lq, alpha, beta)
    assert plan.p_accept_aql >= 1 - alpha
    assert plan.p_accept_lq <= beta
    assert plan.method == "binomial"


def test_hypergeometric_plan_for_a_population() -> None:
    n_pop = 1000
    plan = attribute_plan(0.01, 0.05, lot_size=n_pop)
    assert plan.method == "hypergeometric, N = 1000"
    assert hypergeom.cdf(plan.c, n_pop, 10, plan.n) >= 0.95
    assert hypergeom.cdf(plan.c, n_pop, 50, plan.n) <= 0.10
    # smaller than the binomial plan (sampling without replacement), and no smaller plan with this c works
    assert plan.n <= attribute_plan(0.01, 0.05).n
    assert hypergeom.cdf(plan.c, n_pop, 50, plan.n - 1) > 0.10 or hypergeom.cdf(plan.c, n_pop, 10, plan.n - 1) < 0.95
    # a very large population behaves binomially
    big = attribute_plan(0.01, 0.05, lot_size=10_000_000)
    assert abs(big.n - attribute_plan(0.01, 0.05).n) <= 1


def test_plan_inputs_refused() -> None:
    with pytest.raises(InputError, match="must exceed the AQL"):
        attribute_plan(0.05, 0.01)
    with pytest.raises(InputError):
        attribute_plan(0.01, 1.5)
    with pytest.raises(InputError, match="no plan"):
        attribute_plan(0.01, 0.011, max_n=100)
    with pytest.raises(InputError):
        operating_characteristic(10, 1, 0.1, lot_size=5)


def test_conformance_plan_95_95() -> None:
    # zero failures: 0.95**n <= 0.05  =>  n = ceil(ln 0.05 / ln 0.95)
    plan = conformance_plan(0.95, 0.95)
    assert plan.n == math.ceil(math.log(0.05) / math.log(0.95))
    assert plan.risk <= 0.05 < 0.95 ** (plan.n - 1)
    one = conformance_plan(0.95, 0.95, acceptance_number=1)
    assert binom.cdf(1, one.n, 0.05) <= 0.05 < binom.cdf(1, one.n - 1, 0.05)


def test_conformance_plan_for_a_finite_population() -> None:
    plan = conformance_plan(0.95, 0.95, population=200)
    bad = math.floor(0.05 * 200) + 1  # 11 nonconforming break the claim
    assert hypergeom.cdf(0, 200, bad, plan.n) <= 0.05 < hypergeom.cdf(0, 200, bad, plan.n - 1)
    assert plan.n < conformance_plan(0.95, 0.95).n
    tiny = conformance_plan(0.95, 0.95, population=10)
    assert tiny.n <= 10


def test_operating_characteristic_is_monotone() -> None:
    ocs = [operating_characteristic(80, 2, p / 100) for p in range(0, 30)]
    assert all(a >= b for a, b in itertools.pairwise(ocs))
    assert ocs[0] == 1.0


def test_rank_for_inspection() -> None:
    as_of = date(2026, 12, 7)
    instruments = [
        {"instrument_id": "ok", "next_due": "2027-06-01"},
        {"instrument_id": "late", "next_due": "2026-06-07"},
        {"instrument_id": "never", "next_due": None},
        {"instrument_id": "failing", "next_due": "2027-01-01"},
        {"instrument_id": "noisy", "next_due": "2027-01-01"},
    ]
    verifications = [
        {"instrument_id": "failing", "date": "2025-01-01", "passed": True},
        {"instrument_id": "failing", "date": "2026-01-01", "passed": False},
        {"instrument_id": "failing", "date": "2026-02-01", "passed": False},
        {"instrument_id": "failing", "date": "2026-03-01", "passed": True},
    ]
    alarms = [{"instrument_id": "noisy", "date": "2026-12-01"}] * 3 + [
        {"instrument_id": "noisy", "date": "2026-01-01"}  # outside the 90-day window
    ]
    ranked = rank_for_inspection(instruments, as_of=as_of, verifications=verifications, alarms=alarms)
    order = [p.instrument_id for p in ranked]
    w = RiskWeights()
    scores = {p.instrument_id: p for p in ranked}
    assert scores["ok"].score == 0.0
    assert scores["ok"].reasons == ()
    assert scores["late"].days_overdue == 183
    assert scores["late"].score == pytest.approx(w.overdue * 183 / 365.25)
    assert scores["failing"].failure_share == pytest.approx(2 / 3)
    assert scores["noisy"].recent_alarms == 3
    assert scores["noisy"].score == pytest.approx(math.log1p(3))
    assert order == sorted(order, key=lambda i: (-scores[i].score, i))
    assert order[-1] == "ok"
    assert "never verified" in scores["never"].reasons
