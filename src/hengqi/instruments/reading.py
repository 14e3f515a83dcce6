"""Immutable values a scale hands back: a :class:`Reading` and an :class:`Identity`.

Values are exact :class:`~decimal.Decimal` numbers as the instrument printed them; ``value_kg`` converts them with
the exact unit sizes of :mod:`hengqi.metrology.quantities`.

>>> r = reading_from_text("100.00", "g", stable=True, raw="S S     100.00 g")
>>> r.value, r.value_kg, r.as_json()
(Decimal('100.00'), Decimal('0.10000'), {'value': 100.0, 'unit': 'g', 'stable': True, 'value_kg': 0.1})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from hengqi.instruments.units import GENERIC_UNITS, UnitCode, unit_code


def unit_size_kg(unit: str, table: Mapping[str, UnitCode] = GENERIC_UNITS) -> Decimal | None:
    """Size of a printed mass unit in kg, or None for a unit that is not a mass (pcs, %, a blank field).

    >>> unit_size_kg("mg"), unit_size_kg("pcs")
    (Decimal('0.000001'), None)
    """
    return unit_code(unit, table).kg


def decimals_of(text: str) -> int:
    """Number of digits after the decimal point in a printed number (``"100.00"`` -> 2)."""
    text = text.strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


@dataclass(frozen=True, slots=True)
class Reading:
    """One indication of a scale.

    ``value`` and ``unit`` are as displayed; ``value_kg`` is the same value in kilograms (``None`` only when the
    unit is not a mass unit, e.g. pieces); ``net`` is True for a net indication, False for gross, None where the
    protocol does not say; ``raw`` is the reply line as received, for audit trails.
    """

    value: Decimal
    unit: str
    stable: bool
    value_kg: Decimal | None
    net: bool | None = None
    raw: str = ""

    @property
    def gross(self) -> bool | None:
        """True for a gross indication (the inverse of :attr:`net`)."""
        return None if self.net is None else not self.net

    def as_json(self) -> dict[str, Any]:
        """The JSON contract of ``hengqi scale read --json``: value, unit, stable, value_kg (numbers)."""
        return {
            "value": float(self.value),
            "unit": self.unit,
            "stable": self.stable,
            "value_kg": None if self.value_kg is None else float(self.value_kg),
        }


def reading_from_text(
    number: str,
    unit: str,
    *,
    stable: bool,
    raw: str = "",
    net: bool | None = None,
    units: Mapping[str, UnitCode] = GENERIC_UNITS,
) -> Reading:
    """Build a :class:`Reading` from the printed number and unit code; ValueError if the number is not a number.

    ``units`` is the protocol's table of unit codes (:mod:`hengqi.instruments.units`); the reading carries the
    unambiguous symbol (A&D ``t`` becomes ``tola``).
    """
    text = number.replace(" ", "")
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise ValueError(f"not a number: {number!r}") from err
    if not value.is_finite():
        raise ValueError(f"not a finite number: {number!r}")
    if value.is_zero():  # "-0.0000" after a tare is zero: no signed zero in values or JSON
        value = value.copy_abs()
    code = unit_code(unit, units) if unit.strip() else UnitCode("", "", None)
    return Reading(
        value=value,
        unit=code.symbol,
        stable=stable,
        value_kg=None if code.kg is None else value * code.kg,
        net=net,
        raw=raw,
    )


@dataclass(frozen=True, slots=True)
class Identity:
    """What an instrument says about itself (fields it does not report are None).

    ``capacity_kg`` is Max as reported; ``d_kg`` is the actual scale interval, reported or inferred from the number
    of decimals the instrument displays (``d_source`` says which).
    """

    protocol: str
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    software: str | None = None
    capacity_kg: Decimal | None = None
    d_kg: Decimal | None = None
    d_source: str | None = None
    level: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form (numbers as strings to keep them exact)."""
        return {
            "protocol": self.protocol,
            "make": self.make,
            "model": self.model,
            "serial": self.serial,
            "software": self.software,
            "capacity_kg": None if self.capacity_kg is None else str(self.capacity_kg),
            "d_kg": None if self.d_kg is None else str(self.d_kg),
            "d_source": self.d_source,
            "level": self.level,
        }
