"""Due-date reminders in the browser (:mod:`hengqi.server.services.reminders`): what falls due per site, and the
signed-in user's own e-mail digest (address, site, window; or none).

``GET /web/reminders`` shows the counts per site (each linking to ``/web/due?site_id=...``) and the user's
subscription; ``POST /web/reminders`` sets it, ``POST /web/reminders/stop`` ends it (CSRF token, audited).  Every
user manages only their own subscription; the lists are those of the user's role and organisation.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from hengqi.errors import HengqiError, InputError
from hengqi.server.api.errors import status_of
from hengqi.server.db.models import Site
from hengqi.server.services import reminders
from hengqi.server.services.base import scoped_select
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, redirect, render, viewer

router = APIRouter()
Text = Annotated[str, Form(max_length=300)]


def _page(
    request: Request, who: Viewer, *, error: HengqiError | None = None, typed: dict[str, str] | None = None
) -> Response:
    state = app_state(request)
    days = state.settings.reminder_days
    today = date.today()
    with state.database.read_session() as session:
        items = reminders.due_items(session, who.principal, days, today=today)
        counts = reminders.by_site(session, who.principal, items)
        sites = {s.id: s.name for s in session.scalars(scoped_select(who.principal, Site).order_by(Site.name))}
        mine = reminders.subscription_of(session, who.principal)
    values = typed or {
        "email": mine.email if mine else "",
        "site_id": str(mine.site_id) if mine and mine.site_id else "",
        "days": str(mine.days if mine else days),
    }
    return render(
        request,
        "reminders.html",
        who,
        200 if error is None else status_of(error),
        counts=counts,
        days=days,
        sites=sites,
        mine=mine,
        values=values,
        error=None if error is None else error.message,
        smtp=bool(state.settings.smtp_host),
        nav="reminders",
    )


@router.get("/reminders", response_class=HTMLResponse)
def reminders_page(request: Request) -> Response:
    return _page(request, viewer(request))


@router.post("/reminders", response_model=None)
def subscribe(
    request: Request, csrf_token: Text = "", email: Text = "", site_id: Text = "", days: Text = ""
) -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    typed = {"email": email, "site_id": site_id, "days": days}
    try:
        if site_id and not (site_id.isascii() and site_id.isdigit() and len(site_id) < 10):
            raise InputError("site_id", "not a record number")
        if not (days.strip().isascii() and days.strip().isdigit() and len(days.strip()) < 5):
            raise InputError("days", "a whole number of days from 0 to 365")
        with app_state(request).database.write_session() as session:
            reminders.subscribe(session, who.principal, email, int(site_id) if site_id else None, int(days.strip()))
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, error=err, typed=typed)
    return redirect(f"{PREFIX}/reminders?saved=1")


@router.post("/reminders/stop", response_model=None)
def unsubscribe(request: Request, csrf_token: Text = "") -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    with app_state(request).database.write_session() as session:
        reminders.unsubscribe(session, who.principal)
        session.commit()
    return redirect(f"{PREFIX}/reminders?stopped=1")
