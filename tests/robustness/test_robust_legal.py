"""Robustness of ``hengqi mpe``, ``hengqi weights mpe`` and ``hengqi rules`` (and the mass parser under them).

Defects found and fixed (regression tests below):
* ``--load "1e400 g"`` crashed with ``decimal.InvalidOperation`` in ``mpe._plain`` (quantize of a 400-digit
  integer); ``--load "1e999999999 g"`` crashed with ``decimal.Overflow`` in ``parse_mass``.  Masses are now
  refused outside 1e-18 kg to 1e12 kg, and loads of more e than the context precision print in E notation.
"""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.cli import cli
from hengqi.errors import InputError
from hengqi.metrology.mpe import mpe_for_interval
from hengqi.metrology.quantities import MAX_MASS_KG, MIN_MASS_KG, parse_mass

from .conftest import Hengqi

MPE = ("mpe", "--class", "III", "--e", "5 g")


@pytest.mark.parametrize(
    "load",
    ["1e400 g", "1e999999999 g", "1e9999999999 g", "5e999999999999999999 g", "1e-400 g", "1e-39 kg"],
)
def test_mass_out_of_range_is_refused_naming_the_option(hengqi: Hengqi, load: str) -> None:
    hengqi(*MPE, "--load", load).refused("--load", "out of range")


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--load", "NaN g", "expected a mass"),
        ("--load", "Infinity g", "expected a mass"),
        ("--load", "5 KG", "unknown mass unit 'KG'"),
        ("--load", "5 k g", "expected a mass"),
        ("--load", "x" * 100_000, "expected a mass"),
        ("--load", "   ", "is required"),
        ("--e", "0 g", "greater than zero"),
        ("--e", "1e400 g", "out of range"),
        ("--e", "5", "needs a unit"),
        ("--class", "IV", "unknown accuracy class"),
        ("--stage", "bogus", "unknown stage"),
        ("--rules", "bogus", "unknown rule set"),
    ],
)
def test_bad_option_values_are_refused(hengqi: Hengqi, option: str, value: str, needle: str) -> None:
    args = {"--class": "III", "--e": "5 g", "--load": "1 kg"}
    args[option] = value
    flat = ["mpe"] + [part for pair in args.items() for part in pair]
    if option in ("--stage", "--rules"):
        flat += [option, value]
    hengqi(*flat).refused(option, needle)


def test_load_of_more_e_than_the_decimal_precision_is_not_covered_not_a_crash(hengqi: Hengqi) -> None:
    line = hengqi("mpe", "--class", "III", "--e", "1e-18 kg", "--load", "1e12 kg", "--json").refused("--load")
    assert "1E+30 e is beyond" in line


def test_open_top_band_reports_huge_load_in_e_without_crashing() -> None:
    found = mpe_for_interval("1e12 kg", "I", "1e-18 kg")
    assert found.load_in_e == Decimal("1E+30")
    assert found.mpe_kg > 0


def test_negative_zero_is_plain_and_non_ascii_digits_are_refused(hengqi: Hengqi) -> None:
    zero = hengqi(*MPE, "--load", "-0 g", "--json")
    assert zero.rc == 0
    assert json.loads(zero.out)["load_kg"] == 0
    assert parse_mass("-0 g").is_signed() is False
    # full-width or Arabic-Indic digits are not taken as numbers (issue 10, item 6): one line, exit 2
    fullwidth = hengqi(*MPE, "--load", "５ kg", "--json")
    assert fullwidth.rc == 2
    assert fullwidth.err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--class", "F1", "--nominal", "1e400 g"), "out of range"),
        (("--class", "F1", "--nominal", "3 g"), "not a nominal value"),
        (("--class", "Z9", "--nominal", "1 g"), "unknown weight class"),
        (("--class", "F1", "--nominal", "-1 g"), "must not be negative"),
    ],
)
def test_weights_mpe_refuses_bad_input(hengqi: Hengqi, args: tuple[str, ...], needle: str) -> None:
    option = "--class" if "class" in needle else "--nominal"
    hengqi("weights", "mpe", *args).refused(option, needle)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_parse_mass_answers_any_text_with_a_mass_in_range_or_an_input_error(text: str) -> None:
    try:
        kg = parse_mass(text, allow_negative=True)
    except InputError as err:
        path = err.path
    else:
        assert kg == 0 or MIN_MASS_KG <= abs(kg) <= MAX_MASS_KG
        return
    assert path == "mass"


_NUMBER = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda m, x: f"{m}e{x}", st.integers(-9, 9), st.integers(-(10**12), 10**12)),
)


@given(
    load=st.tuples(_NUMBER, st.sampled_from(["g", "kg", "t", "mg", "µg", "lb", "KG", ""])).map(" ".join),
    e=st.sampled_from(["1 mg", "0.1 g", "5 g", "1e-18 kg", "1 t"]),
    cls=st.sampled_from(["I", "II", "III", "IIII"]),
    as_json=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_mpe_command_never_crashes(load: str, e: str, cls: str, as_json: bool) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli(["mpe", "--class", cls, "--e", e, "--load", load, *(["--json"] if as_json else [])])
    assert rc in (0, 2)
    if rc == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("hengqi: error: --load"), lines


@pytest.mark.parametrize(
    "args",
    [("mpe", "--bogus"), ("mpe", "--class"), ("weights", "mpe", "--json", "extra"), ("rules", "--json=1")],
)
def test_click_usage_errors_are_one_line_too(hengqi: Hengqi, args: tuple[str, ...]) -> None:
    hengqi(*args).refused("--help")
