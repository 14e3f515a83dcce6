"""Reference-mass terms, substitution, error curves and the uncertainty in use."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from hengqi.errors import InputError
from hengqi.metrology.calibration.curve import fit_error_curve
from hengqi.metrology.calibration.in_use import uncertainty_in_use
from hengqi.metrology.calibration.indication import eccentricity_result, repeatability_result
from hengqi.metrology.calibration.reference import (
    RHO0_KG_M3,
    BuoyancyMethod,
    ReferenceConditions,
    ReferenceWeight,
    buoyancy_contribution,
    convection_contribution,
    drift_contribution,
    reference_mass_contributions,
    substitution_contributions,
    weights_contribution,
)


def test_class_weights_are_added_arithmetically() -> None:
    """R 111-1 Table 1 (CONFIRMED): M1 1000 kg = 50 g; 20 of them correlated: 20 x 50 g / sqrt 3."""
    c = weights_contribution([ReferenceWeight(Decimal("1000"), 20, "M1")])
    assert c.u_kg == pytest.approx(20 * 0.050 / math.sqrt(3), rel=1e-12)
    mixed = weights_contribution(
        [ReferenceWeight(Decimal("0.1"), 1, "E2"), ReferenceWeight(Decimal("0.05"), 1, "E2", Decimal("0.05"), 3e-8)]
    )
    assert mixed.u_kg == pytest.approx(0.16e-6 / math.sqrt(3) + 1.5e-8, rel=1e-12)


def test_unknown_class_for_nominal_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"weights\[0\]"):
        weights_contribution([ReferenceWeight(Decimal("2000"), 1, "E1")])  # E1 ends at 50 kg
    with pytest.raises(InputError, match=r"weights\[0\]\.class"):
        weights_contribution([ReferenceWeight(Decimal("1"), 1, None)])


def test_air_density_buoyancy_correction_sign_and_size() -> None:
    """Steel weight (7950 kg/m3) in air of 1.1 kg/m3: dm_B = -m (rho_a - rho0)(1/rho - 1/rho_c) > 0."""
    w = ReferenceWeight(Decimal("1"), 1, "F1", density_kg_m3=7950.0, u_density_kg_m3=70.0)
    cond = ReferenceConditions(BuoyancyMethod.AIR_DENSITY, air_density_kg_m3=1.1, u_air_density_kg_m3=0.01)
    correction, c = buoyancy_contribution([w], cond)
    expected = -(1.1 - RHO0_KG_M3) * (1 / 7950 - 1 / 8000)
    assert correction == pytest.approx(expected, rel=1e-12)
    assert correction > 0
    assert c is not None
    assert c.u_kg > 0
    m_ref, _, applied = reference_mass_contributions([w], cond)
    assert applied == correction
    assert m_ref == Decimal("1") + Decimal(repr(correction)).quantize(Decimal("1e-12"))
    # a weight of unknown density and unknown class cannot be bounded
    certified = ReferenceWeight(Decimal("1"), 1, None, Decimal("1.000001"), U_kg=1.6e-6)
    with pytest.raises(InputError, match="density"):
        buoyancy_contribution([certified], cond)
    # a density without its uncertainty is refused too
    with pytest.raises(InputError, match="uncertainty"):
        buoyancy_contribution([ReferenceWeight(Decimal("1"), 1, "F1", density_kg_m3=7950.0)], cond)


def test_no_buoyancy_and_drift_rules() -> None:
    assert buoyancy_contribution(
        [ReferenceWeight(Decimal("1"), 1, "F1")], ReferenceConditions(BuoyancyMethod.NONE)
    ) == (
        0.0,
        None,
    )
    cert = ReferenceWeight(Decimal("1"), 2, "F1", Decimal("1.000001"), U_kg=1.6e-6)
    d = drift_contribution([cert], 2.0)
    assert d is not None
    assert d.u_kg == pytest.approx(2 * 2.0 * 1.6e-6 / math.sqrt(3))
    assert drift_contribution([ReferenceWeight(Decimal("1"), 1, "F1")], 2.0) is None  # by class: none
    for bad in (0.5, 3.5):
        with pytest.raises(InputError, match="k_D"):
            drift_contribution([cert], bad)
    assert convection_contribution(3e-9).u_kg == pytest.approx(3e-9 / math.sqrt(3))
    with pytest.raises(InputError):
        convection_contribution(-1.0)


def test_substitution_adds_differences_and_grows_with_steps() -> None:
    one = substitution_contributions([(Decimal("20000"), Decimal("20020"))], d_kg=Decimal("20"), s_kg=10.0, s_dof=2)
    two = substitution_contributions(
        [(Decimal("20000"), Decimal("20020")), (Decimal("40040"), Decimal("40020"))],
        d_kg=Decimal("20"),
        s_kg=10.0,
        s_dof=2,
    )
    assert one[0] == Decimal("20")
    assert two[0] == Decimal("0")
    assert two[1][0].u_kg == pytest.approx(math.sqrt(2) * one[1][0].u_kg)
    assert two[1][1].u_kg == pytest.approx(math.sqrt(2) * one[1][1].u_kg)
    assert substitution_contributions([], d_kg=Decimal("20"), s_kg=1.0, s_dof=2) == (Decimal(0), ())


def test_linear_fit_agrees_with_numpy_polyfit() -> None:
    """Weighted least squares against numpy.polyfit with w = 1/u (independent implementation)."""
    r = [Decimal(x) for x in ("1", "2", "3", "4", "5")]
    e = [Decimal(x) for x in ("0.0010", "0.0021", "0.0029", "0.0042", "0.0049")]
    u = [1e-4, 1e-4, 2e-4, 2e-4, 3e-4]
    curve = fit_error_curve(r, e, u, "linear")
    slope, intercept = np.polyfit([float(x) for x in r], [float(x) for x in e], 1, w=[1 / x for x in u])
    assert curve.coefficients[0] == pytest.approx(intercept, rel=1e-9, abs=1e-15)
    assert curve.coefficients[1] == pytest.approx(slope, rel=1e-9)
    assert curve.dof == 3
    quad = fit_error_curve(r, e, u, "quadratic")
    assert quad.chi2 <= curve.chi2 + 1e-12


def test_fit_refuses_too_few_points_and_unknown_model() -> None:
    with pytest.raises(InputError, match="at least 2"):
        fit_error_curve([Decimal("1")], [Decimal("0")], [1e-4], "linear")
    with pytest.raises(InputError, match="unknown model"):
        fit_error_curve([Decimal("1")], [Decimal("0")], [1e-4], "cubic")
    with pytest.raises(InputError, match="positive standard uncertainty"):
        fit_error_curve([Decimal("1")], [Decimal("0")], [0.0])
    with pytest.raises(InputError, match="distinct"):
        fit_error_curve([Decimal("1"), Decimal("1")], [Decimal("0"), Decimal("0")], [1e-4, 1e-4], "linear")


def test_model_inadequacy_adds_u_approx() -> None:
    r = [Decimal(x) for x in ("1", "2", "3", "4")]
    e = [Decimal(x) for x in ("0.001", "-0.001", "0.001", "-0.001")]
    curve = fit_error_curve(r, e, [1e-5] * 4)
    assert curve.u_approx_kg > 0
    assert curve.u_kg(0.0) == pytest.approx(curve.u_approx_kg)


def test_uncertainty_in_use_envelope_covers_every_grid_point() -> None:
    curve = fit_error_curve([Decimal("50"), Decimal("100")], [Decimal("0.01"), Decimal("0.03")], [0.01, 0.012])
    ecc = eccentricity_result(Decimal("50"), ("c", "x"), (Decimal("50"), Decimal("50.02")))
    series = repeatability_result(Decimal("100"), [Decimal("100"), Decimal("100.01"), Decimal("100.02")])
    w = uncertainty_in_use(
        max_kg=Decimal("150"),
        d0_kg=Decimal("0.01"),
        d_kg=Decimal("0.01"),
        s_kg=series.s_kg,
        s_dof=series.dof,
        curve=curve,
        eccentricity=ecc,
        temperature_coefficient_per_k=2e-6,
        temperature_range_k=10,
    )
    d_term = 0.01 / (2 * math.sqrt(3))
    for reading in np.linspace(0, 150, 37):
        direct = math.sqrt(
            2 * d_term**2
            + series.s_kg**2
            + (reading * 0.02 / (2 * 50 * math.sqrt(3))) ** 2
            + (reading * 2e-6 * 10 / (2 * math.sqrt(3))) ** 2
            + curve.u_kg(reading) ** 2
        )
        assert w.u_kg(reading) >= direct * (1 - 1e-9)
    assert w.k >= 2.0
    assert w.global_U_kg(150.0) == pytest.approx(w.U_kg(150.0) + abs(curve.error_kg(150.0)))
    with pytest.raises(InputError, match="temperature"):
        uncertainty_in_use(
            max_kg=Decimal("1"), d0_kg=Decimal("0.01"), d_kg=Decimal("0.01"), s_kg=0.0, s_dof=2, curve=None,
            temperature_range_k=-1,
        )  # fmt: skip
