"""Coverage factors and Welch-Satterthwaite (JCGM 100:2008, G.3, G.4, Table G.2)."""

from __future__ import annotations

import math

import pytest

from hengqi.errors import InputError
from hengqi.metrology.gum import coverage_factor, welch_satterthwaite


@pytest.mark.parametrize(
    ("dof", "p", "published"),
    [
        # JCGM 100:2008, Table G.2 (values printed to two decimals)
        (1, 0.95, 12.71),
        (1, 0.9545, 13.97),
        (2, 0.95, 4.30),
        (2, 0.9545, 4.53),
        (10, 0.95, 2.23),
        (10, 0.9545, 2.28),
        (10, 0.99, 3.17),
        (16, 0.95, 2.12),
        (16, 0.99, 2.92),
        (math.inf, 0.6827, 1.00),
        (math.inf, 0.95, 1.96),
        (math.inf, 0.9545, 2.00),
        (math.inf, 0.99, 2.576),
    ],
)
def test_coverage_factor_reproduces_table_g2(dof: float, p: float, published: float) -> None:
    digits = 3 if published == 2.576 else 2
    assert round(coverage_factor(dof, p), digits) == published


def test_coverage_factor_decreases_towards_the_normal_value() -> None:
    values = [coverage_factor(nu) for nu in (1, 2, 5, 10, 50, 1000)]
    assert values == sorted(values, reverse=True)
    assert values[-1] > coverage_factor(math.inf) == pytest.approx(2.0, abs=5e-4)


@pytest.mark.parametrize(("dof", "p"), [(0, 0.95), (-1, 0.95), (math.nan, 0.95), (5, 0.0), (5, 1.0), (5, 1.5)])
def test_coverage_factor_refuses_bad_arguments(dof: float, p: float) -> None:
    with pytest.raises(InputError):
        coverage_factor(dof, p)


def test_welch_satterthwaite_eq_g2b() -> None:
    # u_c^4 / sum(u_i^4 / nu_i): (1 + 4 + 4)^2 / (1/2 + 16/8) = 81 / 2.5
    assert welch_satterthwaite([(1.0, 2), (2.0, 8), (2.0, math.inf)]) == pytest.approx(81 / 2.5)
    assert welch_satterthwaite([(1.0, 10)]) == pytest.approx(10)
    assert welch_satterthwaite([(1.0, math.inf), (3.0, math.inf)]) == math.inf
    assert welch_satterthwaite([]) == math.inf
    assert welch_satterthwaite([(0.0, 3)]) == math.inf


def test_welch_satterthwaite_with_a_combined_uncertainty_for_correlated_inputs() -> None:
    assert welch_satterthwaite([(1.0, 4)], combined=2.0) == pytest.approx(16 * 4)


@pytest.mark.parametrize("pair", [(-1.0, 3), (1.0, 0), (1.0, -2), (math.nan, 3)])
def test_welch_satterthwaite_refuses_bad_components(pair: tuple[float, float]) -> None:
    with pytest.raises(InputError, match=r"contributions\[0\]"):
        welch_satterthwaite([pair])
