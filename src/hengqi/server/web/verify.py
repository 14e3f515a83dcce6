"""The public verification page: anyone, without signing in, checks a certificate by its number or by the QR code
printed on it and on the instrument's label, and checks that a PDF or DCC file in hand is the one issued
(:mod:`hengqi.server.services.public_check`; no customer data is shown).

* ``GET /web/verify`` — a form; ``?number=...`` looks the number up in every laboratory of this server.
* ``GET /web/verify/{organisation}/{number}`` — the page the QR code opens: status of that certificate and a form
  to check a file.
* ``POST /web/verify/{organisation}/{number}`` — the file (multipart ``file``) compared by SHA-256.  The check
  changes nothing and needs no session, so it carries no CSRF token.

Enumeration is throttled with the sign-in throttle (:class:`hengqi.server.throttle.LoginThrottle`, a separate
instance): every look-up of a number that is not publicly known counts as a failure of the client address (and of
the number); after ``verify_misses`` of them the address is answered 429 with ``Retry-After`` for
``verify_lockout_s``, doubling with each further miss.  Uploads above ``verify_max_upload_bytes`` are refused
(413) before they are read.
"""

from __future__ import annotations

import threading
from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from hengqi.errors import InputError
from hengqi.server.errors import LoginThrottledError
from hengqi.server.services import public_check
from hengqi.server.throttle import LoginThrottle, shared_counts
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web.common import app_state, render

router = APIRouter()
Org = Annotated[int, Path(ge=1, le=2**31 - 1)]
Number = Annotated[str, Path(min_length=1, max_length=public_check.MAX_NUMBER)]
_LOCK: Final = threading.Lock()
#: failures counted per certificate number (from any address) before that number is locked for everyone
NUMBER_MISSES: Final = 1000


def _throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    with _LOCK:
        found = getattr(state, "hengqi_verify_throttle", None)
        if not isinstance(found, LoginThrottle):
            settings = app_state(request).settings
            found = LoginThrottle(
                account_limit=NUMBER_MISSES,
                address_limit=settings.verify_misses,
                window_s=settings.login_window_s,
                lockout_s=settings.verify_lockout_s,
                lockout_max_s=settings.login_lockout_max_s,
                shared=shared_counts("verify/"),  # several server processes: one count for the host
            )
            state.hengqi_verify_throttle = found
    return found


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _throttled(request: Request, err: LoginThrottledError) -> Response:
    page = render(request, "verify.html", None, 429, results=None, number="", throttled=err.retry_after_s)
    page.headers["Retry-After"] = str(err.retry_after_s)
    return page


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _look_up(request: Request, number: str, organisation: int | None) -> list[public_check.PublicStatus]:
    """Look ``number`` up, counting a miss against the client address; :class:`LoginThrottledError` when locked."""
    attempt = _throttle(request).begin(f"verify:{number.casefold()}", _address(request))
    try:
        with app_state(request).database.read_session() as session:
            found = public_check.look_up(session, number, organisation)
    except BaseException:
        attempt.cancel()
        raise
    attempt.finish(success=bool(found))
    return found


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, number: Annotated[str, Query(max_length=public_check.MAX_NUMBER)] = "") -> Response:
    number = number.strip()
    if not number:
        return _private(render(request, "verify.html", None, results=None, number=""))
    try:
        results = _look_up(request, number, None)
    except LoginThrottledError as err:
        return _private(_throttled(request, err))
    return _private(render(request, "verify.html", None, 200 if results else 404, results=results, number=number))


@router.get("/verify/{organisation}/{number}", response_class=HTMLResponse)
def verify_one(request: Request, organisation: Org, number: Number) -> Response:
    try:
        results = _look_up(request, number, organisation)
    except LoginThrottledError as err:
        return _private(_throttled(request, err))
    status = 200 if results else 404
    return _private(render(request, "verify.html", None, status, results=results, number=number, single=True))


@router.post("/verify/{organisation}/{number}", response_class=HTMLResponse)
async def verify_file(request: Request, organisation: Org, number: Number) -> Response:
    """Compare an uploaded PDF or DCC with the issued one (SHA-256)."""
    limit = app_state(request).settings.verify_max_upload_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + 64 * 1024:
        return _too_large(request, number, limit)
    try:
        results = _look_up(request, number, organisation)
    except LoginThrottledError as err:
        return _private(_throttled(request, err))
    if not results:
        return _private(render(request, "verify.html", None, 404, results=results, number=number, single=True))
    form = await request.form(max_files=1, max_fields=2, max_part_size=limit + 1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("file", "choose the PDF or DCC file to check")
    content = await upload.read(limit + 1)
    if len(content) > limit:
        return _too_large(request, number, limit)
    with app_state(request).database.read_session() as session:
        matches = public_check.file_matches(session, organisation, number, content)
    return _private(
        render(request, "verify.html", None, results=results, number=number, single=True, matches=bool(matches))
    )


def _too_large(request: Request, number: str, limit: int) -> Response:
    error = f"{limit // (1024 * 1024)} MiB"
    return _private(render(request, "verify.html", None, 413, results=None, number=number, too_large=error))
