"""How numbers appear on the human-readable certificate.

Expanded uncertainties are rounded *up* to two significant digits (JCGM 100:2008, 7.2.6: at most two significant
digits; rounding up rather than to the nearest digit is permitted).  Loads and indications are shown to the scale
interval's resolution.

>>> round_up_2sig(0.0001234)
Decimal('0.00013')
>>> round_up_2sig(2.0)
Decimal('2.0')
>>> decimals_of(Decimal("0.1"))
1
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal

from hengqi.certificates.dcc.vocabulary import MASS_UNIT_EXPONENT


def round_up_2sig(value: float) -> Decimal:
    """``value`` rounded up to two significant digits (JCGM 100:2008, 7.2.6)."""
    if value <= 0 or math.isnan(value):
        return Decimal(0)
    dec = Decimal(repr(value))
    quantum = Decimal(1).scaleb(dec.adjusted() - 1)
    return dec.quantize(quantum, rounding=ROUND_CEILING)


def decimals_of(step: Decimal) -> int:
    """Number of decimals needed to show multiples of ``step`` (at least 0)."""
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def in_unit(value_kg: Decimal | float, unit: str) -> Decimal:
    dec = Decimal(repr(value_kg)) if isinstance(value_kg, float) else value_kg
    return dec.scaleb(-MASS_UNIT_EXPONENT[unit], context=Context(prec=60))


def fixed(value: Decimal, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals (half-even), minus sign as U+2212 avoided for copy/paste."""
    quantum = Decimal(1).scaleb(-decimals)
    return format(value.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def smaller_unit(unit: str) -> str:
    """The unit one step (10^3) smaller, for errors and uncertainties (``\\gram`` -> ``\\milli\\gram``)."""
    return {"\\tonne": "\\kilogram", "\\kilogram": "\\gram", "\\gram": "\\milli\\gram"}.get(unit, unit)
