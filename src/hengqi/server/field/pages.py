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
from hengqi.server.web.common import HERE as WEB_HERE
from hengqi.server.web.common import PREFIX, Viewer, app_state, language, viewer
from hengqi.server.web.i18n import translate

router = APIRouter(prefix=PREFIX, include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.loader = ChoiceLoader(
    [FileSystemLoader(str(Path(__file__).parent / "templates")), FileSystemLoader(str(WEB_HERE / "templates"))]
)

#: The texts of the field pages: English, Chinese.
TEXTS: Final[dict[str, tuple[str, str]]] = {
    "field": ("Field", "现场"),
    "overview": ("Field instruments", "在用衡器"),
    "device": ("Device", "设备"),
    "instrument": ("Instrument", "衡器"),
    "site": ("Site", "场所"),
    "region": ("Region", "区域"),
    "status": ("Status", "状态"),
    "online": ("online", "在线"),
    "offline": ("offline", "离线"),
    "never": ("never seen", "从未上线"),
    "last_seen": ("Last seen", "最近通信"),
    "counters": ("Event counters (CAL / CFG)", "事件计数器（校准 / 配置）"),
    "case": ("Case", "机壳"),
    "open": ("open", "已打开"),
    "closed": ("closed", "已关闭"),
    "lock": ("Lock", "锁定"),
    "locked": ("locked", "已锁定"),
    "unlocked": ("unlocked", "未锁定"),
    "software": ("Software", "软件"),
    "events": ("Events stored", "已存事件"),
    "refused": ("Refused messages", "拒收消息"),
    "reason": ("Reason", "原因"),
    "count": ("Count", "次数"),
    "event_log": ("Event log", "事件日志"),
    "parameter": ("Parameter", "参数"),
    "old": ("Old value", "原值"),
    "new": ("New value", "新值"),
    "time": ("Time", "时间"),
    "offline_periods": ("Offline periods", "离线时段"),
    "from": ("From", "从"),
    "to": ("To", "至"),
    "transactions": ("Recent weighings", "最近称量"),
    "gross": ("Gross", "毛重"),
    "tare": ("Tare", "皮重"),
    "net": ("Net", "净重"),
    "none": ("None.", "无。"),
    "gaps": ("Sequence gaps", "序号缺口"),
    "passages": ("Recent vehicle passages", "最近过车称重"),
    "plate": ("Plate", "车牌"),
    "curve": ("Weight curve", "称重曲线"),
    "alerts": ("Alerts", "告警"),
    "alert": ("Alert", "告警"),
    "filter": ("Filter", "筛选"),
    "any": ("any", "全部"),
    "detector": ("Type", "类型"),
    "severity": ("Severity", "严重程度"),
    "state": ("Status", "处理状态"),
    "window": ("Day", "日期"),
    "findings": ("Findings", "发现"),
    "rule": ("Rule", "规则"),
    "threshold": ("Threshold", "阈值"),
    "observed": ("Observed", "观测值"),
    "evidence": ("Evidence", "证据"),
    "workflow": ("Workflow", "处理流程"),
    "note": ("Note", "备注"),
    "finding": ("Finding", "结论"),
    "close": ("Close with this finding", "按此结论关闭"),
    "to_acknowledged": ("Acknowledge", "确认收到"),
    "to_inspection_ordered": ("Order an inspection", "下达检查"),
    "inspection_run": ("Verification run ordered", "已下达的检定"),
    "precision": ("Measured precision of each detector (closed alerts)", "各检测器的实测精确率（已关闭告警）"),
    "closed_count": ("Closed", "已关闭"),
    "trail": ("Audit trail", "审计记录"),
    "actor": ("By", "操作人"),
    "action": ("Action", "操作"),
    "s_new": ("new", "新告警"),
    "s_acknowledged": ("acknowledged", "已确认"),
    "s_inspection_ordered": ("inspection ordered", "已下达检查"),
    "s_closed": ("closed", "已关闭"),
    "r_confirmed_fraud": ("confirmed fraud", "确认作弊"),
    "r_fault": ("fault", "故障"),
    "r_false_alarm": ("false alarm", "误报"),
    "v_high": ("high", "高"),
    "v_medium": ("medium", "中"),
    "d_seal": ("seal", "封印"),
    "d_weighbridge": ("weighbridge", "汽车衡"),
    "d_retail": ("retail", "计价秤"),
    "d_drift": ("drift", "漂移"),
    "d_availability": ("availability", "在线状态"),
}


def render(request: Request, template: str, who: Viewer, **context: Any) -> HTMLResponse:
    lang = language(request)

    def t(key: str) -> str:
        return translate(lang, key)

    def ft(key: str) -> str:
        en, zh = TEXTS.get(key, (key, key))
        return zh if lang == "zh" else en

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
