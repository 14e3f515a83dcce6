"""Minimum weight: USP <41> examples (standards.md section 4) and the cg-18 style construction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.metrology.calibration.curve import fit_error_curve
from hengqi.metrology.calibration.minimum_weight import cg18_minimum_weight, usp41_minimum_weight
from hengqi.metrology.calibration.result import MinimumWeightMethod, UncertaintyInUse

MG = 1e-6


@pytest.mark.parametrize(
    ("s_kg", "d_kg", "expected_kg", "label"),
    [
        (0.00015e-3, None, 0.3e-3, "USP <41> quoted example (CONFIRMED): s = 0.00015 g -> 0.30000 g"),
        (0.03 * MG, None, 60 * MG, "Shimadzu table (SECONDARY): s = 0.03 mg -> 60 mg"),
        (0.02 * MG, None, 40 * MG, "Shimadzu table (SECONDARY): s = 0.02 mg -> 40 mg"),
        (0.2 * MG, None, 400 * MG, "Shimadzu table (SECONDARY): s = 0.2 mg -> 400 mg"),
        (0.02 * MG, Decimal("0.0000001"), 82.0 * MG, "DERIVED: d = 0.1 mg, s = 0.02 mg -> 0.41 d -> 82.0 mg"),
        (0.02 * MG, Decimal("0.00000001"), 40.0 * MG, "DERIVED: d = 0.01 mg, s = 0.02 mg -> 40.0 mg"),
    ],
)
def test_usp41_examples(s_kg: float, d_kg: Decimal | None, expected_kg: float, label: str) -> None:
    """Tolerance 1e-9 relative (floating-point only: the rule is exact)."""
    result = usp41_minimum_weight(s_kg, d_kg)
    assert result.value_kg == pytest.approx(expected_kg, rel=1e-9), label
    assert result.method is MinimumWeightMethod.USP41
    assert result.tolerance == 0.001


def test_usp41_floor_and_safety_factor() -> None:
    floor = usp41_minimum_weight(0.0, Decimal("0.0000001"))
    assert floor.value_kg == pytest.approx(820 * 1e-7)  # 820 d
    assert floor.s_kg == pytest.approx(0.041 * MG)
    assert usp41_minimum_weight(0.03 * MG, None, safety_factor=2).value_kg == pytest.approx(120 * MG)


@pytest.mark.parametrize("bad", [-1e-9, float("nan"), float("inf")])
def test_usp41_refuses_bad_s(bad: float) -> None:
    with pytest.raises(InputError, match="repeatability"):
        usp41_minimum_weight(bad, None)


def test_usp41_refuses_safety_factor_below_one() -> None:
    with pytest.raises(InputError, match="safety_factor"):
        usp41_minimum_weight(1e-7, None, safety_factor=0.5)


def _in_use(alpha: float, beta: float, *, corrected: bool = True, curve: bool = False) -> UncertaintyInUse:
    fitted = fit_error_curve([Decimal("0.1")], [Decimal("0.000001")], [1e-7]) if curve else None
    return UncertaintyInUse(alpha, beta, 2.0, corrected, fitted, (), 0.22, "test")


def test_cg18_minimum_weight_solves_its_defining_equation() -> None:
    w = _in_use(1e-7, 5e-6)
    found = cg18_minimum_weight(w, tolerance=0.001, safety_factor=2)
    assert found is not None
    assert 2 * w.U_kg(found.value_kg) / found.value_kg == pytest.approx(0.001, rel=1e-9)


def test_cg18_global_minimum_weight_is_larger_when_uncorrected() -> None:
    corrected = cg18_minimum_weight(_in_use(1e-7, 5e-6, curve=True), tolerance=0.001)
    uncorrected = cg18_minimum_weight(_in_use(1e-7, 5e-6, corrected=False, curve=True), tolerance=0.001)
    assert corrected is not None
    assert uncorrected is not None
    assert uncorrected.value_kg > corrected.value_kg
    w = _in_use(1e-7, 5e-6, corrected=False, curve=True)
    assert w.global_U_kg(uncorrected.value_kg) / uncorrected.value_kg == pytest.approx(0.001, rel=1e-6)


def test_cg18_minimum_weight_unreachable_tolerance_is_none() -> None:
    assert cg18_minimum_weight(_in_use(1e-7, 1e-3), tolerance=0.001) is None  # k*beta = 0.2 % > 0.1 %
    assert cg18_minimum_weight(_in_use(1e-3, 0.0), tolerance=0.001) is None  # needs 2 kg > Max


@pytest.mark.parametrize("tolerance", [0.0, 1.0, -0.1])
def test_cg18_refuses_bad_tolerance(tolerance: float) -> None:
    with pytest.raises(InputError, match="tolerance"):
        cg18_minimum_weight(_in_use(1e-7, 1e-6), tolerance=tolerance)
