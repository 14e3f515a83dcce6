"""What the R 76 tests need to know about the instrument: its MPE, e and d as functions of the load.

The tests are written against :class:`Tolerances` (plain callables) so that they stay independent of where the
MPE comes from (OIML R 76-1:2006 3.5.1 Table 6, JJG 539, initial or in-service limits) and can be checked with
any table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from hengqi.metrology.quantities import format_mass

#: A function of the load (kg) returning a mass (kg): the MPE magnitude, e or d at that load.
LoadFunction = Callable[[Decimal], Decimal]


@dataclass(frozen=True, slots=True)
class Tolerances:
    """The limits that apply to an instrument at one verification stage.

    Attributes:
        mpe: the maximum permissible error at a load (positive magnitude, kg), for the stage.
        e_at: the verification scale interval that applies at a load.
        d_at: the actual scale interval (the step of the indication) at a load.
        mpe_rule: citation of the MPE table applied (document, edition, clause; stage).
        in_range: for a multiple-range instrument, the tolerances of a given range in use (0-based index):
            MPE, e and d of that range whatever the load; ``None`` where the instrument has one range.
    """

    mpe: LoadFunction
    e_at: LoadFunction
    d_at: LoadFunction
    mpe_rule: str
    in_range: Callable[[int], Tolerances] | None = None

    def for_range(self, range_index: int | None) -> Tolerances:
        """The tolerances of the range in use (``None``: the range follows the load, i.e. these)."""
        if range_index is None or self.in_range is None:
            return self
        return self.in_range(range_index)


def fixed_tolerances(mpe_kg: Decimal, e_kg: Decimal, d_kg: Decimal | None = None, *, rule: str = "given") -> Tolerances:
    """Tolerances with one MPE, e and d at every load (for tests and worked examples).

    >>> from decimal import Decimal as D
    >>> fixed_tolerances(D("0.005"), D("0.005")).mpe(D("10"))
    Decimal('0.005')
    """
    d = e_kg if d_kg is None else d_kg
    return Tolerances(mpe=lambda _load: mpe_kg, e_at=lambda _load: e_kg, d_at=lambda _load: d, mpe_rule=rule)


def unit_of(kg: Decimal) -> str:
    """The unit a value and its limit are written in for people: kg from 1 kg, g from 10 mg, else mg.

    >>> from decimal import Decimal as D
    >>> unit_of(D("0.0025")), unit_of(D("0.00015")), unit_of(D("0.000005")), unit_of(D("20")), unit_of(D("0"))
    ('g', 'g', 'mg', 'kg', 'kg')
    """
    magnitude = abs(kg)
    if magnitude == 0 or magnitude >= 1:
        return "kg"
    return "g" if magnitude >= Decimal("0.00001") else "mg"


def signed(kg: Decimal, unit: str | None = None) -> str:
    """A mass with its sign, for messages (in ``unit`` if given).

    >>> from decimal import Decimal as D
    >>> signed(D("0.0025")), signed(D("-0.007")), signed(D("0")), signed(D("0.0005"), "g")
    ('+2.5 g', '-7 g', '0 kg', '+0.5 g')
    """
    text = format_mass(kg, unit)
    return f"+{text}" if kg > 0 else text


def within(value: Decimal, limit: Decimal) -> bool:
    """``|value| <= limit``, exactly (a value on the limit passes).

    >>> from decimal import Decimal as D
    >>> within(D("-0.0025"), D("0.0025")), within(D("0.0026"), D("0.0025"))
    (True, False)
    """
    return abs(value) <= limit


def shown(kg: Decimal, digits: int = 6, unit: str | None = None) -> str:
    """A mass for messages, a quotient that does not terminate cut to ``digits`` significant digits.

    >>> from decimal import Decimal as D
    >>> shown(D("0.0005") / 3), shown(D("30000") / 7), shown(D("0.0025"))
    ('166.667 mg', '4.28571 t', '2.5 g')
    """
    value = kg.normalize()
    if len(value.as_tuple().digits) > digits:
        exponent = value.adjusted() - digits + 1
        value = value.quantize(Decimal(1).scaleb(exponent)).normalize()
    return format_mass(value, unit)
