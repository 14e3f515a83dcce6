"""Masses as people write them, held exactly.

Legal verification compares errors with MPEs at exact boundaries, so masses are kept as :class:`~decimal.Decimal`
kilograms (never binary floats).  Text such as ``"220 g"``, ``"0.1 mg"``, ``"60 kg"`` or ``"30 t"`` is parsed
exactly; the pound and ounce use their exact SI definitions (NIST Handbook 44, Appendix C; the international
yard and pound agreement of 1959: 1 lb = 0.453 592 37 kg exactly, 1 oz = 1/16 lb).

>>> parse_mass("220 g")
Decimal('0.220')
>>> parse_mass("30 t")
Decimal('30000')
>>> format_mass(Decimal("0.0001"))
'100 mg'
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from hengqi.errors import N_, FieldError, InputError, UnitError

#: Size of each mass unit in kilograms (exact).
MASS_UNITS: Final[dict[str, Decimal]] = {
    "t": Decimal("1000"),
    "kg": Decimal("1"),
    "g": Decimal("0.001"),
    "mg": Decimal("0.000001"),
    "µg": Decimal("0.000000001"),
    "lb": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
}
_ALIASES: Final[dict[str, str]] = {
    "μg": "µg",  # Greek mu (U+03BC) and micro sign (U+00B5) are both seen in the wild
    "ug": "µg",
    "mcg": "µg",
    "tonne": "t",
    "kilogram": "kg",
    "kilograms": "kg",
    "gram": "g",
    "grams": "g",
    "milligram": "mg",
    "milligrams": "mg",
    "lbs": "lb",
}
#: A number and its unit.  Digits are ASCII 0-9 only: Python's ``\d`` and ``Decimal()`` also take other scripts'
#: digits (Arabic-Indic "١٠٠" would read as 100), which a record must never take silently for a number.
_PATTERN: Final = re.compile(
    r"^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*([^\s0-9.+-][^\s]*)?\s*$"
)

#: Largest mass accepted, in kg (10^12 kg: far beyond any weighing instrument; keeps exact arithmetic in range).
MAX_MASS_KG: Final = Decimal("1e12")
#: Smallest non-zero mass accepted, in kg (10^-18 kg = 1 fg: far below any balance's scale interval).
MIN_MASS_KG: Final = Decimal("1e-18")

#: Units tried by :func:`format_mass`, largest first.
_DISPLAY_UNITS: Final = ("t", "kg", "g", "mg", "µg")


def canonical_unit(unit: str, *, path: str = "unit") -> str:
    """The canonical symbol of a mass unit as written (``"ug"`` -> ``"µg"``); :class:`UnitError` if unknown."""
    key = unit.strip()
    key = _ALIASES.get(key, _ALIASES.get(key.lower(), key))
    if key not in MASS_UNITS:
        known = ", ".join(MASS_UNITS)
        template = N_("unknown mass unit {unit} (known: {known})")
        params = {"unit": repr(unit), "known": known}
        raise UnitError(path, template.format(**params), template=template, params=params)
    return key


def parse_mass(
    value: object, *, path: str = "mass", default_unit: str | None = None, allow_negative: bool = False
) -> Decimal:
    """Parse a mass written with its unit into exact kilograms.

    ``value`` may be text with a unit (``"2.5 kg"``), or a number when ``default_unit`` says what it counts.
    Floats are read through their shortest decimal representation (``0.1`` is 0.1, not 0.1000000000000000055...).

    >>> parse_mass("0.1 mg")
    Decimal('1E-7')
    >>> parse_mass(5, default_unit="g")
    Decimal('0.005')
    >>> parse_mass("-1 g")
    Traceback (most recent call last):
    ...
    hengqi.errors.FieldError: mass: must not be negative, got '-1 g'
    >>> parse_mass("1e400 g")
    Traceback (most recent call last):
    ...
    hengqi.errors.FieldError: mass: out of range: a mass must be zero or between 1e-18 kg and 1e12 kg, got '1e400 g'
    """
    if isinstance(value, bool):
        raise FieldError(
            path, template=N_("expected a mass such as '220 g', got {value}"), params={"value": repr(value)}
        )
    if isinstance(value, int | float | Decimal):
        if default_unit is None:
            template = N_("a mass needs a unit, such as '{value} g' or '{value} kg'")
            raise UnitError(path, template.format(value=value), template=template, params={"value": str(value)})
        number_text, unit_text = str(value), default_unit
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            template = N_("expected a mass such as '220 g' or '0.1 mg', got {value}")
            raise FieldError(path, template=template, params={"value": repr(value)})
        number_text, unit_text = match.group(1), match.group(2) or default_unit or ""
        if not unit_text:
            template = N_("a mass needs a unit, such as '{value} g'")
            raise UnitError(
                path, template.format(value=value.strip()), template=template, params={"value": value.strip()}
            )
    else:
        template = N_("expected a mass such as '220 g', got {value}")
        raise FieldError(path, template=template, params={"value": type(value).__name__})
    try:
        number = Decimal(number_text)
    except InvalidOperation as err:  # pragma: no cover - the pattern admits only valid numbers
        raise InputError(path, f"not a number: {number_text!r}") from err
    if not number.is_finite():
        raise FieldError(path, template=N_("must be a finite number, got {value}"), params={"value": repr(value)})
    if number < 0 and not allow_negative:
        raise FieldError(path, template=N_("must not be negative, got {value}"), params={"value": repr(value)})
    size = MASS_UNITS[canonical_unit(unit_text, path=path)]
    # the exponent alone first: multiplying an exponent such as 1e999999999 would overflow the decimal context
    kg = number * size if number == 0 or -40 < number.adjusted() < 40 else MAX_MASS_KG * 10
    if kg != 0 and not MIN_MASS_KG <= abs(kg) <= MAX_MASS_KG:
        template = N_("out of range: a mass must be zero or between 1e-18 kg and 1e12 kg, got {value}")
        raise FieldError(path, template=template, params={"value": repr(value)})
    return kg.copy_abs().normalize() if kg == 0 else kg


def to_unit(kg: Decimal, unit: str) -> Decimal:
    """Express exact kilograms in ``unit``.

    >>> to_unit(Decimal("0.0025"), "g")
    Decimal('2.5')
    """
    return kg / MASS_UNITS[canonical_unit(unit)]


def format_mass(kg: Decimal, unit: str | None = None) -> str:
    """Write a mass for people, in ``unit`` or in the largest unit that keeps the number at least 1.

    >>> format_mass(Decimal("2.5"))
    '2.5 kg'
    >>> format_mass(Decimal("0.0000005"), "mg")
    '0.5 mg'
    """
    if unit is None:
        magnitude = abs(kg)
        unit = "kg"
        if magnitude != 0:
            for candidate in _DISPLAY_UNITS:
                if magnitude >= MASS_UNITS[candidate]:
                    unit = candidate
                    break
            else:
                unit = "µg"
    value = to_unit(kg, unit)
    text = format(value.normalize(), "f")
    return f"{text} {canonical_unit(unit)}"
