"""Unit codes as each protocol prints them, and the size of each unit in kilograms.

An instrument prints a short code in a fixed-width field; the same letters mean different units in different
protocols (A&D prints ``t`` for the **tola**, where SI would read a tonne). Each protocol therefore has its own
table, taken from the vendor's manual named beside it, mapping its code to a :class:`UnitCode`: the symbol hengqi
reports (never ambiguous), the unit's name, and its exact size in kilograms, or None where the unit is not a mass
(pieces, percent, force, density) or where its size depends on a setting or national definition that could not be
confirmed (Hong Kong and Singapore taels, the baht, the mesghal, the Austrian carat): a reading in such a unit keeps
its value and symbol with ``value_kg`` None rather than a guessed conversion.

Sizes (exact by definition):

* grain = 64.79891 mg, troy ounce = 480 grains, pennyweight = 24 grains, pound = 0.45359237 kg, ounce =
  1/16 lb (international yard and pound agreement, 1959; NIST Handbook 44 (2024) Appendix C, "Units of mass").
* metric carat = 200 mg (4th CGPM, 1907, Resolution; NIST HB 44 Appendix C).
* momme = 3.75 g (Japan's Measurement Act; SECONDARY, read in a weighing-industry article and vendor unit tables).
* tola = 180 grains = 11.6638038 g (India's Standards of Weights and Measures; SECONDARY, vendor unit tables).
* Taiwanese tael = 37.5 g; Chinese tael (市两) = 50 g since 1959 (SECONDARY: weighing-industry unit tables).

>>> AND_UNITS["t"].symbol, AND_UNITS["t"].kg
('tola', Decimal('0.01166380380'))
>>> SBI_UNITS["tol"] == AND_UNITS["t"]
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hengqi.metrology.quantities import MASS_UNITS

GRAIN_KG: Final = Decimal("0.00006479891")


@dataclass(frozen=True, slots=True)
class UnitCode:
    """A unit an instrument prints: hengqi's unambiguous ``symbol``, its ``name``, its size in kg (or None)."""

    symbol: str
    name: str
    kg: Decimal | None


GRAM: Final = UnitCode("g", "gram", MASS_UNITS["g"])
KILOGRAM: Final = UnitCode("kg", "kilogram", MASS_UNITS["kg"])
MILLIGRAM: Final = UnitCode("mg", "milligram", MASS_UNITS["mg"])
MICROGRAM: Final = UnitCode("µg", "microgram", MASS_UNITS["µg"])
TONNE: Final = UnitCode("t", "tonne", MASS_UNITS["t"])
POUND: Final = UnitCode("lb", "pound", MASS_UNITS["lb"])
OUNCE: Final = UnitCode("oz", "ounce", MASS_UNITS["oz"])
TROY_OUNCE: Final = UnitCode("ozt", "troy ounce", 480 * GRAIN_KG)
PENNYWEIGHT: Final = UnitCode("dwt", "pennyweight", 24 * GRAIN_KG)
GRAIN: Final = UnitCode("gr", "grain", GRAIN_KG)
CARAT: Final = UnitCode("ct", "metric carat", Decimal("0.0002"))
MOMME: Final = UnitCode("mom", "momme", Decimal("0.00375"))
TOLA: Final = UnitCode("tola", "tola", 180 * GRAIN_KG)
TAEL_TAIWAN: Final = UnitCode("tael-tw", "Taiwanese tael", Decimal("0.0375"))
TAEL_CHINA: Final = UnitCode("tael-cn", "Chinese tael", Decimal("0.05"))
TAEL_HONG_KONG: Final = UnitCode("tael-hk", "Hong Kong tael", None)
TAEL_SINGAPORE: Final = UnitCode("tael-sg", "Singapore tael", None)
TAEL_SETTING: Final = UnitCode("tael", "tael (variant chosen in the balance's settings)", None)
BAHT: Final = UnitCode("baht", "baht", None)
MESGHAL: Final = UnitCode("mesghal", "mesghal", None)
AUSTRIAN_CARAT: Final = UnitCode("ct-at", "Austrian carat", None)
PIECES: Final = UnitCode("pcs", "pieces", None)
PERCENT: Final = UnitCode("%", "percent", None)
NEWTON: Final = UnitCode("N", "newton (force)", None)
DENSITY: Final = UnitCode("DS", "density (specific gravity)", None)
PARTS_PER_POUND: Final = UnitCode("/lb", "parts per pound", None)

#: A&D standard format, 3-character unit field (A&D EK-i series instruction manual, 9-2 "Data format"; EK-AEP
#: series manual p. 28, which adds ``t`` = tola; GF-A/FX-i manuals list ``mg`` and ``kg`` on the models that have
#: them). ``tl`` is the tael whose variant the balance's function table selects.
AND_UNITS: Final[Mapping[str, UnitCode]] = {
    "g": GRAM,
    "kg": KILOGRAM,
    "mg": MILLIGRAM,
    "PC": PIECES,
    "%": PERCENT,
    "oz": OUNCE,
    "lb": POUND,
    "ozt": TROY_OUNCE,
    "ct": CARAT,
    "mom": MOMME,
    "dwt": PENNYWEIGHT,
    "GN": GRAIN,
    "tl": TAEL_SETTING,
    "t": TOLA,
    "N": NEWTON,
    "DS": DENSITY,
}

#: Sartorius SBI unit symbols (Sartorius FB series manual p. 66 "Unit symbols"; MC1 manual p. 111 lists ``gr``
#: for grains where the FB manual has ``GN``).
SBI_UNITS: Final[Mapping[str, UnitCode]] = {
    "g": GRAM,
    "kg": KILOGRAM,
    "mg": MILLIGRAM,
    "ct": CARAT,
    "lb": POUND,
    "oz": OUNCE,
    "ozt": TROY_OUNCE,
    "tlh": TAEL_HONG_KONG,
    "tls": TAEL_SINGAPORE,
    "tlt": TAEL_TAIWAN,
    "tlc": TAEL_CHINA,
    "GN": GRAIN,
    "gr": GRAIN,
    "dwt": PENNYWEIGHT,
    "/lb": PARTS_PER_POUND,
    "mom": MOMME,
    "K": AUSTRIAN_CARAT,
    "tol": TOLA,
    "bat": BAHT,
    "MS": MESGHAL,
    "%": PERCENT,
    "pcs": PIECES,
}

#: Symbols other protocols print (MT-SICS, Toledo continuous, the simulator): the SI-style mass units.
GENERIC_UNITS: Final[Mapping[str, UnitCode]] = {
    "g": GRAM,
    "kg": KILOGRAM,
    "mg": MILLIGRAM,
    "µg": MICROGRAM,
    "μg": MICROGRAM,
    "ug": MICROGRAM,
    "t": TONNE,
    "lb": POUND,
    "lbs": POUND,
    "oz": OUNCE,
    "KG": KILOGRAM,
    "G": GRAM,
    "T": TONNE,
    "LB": POUND,
}


#: Every unit by hengqi's own symbol (what a :class:`~hengqi.instruments.reading.Reading` carries).
BY_SYMBOL: Final[Mapping[str, UnitCode]] = {
    unit.symbol: unit for table in (GENERIC_UNITS, AND_UNITS, SBI_UNITS) for unit in table.values()
}


def unit_code(code: str, table: Mapping[str, UnitCode] = GENERIC_UNITS) -> UnitCode:
    """The unit a printed ``code`` stands for in ``table`` (or, failing that, hengqi's own symbol); an unknown code
    is kept as printed, not a mass.

    >>> unit_code(" t", AND_UNITS).name, unit_code("t").name
    ('tola', 'tonne')
    >>> unit_code("xyz").kg is None
    True
    """
    text = code.strip()
    return table.get(text) or BY_SYMBOL.get(text) or UnitCode(text, text, None)
