"""Values typed into a step's form: a bare number is read in the instrument's display unit, a decimal comma is
accepted where it cannot be a thousands separator.

The display unit is the gram where the scale interval d is below 1 g (laboratory and precision balances), the
kilogram otherwise (a choice of this interface: such instruments indicate in those units).

>>> display_unit(Decimal("0.000001")), display_unit(Decimal("0.005")), display_unit(Decimal("20"))
('g', 'kg', 'kg')
>>> normalise_entry("110,0002", "g"), normalise_entry("-5", "g"), normalise_entry("1.2 kg", "g")
('110.0002 g', '-5 g', '1.2 kg')
>>> normalise_entry("1,234", "g")
Traceback (most recent call last):
...
hengqi.errors.FieldError: value: '1,234' is ambiguous (a decimal comma or a thousands separator?); write 1.234 or 1234
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from hengqi.errors import N_, FieldError

_GRAM_BELOW: Final = Decimal("0.001")
_NUMBER: Final = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_AMBIGUOUS: Final = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$")


def display_unit(d_kg: Decimal) -> str:
    """The unit an instrument with scale interval ``d_kg`` indicates in."""
    return "g" if d_kg < _GRAM_BELOW else "kg"


def normalise_entry(text: str, unit: str) -> str:
    """``text`` with a decimal comma made a point and, for a bare number, ``unit`` added."""
    value = text.strip()
    number, _, rest = value.partition(" ")
    if "," in number:
        if number.count(",") > 1 or "." in number or _AMBIGUOUS.match(number):
            raise FieldError(
                "value",
                template=N_(
                    "{text} is ambiguous (a decimal comma or a thousands separator?); write {point} or {plain}"
                ),
                params={
                    "text": repr(text.strip()),
                    "point": number.replace(",", "."),
                    "plain": number.replace(",", ""),
                },
            )
        number = number.replace(",", ".")
    value = f"{number} {rest.strip()}".strip()
    if _NUMBER.match(value):
        return f"{value} {unit}"
    return value
