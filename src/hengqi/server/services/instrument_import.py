"""Bulk import of instruments from a CSV table: a dry run that says row by row what would be created, changed or
refused and why, then an atomic commit.

Each row goes through the API's request schemas and the legal core, exactly as ``POST /api/v1/instruments`` and
``PATCH /api/v1/instruments/{id}`` do (:func:`hengqi.server.services.registry.create_instrument`,
:func:`~hengqi.server.services.registry.update_instrument`): an impossible specification is refused with the rule
of OIML R 76-1 named.  A row whose make, model and serial (compared without regard to case) name a live
instrument of the organisation changes it; any other row creates one.  The commit writes every row or none: it
plans the file again and refuses to write anything while one row is refused; new instruments are inserted in one
flush (:func:`~hengqi.server.services.registry.create_instruments`), changed ones updated in one flush
(:func:`~hengqi.server.services.registry.update_instruments`), each with its audit entries written in one batch.

Sites and owners are named by their name (``site``, ``owner``) and must exist in the organisation.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.orm import Session

from hengqi.errors import HengqiError, InputError
from hengqi.server.db.models import Customer, Instrument, Site
from hengqi.server.permissions import Permission, Principal
from hengqi.server.rendering import off_process
from hengqi.server.schemas.registry import InstrumentCreate, InstrumentUpdate
from hengqi.server.services import registry, spreadsheets
from hengqi.server.services.base import scoped_select

#: the columns of the template, in order (``make``, ``model``, ``serial``, ``accuracy_class``, ``max`` and ``e`` are
#: required; an empty cell of the others takes the API's default on a new instrument and leaves a stored value)
COLUMNS: Final = (
    "make",
    "model",
    "serial",
    "type_approval",
    "accuracy_class",
    "max",
    "e",
    "d",
    "min",
    "status",
    "verification_due",
    "calibration_due",
    "site",
    "owner",
)
REQUIRED: Final = ("make", "model", "serial", "accuracy_class", "max", "e")
SPEC: Final = ("accuracy_class", "max", "e", "d", "min")
#: the largest file and the most rows one import takes
MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 20_000
#: the most columns a row of a workbook may have
MAX_COLUMNS: Final = 64


def template() -> str:
    """The CSV template: the header and one example row."""
    example = ["Mettler-Toledo", "ICS425", "B123456789", "T2345", "III", "30", "0.01", "", "", "in-service"]
    return ",".join(COLUMNS) + "\r\n" + ",".join([*example, "2027-03-31", "", "", ""]) + "\r\n"


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What the import does with one row (``line``: its line in the file, the header being line 1)."""

    line: int
    action: str  # create, change, unchanged, refused
    label: str
    reason: str = ""
    instrument_id: int | None = None
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportPlan:
    rows: tuple[RowOutcome, ...]
    bodies: tuple[tuple[int | None, dict[str, Any]], ...] = field(default=(), repr=False)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def refused(self) -> int:
        return self.count("refused")


def read_table(content: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file (UTF-8, with or without BOM; comma or semicolon) or of the first sheet of an XLSX
    workbook (:func:`hengqi.server.services.spreadsheets.read_xlsx`, in a rendering process:
    :mod:`hengqi.server.rendering`); :class:`InputError` naming what is wrong with the file as a whole.  An
    empty row is kept (as ``{}``) so that every row keeps its line number."""
    if len(content) > MAX_BYTES:
        raise InputError("file", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if spreadsheets.is_xlsx(content):
        table = off_process(spreadsheets.read_xlsx, content, max_rows=MAX_ROWS + 1, max_columns=MAX_COLUMNS)
        if not table:
            raise InputError("file", "is empty")
        return _rows(table[0], iter(table[1:]))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError("file", f"not UTF-8 text (byte {err.start})") from err
    if not text.strip():
        raise InputError("file", "is empty")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _rows(next(reader), reader)
    except csv.Error as err:
        raise InputError("file", f"not a CSV table: {err}") from err


def _rows(first: list[str], cells_of: Iterator[list[str]]) -> list[dict[str, str]]:
    header = [h.strip().lower() for h in first]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError("file", f"unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError("file", f"column {missing[0]!r} is missing")
    rows: list[dict[str, str]] = []
    for cells in cells_of:
        if len(rows) >= MAX_ROWS:
            raise InputError("file", f"more than {MAX_ROWS} rows")
        if not any(c.strip() for c in cells):
            rows.append({})
            continue
        rows.append({h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)})
    return rows


def as_csv(rows: Sequence[dict[str, str]]) -> str:
    """``rows`` (as :func:`read_table` gives them) as the CSV text that reads back to the same rows and line
    numbers: what the dry run of a workbook hands to its commit form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS] if row else [])
    return buffer.getvalue()


def template_xlsx() -> bytes:
    """The template as an XLSX workbook: the same header and example row as :func:`template`."""
    lines = list(csv.reader(io.StringIO(template(), newline="")))
    return spreadsheets.write_xlsx(lines[0], lines[1:], sheet="instruments")


def _key(make: str, model: str, serial: str) -> tuple[str, str, str]:
    return make.casefold(), model.casefold(), serial.casefold()


def _shown(value: object) -> str:
    from hengqi.server.db.types import plain_decimal

    if value is None:
        return ""
    if hasattr(value, "as_tuple"):
        return format(plain_decimal(value), "f")  # type: ignore[arg-type]
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def plan(session: Session, principal: Principal, rows: Sequence[dict[str, str]]) -> ImportPlan:
    """What importing ``rows`` would do, row by row; writes nothing."""
    principal.require(Permission.WRITE_REGISTRY)
    org = principal.organisation_id
    existing = {
        _key(i.make, i.model, i.serial): i
        for i in session.scalars(scoped_select(principal, Instrument).where(Instrument.organisation_id == org))
    }
    sites = {
        s.name.casefold(): s.id
        for s in session.scalars(scoped_select(principal, Site).where(Site.organisation_id == org))
    }
    owners = {
        c.name.casefold(): c.id
        for c in session.scalars(scoped_select(principal, Customer).where(Customer.organisation_id == org))
    }
    seen: dict[tuple[str, str, str], int] = {}
    outcomes: list[RowOutcome] = []
    bodies: list[tuple[int | None, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        line = index + 2
        if not row:
            continue
        label = " ".join(row.get(c, "") for c in ("make", "model", "serial")).strip()
        try:
            key = _key(row.get("make", ""), row.get("model", ""), row.get("serial", ""))
            if key in seen:
                raise InputError("serial", f"the same instrument is on line {seen[key]}")
            seen[key] = line
            body: dict[str, Any] = {c: row[c] for c in COLUMNS if c not in ("site", "owner") and row.get(c, "")}
            for column, names, target in (("site", sites, "site_id"), ("owner", owners, "owner_id")):
                name = row.get(column, "")
                if name:
                    if name.casefold() not in names:
                        raise InputError(column, f"no {column} named {name!r} in the organisation")
                    body[target] = names[name.casefold()]
            found = existing.get(key)
            if found is None:
                data = InstrumentCreate.model_validate(body)
                registry.specification(
                    data.accuracy_class,
                    kind=data.kind,
                    max_kg=data.max,
                    e_kg=data.e,
                    d_kg=data.d,
                    min_kg=data.min,
                    ranges=None,
                )
                outcomes.append(RowOutcome(line, "create", label))
                bodies.append((None, body))
                continue
            change = _changes(found, body)
            if not change:
                outcomes.append(RowOutcome(line, "unchanged", label, instrument_id=found.id))
                continue
            update = InstrumentUpdate.model_validate(change)
            if any(k in change for k in SPEC):
                registry.specification(
                    update.accuracy_class or found.accuracy_class,
                    kind=None,
                    max_kg=update.max,
                    e_kg=update.e,
                    d_kg=update.d,
                    min_kg=update.min,
                    ranges=None,
                )
            outcomes.append(RowOutcome(line, "change", label, instrument_id=found.id, changes=tuple(sorted(change))))
            bodies.append((found.id, change))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            outcomes.append(RowOutcome(line, "refused", label, f"{where}: {first.get('msg', 'invalid')}"))
        except HengqiError as err:
            outcomes.append(RowOutcome(line, "refused", label, err.message))
    return ImportPlan(tuple(outcomes), tuple(bodies))


_COLUMN_OF: Final = {"max": "max_kg", "e": "e_kg", "d": "d_kg", "min": "min_kg"}


def _changes(instrument: Instrument, body: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``body`` that differ from ``instrument`` (the whole specification where a part of it does)."""
    change: dict[str, Any] = {}
    for name, value in body.items():
        if name in ("make", "model", "serial"):
            continue
        stored = getattr(instrument, _COLUMN_OF.get(name, name))
        if name in _COLUMN_OF and isinstance(value, str):
            try:
                from hengqi.metrology.quantities import parse_mass

                same = parse_mass(value, path=name, default_unit="kg") == stored
            except (InputError, ValueError):
                same = False
        else:
            same = str(value) == _shown(stored)
        if not same:
            change[name] = value
    if any(k in change for k in SPEC):
        for name in SPEC:
            if name in body:
                change[name] = body[name]
    return change


def commit(session: Session, principal: Principal, rows: Sequence[dict[str, str]]) -> ImportPlan:
    """Import ``rows``: every row is written, or (one refused) none; the caller commits the session."""
    found = plan(session, principal, rows)
    if found.refused:
        raise InputError("file", f"{found.refused} row(s) refused; nothing was imported")
    registry.create_instruments(
        session, principal, [InstrumentCreate.model_validate(body) for key, body in found.bodies if key is None]
    )
    registry.update_instruments(
        session,
        principal,
        [(key, InstrumentUpdate.model_validate(body)) for key, body in found.bodies if key is not None],
    )
    return found
