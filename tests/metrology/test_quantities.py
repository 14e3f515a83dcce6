from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError, UnitError
from hengqi.metrology.quantities import format_mass, parse_mass, to_unit


@pytest.mark.parametrize(
    ("text", "kg"),
    [
        ("220 g", Decimal("0.22")),
        ("0.1 mg", Decimal("0.0000001")),
        ("60 kg", Decimal("60")),
        ("30 t", Decimal("30000")),
        ("5g", Decimal("0.005")),
        ("1 lb", Decimal("0.45359237")),
        ("16 oz", Decimal("0.45359237")),
        ("2 µg", Decimal("2E-9")),
        ("2 ug", Decimal("2E-9")),
        ("0 g", Decimal("0")),
    ],
)
def test_parse_mass_as_people_write_it(text: str, kg: Decimal) -> None:
    assert parse_mass(text) == kg


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("5 furlongs", "unknown mass unit"), ("abc", "expected a mass"), ("-3 g", "negative"), ("12", "needs a unit")],
)
def test_bad_masses_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        parse_mass(text, path="tests.weighing[0].load")
    assert info.value.path == "tests.weighing[0].load"


def test_numbers_need_a_default_unit() -> None:
    with pytest.raises(UnitError):
        parse_mass(5)
    assert parse_mass(0.1, default_unit="g") == Decimal("0.0001")


@given(st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False))
def test_round_trip_through_text(value: Decimal) -> None:
    assert parse_mass(format_mass(value)) == value
    assert to_unit(parse_mass(f"{value} g"), "g") == value


@pytest.mark.parametrize("text", ["١٠٠ g", "۱۰۰ g", "१०० g", "１００ g", "100 ٣", "1.٥ kg", "٥"])
def test_digits_of_other_scripts_are_not_numbers(text: str) -> None:
    """Python's ``\\d`` and ``Decimal()`` read Arabic-Indic, Devanagari and full-width digits; a mass does not."""
    with pytest.raises(InputError):
        parse_mass(text, default_unit="g")
