"""Due dates: one definition of "due" and "overdue", intervals per organisation, and the next due date.

* **Due and overdue** (the one definition the API and the web pages use): on the due date itself an item is
  *due*; it is *overdue* only strictly after it.  :func:`due_status` says which.
* **Intervals**: the months from a calibration (certificate issued) or a passed verification to the next one.
  An organisation may set them for all its instruments, for one instrument kind (single-interval,
  multi-interval, multiple-range), for one accuracy class, or for both; the most specific setting applies
  (kind and class, then class, then kind, then the organisation's general one), else
  :data:`DEFAULT_MONTHS`.  12 months is a hengqi default, not a rule of a standard: calibration intervals are
  the laboratory's or the owner's decision (ISO/IEC 17025 leaves them to them), and the only source seen for
  the Chinese verification period (JJG 539 trade scales verified yearly) is vendor text (SECONDARY, not
  confirmed: ``/work/shared/reference/standards.md`` section 6).
* **Moving the due date**: :func:`advance_due` sets the instrument's ``calibration_due`` or
  ``verification_due`` to the date of the calibration / verification plus the interval (audited); it is called
  when a calibration certificate is issued and when a verification passes.

>>> from datetime import date
>>> due_status(date(2026, 12, 7), date(2026, 12, 7)), due_status(date(2026, 12, 6), date(2026, 12, 7))
('due', 'overdue')
>>> add_months(date(2026, 1, 31), 1), add_months(date(2024, 2, 29), 12)
(datetime.date(2026, 2, 28), datetime.date(2025, 2, 28))
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.db.models import DueInterval, Instrument
from hengqi.server.permissions import Permission, Principal
from hengqi.server.services.base import add_audited, update_audited

#: Months to the next calibration or verification where the organisation has set nothing (hengqi default).
DEFAULT_MONTHS: Final = 12
#: What falls due.
DUE_KINDS: Final = ("calibration", "verification")
#: Longest interval accepted (a typing error beyond).
MAX_MONTHS: Final = 120

DueStatus = Literal["overdue", "due", "ok"]


def due_status(due_date: date | None, today: date) -> DueStatus:
    """``"overdue"`` strictly after the due date, ``"due"`` on it, else ``"ok"`` (also without a due date)."""
    if due_date is None or due_date > today:
        return "ok"
    return "due" if due_date == today else "overdue"


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months; a day that the target month lacks becomes its last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _check(due: str, months: int | None = None) -> None:
    if due not in DUE_KINDS:
        raise InputError("due", f"expected one of {', '.join(DUE_KINDS)}, got {due!r}")
    if months is not None and (isinstance(months, bool) or not 1 <= months <= MAX_MONTHS):
        raise InputError("months", f"must be a whole number of months from 1 to {MAX_MONTHS}, got {months!r}")


def interval_months(session: Session, organisation_id: int, due: str, *, kind: str, accuracy_class: str) -> int:
    """The interval that applies to an instrument of ``kind`` and ``accuracy_class`` (most specific first)."""
    _check(due)
    rows = session.scalars(
        select(DueInterval).where(DueInterval.organisation_id == organisation_id, DueInterval.due == due)
    ).all()
    best: tuple[int, int] | None = None
    for row in rows:
        if row.instrument_kind not in ("", kind) or row.accuracy_class not in ("", accuracy_class):
            continue
        rank = (2 if row.accuracy_class else 0) + (1 if row.instrument_kind else 0)
        if best is None or rank > best[0]:
            best = (rank, row.months)
    return DEFAULT_MONTHS if best is None else best[1]


def set_interval(
    session: Session,
    principal: Principal,
    *,
    due: str,
    months: int,
    instrument_kind: str = "",
    accuracy_class: str = "",
) -> DueInterval:
    """Set (create or change) an interval of the principal's organisation (registry permission; audited)."""
    principal.require(Permission.WRITE_REGISTRY)
    _check(due, months)
    if instrument_kind not in ("", "single-interval", "multi-interval", "multiple-range"):
        raise InputError("instrument_kind", f"unknown instrument kind {instrument_kind!r}")
    if accuracy_class not in ("", "I", "II", "III", "IIII"):
        raise InputError("accuracy_class", f"unknown accuracy class {accuracy_class!r}")
    existing = session.scalar(
        select(DueInterval).where(
            DueInterval.organisation_id == principal.organisation_id,
            DueInterval.due == due,
            DueInterval.instrument_kind == instrument_kind,
            DueInterval.accuracy_class == accuracy_class,
        )
    )
    if existing is not None:
        return update_audited(session, principal, existing, {"months": months}, what="due interval")
    row = DueInterval(
        organisation_id=principal.organisation_id,
        due=due,
        instrument_kind=instrument_kind,
        accuracy_class=accuracy_class,
        months=months,
    )
    return add_audited(session, principal, row, what="due interval")


def intervals(session: Session, principal: Principal) -> list[DueInterval]:
    """The intervals the principal's organisation has set."""
    principal.require(Permission.READ)
    statement = select(DueInterval).where(DueInterval.organisation_id == principal.organisation_id)
    return list(session.scalars(statement.order_by(DueInterval.id)))


def advance_due(session: Session, principal: Principal, instrument: Instrument, due: str, done_on: date) -> date:
    """Set the instrument's next ``due`` date to ``done_on`` plus its interval (audited) and return it.

    A due date already later than that (set by hand, or by a later calibration) is kept."""
    _check(due)
    months = interval_months(
        session, instrument.organisation_id, due, kind=instrument.kind, accuracy_class=instrument.accuracy_class
    )
    field = "calibration_due" if due == "calibration" else "verification_due"
    current: date | None = getattr(instrument, field)
    nxt = add_months(done_on, months)
    if current is not None and current >= nxt:
        return current
    update_audited(session, principal, instrument, {field: nxt}, what="instrument", action="due-date")
    return nxt
