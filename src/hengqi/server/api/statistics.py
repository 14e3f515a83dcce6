"""Fleet statistics: verification pass rates and overdue rates with confidence intervals and funnel flags,
for quality managers and regulators, within the organisations they may read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from hengqi.server.analytics.export import to_csv, to_xlsx
from hengqi.server.analytics.report_pdf import to_pdf
from hengqi.server.api.deps import CurrentPrincipal, ReadSession
from hengqi.server.headers import content_disposition
from hengqi.server.permissions import Principal
from hengqi.server.rendering import off_process
from hengqi.server.services import province, statistics
from hengqi.supervision.statistics import FunnelPoint, GroupRate

router = APIRouter(tags=["statistics"])

GroupBy = Annotated[
    str,
    Query(
        max_length=100,
        pattern=r"^([a-z]+(,[a-z]+){0,3})?$",
        description=f"comma-separated keys, at most 4, from: {', '.join(statistics.GROUP_KEYS)}",
    ),
]
Method = Annotated[Literal["wilson", "clopper-pearson"], Query(description="confidence interval")]
Confidence = Annotated[float, Query(gt=0.5, lt=1.0, description="two-sided confidence level")]


class RateRow(BaseModel):
    key: dict[str, str | int | None]
    count: int
    total: int
    rate: float
    lower: float
    upper: float
    funnel_flag: Literal["high", "low"] | None = None
    funnel_level: float | None = None


class RateReport(BaseModel):
    statistic: str
    group_by: list[str]
    method: str
    confidence: float
    overall: RateRow | None
    groups: list[RateRow]


def _row(g: GroupRate, point: FunnelPoint | None = None) -> RateRow:
    i = g.interval
    key = {name: (v if v is None or isinstance(v, int) else str(v)) for name, v in g.key}
    return RateRow(
        key=key,
        count=i.successes,
        total=i.trials,
        rate=i.estimate,
        lower=i.lower,
        upper=i.upper,
        funnel_flag=None if point is None else point.flag,
        funnel_level=None if point is None else point.outside_level,
    )


def _report(name: str, table: statistics.RateTable, method: str, confidence: float) -> RateReport:
    points = table.funnel or (None,) * len(table.groups)
    return RateReport(
        statistic=name,
        group_by=list(table.group_by),
        method=method,
        confidence=confidence,
        overall=None if table.overall is None else _row(table.overall),
        groups=[_row(g, p) for g, p in zip(table.groups, points, strict=True)],
    )


def _split(group_by: str | None) -> list[str]:
    return [] if not group_by else group_by.split(",")


@router.get("/statistics/pass-rates", response_model=RateReport)
def pass_rates(
    principal: CurrentPrincipal,
    session: ReadSession,
    group_by: GroupBy | None = None,
    method: Method = "wilson",
    confidence: Confidence = 0.95,
) -> RateReport:
    """Verification pass rate (count = passed, total = verifications), overall and by group, with intervals
    and, when grouped, the funnel-plot flag at 95 % / 99.8 % around the overall rate."""
    table = statistics.pass_rates(session, principal, _split(group_by), method=method, confidence=confidence)
    return _report("verification pass rate", table, method, confidence)


@router.get("/statistics/overdue-rates", response_model=RateReport)
def overdue_rates(  # noqa: PLR0917 - FastAPI query parameters
    principal: CurrentPrincipal,
    session: ReadSession,
    group_by: GroupBy | None = None,
    method: Method = "wilson",
    confidence: Confidence = 0.95,
    as_of: Annotated[date | None, Query(description="default today")] = None,
) -> RateReport:
    """Share of in-service instruments whose verification is overdue (count = overdue, total = instruments)."""
    table = statistics.overdue_rates(
        session, principal, _split(group_by), as_of=as_of or date.today(), method=method, confidence=confidence
    )
    return _report("verification overdue rate", table, method, confidence)


class AlarmRow(BaseModel):
    key: dict[str, str | int | None]
    events: int
    exposure: float
    rate: float
    lower: float
    upper: float


class AlarmReport(BaseModel):
    statistic: str
    per: float
    group_by: list[str]
    confidence: float
    groups: list[AlarmRow]


@router.get("/statistics/alarm-rates", response_model=AlarmReport)
def alarm_rates(
    principal: CurrentPrincipal,
    session: ReadSession,
    group_by: GroupBy | None = None,
    confidence: Confidence = 0.95,
    since: Annotated[date | None, Query(description="count alerts whose episode starts on or after")] = None,
) -> AlarmReport:
    """Field alerts per 1 000 in-service instruments (events = alerts, exposure = instruments), overall when
    ungrouped, with exact Poisson (Garwood) intervals."""
    keys = _split(group_by)
    rows = statistics.alarm_rates(session, principal, keys, since=since, confidence=confidence)
    return AlarmReport(
        statistic="alarms per 1 000 instruments",
        per=1000.0,
        group_by=keys,
        confidence=confidence,
        groups=[
            AlarmRow(
                key={name: (v if v is None or isinstance(v, int) else str(v)) for name, v in key},
                events=r.events,
                exposure=r.exposure,
                rate=r.rate,
                lower=r.lower,
                upper=r.upper,
            )
            for key, r in rows
        ],
    )


class ReverificationRow(BaseModel):
    key: dict[str, str | int | None]
    mean_days: float | None
    resolved: int
    open: int


class ReverificationReport(BaseModel):
    statistic: str
    group_by: list[str]
    groups: list[ReverificationRow]


@router.get("/statistics/reverification-times", response_model=ReverificationReport)
def reverification_times(
    principal: CurrentPrincipal, session: ReadSession, group_by: GroupBy | None = None
) -> ReverificationReport:
    """Mean days from a failed verification to the next passed one of the same instrument; ``open`` counts the
    failures not yet followed by a pass."""
    keys = _split(group_by)
    rows = statistics.reverification_times(session, principal, keys)
    return ReverificationReport(
        statistic="time to re-verify after a failure",
        group_by=keys,
        groups=[
            ReverificationRow(
                key={name: (v if v is None or isinstance(v, int) else str(v)) for name, v in r.key},
                mean_days=r.mean_days,
                resolved=r.resolved,
                open=r.open,
            )
            for r in rows
        ],
    )


ProvinceGroupBy = Annotated[
    str,
    Query(
        max_length=100,
        pattern=r"^([a-z]+(,[a-z]+){0,3})?$",
        description="comma-separated keys, at most 4: region, organisation, site, type, class, maker, model, age, "
        "month",
    ),
]
Statistic = Annotated[
    Literal["pass_rate", "overdue_rate", "alarms_per_1000", "alarms_per_check", "reverification_time"] | None,
    Query(description="one statistic (default: every standard report)"),
]


class ProvinceReport(BaseModel):
    as_of: date
    compute: str
    computed_in_s: float
    cached: bool
    reports: list[dict[str, Any]]


def _province(
    principal: Principal,
    request: Request,
    *,
    statistic: str | None,
    group_by: str | None,
    as_of: date | None,
    method: str,
) -> province.ProvinceAnswer:
    settings = request.app.state.hengqi.settings
    specs = province.specs_from(statistic, _split(group_by))
    return province.province_reports(principal, settings, specs, as_of=as_of or date.today(), method=method)


@router.get("/statistics/province", response_model=ProvinceReport)
def province_statistics(  # noqa: PLR0917 - FastAPI query parameters
    principal: CurrentPrincipal,
    request: Request,
    statistic: Statistic = None,
    group_by: ProvinceGroupBy | None = None,
    as_of: Annotated[date | None, Query(description="default today")] = None,
    method: Method = "wilson",
) -> ProvinceReport:
    """Province statistics over the Parquet partitions (embedded DuckDB or Dask, as the server was started),
    within the organisations the caller may read; results are kept until the files change."""
    answer = _province(principal, request, statistic=statistic, group_by=group_by, as_of=as_of, method=method)
    return ProvinceReport(
        as_of=answer.as_of,
        compute=answer.compute,
        computed_in_s=answer.computed_in_s,
        cached=answer.cached,
        reports=list(answer.reports),
    )


@router.get("/statistics/province/export", response_class=Response)
def province_export(  # noqa: PLR0917 - FastAPI query parameters
    principal: CurrentPrincipal,
    request: Request,
    file_format: Annotated[Literal["csv", "xlsx", "pdf"], Query(alias="format")] = "csv",
    statistic: Statistic = None,
    group_by: ProvinceGroupBy | None = None,
    as_of: Annotated[date | None, Query(description="default today")] = None,
    method: Method = "wilson",
) -> Response:
    """The same reports as a CSV file, an XLSX workbook (one sheet per statistic) or a PDF report."""
    answer = _province(principal, request, statistic=statistic, group_by=group_by, as_of=as_of, method=method)
    stem = f"province-statistics-{answer.as_of.isoformat()}"
    if file_format == "pdf":
        body = off_process(to_pdf, answer.reports, as_of=answer.as_of)
        return Response(
            body, media_type="application/pdf", headers={"Content-Disposition": content_disposition(f"{stem}.pdf")}
        )
    return export_response(answer.reports, file_format, stem)


def export_response(reports: Sequence[dict[str, Any]], file_format: str, stem: str) -> Response:
    """A download of ``reports`` as ``stem.csv`` or ``stem.xlsx``."""
    if file_format == "xlsx":
        body, media = off_process(to_xlsx, reports), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = to_csv(reports), "text/csv; charset=utf-8"
    headers = {"Content-Disposition": content_disposition(f"{stem}.{file_format}")}
    return Response(body, media_type=media, headers=headers)
