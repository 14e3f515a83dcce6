"""The laboratory's own page: its name in Chinese and its postal address, printed on every certificate it issues
(PDF and ``dcc:calibrationLaboratory`` in the DCC).

Everyone signed in sees their organisation's address; administrators change it through the API's service
(:func:`hengqi.server.services.accounts.update_organisation`: same validation, permission and audit as
``PATCH /api/v1/organisations/{id}``).  The form posts the CSRF token and the ``row_version`` it was made from (a
change made meanwhile is refused with 412, as ``If-Match`` is on the API); a saved form answers with a redirect
(post/redirect/get), a refused one is shown again with what was typed and the reason.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hengqi.errors import HengqiError, InputError
from hengqi.server.api.errors import status_of
from hengqi.server.schemas.registry import OrganisationUpdate
from hengqi.server.services import accounts
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import PREFIX, Viewer, app_state, check_csrf, redirect, render, viewer
from hengqi.server.web.registry_forms import FormField, validated

router = APIRouter()

#: The address form, in the order printed on a certificate.
FIELDS: Final = (
    FormField("name_zh", "reg.name_zh"),
    FormField("street", "reg.street"),
    FormField("street_no", "reg.street_no"),
    FormField("post_code", "reg.post_code"),
    FormField("city", "reg.city", required=True),
    FormField("state", "reg.state"),
    FormField("country", "reg.country", required=True),
)
#: the most fields the posted form may carry
MAX_FIELDS: Final = 20


def _page(
    request: Request, who: Viewer, *, values: dict[str, str] | None = None, error: HengqiError | None = None
) -> HTMLResponse:
    with app_state(request).database.read_session() as session:
        org = accounts.get_organisation(session, who.principal, who.principal.organisation_id)
        session.expunge(org)
    if values is None:
        values = {f.name: str(getattr(org, f.name) or "") for f in FIELDS}
    return render(
        request,
        "organisation.html",
        who,
        200 if error is None else status_of(error),
        org=org,
        form_fields=FIELDS,
        form_values=values,
        can_write=who.can("organisations.manage"),
        error=error,
        nav="organisation",
    )


@router.get("/organisation", response_class=HTMLResponse)
def organisation_page(request: Request) -> HTMLResponse:
    """The signed-in user's organisation: its address as certificates print it."""
    return _page(request, viewer(request))


@router.post("/organisation", response_model=None)
async def save_organisation(request: Request) -> Response:
    """Change the address (administrators): validated as the API validates it, with the form's row_version."""
    who = viewer(request)
    form = await request.form(max_fields=MAX_FIELDS, max_files=0)
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, who, data.get("csrf_token"))
    values = {f.name: data.get(f.name, "").strip() for f in FIELDS}
    body: dict[str, Any] = dict(values)
    body["country"] = body["country"].upper()
    try:
        for f in FIELDS:
            if f.required and not values[f.name]:
                raise InputError(f.name, "required: certificates name the laboratory with its city and country")
        version = data.get("row_version", "").strip()
        if version:
            if not version.isascii() or not version.isdigit() or len(version) > 10:
                raise InputError("row_version", "not a version number")
            body["row_version"] = int(version)
        change = validated(OrganisationUpdate, body)
        with app_state(request).database.write_session() as session:
            accounts.update_organisation(session, who.principal, who.principal.organisation_id, change)
            session.commit()
    except HengqiError as err:
        if status_of(err) in (403, 404):
            raise
        return _page(request, who, values=values, error=err)
    return redirect(f"{PREFIX}/organisation?saved=1")
