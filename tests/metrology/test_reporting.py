"""The one rounding rule of certified results (JCGM 100:2008, 7.2.6) and the units per instrument.

Properties: U is never stated smaller than evaluated, has exactly two significant digits, and rounding again changes
nothing; E is within half a unit of U's last digit of its exact value and has the same last decimal place.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.metrology.reporting import (
    decimal_text,
    mass_units,
    natural_mass,
    plain_number,
    reported_error,
    round_up_2sig,
)

uncertainties = st.floats(min_value=1e-12, max_value=1e4, allow_nan=False, allow_infinity=False)
errors = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=9, allow_nan=False)


@given(uncertainties)
def test_u_is_rounded_up_to_two_significant_digits_once(u: float) -> None:
    r = round_up_2sig(u)
    assert r >= Decimal(repr(u))
    assert len(r.as_tuple().digits) == 2
    assert round_up_2sig(r) == r
    assert round_up_2sig(float(r)) == r  # what a run keeps (a float) rounds to the same digits
    assert r.as_tuple().exponent == round_up_2sig(float(r)).as_tuple().exponent


@given(errors, uncertainties)
def test_e_takes_the_decimal_place_of_u(e: Decimal, u: float) -> None:
    r = reported_error(e, u)
    quantum = Decimal(1).scaleb(r.U_kg.as_tuple().exponent)  # type: ignore[arg-type]
    assert r.error_kg.as_tuple().exponent == r.U_kg.as_tuple().exponent
    assert abs(r.error_kg - e) <= quantum / 2
    again = reported_error(r.error_kg, float(r.U_kg), float(r.k))
    assert again == r  # screen (from stored floats), PDF and DCC (from the certified result) agree


def test_examples_of_the_rule() -> None:
    # the complaint of issue 11: 750 µg on screen vs 0.76 mg on the PDF for the same U
    r = reported_error(Decimal("0.0000007"), 7.5049e-07)
    assert (decimal_text(r.error_kg, "mg"), decimal_text(r.U_kg, "mg")) == ("0.70", "0.76")
    assert decimal_text(reported_error(Decimal("0.0000003"), 9.3e-07).error_kg, "mg") == "0.30"
    assert reported_error(Decimal("20"), 38.4, 2.7234).k == Decimal("2.72")
    assert reported_error(Decimal("1"), 0.0).error_kg == Decimal("1")  # no U: E as it is
    assert round_up_2sig(math.nan) == 0
    assert round_up_2sig(-1.0) == 0


@pytest.mark.parametrize(
    ("max_kg", "d_kg", "units"),
    [
        ("0.220", "0.0000001", ("g", "mg")),
        ("6", "0.0001", ("g", "g")),
        ("6", "0.000001", ("g", "mg")),
        ("60000", "20", ("kg", "kg")),
        ("15", "0.005", ("kg", "g")),
    ],
)
def test_units_per_instrument(max_kg: str, d_kg: str, units: tuple[str, str]) -> None:
    assert mass_units(Decimal(max_kg), Decimal(d_kg)) == units


def test_numbers_are_plain_and_characteristics_natural() -> None:
    assert plain_number(9.18e-06) == "0.00000918"
    assert "e" not in decimal_text(1.2e-09, "mg")
    assert natural_mass(Decimal("0.2200"), "g") == "220"
    assert natural_mass(Decimal("60000"), "kg") == "60000"
