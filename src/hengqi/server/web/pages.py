"""The dashboard, the instrument list and page, the certificate list and the certificate downloads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from sqlalchemy import or_
from starlette.concurrency import run_in_threadpool

from hengqi.errors import InputError
from hengqi.instruments.reading import Reading
from hengqi.metrology.classes import InstrumentKind
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import format_mass
from hengqi.server.db.models import Certificate, Instrument, Run, Site, WeightSet
from hengqi.server.errors import TooManyRequestsError
from hengqi.server.headers import content_disposition
from hengqi.server.permissions import Permission
from hengqi.server.services import guided_certificates, guided_runs, registry, runs
from hengqi.server.services.base import get_scoped, scoped_select
from hengqi.server.services.instrument_links import InstrumentLinks, InstrumentSettlingError, InstrumentUnavailableError
from hengqi.server.services.instrument_workers import InstrumentWorkers
from hengqi.server.web import charts
from hengqi.server.web.common import PREFIX, app_state, check_csrf, redirect, render, user_names, viewer

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def links(request: Request) -> InstrumentLinks:
    found: InstrumentLinks = request.app.state.hengqi_links
    return found


def workers(request: Request) -> InstrumentWorkers:
    found: InstrumentWorkers = request.app.state.hengqi_workers
    return found


def mass(value: Decimal | None) -> str:
    return "—" if value is None else format_mass(value)


def mpe_function(instrument: Instrument, *, stage: str = "initial", rules: str = "oiml-r76") -> Any:
    """The MPE at a load for the instrument (OIML R 76-1:2006 3.5.1 Table 6 and 3.5.2; default: initial
    verification), or None where the table does not cover the load; ``limit(load, range_in_use)`` takes the
    range a point was read in (1 = first) on a multiple-range instrument."""
    try:
        spec = registry.instrument_specification(instrument)
    except InputError:
        return lambda load, range_in_use=None: None

    def limit(load: Decimal, range_in_use: int | None = None) -> Decimal | None:
        index = None
        if range_in_use is not None and spec.kind is InstrumentKind.MULTIPLE_RANGE:
            index = range_in_use - 1
        try:
            return mpe(load, spec, stage=stage, rules=rules, range_index=index)
        except InputError:
            return None

    return limit


def envelope_ranges(instrument: Instrument, ranges_in_use: list[int | None]) -> list[tuple[int, Decimal]]:
    """The ranges whose ``± MPE`` envelope the error chart draws, ``[(number, Max of the range)]``: on a
    multiple-range instrument, each range its points were read in (OIML R 76-1:2006 3.5.1 Table 6 with the e of
    the range in use; :func:`~hengqi.server.web.charts.mpe_envelopes`); empty otherwise (one envelope by load)."""
    try:
        spec = registry.instrument_specification(instrument)
    except InputError:
        return []
    if spec.kind is not InstrumentKind.MULTIPLE_RANGE or len(spec.ranges) < 2:
        return []
    named = sorted({r for r in ranges_in_use if r is not None and 1 <= r <= len(spec.ranges)})
    return [(number, spec.ranges[number - 1].max_kg) for number in named]


def point_ranges(results: dict[str, Any]) -> list[int | None]:
    """The range in use of each of :func:`curve_points` (``None`` where the run names none)."""
    return [
        p.get("range") if isinstance(p.get("range"), int) else None
        for p in results.get("points", [])
        if isinstance(p, dict) and "load_kg" in p
    ]


def curve_points(results: dict[str, Any]) -> list[tuple[Decimal, Decimal, float]]:
    return [
        (Decimal(p["load_kg"]), Decimal(p["error_kg"]), float(p["U_kg"]))
        for p in results.get("points", [])
        if isinstance(p, dict) and "load_kg" in p
    ]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    who = viewer(request)
    state = app_state(request)
    today = date.today()
    with state.database.read_session() as session:
        due = registry.overdue(session, who.principal, today + timedelta(days=30))
        running = guided_runs.list_runs(session, who.principal, status="running", limit=20)
        instruments = {
            i.id: i
            for i in session.scalars(
                scoped_select(who.principal, Instrument).where(Instrument.id.in_([r.instrument_id for r in running]))
            )
        }
        recent = list(
            session.scalars(scoped_select(who.principal, Certificate).order_by(Certificate.id.desc()).limit(10))
        )
        cert_instruments = {
            i.id: i
            for i in session.scalars(
                scoped_select(who.principal, Instrument).where(Instrument.id.in_([c.instrument_id for c in recent]))
            )
        }
        to_review = [c for c in recent if c.status == "draft" and c.created_by_id != who.principal.user_id]
        review_runs = {
            g.certificate_id: g.run_id
            for g in guided_runs.list_runs(session, who.principal, limit=200)
            if g.certificate_id is not None
        }
    progress = {}
    for row in running:
        progress[row.run_id] = _progress(row)
    names = user_names(request, {r.started_by_id for r in running})
    return render(
        request,
        "dashboard.html",
        who,
        due=due,
        today=today,
        running=running,
        instruments=instruments,
        recent=recent,
        cert_instruments=cert_instruments,
        to_review=to_review if who.can(Permission.APPROVE_CERTIFICATE) else [],
        review_runs=review_runs,
        progress=progress,
        names=names,
        nav="dashboard",
    )


def _progress(row: Any) -> tuple[int, int]:
    import json

    done = len(json.loads(row.state).get("results", []))
    return done, max(row.total_steps, done)


@router.get("/instruments", response_class=HTMLResponse)
def instrument_list(
    request: Request,
    q: Annotated[str, Query(max_length=100)] = "",
    accuracy_class: Annotated[str, Query(alias="class", max_length=4)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        statement = scoped_select(who.principal, Instrument)
        text = q.strip()
        if text:
            like = f"%{text.lower()}%"
            from sqlalchemy import func

            statement = statement.where(
                or_(
                    func.lower(Instrument.make).like(like),
                    func.lower(Instrument.model).like(like),
                    func.lower(Instrument.serial).like(like),
                )
            )
        if accuracy_class in ("I", "II", "III", "IIII"):
            statement = statement.where(Instrument.accuracy_class == accuracy_class)
        if status in ("in-service", "out-of-service", "withdrawn"):
            statement = statement.where(Instrument.status == status)
        items = list(session.scalars(statement.order_by(Instrument.make, Instrument.model, Instrument.id).limit(200)))
        sites = {s.id: s.name for s in session.scalars(scoped_select(who.principal, Site))}
    return render(
        request,
        "instruments.html",
        who,
        items=items,
        sites=sites,
        q=q,
        accuracy_class=accuracy_class,
        status=status,
        mass=mass,
        today=date.today(),
        nav="instruments",
    )


#: A set whose weights add up to less than this share of Max does not fit: below it OIML R 76-1:2006 3.7.3 (as
#: cited, SECONDARY: see :mod:`hengqi.metrology.r76.substitution`) allows no substitution of standard weights, and
#: a calibration would need many substitution steps.  The run itself still refuses a set that cannot make up the
#: loads it asks for.
WEIGHT_SET_MIN_SHARE = Decimal("0.2")


def weight_set_offer(session: Any, instrument: Instrument, weight_sets: list[WeightSet]) -> list[dict[str, Any]]:
    """The weight sets for ``instrument``, those that fit first: a set fits when none of its weights exceeds Max,
    its smallest weight is at most :data:`WEIGHT_SET_MIN_SHARE` of Max (the first test loads) and together they
    make up at least that share of Max.  Among those that fit, sets that make up Max without substitution come
    first, then the larger totals; ``substitution`` marks a set whose total is below Max.  Each with its nominal
    range.

    Nominal values are compared as exact decimals in Python (SQLite keeps them as text, where MIN/MAX would
    compare strings)."""
    from sqlalchemy import select

    from hengqi.server.db.models import Weight

    nominals: dict[int, list[Decimal]] = {}
    for ws_id, nominal in session.execute(
        select(Weight.weight_set_id, Weight.nominal_kg).where(
            Weight.weight_set_id.in_([w.id for w in weight_sets]), Weight.deleted_at.is_(None)
        )
    ):
        nominals.setdefault(ws_id, []).append(Decimal(str(nominal)))
    offered = []
    share = WEIGHT_SET_MIN_SHARE * instrument.max_kg
    for ws in weight_sets:
        values = nominals.get(ws.id, [])
        total = sum(values, Decimal(0))
        fits = bool(values) and max(values) <= instrument.max_kg and min(values) <= share and total >= share
        span = f"{format_mass(min(values))} – {format_mass(max(values))}" if values else ""
        offered.append(
            {
                "id": ws.id,
                "name": ws.name,
                "weight_class": ws.weight_class,
                "span": span,
                "count": len(values),
                "fits": fits,
                "substitution": fits and total < instrument.max_kg,
                "total": total,
            }
        )
    return sorted(offered, key=lambda o: (not o["fits"], o["substitution"], -o["total"] if o["fits"] else 0))


@router.get("/instruments/{instrument_id}", response_class=HTMLResponse)
def instrument_page(
    request: Request,
    instrument_id: Id,
    error: Annotated[str | None, Query(max_length=2000)] = None,
    notice: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z-]+$")] = None,
    detail: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        instrument = get_scoped(session, who.principal, Instrument, instrument_id)
        history = list(
            session.scalars(
                scoped_select(who.principal, Run)
                .where(Run.instrument_id == instrument.id)
                .order_by(Run.performed_on.desc(), Run.id.desc())
            )
        )
        certs = {
            c.run_id: c
            for c in session.scalars(
                scoped_select(who.principal, Certificate).where(Certificate.instrument_id == instrument.id)
            )
        }
        weight_sets = list(
            session.scalars(
                scoped_select(who.principal, WeightSet)
                .where(WeightSet.organisation_id == instrument.organisation_id)
                .order_by(WeightSet.name)
            )
        )
        offered = weight_set_offer(session, instrument, weight_sets)
        connection = guided_runs.connection_of(session, instrument.id)
        guided = guided_runs.list_runs(session, who.principal, limit=200)
        active = guided_runs.active_run(session, instrument.id)
        busy = None if active is None else (active.run_id, guided_runs.in_use_text(session, active))
    guided = [g for g in guided if g.instrument_id == instrument.id]
    series = []
    broken: dict[int, str] = {}
    for run in sorted(history, key=lambda r: (r.performed_on, r.id)):
        problem = runs.stored_data_problem(run)
        if problem is not None:
            broken[run.id] = problem  # shown as a marked row; the rest of the page is unaffected
            continue
        points = curve_points(run.results) if run.kind == "calibration" else []
        if points:
            series.append((f"{run.performed_on.isoformat()} #{run.id}", points))
    chart = None
    if series:
        chart = Markup(charts.history_svg(series[-6:], max_kg=instrument.max_kg, d_kg=instrument.d_kg))
    names = user_names(request, {r.performed_by_id for r in history} | {g.started_by_id for g in guided})
    return render(
        request,
        "instrument.html",
        who,
        instrument=instrument,
        history=history,
        broken=broken,
        certs=certs,
        weight_sets=offered,
        connection=connection,
        guided=guided,
        busy=busy,
        chart=chart,
        names=names,
        mass=mass,
        error=error,
        notice=notice,
        detail=detail,
        nav="instruments",
    )


@router.get("/instruments/{instrument_id}/reading")
async def instrument_reading(request: Request, instrument_id: Id) -> JSONResponse:
    """The instrument's indication now (not waiting for stability), for the live display; the I/O runs in the
    bounded instrument pool (:mod:`~hengqi.server.services.instrument_workers`), never in a request thread."""
    who = await run_in_threadpool(viewer, request)
    state = app_state(request)

    def url_of() -> str | None:
        with state.database.read_session() as session:
            instrument = get_scoped(session, who.principal, Instrument, instrument_id)
            return guided_runs.usable_url(session, instrument)

    try:
        url = await run_in_threadpool(url_of)
    except InputError as err:
        return JSONResponse({"ok": False, "reason": str(err)})
    if url is None:
        return JSONResponse({"ok": False, "reason": "not connected"})
    try:
        reading = await workers(request).run(who.principal.user_id, links(request).read, url, stable=False)
    except TooManyRequestsError as err:
        return JSONResponse(
            {"ok": False, "reason": err.message}, status_code=429, headers={"Retry-After": str(err.retry_after_s)}
        )
    except InstrumentSettlingError as err:  # connected, swinging after a load change: not "no connection"
        return JSONResponse({"ok": False, "settling": True, "reason": str(err)})
    except (InstrumentUnavailableError, InputError) as err:
        return JSONResponse({"ok": False, "reason": str(err)})
    return JSONResponse(
        {"ok": True, "text": f"{reading.value} {reading.unit}", "stable": reading.stable, "unit": reading.unit}
    )


@router.get("/certificates/{certificate_id}/pdf", response_model=None)
def certificate_pdf(request: Request, certificate_id: Id) -> Response:
    from hengqi.server.services import certificates

    who = viewer(request)
    state = app_state(request)
    with state.database.read_session() as session:
        certificate, content, media_type = certificates.read_file(session, who.principal, state.files, certificate_id)
    name = certificate.file_name or f"{certificate.number}.pdf"
    return Response(content, media_type=media_type, headers={"Content-Disposition": content_disposition(name)})


@router.get("/certificates/{certificate_id}/dcc", response_model=None)
def certificate_dcc(request: Request, certificate_id: Id) -> Response:
    who = viewer(request)
    state = app_state(request)
    with state.database.read_session() as session:
        certificate, content = guided_certificates.dcc_of(session, state.files, who.principal, certificate_id)
    suffix = "" if certificate.status in ("issued", "approved") else "-draft"
    headers = {"Content-Disposition": content_disposition(f"{certificate.number}{suffix}.dcc.xml")}
    return Response(content, media_type="application/xml", headers=headers)


@router.post("/instruments/{instrument_id}/connection", response_model=None)
async def set_connection(
    request: Request,
    instrument_id: Id,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Save (and try: "Save and test") how the instrument is reached; an empty URL removes the connection.

    The URL must pass the server's policy (:mod:`~hengqi.server.services.instrument_policy`); the test runs in the
    bounded instrument pool, so hung tests cannot take the threads that serve everyone else.
    """
    who = await run_in_threadpool(viewer, request)
    check_csrf(request, who, csrf_token)
    state = app_state(request)
    back = f"{PREFIX}/instruments/{instrument_id}"
    text = url.strip()

    def save() -> None:
        with state.database.write_session() as session:
            if text:
                guided_runs.set_connection(session, who.principal, instrument_id, text)
            else:
                guided_runs.remove_connection(session, who.principal, instrument_id)
            session.commit()

    try:
        await run_in_threadpool(save)
    except InputError as err:
        return redirect(f"{back}?error={quote(str(err))}")
    if not text:
        return redirect(back)
    link = links(request)

    def test() -> Reading:
        link.drop(text)
        return link.read(text, stable=False)

    try:
        reading = await workers(request).run(who.principal.user_id, test)
    except TooManyRequestsError as err:
        return redirect(f"{back}?notice=saved-untested&detail={quote(err.message)}")
    except (InstrumentUnavailableError, InputError) as err:
        return redirect(f"{back}?notice=saved-offline&detail={quote(str(err))}")
    return redirect(f"{back}?notice=connected&detail={quote(f'{reading.value} {reading.unit}')}")
