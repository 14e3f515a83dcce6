"""The errors of indication of a calibration run as the results page shows them: the very numbers of the certificate.

E and U are rounded by :func:`hengqi.metrology.reporting.reported_error` (U up to two significant digits, E to the
same decimal place; JCGM 100:2008, 7.2.6), the function the PDF and the DCC use, in the instrument's units
(:func:`hengqi.metrology.reporting.mass_units`: ``g`` / ``mg`` for a 220 g balance, ``kg`` for a 60 t scale).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hengqi.metrology.reporting import (
    decimal_text,
    mass_units,
    natural_mass,
    places_of,
    reported_error,
    table_places,
)


def certified_points(
    points: list[tuple[Decimal, Decimal, float]], results: dict[str, Any]
) -> list[tuple[Decimal, Decimal, float]]:
    """``(load, E, U)`` of a run's points as the certificate states them (for the chart and its tooltips)."""
    ks = [float(p.get("k", 2.0)) for p in results.get("points", []) if isinstance(p, dict) and "load_kg" in p]
    out = []
    for (load, error, u), k in zip(points, ks, strict=False):
        r = reported_error(error, u, k)
        out.append((load, r.error_kg, float(r.U_kg)))
    return out


def live_texts(result: Any, mpe_kg: Decimal | None, max_kg: Decimal, d_kg: Decimal) -> tuple[str, str, str]:
    """(value, limit, MPE) of a live result during a run, in the instrument's units: a calibration point's E and
    U as certified (:func:`hengqi.metrology.reporting.reported_error`), other checks to a tenth of ``d``."""
    unit, error_unit = mass_units(max_kg, d_kg)
    shown_unit = unit if result.quantity in _LOAD_QUANTITIES else error_unit
    if result.limit_name == "U" and result.limit_kg:
        r = reported_error(result.value_kg, result.limit_kg)
        value, limit = shown(r.error_kg, error_unit), shown(r.U_kg, error_unit)
    else:
        places = places_of(d_kg if shown_unit == unit else d_kg / 10, shown_unit)
        value = f"{decimal_text(result.value_kg, shown_unit, places=places)} {shown_unit}"
        limit = (
            "—"
            if result.limit_kg is None
            else f"{decimal_text(result.limit_kg, shown_unit, places=places)} {shown_unit}"
        )
    return value, limit, "—" if mpe_kg is None else f"{natural_mass(mpe_kg, error_unit)} {error_unit}"


def shown(value_kg: Decimal, unit: str) -> str:
    """A mass in one of the table's units, plain (``0.2 mg``, ``110 g``)."""
    return f"{decimal_text(value_kg, unit)} {unit}"


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
    #: instruments with several ranges: the range the point was read in (``"2"``) and its d in the error unit
    #: (the d column of the certificate); ``""`` otherwise
    range: str = ""
    d: str = ""


@dataclass(frozen=True, slots=True)
class ErrorTable:
    unit: str
    error_unit: str
    rows: tuple[PointRow, ...]

    @property
    def ranges(self) -> bool:
        """Whether the points name their range (an instrument with several ranges): the table shows range and d."""
        return any(row.range for row in self.rows)


def error_table(
    results: dict[str, Any],
    max_kg: Decimal,
    d_kg: Decimal,
    limit_of: Callable[..., Decimal | None],
    intervals: Sequence[Decimal | None] = (),
) -> ErrorTable:
    """The rows of a run's ``results["points"]`` (as kept by the run: exact text in kg, U as a float's repr).

    ``intervals``: the d each point was evaluated with (:attr:`CalibrationPoint.d_kg
    <hengqi.metrology.calibration.result.CalibrationPoint.d_kg>`, in the order of the points; see
    :func:`point_intervals`), shown beside the range a point names, as the certificate's d column."""
    unit, error_unit = mass_units(max_kg, d_kg)
    places = places_of(d_kg, unit)
    rows = []
    points = [p for p in results.get("points", []) if isinstance(p, dict) and "load_kg" in p]
    for i, p in enumerate(points):
        load = Decimal(str(p["load_kg"]))
        r = reported_error(Decimal(str(p["error_kg"])), float(p["U_kg"]), float(p.get("k", 2.0)))
        in_use = p["range"] if isinstance(p.get("range"), int) and not isinstance(p.get("range"), bool) else None
        limit = limit_of(load, in_use)  # the MPE of the range in use, where the point names it
        interval = intervals[i] if in_use is not None and i < len(intervals) else None
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
                range="" if in_use is None else str(in_use),
                d="" if in_use is None else "—" if interval is None else natural_mass(interval, error_unit),
            )
        )
    return ErrorTable(unit, error_unit, tuple(rows))


def point_intervals(result: Any) -> list[Decimal | None]:
    """The d each point of an evaluated calibration (a :class:`~hengqi.metrology.calibration.result.CalibrationResult`)
    was read with: that of its range on an instrument with several ranges (EURAMET cg-18 v4.0 7.1.1, the rounding
    of each reading with the d of its range), ``None`` on one with a single range.  The same ``d_kg`` the
    certificate's PDF and DCC state per point."""
    return [p.d_kg if p.range_in_use is not None else None for p in result.points]


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check of a verification test, numbers in the table's units."""

    label: str
    load: str
    quantity: str
    value: str
    limit_name: str
    limit: str
    passed: bool | None
    message: str


@dataclass(frozen=True, slots=True)
class CheckGroup:
    """The checks of one test (weighing, eccentricity, ...) with the test's verdict: ``False`` when any check
    failed, ``True`` when all judged checks passed, ``None`` when none was judged."""

    test: str
    passed: bool | None
    unit: str
    error_unit: str
    rows: tuple[CheckRow, ...]


#: Checks whose value is a mass of the load (shown in the load unit) rather than an error (the error unit).
_LOAD_QUANTITIES = frozenset({"test load"})


def check_groups(checks: list[dict[str, Any]], max_kg: Decimal, d_kg: Decimal) -> tuple[CheckGroup, ...]:
    """The checks of a verification grouped by test (in the order first met), numbers formatted per group."""
    unit, error_unit = mass_units(max_kg, d_kg)
    load_places = places_of(d_kg, unit)
    order: dict[str, list[dict[str, Any]]] = {}
    for c in checks:
        if isinstance(c, dict) and "test" in c:
            order.setdefault(str(c["test"]), []).append(c)
    groups = []
    for test, items in order.items():
        limits = [Decimal(str(c["limit_kg"])) for c in items if c.get("limit_kg") is not None]
        places = table_places(limits, error_unit, d_kg)
        rows = []
        for c in items:
            quantity = str(c.get("quantity", ""))
            in_load = quantity in _LOAD_QUANTITIES
            shown_unit = unit if in_load else error_unit
            shown_places = load_places if in_load else places

            def text(value: object, shown_unit: str = shown_unit, shown_places: int = shown_places) -> str:
                if value is None:
                    return "—"
                return f"{decimal_text(Decimal(str(value)), shown_unit, places=shown_places)} {shown_unit}"

            load = Decimal(str(c.get("load_kg", "0")))
            rows.append(
                CheckRow(
                    label=str(c.get("label", "")),
                    load="" if load == 0 else f"{decimal_text(load, unit, places=load_places)} {unit}",
                    quantity=quantity,
                    value="" if quantity == "evaluation" else text(c.get("value_kg")),
                    limit_name=str(c.get("limit_name", "")),
                    limit=text(c.get("limit_kg")) if c.get("limit_name") else "",
                    passed=c.get("passed"),
                    message=str(c.get("message", "")),
                )
            )
        judged = [r.passed for r in rows if r.passed is not None]
        verdict = None if not judged else all(judged)
        groups.append(CheckGroup(test, verdict, unit, error_unit, tuple(rows)))
    return tuple(groups)
