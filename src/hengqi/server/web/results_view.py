"""The errors of indication of a calibration run as the results page shows them: the very numbers of the certificate.

E and U are rounded by :func:`hengqi.metrology.reporting.reported_error` (U up to two significant digits, E to the
same decimal place; JCGM 100:2008, 7.2.6), the function the PDF and the DCC use, in the instrument's units
(:func:`hengqi.metrology.reporting.mass_units`: ``g`` / ``mg`` for a 220 g balance, ``kg`` for a 60 t scale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hengqi.metrology.reporting import decimal_text, mass_units, natural_mass, places_of, reported_error


@dataclass(frozen=True, slots=True)
class PointRow:
    """One row of the errors table (texts in :attr:`ErrorTable.unit` and :attr:`ErrorTable.error_unit`)."""

    load: str
    reference: str
    error: str
    U: str
    k: str
    mpe: str
    within: bool | None


@dataclass(frozen=True, slots=True)
class ErrorTable:
    unit: str
    error_unit: str
    rows: tuple[PointRow, ...]


def error_table(
    results: dict[str, Any], max_kg: Decimal, d_kg: Decimal, limit_of: Callable[[Decimal], Decimal | None]
) -> ErrorTable:
    """The rows of a run's ``results["points"]`` (as kept by the run: exact text in kg, U as a float's repr)."""
    unit, error_unit = mass_units(max_kg, d_kg)
    places = places_of(d_kg, unit)
    rows = []
    for p in results.get("points", []):
        if not isinstance(p, dict) or "load_kg" not in p:
            continue
        load = Decimal(str(p["load_kg"]))
        r = reported_error(Decimal(str(p["error_kg"])), float(p["U_kg"]), float(p.get("k", 2.0)))
        limit = limit_of(load)
        reference = p.get("reference_mass_kg")
        rows.append(
            PointRow(
                load=decimal_text(load, unit, places=places),
                reference="" if reference is None else decimal_text(Decimal(str(reference)), unit),
                error=decimal_text(r.error_kg, error_unit),
                U=decimal_text(r.U_kg, error_unit),
                k=str(r.k),
                mpe="—" if limit is None else natural_mass(limit, error_unit),
                within=None if limit is None else abs(r.error_kg) + r.U_kg <= limit,
            )
        )
    return ErrorTable(unit, error_unit, tuple(rows))
