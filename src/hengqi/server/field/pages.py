"""Field pages: the field overview (sites and instruments by status) and one field instrument's status page
(live status, counters, event log, offline periods, recent transactions, refused messages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup
from sqlalchemy import desc, func, select

from hengqi import __version__
from hengqi.server.db.models import Instrument
from hengqi.server.errors import NotFoundError
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldOffline, FieldRefusal, FieldStatus
from hengqi.server.services.base import scoped_select
from hengqi.server.web import i18n
from hengqi.server.web.common import HERE as WEB_HERE
from hengqi.server.web.common import PREFIX, Viewer, app_state, language, viewer
from hengqi.server.web.i18n import translate

router = APIRouter(prefix=PREFIX, include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
i18n.install(TEMPLATES.env)
TEMPLATES.env.loader = ChoiceLoader(
    [FileSystemLoader(str(Path(__file__).parent / "templates")), FileSystemLoader(str(WEB_HERE / "templates"))]
)

#: Deprecated compatibility path (texts of the field pages, key -> (English, Chinese)): the pages' texts are in the
#: gettext catalogue; an entry added here still shows until ``scripts/i18n_import_tables.py`` moves it there.
TEXTS: Final[dict[str, tuple[str, str]]] = {}


def render(request: Request, template: str, who: Viewer, **context: Any) -> HTMLResponse:
    lang = language(request)

    def t(key: str) -> str:
        return translate(lang, key)

    def ft(key: str) -> str:
        if key in TEXTS:
            en, zh = TEXTS[key]
            return zh if lang == "zh" else en
        return translate(lang, f"field.{key}")

    values = {
        "request": request,
        "t": t,
        "ft": ft,
        "lang": lang,
        "who": who,
        "prefix": PREFIX,
        "version": __version__,
        "here": request.url.path,
        "nav": "field",
        **context,
    }
    return TEMPLATES.TemplateResponse(request, template, values)


@router.get("/field", response_class=HTMLResponse)
def field_overview(request: Request) -> HTMLResponse:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        rows = session.execute(
            scoped_select(who.principal, FieldDevice)
            .add_columns(FieldStatus, Instrument)
            .join(FieldStatus, FieldStatus.device_pk == FieldDevice.id, isouter=True)
            .join(Instrument, Instrument.id == FieldDevice.instrument_id)
            .order_by(FieldDevice.site_kind, FieldDevice.region_code, FieldDevice.device_id)
            .limit(1000)
        ).all()
        keys = [r[0].device_id for r in rows]
        refused = (
            dict(
                session.execute(
                    select(FieldRefusal.device_key, func.sum(FieldRefusal.count))
                    .where(FieldRefusal.device_key.in_(keys))
                    .group_by(FieldRefusal.device_key)
                ).all()
            )
            if keys
            else {}
        )
    items = [(device, status, instrument, int(refused.get(device.device_id, 0))) for device, status, instrument in rows]
    counts = {
        "online": sum(1 for _d, s, _i, _r in items if s is not None and s.online),
        "offline": sum(1 for _d, s, _i, _r in items if s is not None and not s.online and s.last_seen is not None),
        "never": sum(1 for _d, s, _i, _r in items if s is None or s.last_seen is None),
    }
    return render(request, "field_overview.html", who, items=items, counts=counts)


@router.get("/field/{device_id}", response_class=HTMLResponse)
def field_instrument(
    request: Request, device_id: Annotated[str, PathParam(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
) -> HTMLResponse:
    who = viewer(request)
    with app_state(request).database.read_session() as session:
        device = session.scalar(scoped_select(who.principal, FieldDevice).where(FieldDevice.device_id == device_id))
        if device is None:
            raise NotFoundError("field device", device_id)
        instrument = session.get(Instrument, device.instrument_id)
        status = session.get(FieldStatus, device.id)

        def recent(kind: str, limit: int) -> list[FieldEvent]:
            return list(
                session.scalars(
                    select(FieldEvent)
                    .where(FieldEvent.device_pk == device.id, FieldEvent.kind == kind)
                    .order_by(desc(FieldEvent.seq))
                    .limit(limit)
                )
            )

        log = recent("event_log", 50)
        passages = recent("passage", 10)
        transactions = recent("transaction", 20)
        states = recent("state", 20)
        offline = list(
            session.scalars(
                select(FieldOffline)
                .where(FieldOffline.device_pk == device.id)
                .order_by(desc(FieldOffline.started_at))
                .limit(20)
            )
        )
        refusals = list(session.scalars(select(FieldRefusal).where(FieldRefusal.device_key == device.device_id)))
    store = CurveStore(app_state(request).settings.data_dir / "field")
    charts = [(e, curve_svg(_samples(store, device.device_id, e))) for e in passages]
    return render(
        request,
        "field_instrument.html",
        who,
        device=device,
        instrument=instrument,
        status=status,
        log=log,
        transactions=transactions,
        states=states,
        offline=offline,
        refusals=refusals,
        passages=charts,
    )


def _samples(store: CurveStore, device_id: str, event: FieldEvent) -> list[list[float]]:
    """The total curve and the cells of a passage: from its Parquet file, or from the event where it kept them."""
    body = event.body
    if isinstance(body.get("curve_file"), str):
        curve = store.curve(body["curve_file"], device_id, event.seq)
        return [] if curve is None else [curve.weight_kg, *curve.cells_kg]
    total = body.get("curve_kg")
    return [total, *body.get("cells_kg", [])] if isinstance(total, list) else []


def curve_svg(series: list[list[float]], width: int = 360, height: int = 90) -> Markup | None:
    """A small inline SVG of a weight curve (first series, bold) and its cells (thin), or None without samples.

    >>> "polyline" in str(curve_svg([[0.0, 10.0, 0.0]]))
    True
    """
    if not series or not series[0]:
        return None
    top = max(max(s) for s in series if s) or 1.0
    lines = []
    for i, samples in enumerate(series):
        n = max(len(samples) - 1, 1)
        points = " ".join(
            f"{k * width / n:.1f},{height - max(v, 0.0) * (height - 4) / top:.1f}" for k, v in enumerate(samples)
        )
        # presentation attributes, not style="...": the Content-Security-Policy forbids inline styles
        style = 'stroke-width="2"' if i == 0 else 'stroke-width="0.7" opacity="0.6"'
        lines.append(f'<polyline fill="none" stroke="currentColor" {style} points="{points}"/>')
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="weight curve">{"".join(lines)}</svg>'
    )
