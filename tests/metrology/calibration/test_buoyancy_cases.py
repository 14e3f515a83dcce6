"""The buoyancy case follows what was measured: air density (CIPM-2007 from t, p, h) and the weights' density."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hengqi.metrology.calibration.reference import (
    RHO0_KG_M3,
    RHO_C_KG_M3,
    BuoyancyMethod,
    ReferenceConditions,
    ReferenceWeight,
    buoyancy_contribution,
)
from hengqi.metrology.weights import weight_mpe

E2_200G = ReferenceWeight(Decimal("0.2"), 1, "E2", identifier="W200")
SQRT3 = math.sqrt(3)


def test_without_air_density_auto_is_the_r111_worst_case() -> None:
    auto = buoyancy_contribution([E2_200G], ReferenceConditions(BuoyancyMethod.AUTO))
    r111 = buoyancy_contribution([E2_200G], ReferenceConditions(BuoyancyMethod.R111))
    assert auto == r111
    mpe = float(weight_mpe("E2", Decimal("0.2")))
    assert auto[1] is not None
    assert auto[1].u_kg == pytest.approx((0.1 * RHO0_KG_M3 / RHO_C_KG_M3 * 0.2 + mpe / 4) / SQRT3)


def test_measured_air_density_and_class_bounded_density() -> None:
    rho_a, u_rho_a = 1.185, 0.0006
    correction, c = buoyancy_contribution(
        [E2_200G], ReferenceConditions(BuoyancyMethod.AUTO, air_density_kg_m3=rho_a, u_air_density_kg_m3=u_rho_a)
    )
    assert correction == 0.0  # density unknown: nothing to correct
    assert c is not None
    mpe = float(weight_mpe("E2", Decimal("0.2")))
    beta_m = mpe / (4 * 0.1 * RHO0_KG_M3)  # m_N * |1/rho - 1/rho_c| bound, kg per kg/m3
    assert c.u_kg == pytest.approx(beta_m * math.hypot(rho_a - RHO0_KG_M3, u_rho_a) / SQRT3)
    # at the reference air density only u(rho_a) remains; far smaller than the worst case
    _, at_rho0 = buoyancy_contribution(
        [E2_200G], ReferenceConditions(BuoyancyMethod.AUTO, air_density_kg_m3=RHO0_KG_M3, u_air_density_kg_m3=u_rho_a)
    )
    _, worst = buoyancy_contribution([E2_200G], ReferenceConditions())
    assert at_rho0 is not None
    assert worst is not None
    assert at_rho0.u_kg == pytest.approx(beta_m * u_rho_a / SQRT3)
    assert at_rho0.u_kg < c.u_kg < worst.u_kg / 10


def test_measured_air_density_and_known_density_applies_the_correction() -> None:
    steel = ReferenceWeight(Decimal("0.2"), 1, "E2", density_kg_m3=7950.0, u_density_kg_m3=20.0, identifier="S")
    rho_a = 1.16
    correction, c = buoyancy_contribution(
        [steel, E2_200G], ReferenceConditions(BuoyancyMethod.AUTO, air_density_kg_m3=rho_a, u_air_density_kg_m3=1e-3)
    )
    assert correction == pytest.approx(-0.2 * (rho_a - RHO0_KG_M3) * (1 / 7950 - 1 / RHO_C_KG_M3))
    assert c is not None
    assert "W200" in c.description  # the class-bounded weight is named
    assert c.distribution == "rectangular"


def test_air_density_method_still_requires_the_air_density() -> None:
    from hengqi.errors import InputError

    with pytest.raises(InputError, match="air density"):
        buoyancy_contribution([E2_200G], ReferenceConditions(BuoyancyMethod.AIR_DENSITY))
    with pytest.raises(InputError, match="air density"):
        buoyancy_contribution([E2_200G], ReferenceConditions(BuoyancyMethod.AUTO, air_density_kg_m3=1.2))
