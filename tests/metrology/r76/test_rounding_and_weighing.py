"""Rounding-error elimination and the weighing test.

Sources reproduced exactly (Decimal, no tolerance):
- the worked example said to be the one printed in OIML R 76-1:2006 A.4.4.3 (SECONDARY; shared reference
  ``standards.md`` 1.4): e = 5 g, L = 1 000 g, I = 1 000 g, dL = 1.5 g -> P = 1 001 g, E = +1 g; E0 = +0.5 g ->
  Ec = +0.5 g;
- the DERIVED cases table of ``standards.md`` 1.4 (class III, e = d = 5 g), MPE column from R 76-1 Table 6.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError
from hengqi.metrology.r76 import (
    Reading,
    Tolerances,
    Verdict,
    changeover_error,
    corrected_error,
    fixed_tolerances,
    indication_before_rounding,
    reading_error,
    weighing_test,
)

D = Decimal
G = D("0.001")  # one gram in kg


def test_worked_example_a443() -> None:
    e, load, indication, added = 5 * G, 1000 * G, 1000 * G, D("1.5") * G
    assert indication_before_rounding(indication, e, added) == 1001 * G
    error = changeover_error(load, indication, e, added)
    assert error == 1 * G
    assert corrected_error(error, D("0.5") * G) == D("0.5") * G


def _class_iii_5g(load: D) -> D:
    """R 76-1 Table 6, class III, e = 5 g, initial verification (up to 500 e: 0.5 e; to 2 000 e: 1 e; above 1.5 e)."""
    m = load / (5 * G)
    return (D("0.5") if m <= 500 else D(1) if m <= 2000 else D("1.5")) * 5 * G


CLASS_III = Tolerances(mpe=_class_iii_5g, e_at=lambda _l: 5 * G, d_at=lambda _l: 5 * G, mpe_rule="Table 6")


# L, I, dL, naive I - L, E, MPE (all g), verdict, naive verdict: standards.md 1.4 DERIVED cases table
DERIVED_CASES = [
    ("5000", "5005", "0.5", "5", "7.0", "5", Verdict.FAIL, Verdict.PASS),
    ("1000", "1005", "5", "5", "2.5", "2.5", Verdict.PASS, Verdict.FAIL),
]


@pytest.mark.parametrize("row", DERIVED_CASES)
def test_derived_cases_table(row: tuple[str, str, str, str, str, str, Verdict, Verdict]) -> None:
    load_g, indication_g, added_g, naive_g, error_g, mpe_g, verdict, naive_verdict = row
    load, indication, added = D(load_g) * G, D(indication_g) * G, D(added_g) * G
    eliminated = weighing_test([Reading(load, indication, added, "increasing")], CLASS_III)
    point = eliminated.points[0]
    assert point.error_kg == D(error_g) * G
    assert point.corrected_error_kg is None
    assert point.mpe_kg == D(mpe_g) * G
    assert point.verdict is verdict
    naive = weighing_test([Reading(load, indication, None, "increasing")], CLASS_III)
    assert naive.points[0].error_kg == D(naive_g) * G
    assert naive.points[0].verdict is naive_verdict
    assert "rounding error not eliminated" in naive.points[0].message
    assert any(
        note.startswith("rounding error not eliminated at 1 of 1 points (E = I - L); 1 of them with d > 0.2 e")
        for note in naive.notes
    )


def test_derived_case_with_zero_error() -> None:
    # Third DERIVED row: L = I = 1 000 g, dL = 1.5 g, E0 = 0.5 g -> Ec = 0.5 g, MPE 2.5 g, pass.
    # E0 = +0.5 g comes from a zero reading at 10 e: L = I = 50 g with dL = 2 g (50 + 2.5 - 2 - 50).
    zero = Reading(50 * G, 50 * G, 2 * G)
    result = weighing_test([Reading(1000 * G, 1000 * G, D("1.5") * G, "increasing")], CLASS_III, zero=zero)
    point = result.points[0]
    assert (point.error_kg, point.corrected_error_kg, point.mpe_kg) == (1 * G, D("0.5") * G, D("2.5") * G)
    assert point.verdict is Verdict.PASS
    assert point.message.startswith("Ec = +0.5 g within MPE ±2.5 g")


def test_failing_point_names_load_error_mpe_and_rule() -> None:
    result = weighing_test([Reading(5 * D(1), D("5.005"), D("0.0005"), "decreasing")], CLASS_III)
    (point,) = result.points
    assert result.verdict is Verdict.FAIL
    assert result.failing_points == (point,)
    assert (point.load_kg, point.error_kg, point.mpe_kg) == (D(5), D("0.007"), D("0.005"))
    assert "R 76-1:2006, A.4.4" in point.rule
    assert "A.4.4.3" in point.rule
    assert "Table 6" in point.rule
    assert point.message == "E = +7 g exceeds MPE ±5 g"


def test_mpe_boundary_passes_exactly() -> None:
    tol = fixed_tolerances(D("0.0025"), D("0.005"))
    on = weighing_test([Reading(D(1), D("1.0025"), None)], tol)
    over = weighing_test([Reading(D(1), D("1.0025000001"), None)], tol)
    assert on.verdict is Verdict.PASS
    assert over.verdict is Verdict.FAIL


def test_increasing_only_is_noted() -> None:
    result = weighing_test([Reading(D(1), D(1), None, "increasing")], fixed_tolerances(D("0.0025"), D("0.005")))
    assert any("no decreasing loads" in note for note in result.notes)


def test_zero_reading_needs_change_point() -> None:
    with pytest.raises(InputError, match=r"^zero\.change_point: "):
        weighing_test([Reading(D(1), D(1), D("0.001"))], CLASS_III, zero=Reading(D("0.05"), D("0.05")))


@pytest.mark.parametrize("added", ["0", "0.0051", "-0.001"])
def test_change_point_addition_out_of_range_is_refused(added: str) -> None:
    with pytest.raises(InputError, match=r"^points\[0\]\.change_point: .*at most one scale interval"):
        weighing_test([Reading(D(1), D(1), D(added))], CLASS_III)


def test_empty_weighing_test_is_refused() -> None:
    with pytest.raises(InputError, match="at least one load"):
        weighing_test([], CLASS_III)


@given(
    load=st.integers(min_value=20, max_value=3000).map(lambda n: n * 5 * G),
    steps=st.integers(min_value=-3, max_value=3),
    tenths=st.integers(min_value=1, max_value=10),
)
def test_eliminated_error_is_within_half_interval_of_naive(load: D, steps: int, tenths: int) -> None:
    """Property: E differs from I - L by 1/2 e - dL, so by at most 1/2 e (0 < dL <= e)."""
    indication = load + steps * 5 * G
    added = D(tenths) * D("0.5") * G
    found = reading_error(Reading(load, indication, added), 5 * G)
    naive = indication - load
    assert abs(found.error_kg - naive) <= D("2.5") * G
    assert found.error_kg - naive == D("2.5") * G - added
