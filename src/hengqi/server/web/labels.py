"""Due-date reminders and instrument labels.

``/web/due`` lists what falls due within N days (instruments' verification and calibration, weight sets' and
weights' calibration; :func:`hengqi.server.services.registry.overdue`, the dashboard's list) with a CSV export of
the same list.  No e-mail is sent.

``/web/registry/instruments/{id}/label.svg`` is a printable label (62 mm × 29 mm, a common label-printer size) with
the instrument's record number, make, model and serial, status, next verification and calibration dates and its
latest issued certificate.  It carries no QR code (no QR library is among the project's dependencies).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from markupsafe import escape
from sqlalchemy import select

from hengqi.server.db.models import Certificate, Instrument
from hengqi.server.headers import content_disposition
from hengqi.server.services import registry
from hengqi.server.services.base import get_scoped
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import app_state, language, render, viewer
from hengqi.server.web.i18n import translate
from hengqi.server.web.tables import export_format, table_response

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: label size in millimetres (62 mm continuous tape cut at 29 mm)
LABEL_MM: Final = (62, 29)


@router.get("/due", response_model=None)
def due_list(
    request: Request,
    days: Annotated[int, Query(ge=0, le=3650)] = 30,
    export: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    who = viewer(request)
    today = date.today()
    with app_state(request).database.read_session() as session:
        items = registry.overdue(session, who.principal, today + timedelta(days=days), today=today)
    fmt = export_format(export)
    if fmt is not None:
        header = ["entity", "id", "name", "due", "due_date", "status"]
        cells = [[item[c] for c in header] for item in items]
        return table_response(f"due-within-{days}-days", header, cells, fmt)
    return render(request, "due.html", who, items=items, days=days, today=today, nav="due")


@router.get("/registry/instruments/{key}/label.svg", response_model=None)
def instrument_label(request: Request, key: Id) -> Response:
    who = viewer(request)
    lang = language(request)
    with app_state(request).database.read_session() as session:
        instrument = get_scoped(session, who.principal, Instrument, key)
        latest = session.scalar(
            select(Certificate)
            .where(
                Certificate.instrument_id == instrument.id,
                Certificate.status == "issued",
                Certificate.deleted_at.is_(None),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .limit(1)
        )
    status_key = "status." + (instrument.status if instrument.status != "withdrawn" else "withdrawn-instrument")
    lines = [
        (f"{instrument.make} {instrument.model}", 3.6, True),
        (f"{translate(lang, 'col.serial')}: {instrument.serial}   #{instrument.id}", 2.8, False),
        (f"{translate(lang, 'col.status')}: {translate(lang, status_key)}", 2.8, False),
        (f"{translate(lang, 'spec.verification_due')}: {instrument.verification_due or '—'}", 2.8, False),
        (f"{translate(lang, 'reg.calibration_due')}: {instrument.calibration_due or '—'}", 2.8, False),
        (
            f"{translate(lang, 'res.certificate')}: "
            + (f"{latest.number} ({latest.issued_at.date() if latest.issued_at else ''})" if latest else "—"),
            2.8,
            False,
        ),
    ]
    width, height = LABEL_MM
    y = 5.0
    texts = []
    for text, size, bold in lines:
        weight = ' font-weight="bold"' if bold else ""
        texts.append(f'<text x="3" y="{y:.1f}" font-size="{size}"{weight}>{escape(text)}</text>')
        y += size + 1.2
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="1.5" fill="white" stroke="black" '
        f'stroke-width="0.3"/>{"".join(texts)}</svg>'
    )
    headers = {"Content-Disposition": content_disposition(f"label-{instrument.id}.svg", disposition="inline")}
    return Response(svg, media_type="image/svg+xml", headers=headers)
