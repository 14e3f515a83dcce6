"""Invariants of the R 76 evaluation (Hypothesis)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hengqi.metrology.r76 import (
    Reading,
    Verdict,
    eccentricity_test_load,
    fixed_tolerances,
    repeatability_test,
    weighing_test,
)

D = Decimal
E = D("0.005")
grams = st.integers(min_value=-30, max_value=30).map(lambda n: D(n) * D("0.0005"))  # multiples of 0.5 g
readings = st.lists(
    st.tuples(st.integers(1, 3000), grams, st.one_of(st.none(), st.integers(1, 10))).map(
        lambda t: Reading(t[0] * E, t[0] * E + t[1], None if t[2] is None else t[2] * D("0.0005"))
    ),
    min_size=1,
    max_size=12,
)


@given(points=readings, mpe_half_grams=st.integers(1, 20))
def test_weighing_verdict_is_all_points_within_mpe(points: list[Reading], mpe_half_grams: int) -> None:
    mpe = mpe_half_grams * D("0.0005")
    result = weighing_test(points, fixed_tolerances(mpe, E))
    assert result.verdict is Verdict.of(all(abs(p.assessed_error_kg or 0) <= mpe for p in result.points))
    # a larger MPE never turns a pass into a fail
    if result.verdict is Verdict.PASS:
        assert weighing_test(points, fixed_tolerances(mpe + E, E)).verdict is Verdict.PASS
    # the order of the loads does not change the verdict
    assert weighing_test(list(reversed(points)), fixed_tolerances(mpe, E)).verdict is result.verdict


@given(offsets=st.lists(grams, min_size=2, max_size=10))
def test_repeatability_spread_is_max_minus_min(offsets: list[Decimal]) -> None:
    series = [Reading(D(10), D(10) + offset) for offset in offsets]
    spread = repeatability_test([series], fixed_tolerances(D("0.005"), E)).points[0]
    assert spread.value_kg == max(offsets) - min(offsets)
    assert spread.value_kg >= 0


@given(max_kg=st.integers(1, 100_000).map(D), tare=st.integers(0, 1000).map(D), supports=st.integers(1, 24))
def test_eccentricity_load_rule(max_kg: Decimal, tare: Decimal, supports: int) -> None:
    load = eccentricity_test_load(max_kg, supports, tare)
    divisor = 3 if supports <= 4 else supports - 1
    assert abs(load * divisor - (max_kg + tare)) <= D("1e-20") * (max_kg + tare)
    assert load <= max_kg + tare
