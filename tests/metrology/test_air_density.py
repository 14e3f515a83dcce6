"""The CIPM-2007 air density (Picard et al., Metrologia 45 (2008) 149-155) and its uncertainty.

The paper itself could not be read beyond its abstract (SECONDARY constants, see the module).  Oracles:

* values computed with MSL New Zealand's independent implementation (``MSLNZ/Mass-Circular-Weighing``, file
  ``mass_circular_weighing/utils/airdens_calculator.py``, function ``AirDens2009``, commit 2dd8c09 of
  2025-09-10), run once on 2026-12-07 and saved here; its last argument is a dew point when below 20;
* the values the R package ``masscor`` tests against (``tests/testthat/test-airDensities.R``, citing the appendix
  of S. V. Gupta, *Mass Metrology*, p. 205): SECONDARY, and given there to 1e-4 kg/m^3 only.
"""

from __future__ import annotations

import math

import pytest

from hengqi.errors import InputError
from hengqi.metrology.air_density import U_REL_FORMULA, AirConditions, air_density, moist_air_density

MMHG_PA = 101325.0 / 760.0

#: (t °C, p hPa, h % or dew point °C, x_CO2, by dew point, rho_a kg/m^3 from MSL's AirDens2009)
MSL_VALUES = (
    (20.0, 1013.25, 50.0, 0.0004, False, 1.1993138954744935),
    (10.0, 973.25, 40.0, 0.0004, False, 1.195690723527958),
    (25.0, 1000.0, 60.0, 0.0004, False, 1.160429974668459),
    (18.0, 950.0, 30.0, 0.0006, False, 1.1344152303410446),
    (30.0, 1020.0, 80.0, 0.0004, False, 1.1577729156845196),
    (22.0, 1005.0, 5.0, 0.0004, True, 1.1827401806512394),
    (23.0, 1010.0, 10.0, 0.0004, True, 1.1830441759612926),
)


@pytest.mark.parametrize("case", MSL_VALUES)
def test_agrees_with_an_independent_implementation(case: tuple[float, float, float, float, bool, float]) -> None:
    t, p_hpa, humidity, x_co2, dew, expected = case
    conditions = (
        AirConditions(t, p_hpa * 100, dew_point_c=humidity, x_co2=x_co2)
        if dew
        else AirConditions(t, p_hpa * 100, relative_humidity=humidity, x_co2=x_co2)
    )
    # MSL turns a dew point into h = p_sv(t_d)/p_sv(t) and so takes the enhancement factor at t, where CIPM-2007
    # writes x_v = f(p, t_d) p_sv(t_d)/p: the two differ by about 1e-6 (relative) at these dew points.
    assert moist_air_density(conditions) == pytest.approx(expected, rel=2e-6 if dew else 1e-12)


def test_the_usual_reference_conditions() -> None:
    """20 °C, 101 325 Pa, 50 %, x_CO2 = 0.0004: 1.1993 kg/m^3 (MSL's implementation, above)."""
    rho = moist_air_density(AirConditions(20.0, 101325.0, relative_humidity=50.0))
    assert round(rho, 4) == 1.1993


@pytest.mark.parametrize(
    ("t", "p_mmhg", "h", "expected"),
    [(10.0, 730.0, 40.0, 1.19569), (40.0, 760.0, 40.0, 1.11497)],
)
def test_gupta_mass_metrology_values_as_masscor_tests_them(t: float, p_mmhg: float, h: float, expected: float) -> None:
    # masscor compares in g/cm^3 rounded to 7 decimals (1e-4 kg/m^3); SECONDARY values
    rho = moist_air_density(AirConditions(t, p_mmhg * MMHG_PA, relative_humidity=h))
    assert round(rho / 1000, 7) == round(expected / 1000, 7)


def test_uncertainty_is_the_formula_and_the_propagated_inputs() -> None:
    bare = air_density(AirConditions(20.0, 101325.0, relative_humidity=50.0))
    assert bare.u_kg_m3 == pytest.approx(U_REL_FORMULA * bare.value_kg_m3)
    full = air_density(
        AirConditions(
            20.0, 101325.0, relative_humidity=50.0, u_temperature_c=0.2, u_pressure_pa=30.0, u_relative_humidity=3.0
        )
    )
    parts = dict(full.contributions)
    # sensitivity checks against the equation itself by a wide secant (independent of the code's step size)
    for name, low, high, u in (
        (
            "temperature",
            AirConditions(19.0, 101325.0, relative_humidity=50.0),
            AirConditions(21.0, 101325.0, relative_humidity=50.0),
            0.2,
        ),
        (
            "pressure",
            AirConditions(20.0, 101225.0, relative_humidity=50.0),
            AirConditions(20.0, 101425.0, relative_humidity=50.0),
            30.0,
        ),
        (
            "humidity",
            AirConditions(20.0, 101325.0, relative_humidity=45.0),
            AirConditions(20.0, 101325.0, relative_humidity=55.0),
            3.0,
        ),
    ):
        width = {"temperature": 2.0, "pressure": 200.0, "humidity": 10.0}[name]
        secant = abs(moist_air_density(high) - moist_air_density(low)) / width
        assert parts[name] == pytest.approx(secant * u, rel=1e-3)
    expected = math.sqrt(sum(v * v for v in parts.values()))
    assert full.u_kg_m3 == pytest.approx(expected)
    # the relative sensitivities of the paper's order of magnitude: about -4e-3/K, 1e-5/Pa
    assert parts["temperature"] / 0.2 / full.value_kg_m3 == pytest.approx(3.6e-3, rel=0.15)
    assert parts["pressure"] / 30.0 / full.value_kg_m3 == pytest.approx(1.0e-5, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"temperature_c": 293.15, "pressure_pa": 101325.0, "relative_humidity": 50.0}, "temperature"),
        ({"temperature_c": 20.0, "pressure_pa": 1013.25, "relative_humidity": 50.0}, "pressure"),
        ({"temperature_c": 20.0, "pressure_pa": 101325.0, "relative_humidity": 150.0}, "relative_humidity"),
        ({"temperature_c": 20.0, "pressure_pa": 101325.0}, "humidity"),
        ({"temperature_c": 20.0, "pressure_pa": 101325.0, "relative_humidity": 50.0, "dew_point_c": 5.0}, "humidity"),
        ({"temperature_c": 20.0, "pressure_pa": 101325.0, "dew_point_c": 25.0}, "dew_point"),
        ({"temperature_c": float("nan"), "pressure_pa": 101325.0, "relative_humidity": 50.0}, "temperature_c"),
        (
            {"temperature_c": 20.0, "pressure_pa": 101325.0, "relative_humidity": 50.0, "u_pressure_pa": -1.0},
            "u_pressure_pa",
        ),
    ],
)
def test_implausible_conditions_are_refused_naming_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as caught:
        AirConditions(**kwargs)  # type: ignore[arg-type]
    assert caught.value.path == field
