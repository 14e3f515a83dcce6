"""What people do to a guided run besides answering its steps: take it over, end a stale one, correct a reading,
return it to the technician with a comment, resubmit it, and confirm what is signed before signing.

Every form here posts, is checked against the session's CSRF token, and redirects (post/redirect/get); a refusal
carries its message to the next page in a one-time cookie.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from hengqi.errors import InputError
from hengqi.locale import error_text
from hengqi.metrology.quantities import format_mass
from hengqi.procedures.errors import ConcurrentUpdateError, ReplayError
from hengqi.procedures.steps import ReadStable
from hengqi.server.db.guided import GuidedRun
from hengqi.server.db.models import Certificate, Instrument, Run
from hengqi.server.errors import ConflictError, PermissionDeniedError
from hengqi.server.services import guided_certificates, guided_runs
from hengqi.server.services.base import get_scoped
from hengqi.server.web.common import (
    PREFIX,
    app_state,
    check_csrf,
    clear_flash,
    flash_redirect,
    language,
    redirect,
    render,
    take_flash,
    user_names,
    viewer,
)
from hengqi.server.web.entry import display_unit, normalise_entry
from hengqi.server.web.pages import curve_points, mass, mpe_function, point_ranges
from hengqi.server.web.runs import (
    Id,
    Reason,
    RunId,
    Text,
    _load,
    _run_url,
    plausible_indication,
    reading_findings,
    record_intervals,
    review_warnings,
)

router = APIRouter()


@router.post("/runs/{run_id}/take-over", response_model=None)
def take_over(request: Request, run_id: RunId, csrf_token: Text = "") -> Response:
    """Become the run's performer (audited); the former performer can no longer record in it."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    try:
        guided_runs.take_over(app_state(request).database, who.principal, run_id)
    except (PermissionDeniedError, ConflictError) as err:
        return flash_redirect(_run_url(run_id, "denied"), str(err))
    return redirect(_run_url(run_id, "taken-over"))


@router.post("/runs/{run_id}/abandon", response_model=None)
def abandon(request: Request, run_id: RunId, csrf_token: Text = "", reason: Reason = "") -> Response:
    """End a stale run with a reason (quality manager; audited); its instrument is free again."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    with guided_runs.run_lock(run_id):
        try:
            guided_runs.abandon(app_state(request).database, who.principal, run_id, reason)
        except InputError as err:
            return flash_redirect(_run_url(run_id, "invalid"), error_text(language(request), err))
        except (PermissionDeniedError, ConflictError) as err:
            return flash_redirect(_run_url(run_id, "denied"), str(err))
    return redirect(_run_url(run_id, "abandoned"))


@router.post("/runs/{run_id}/correct", response_model=None)
def correct(
    request: Request,
    run_id: RunId,
    *,
    csrf_token: Text = "",
    index: Annotated[int, Form(ge=0, le=100_000)] = 0,
    value: Text = "",
    reason: Reason = "",
) -> Response:
    """Correct a recorded reading with a reason (performer only; the original is kept and both are audited)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    state = app_state(request)
    with guided_runs.run_lock(run_id):
        row, instrument, run = _load(request, who, run_id)
        try:
            guided_runs.require_performer(who.principal, row)
            if row.status != "running" and row.review_status != "returned":
                raise ConflictError("the run is closed; a reviewer returns it for corrections", code="run_closed")
        except (PermissionDeniedError, ConflictError) as err:
            return flash_redirect(_run_url(run_id, "denied"), str(err))
        try:
            text = guided_runs.check_reason(reason)
            typed = normalise_entry(value, display_unit(instrument.d_kg))
            flags: tuple[str, ...] = ()
            if 0 <= index < len(run.history):
                _, step, _record = run.history[index]
                if isinstance(step, ReadStable):
                    checked = plausible_indication(instrument, step, typed)
                    flags = tuple(f.code for f in reading_findings(instrument, run, step, checked))
                    typed = str(checked)
            guided_runs.runs_api(state.database, who.principal.actor).correct(
                run_id, index, typed, reason=text, source="operator", by=who.principal.username, flags=flags
            )
        except (InputError, ReplayError) as err:
            return flash_redirect(_run_url(run_id, "invalid"), error_text(language(request), err))
        except ConcurrentUpdateError:
            return redirect(_run_url(run_id, "stale"))
    return redirect(_run_url(run_id, "corrected"))


@router.post("/runs/{run_id}/return", response_model=None)
def return_run(request: Request, run_id: RunId, csrf_token: Text = "", comment: Reason = "") -> Response:
    """A reviewer returns the run to its technician with a comment (the draft certificate is discarded)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    back = f"{PREFIX}/runs/{run_id}/results"
    try:
        guided_certificates.return_run(app_state(request).database, who.principal, run_id, comment)
    except InputError as err:
        return flash_redirect(f"{back}?notice=invalid", error_text(language(request), err))
    except (PermissionDeniedError, ConflictError) as err:
        return flash_redirect(f"{back}?notice=denied", str(err))
    return redirect(f"{back}?notice=returned")


@router.post("/runs/{run_id}/resubmit", response_model=None)
def resubmit(request: Request, run_id: RunId, csrf_token: Text = "") -> Response:
    """The technician sends a returned run for review again (recorded anew, with a new draft)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    state = app_state(request)
    with guided_runs.run_lock(run_id):
        try:
            guided_certificates.resubmit(state.database, state.files, who.principal, run_id)
        except (PermissionDeniedError, ConflictError) as err:
            return flash_redirect(_run_url(run_id, "denied"), str(err))
    return redirect(f"{PREFIX}/runs/{run_id}/results?notice=resubmitted")


@router.get("/certificates/{certificate_id}/approve", response_class=HTMLResponse)
def confirm_approval(request: Request, certificate_id: Id, notice: str | None = None) -> HTMLResponse:
    """What will be signed: the instrument, the technician, the results and every warning, then the button."""
    who = viewer(request)
    state = app_state(request)
    with state.database.read_session() as session:
        certificate = get_scoped(session, who.principal, Certificate, certificate_id)
        row = session.scalar(select(GuidedRun).where(GuidedRun.certificate_id == certificate_id))
        instrument = get_scoped(session, who.principal, Instrument, certificate.instrument_id)
        run_record = session.get(Run, certificate.run_id) if certificate.run_id is not None else None
        session.expunge_all()
    limit_of = mpe_function(instrument)
    ranges = point_ranges(run_record.results) if run_record is not None else []
    intervals = record_intervals(run_record) if run_record is not None else []
    points = [
        {
            "load": format_mass(load),
            "error": format_mass(error),
            "U": format_mass(Decimal(f"{u:.2g}")),
            "mpe": mass(limit_of(load, in_use)),
            # several ranges: the range the point was read in and its d, as the certificate states them
            "range": "" if in_use is None else str(in_use),
            "d": "" if in_use is None else mass(intervals[i] if i < len(intervals) else None),
        }
        for i, ((load, error, u), in_use) in enumerate(
            zip(curve_points(run_record.results) if run_record is not None else [], ranges, strict=True)
        )
    ]
    warnings = [] if row is None else review_warnings(state.database, row, instrument, run_record)
    names = user_names(request, {run_record.performed_by_id} if run_record is not None else set())
    page = render(
        request,
        "approve.html",
        who,
        certificate=certificate,
        row=row,
        instrument=instrument,
        run_record=run_record,
        points=points,
        warnings=warnings,
        names=names,
        mass=mass,
        notice=notice,
        problem=take_flash(request) if notice else None,
        nav="certificates",
    )
    return clear_flash(page)
