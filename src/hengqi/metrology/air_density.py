"""Density of moist air: the CIPM-2007 equation with its uncertainty.

A. Picard, R. S. Davis, M. Gläser, K. Fujii, "Revised formula for the density of moist air (CIPM-2007)",
Metrologia 45 (2008) 149-155.  Only the title page and abstract of the paper could be read here; the equations
and constants below are SECONDARY: taken where two independent public implementations that cite the paper
agree digit for digit (the R package ``masscor``, file ``R/airDensity.R``, and MSL New Zealand's
``Mass-Circular-Weighing``, file ``mass_circular_weighing/utils/airdens_calculator.py``):

``rho_a = p M_a / (Z R T) * (1 - x_v (1 - M_v / M_a))``

* ``M_a = (28.96546 + 12.011 (x_CO2 - 0.0004)) 1e-3 kg/mol``, ``M_v = 18.01528e-3 kg/mol``,
  ``R = 8.314472 J/(mol K)``;
* ``x_v = h f(p, t) p_sv(t) / p`` (relative humidity ``h`` as a fraction), or ``x_v = f(p, t_d) p_sv(t_d) / p``
  from the dew point ``t_d``;
* ``p_sv(T) = 1 Pa exp(A T^2 + B T + C + D / T)``, ``A = 1.2378847e-5 K^-2``, ``B = -1.9121316e-2 K^-1``,
  ``C = 33.93711047``, ``D = -6.3431645e3 K``;
* ``f = alpha + beta p + gamma t^2``, ``alpha = 1.00062``, ``beta = 3.14e-8 Pa^-1``, ``gamma = 5.6e-7 K^-2``;
* ``Z = 1 - p/T (a0 + a1 t + a2 t^2 + (b0 + b1 t) x_v + (c0 + c1 t) x_v^2) + p^2/T^2 (d + e x_v^2)`` with the
  constants :data:`A0` ... :data:`E`.

The relative standard uncertainty of the equation itself is ``22e-6`` (paper, Table 2, as cited by ``masscor``:
SECONDARY).  :func:`air_density` adds to it, in quadrature, the propagated standard uncertainties of the
measured temperature, pressure, humidity (or dew point) and CO2 mole fraction (GUM 5.1.2, sensitivity
coefficients by central differences of the equation; the inputs taken as uncorrelated).

>>> rho = air_density(AirConditions(20.0, 101325.0, relative_humidity=50.0))
>>> round(rho.value_kg_m3, 5)
1.19931
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hengqi.errors import InputError

#: Citation written into budgets and records.
CIPM_2007 = "CIPM-2007 (Picard et al., Metrologia 45 (2008) 149)"

R_GAS = 8.314472  #: molar gas constant used by CIPM-2007, J/(mol K)
M_V = 18.01528e-3  #: molar mass of water, kg/mol
A_PSV, B_PSV, C_PSV, D_PSV = 1.2378847e-5, -1.9121316e-2, 33.93711047, -6.3431645e3
ALPHA, BETA, GAMMA = 1.00062, 3.14e-8, 5.6e-7
A0, A1, A2 = 1.58123e-6, -2.9331e-8, 1.1043e-10
B0, B1 = 5.707e-6, -2.051e-8
C0, C1 = 1.9898e-4, -2.376e-6
D = 1.83e-11
E = -0.765e-8
#: Relative standard uncertainty of the CIPM-2007 equation itself (paper Table 2; SECONDARY).
U_REL_FORMULA = 22e-6
#: The CO2 mole fraction the equation is written around.
X_CO2_REFERENCE = 0.0004

#: Ranges in which the inputs are accepted (the laboratory conditions CIPM-2007 is meant for; a value outside is
#: taken as a typing error: a temperature in K, a pressure in kPa ...).
_T_RANGE_C = (-10.0, 50.0)
_P_RANGE_PA = (50_000.0, 120_000.0)


@dataclass(frozen=True, slots=True)
class AirConditions:
    """Measured conditions: temperature (°C), pressure (Pa), relative humidity (%) or dew point (°C), CO2 mole
    fraction, each with its standard uncertainty (same units; 0 where not known)."""

    temperature_c: float
    pressure_pa: float
    relative_humidity: float | None = None
    dew_point_c: float | None = None
    x_co2: float = X_CO2_REFERENCE
    u_temperature_c: float = 0.0
    u_pressure_pa: float = 0.0
    u_relative_humidity: float = 0.0
    u_dew_point_c: float = 0.0
    u_x_co2: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "temperature_c",
            "pressure_pa",
            "x_co2",
            "u_temperature_c",
            "u_pressure_pa",
            "u_relative_humidity",
            "u_dew_point_c",
            "u_x_co2",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(name, f"must be a finite number, got {value!r}")
            if name.startswith("u_") and value < 0:
                raise InputError(name, f"an uncertainty must not be negative, got {value}")
        if not _T_RANGE_C[0] <= self.temperature_c <= _T_RANGE_C[1]:
            raise InputError(
                "temperature", f"{self.temperature_c} °C is outside {_T_RANGE_C[0]} ... {_T_RANGE_C[1]} °C"
            )
        if not _P_RANGE_PA[0] <= self.pressure_pa <= _P_RANGE_PA[1]:
            raise InputError(
                "pressure",
                f"{self.pressure_pa / 100:g} hPa is outside {_P_RANGE_PA[0] / 100:g} ... {_P_RANGE_PA[1] / 100:g} hPa",
            )
        if (self.relative_humidity is None) == (self.dew_point_c is None):
            raise InputError("humidity", "give either the relative humidity or the dew point")
        if self.relative_humidity is not None and not 0.0 <= self.relative_humidity <= 100.0:
            raise InputError("relative_humidity", f"must lie in 0 ... 100 %, got {self.relative_humidity}")
        if self.dew_point_c is not None and not (
            math.isfinite(self.dew_point_c) and -50.0 <= self.dew_point_c <= self.temperature_c
        ):
            raise InputError("dew_point", f"must lie between -50 °C and the temperature, got {self.dew_point_c}")
        if not 0.0 <= self.x_co2 <= 0.01:
            raise InputError("x_co2", f"a CO2 mole fraction of {self.x_co2} is not plausible for laboratory air")


@dataclass(frozen=True, slots=True)
class AirDensity:
    """An air density with its standard uncertainty (kg/m^3) and the parts of that uncertainty.

    ``contributions`` names each part (``formula``, ``temperature``, ``pressure``, ``humidity``, ``co2``) with
    its contribution in kg/m^3 (sensitivity coefficient times standard uncertainty).
    """

    value_kg_m3: float
    u_kg_m3: float
    contributions: tuple[tuple[str, float], ...]
    method: str = CIPM_2007


def saturation_vapour_pressure(temperature_k: float) -> float:
    """``p_sv`` in Pa over a plane surface of water (CIPM-2007 equation, SECONDARY constants).

    >>> round(saturation_vapour_pressure(293.15), 2)
    2339.16
    """
    t = temperature_k
    return math.exp(A_PSV * t * t + B_PSV * t + C_PSV + D_PSV / t)


def enhancement_factor(pressure_pa: float, temperature_c: float) -> float:
    """``f(p, t) = alpha + beta p + gamma t^2`` (CIPM-2007)."""
    return ALPHA + BETA * pressure_pa + GAMMA * temperature_c * temperature_c


def compressibility(pressure_pa: float, temperature_c: float, x_v: float) -> float:
    """The compressibility factor ``Z`` of moist air (CIPM-2007)."""
    t, big_t, p = temperature_c, temperature_c + 273.15, pressure_pa
    inner = A0 + A1 * t + A2 * t * t + (B0 + B1 * t) * x_v + (C0 + C1 * t) * x_v * x_v
    return 1.0 - p / big_t * inner + p * p / (big_t * big_t) * (D + E * x_v * x_v)


def _density(t: float, p: float, h: float | None, td: float | None, x_co2: float) -> float:
    big_t = t + 273.15
    if h is not None:
        x_v = h / 100.0 * enhancement_factor(p, t) * saturation_vapour_pressure(big_t) / p
    else:  # from the dew point: x_v = f(p, t_d) p_sv(t_d) / p
        dew = t if td is None else td
        x_v = enhancement_factor(p, dew) * saturation_vapour_pressure(dew + 273.15) / p
    m_a = (28.96546 + 12.011 * (x_co2 - X_CO2_REFERENCE)) * 1e-3
    z = compressibility(p, t, x_v)
    return p * m_a / (z * R_GAS * big_t) * (1.0 - x_v * (1.0 - M_V / m_a))


def moist_air_density(conditions: AirConditions) -> float:
    """The CIPM-2007 density of moist air in kg/m^3 (no uncertainty).

    >>> round(moist_air_density(AirConditions(20.0, 101325.0, relative_humidity=0.0)), 5)   # dry air
    1.20456
    """
    c = conditions
    return _density(c.temperature_c, c.pressure_pa, c.relative_humidity, c.dew_point_c, c.x_co2)


def air_density(conditions: AirConditions) -> AirDensity:
    """The CIPM-2007 air density and its standard uncertainty (see the module docstring).

    >>> rho = air_density(AirConditions(20.0, 101325.0, relative_humidity=50.0, u_temperature_c=0.1,
    ...                                 u_pressure_pa=50.0, u_relative_humidity=2.0))
    >>> [(name, round(part * 1e6)) for name, part in rho.contributions]   # in mg/m^3
    [('formula', 26), ('temperature', 443), ('pressure', 595), ('humidity', 209), ('co2', 0)]
    >>> round(rho.u_kg_m3 * 1e6)
    771
    """
    c = conditions
    by_dew_point = c.relative_humidity is None
    humidity = c.dew_point_c if by_dew_point else c.relative_humidity
    u_humidity = c.u_dew_point_c if by_dew_point else c.u_relative_humidity
    humidity = 0.0 if humidity is None else humidity  # AirConditions guarantees one of the two

    def density(t: float, p: float, hum: float, x_co2: float) -> float:
        if by_dew_point:
            return _density(t, p, None, hum, x_co2)
        return _density(t, p, hum, None, x_co2)

    point = (c.temperature_c, c.pressure_pa, humidity, c.x_co2)
    value = density(*point)
    inputs = (
        ("temperature", c.u_temperature_c, 0.01),
        ("pressure", c.u_pressure_pa, 1.0),
        ("humidity", u_humidity, 0.01),
        ("co2", c.u_x_co2, 1e-6),
    )
    contributions: list[tuple[str, float]] = [("formula", U_REL_FORMULA * value)]
    for index, (name, u, step) in enumerate(inputs):
        up, down = list(point), list(point)
        up[index] += step
        down[index] -= step
        sensitivity = (density(*up) - density(*down)) / (2.0 * step)
        contributions.append((name, abs(sensitivity) * u))
    u_total = math.sqrt(sum(part * part for _, part in contributions))
    return AirDensity(value, u_total, tuple(contributions))
