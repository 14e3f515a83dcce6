"""Numbers in D-SI form: exact, plain decimal strings that read back to the same value (property tests)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.certificates.dcc.vocabulary import (
    GRAM,
    KILOGRAM,
    MILLIGRAM,
    TONNE,
    mass_float,
    mass_text,
    parse_mass_text,
    plain,
)

DSI_DECIMAL = re.compile(r"^[-+]?((\d*\.\d+)|(\d+\.\d*)|(\d+\.?))([Ee][-+]?\d+)?$|^NaN$")  # SI_Format.xsd 2.2.1
PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
UNITS = st.sampled_from([GRAM, KILOGRAM, MILLIGRAM, TONNE])


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), UNITS)
def test_floats_round_trip_exactly_through_any_mass_unit(value: float, unit: str) -> None:
    text = mass_text(value, unit)
    assert PLAIN.match(text)
    assert DSI_DECIMAL.match(text)
    assert mass_float(text, unit) == value


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**6), max_value=10**6), UNITS)
def test_decimals_round_trip_exactly(value: Decimal, unit: str) -> None:
    text = mass_text(value, unit)
    assert PLAIN.match(text)
    assert parse_mass_text(text, unit) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_plain_is_dsi_decimal_and_exact(value: float) -> None:
    text = plain(value)
    assert PLAIN.match(text)
    assert float(text) == value


def test_infinity_and_nan() -> None:
    assert plain(math.nan) == "NaN"
    with pytest.raises(ValueError, match="infinite"):
        plain(math.inf)


def test_chinese_names_carry_no_english_words() -> None:
    """The zh texts the DCC writer adds are Chinese only (symbols and units aside, none appear in names)."""
    import re

    from hengqi.certificates.dcc.vocabulary import NAMES

    for ref_type, (_en, zh) in NAMES.items():
        assert not re.search(r"[A-Za-z]{2,}", zh), (ref_type, zh)
