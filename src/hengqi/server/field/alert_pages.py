"""Regulator screens for field alerts: the queue with filters (region, site, type, severity, status) and the measured
precision of each detector, and one alert with its evidence (the weight curve of a passage, the rule that fired, its
threshold and what was observed), the workflow buttons and the alert's audit trail.

The workflow itself (who may move an alert, which transitions exist, the verification run an inspection order opens)
is :mod:`hengqi.server.alerts.service`; these pages only call it, with the session's CSRF token checked.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from hengqi.server.alerts import service
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.db.models import AuditEntry, Instrument
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.models import FieldDevice, FieldEvent
from hengqi.server.field.pages import _samples, curve_svg, render
from hengqi.server.services.base import scoped_select
from hengqi.server.web.common import PREFIX, app_state, check_csrf, redirect, viewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Code = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$")]
DETECTORS = ("seal", "weighbridge", "retail", "drift", "availability")


def series_svg(values: list[float], width: int = 360, height: int = 90) -> Markup | None:
    """A small inline SVG line of any values (negatives too), or None with fewer than two.

    >>> "polyline" in str(series_svg([-1.0, 2.0, 0.5]))
    True
    """
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    n = len(values) - 1
    points = " ".join(
        f"{k * width / n:.1f},{height - 2 - (v - low) * (height - 4) / span:.1f}" for k, v in enumerate(values)
    )
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="evidence">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{points}"/></svg>'
    )


@router.get("/alerts", response_class=HTMLResponse)
def alert_queue(  # noqa: PLR0917 - FastAPI query parameters
    request: Request,
    state: Code = None,
    region: Code = None,
    site: Code = None,
    detector: Code = None,
    severity: Code = None,
) -> HTMLResponse:
    who = viewer(request)
    chosen = {"state": state, "region": region, "site": site, "detector": detector, "severity": severity}
    where = service.AlertFilter(**{k: (v or None) for k, v in chosen.items()})
    with app_state(request).database.read_session() as session:
        alerts = service.list_alerts(session, who.principal, where=where, limit=500)
        devices = session.scalars(scoped_select(who.principal, FieldDevice)).all()
        by_pk = {d.id: d for d in devices}
        precision = service.precision(session, who.principal)
    options = {
        "state": service.STATES,
        "region": sorted({d.region_code for d in devices if d.region_code}),
        "site": sorted({d.group_id for d in devices}),
        "detector": DETECTORS,
        "severity": service.SEVERITIES,
    }
    rows = [(a, by_pk.get(a.device_pk)) for a in alerts]
    return render(
        request, "field_alerts.html", who, rows=rows, options=options, chosen=chosen, precision=precision, nav="alerts"
    )


def _evidence(request: Request, device: FieldDevice, findings: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per finding: the finding, the weight curve of the passage it names (curve and cells) or a plot of its
    excerpt."""
    store = CurveStore(app_state(request).settings.data_dir / "field")
    out: list[tuple[Any, ...]] = []
    with app_state(request).database.read_session() as session:
        for f in findings:
            plot = None
            if f.get("detector") == "weighbridge" and f.get("seqs"):
                event = session.scalar(
                    select(FieldEvent).where(FieldEvent.device_pk == device.id, FieldEvent.seq == int(f["seqs"][0]))
                )
                if event is not None and event.kind == "passage":
                    plot = curve_svg(_samples(store, device.device_id, event), width=640, height=160)
            if plot is None:
                plot = series_svg([float(x) for x in f.get("excerpt") or []])
            out.append((f, plot))
    return out


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: Id) -> HTMLResponse:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        alert = service.get_alert(session, who.principal, alert_id)
        device = session.get(FieldDevice, alert.device_pk)
        instrument = session.get(Instrument, device.instrument_id) if device is not None else None
        trail = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == service.ENTITY, AuditEntry.entity_id == str(alert.id))
            .order_by(AuditEntry.id)
        ).all()
        session.expunge_all()
    evidence = _evidence(request, device, list(alert.findings)) if device is not None else []
    may_act = who.principal.role in service.WORKFLOW_ROLES
    return render(
        request,
        "field_alert.html",
        who,
        alert=alert,
        device=device,
        instrument=instrument,
        evidence=evidence,
        trail=trail,
        next_states=sorted(service.NEXT[alert.state] - {"closed"}) if may_act else [],
        may_close=may_act and "closed" in service.NEXT[alert.state],
        reasons=service.REASONS,
        nav="alerts",
    )


@router.post("/alerts/{alert_id}/transition", response_model=None)
def alert_transition(  # noqa: PLR0917 - FastAPI form fields
    request: Request,
    alert_id: Id,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    state: Annotated[str, Form(max_length=30)] = "",
    reason: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Move the alert (the service checks role, organisation and transition; errors become error pages)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    clean = "".join(ch for ch in note if ch in "\t\n\r" or (ord(ch) >= 32 and ord(ch) != 127))
    with app_state(request).database.write_session() as session:
        service.transition(session, who.principal, alert_id, to=state, reason=reason or None, note=clean.strip())
        session.commit()
    return redirect(f"{PREFIX}/alerts/{alert_id}")


__all__ = ["FieldAlert", "router"]
