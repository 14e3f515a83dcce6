"""Invariants of the cg-18 uncertainty model (property tests)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.metrology.calibration.indication import (
    eccentricity_contribution,
    eccentricity_result,
    repeatability_contribution,
    repeatability_result,
    rounding_contribution,
)
from hengqi.metrology.calibration.point import combine, error_of_indication
from hengqi.metrology.calibration.reference import ReferenceConditions, ReferenceWeight, reference_mass_contributions
from hengqi.metrology.calibration.result import Component, Contribution
from hengqi.metrology.gum import coverage_factor

u_values = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_infinity=False)
dofs = st.one_of(st.just(math.inf), st.floats(min_value=1.0, max_value=1e6))
contributions = st.lists(
    st.builds(
        Contribution,
        name=st.sampled_from(["a", "b", "c"]),
        u_kg=u_values,
        dof=dofs,
        description=st.just(""),
        component=st.sampled_from(list(Component)),
    ),
    min_size=1,
    max_size=8,
)


@given(contributions)
def test_uncertainty_never_negative(budget: list[Contribution]) -> None:
    u, nu, k = combine(budget)
    assert u >= 0.0
    assert nu > 0.0
    assert k >= coverage_factor(math.inf) - 1e-12


@given(contributions, st.floats(min_value=1e-9, max_value=1.0), dofs)
def test_combined_uncertainty_grows_with_each_contribution(budget: list[Contribution], extra: float, nu: float) -> None:
    u0 = combine(budget)[0]
    u1 = combine([*budget, Contribution("extra", extra, nu, "", Component.REFERENCE)])[0]
    assert u1 >= u0
    assert u1**2 == pytest.approx(u0**2 + extra**2, rel=1e-12)


type_b = st.lists(
    st.builds(
        Contribution,
        name=st.just("b"),
        u_kg=u_values,
        dof=st.just(math.inf),
        description=st.just(""),
        component=st.sampled_from(list(Component)),
    ),
    min_size=1,
    max_size=8,
)


@given(type_b, st.floats(min_value=1e-9, max_value=1.0))
def test_expanded_uncertainty_grows_with_each_type_b_contribution(budget: list[Contribution], extra: float) -> None:
    """With every nu = inf, k stays 2 (95.45 %) and U = k u grows with each contribution."""
    _, _, k0 = combine(budget)
    u0 = combine(budget)[0]
    u1, nu1, k1 = combine([*budget, Contribution("extra", extra, math.inf, "", Component.REFERENCE)])
    assert math.isinf(nu1)
    assert k1 == k0
    assert k1 * u1 >= k0 * u0


def test_welch_satterthwaite_can_lower_U_when_a_type_b_term_is_added() -> None:
    """Documented behaviour, not a defect: a Type B term raises nu_eff, so k can fall faster than u rises
    (JCGM 100:2008 G.4).  One Type A term u = 1, nu = 2, then a Type B term u = 1."""
    u0, _, k0 = combine([Contribution("a", 1.0, 2.0, "", Component.INDICATION)])
    u1, _, k1 = combine(
        [
            Contribution("a", 1.0, 2.0, "", Component.INDICATION),
            Contribution("b", 1.0, math.inf, "", Component.REFERENCE),
        ]
    )
    assert u1 > u0
    assert k1 * u1 < k0 * u0


@given(st.floats(min_value=1.0, max_value=1e9))
def test_coverage_factor_decreases_towards_two(nu: float) -> None:
    k = coverage_factor(nu, 0.9545)
    assert k >= coverage_factor(math.inf, 0.9545)
    assert coverage_factor(nu * 10, 0.9545) <= k


def test_coverage_factor_tends_to_two() -> None:
    ks = [coverage_factor(nu, 0.9545) for nu in (10, 100, 1e4, 1e6, math.inf)]
    assert ks == sorted(ks, reverse=True)
    assert abs(ks[-2] - 2.0) < 1e-5
    assert abs(ks[-1] - 2.0) < 1e-5  # 95.45 % of the normal distribution: 2.000 0024


readings = st.lists(st.integers(min_value=-50, max_value=50), min_size=2, max_size=12)


@settings(max_examples=50)
@given(readings, st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=30))
def test_point_uncertainty_positive_and_monotone_in_eccentricity(
    offsets: list[int], n_avg: int, ecc_steps: int
) -> None:
    d = Decimal("0.0001")
    load = Decimal("1")
    series = repeatability_result(load, [load + d * x for x in offsets])
    weight = ReferenceWeight(load, 1, "F1")
    m_ref, ref_budget, _ = reference_mass_contributions([weight], ReferenceConditions())
    base = [
        rounding_contribution(d, at_load=False),
        rounding_contribution(d, at_load=True),
        repeatability_contribution(series, n_avg),
        *ref_budget,
    ]
    p0 = error_of_indication(load, m_ref, Decimal(0), (load,), base)
    assert p0.u_kg > 0
    assert p0.U_kg >= p0.u_kg
    ecc = eccentricity_result(load, ("c", "x"), (load, load + d * ecc_steps))
    p1 = error_of_indication(load, m_ref, Decimal(0), (load,), [*base, eccentricity_contribution(load, ecc)])
    assert p1.u_kg >= p0.u_kg  # (U need not grow: see the Welch-Satterthwaite test above)
