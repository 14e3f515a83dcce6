"""How results are stated to a customer: one rounding rule and one choice of units for screen, PDF and DCC.

* The expanded uncertainty ``U`` is rounded **once**, up, to two significant digits (JCGM 100:2008, 7.2.6: "it
  usually suffices to quote u_c(y) and U [...] to at most two significant digits"; "it may sometimes be
  appropriate to round uncertainties up rather than to the nearest digit").  Rounding up never states a smaller
  uncertainty than was evaluated.
* The estimate (the error of indication ``E``) is rounded to the same decimal place as ``U`` (JCGM 100:2008,
  7.2.6: "output and input estimates should be rounded to be consistent with their uncertainties"), half to even.
  The clause's wording was read in a verbatim quotation (SECONDARY: the BIPM PDF itself was not opened); the
  clause also allows "common sense" rounding down (28.05 kHz to 28 kHz), which hengqi does not use.
* The coverage factor is stated with two decimals (hengqi convention).
* Masses are shown (hengqi convention) in one load unit per instrument (``g`` below Max = 10 kg, else ``kg``)
  and one error unit (the load unit where the scale interval ``d`` is at least 0.01 of it, else the next smaller
  unit): ``g`` and ``mg`` for a 220 g balance, ``kg`` only for a 60 t truck scale.  Numbers are always plain
  decimals (never ``9.18e-06``).

:func:`reported_error` is the only place where a certified E and U are rounded; the web results page, the PDF
and the DCC all call it (the tests compare the three).

>>> r = reported_error(Decimal("0.0000007"), 1.8765e-06)
>>> r.error_kg, r.U_kg
(Decimal('7E-7'), Decimal('0.0000019'))
>>> decimal_text(r.U_kg, "mg"), decimal_text(r.error_kg, "mg", like=r.U_kg)
('1.9', '0.7')
>>> reported_error(Decimal("0.0000003"), 9.3e-07).error_kg.scaleb(6)
Decimal('0.30')
>>> mass_units(Decimal("60000"), Decimal("20")), mass_units(Decimal("0.220"), Decimal("0.0000001"))
(('kg', 'kg'), ('g', 'mg'))
>>> natural_mass(Decimal("0.220"), "g"), natural_mass(Decimal("1E-7"), "mg")
('220', '0.1')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal
from typing import Final

#: Decimal exponent of each display unit relative to the kilogram.
UNIT_EXPONENT: Final[dict[str, int]] = {"t": 3, "kg": 0, "g": -3, "mg": -6, "µg": -9}
_SMALLER: Final[dict[str, str]] = {"t": "kg", "kg": "g", "g": "mg", "mg": "µg"}
_EXACT: Final = Context(prec=200)
#: Where the error unit switches to the next smaller unit: ``d`` below this many load units.
_ERROR_UNIT_THRESHOLD: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ReportedError:
    """An error of indication as certified.

    Attributes:
        error_kg: ``E`` rounded to the decimal place of ``U_kg`` (its exponent says how many digits to show).
        U_kg: ``U`` rounded up to two significant digits (exponent = the last digit stated).
        k: the coverage factor with two decimals.
    """

    error_kg: Decimal
    U_kg: Decimal
    k: Decimal


def round_up_2sig(value: Decimal | float) -> Decimal:
    """``value`` rounded up to two significant digits, exactly two digits stated (JCGM 100:2008, 7.2.6).

    Zero, negative and non-finite values give ``Decimal(0)``.  Idempotent: rounding a rounded value changes
    nothing (``9.96`` gives ``10``, not ``10.0``).

    >>> round_up_2sig(0.0001234), round_up_2sig(9.96), round_up_2sig(Decimal("10")), round_up_2sig(2.0)
    (Decimal('0.00013'), Decimal('10'), Decimal('10'), Decimal('2.0'))
    """
    if isinstance(value, float):
        if not math.isfinite(value) or value <= 0:
            return Decimal(0)
        dec = Decimal(repr(value))
    else:
        if not value.is_finite() or value <= 0:
            return Decimal(0)
        dec = value
    rounded = dec.quantize(Decimal(1).scaleb(dec.adjusted() - 1), rounding=ROUND_CEILING, context=_EXACT)
    # a carry (9.96 -> 10.0) adds a digit: restate with two significant digits at the new magnitude
    return rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - 1), rounding=ROUND_CEILING, context=_EXACT)


def round_like(value: Decimal, like: Decimal) -> Decimal:
    """``value`` rounded (half to even) to the last decimal place of ``like`` (JCGM 100:2008, 7.2.6).

    >>> round_like(Decimal("0.0000007"), Decimal("0.00000094"))
    Decimal('7.0E-7')
    """
    return value.quantize(Decimal(1).scaleb(like.as_tuple().exponent), rounding=ROUND_HALF_EVEN, context=_EXACT)  # type: ignore[arg-type]


def reported_error(error_kg: Decimal, U_kg: float | Decimal, k: float = 2.0) -> ReportedError:  # noqa: N803
    """The error of indication and its expanded uncertainty as certified (see the module docstring).

    Where ``U`` is zero (no uncertainty evaluated) ``E`` is stated as it is.
    """
    u = round_up_2sig(U_kg)
    e = error_kg if u == 0 else round_like(error_kg, u)
    return ReportedError(error_kg=e, U_kg=u, k=Decimal(repr(float(k))).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def reported_uncertainty(u_kg: float | Decimal) -> Decimal:
    """A standard uncertainty or standard deviation as stated (two significant digits, rounded up; 7.2.6)."""
    return round_up_2sig(u_kg)


def mass_units(max_kg: Decimal, d_kg: Decimal) -> tuple[str, str]:
    """``(load unit, error unit)`` for an instrument with capacity ``max_kg`` and scale interval ``d_kg``."""
    load = "g" if max_kg < 10 else "kg"
    d_in_load = d_kg.scaleb(-UNIT_EXPONENT[load], context=_EXACT)
    return load, (load if d_in_load >= _ERROR_UNIT_THRESHOLD else _SMALLER[load])


def in_unit(value_kg: Decimal | float, unit: str) -> Decimal:
    """Exact kilograms (or a float's shortest decimal form) expressed in ``unit``."""
    dec = Decimal(repr(value_kg)) if isinstance(value_kg, float) else value_kg
    return dec.scaleb(-UNIT_EXPONENT[unit], context=_EXACT)


def decimal_text(
    value_kg: Decimal | float, unit: str, *, like: Decimal | None = None, places: int | None = None
) -> str:
    """A mass in ``unit`` as a plain decimal (no exponent): the digits it carries, or rounded to the last place
    of ``like`` (a quantity in kg), or to ``places`` decimals in ``unit``.

    >>> decimal_text(Decimal("20000"), "kg"), decimal_text(9.18e-09, "mg"), decimal_text(Decimal("0.1"), "g", places=4)
    ('20000', '0.00918', '100.0000')
    """
    value = in_unit(value_kg, unit)
    if like is not None:
        value = round_like(value, in_unit(like, unit))
    elif places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN, context=_EXACT)
    return format(value, "f")


def natural_mass(value_kg: Decimal, unit: str) -> str:
    """A characteristic (Max, Min, d, e) without trailing zeros: ``220`` g, not ``220.0000`` g."""
    return format(in_unit(value_kg, unit).normalize(), "f")


def places_of(step_kg: Decimal, unit: str) -> int:
    """Decimals needed in ``unit`` to show multiples of ``step_kg`` (at least 0).

    >>> places_of(Decimal("0.0000001"), "g"), places_of(Decimal("20"), "kg")
    (4, 0)
    """
    exponent = in_unit(step_kg, unit).normalize().as_tuple().exponent
    return max(0, -exponent)  # type: ignore[operator]


def table_places(values: Iterable[Decimal], unit: str, d_kg: Decimal) -> int:
    """Decimals in ``unit`` for one table of checks: a tenth of ``d`` (errors corrected for rounding step by
    0.1 e; OIML R 76-1:2006, A.4.4.3), and enough for two significant digits of the smallest non-zero value
    (``MPE/3 = 0.83 g``, not ``833.3333333 mg``); at most 9.

    >>> table_places([Decimal("0.0008333333333")], "g", Decimal("0.001")), table_places([], "kg", Decimal("20"))
    (2, 0)
    """
    places = places_of(d_kg / 10, unit)
    for value in values:
        if value != 0:
            scaled = abs(value).scaleb(-UNIT_EXPONENT[unit], context=_EXACT)
            places = max(places, 1 - scaled.adjusted())
    return min(places, 9)


def plain_number(value: float, digits: int = 3) -> str:
    """A dimensionless number with ``digits`` significant digits as a plain decimal (never ``9.18e-06``).

    >>> plain_number(9.18e-06), plain_number(2.0), plain_number(1234.5)
    ('0.00000918', '2', '1230')
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    dec = Decimal(repr(value))
    rounded = dec.quantize(Decimal(1).scaleb(dec.adjusted() - digits + 1), rounding=ROUND_HALF_EVEN, context=_EXACT)
    return format(rounded.normalize(), "f")
