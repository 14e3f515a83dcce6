"""Withdrawing and reissuing certificates from the browser, through the API's certificate workflow
(:mod:`hengqi.server.services.certificates`).

``/web/certificates/{id}/manage`` shows a certificate with its place in the chain (what it supersedes and what
supersedes it) and, for an issued one, two forms:

* **withdraw** with a reason (``POST /api/v1/certificates/{id}/withdraw``): the certificate becomes ``withdrawn``;
* **reissue** under a new number with a reason: a new draft that names the old one (``supersedes_id``, as
  ``POST /api/v1/certificates`` takes it).  It goes through review like any draft (four-eyes); when it is issued
  the old one becomes ``superseded``.  The reason is recorded in the audit trail beside the draft's creation.

Both need the roles of the API (withdraw: ``certificate.withdraw``; a new draft: ``certificate.draft``); a
certificate of another organisation is "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from hengqi.errors import HengqiError
from hengqi.server import audit
from hengqi.server.api.errors import status_of
from hengqi.server.db.models import Certificate, Instrument
from hengqi.server.permissions import Permission
from hengqi.server.schemas.workflow import CertificateCreate, WithdrawRequest
from hengqi.server.services import certificates
from hengqi.server.services.base import get_scoped
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, redirect, render, viewer
from hengqi.server.web.registry_forms import validated

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
Reason = Annotated[str, Form(max_length=2000)]


def _page(request: Request, who: Viewer, key: int, *, error: HengqiError | None = None) -> Response:
    with app_state(request).database.read_session() as session:
        certificate = get_scoped(session, who.principal, Certificate, key)
        instrument = get_scoped(session, who.principal, Instrument, certificate.instrument_id)
        supersedes = (
            session.get(Certificate, certificate.supersedes_id) if certificate.supersedes_id is not None else None
        )
        later = list(
            session.scalars(
                select(Certificate).where(Certificate.supersedes_id == certificate.id, Certificate.deleted_at.is_(None))
            )
        )
    return render(
        request,
        "certificate_manage.html",
        who,
        200 if error is None else status_of(error),
        certificate=certificate,
        instrument=instrument,
        supersedes=supersedes,
        later=later,
        error=None if error is None else error.message,
        can_withdraw=who.can(Permission.WITHDRAW_CERTIFICATE),
        can_draft=who.can(Permission.DRAFT_CERTIFICATE),
        nav="certificates",
    )


@router.get("/certificates/{key}/manage", response_class=HTMLResponse)
def certificate_page(request: Request, key: Id) -> Response:
    return _page(request, viewer(request), key)


@router.post("/certificates/{key}/withdraw", response_model=None)
def withdraw(request: Request, key: Id, csrf_token: Csrf = "", reason: Reason = "") -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    try:
        with app_state(request).database.write_session() as session:
            body = validated(WithdrawRequest, {"reason": reason.strip()})
            certificates.withdraw(session, who.principal, key, body.reason)
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, key, error=err)
    return redirect(f"{PREFIX}/certificates/{key}/manage?done=withdrawn")


@router.post("/certificates/{key}/reissue", response_model=None)
def reissue(
    request: Request,
    key: Id,
    *,
    csrf_token: Csrf = "",
    number: Annotated[str, Form(max_length=200)] = "",
    reason: Reason = "",
) -> Response:
    """A new draft superseding certificate ``key`` (same instrument, run and kind), under a new number."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    try:
        with app_state(request).database.write_session() as session:
            why = validated(WithdrawRequest, {"reason": reason.strip()}).reason
            old = get_scoped(session, who.principal, Certificate, key)
            data = validated(
                CertificateCreate,
                {
                    "number": number.strip(),
                    "kind": old.kind,
                    "instrument_id": old.instrument_id,
                    "run_id": old.run_id,
                    "supersedes_id": old.id,
                },
            )
            made = certificates.create_certificate(session, who.principal, data)
            audit.record(
                session,
                actor=who.principal.actor,
                action="reissue",
                entity="certificates",
                entity_id=made.id,
                organisation_id=made.organisation_id,
                new={"supersedes": old.number, "supersedes_id": old.id, "reason": why},
            )
            session.commit()
            new_key = made.id
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, key, error=err)
    return redirect(f"{PREFIX}/certificates/{new_key}/manage?done=reissued")
