"""The statistics pages, for quality managers and regulators: verification pass rate and overdue rate by group
over the registry (the same numbers as ``GET /api/v1/statistics/*``), and the province statistics over the
Parquet partitions (the same numbers as ``GET /api/v1/statistics/province``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from hengqi.errors import InputError
from hengqi.locale import N_, Message, translate_message
from hengqi.server.analytics.definitions import STANDARD_REPORTS, Spec, rate_row
from hengqi.server.analytics.export import table_to_csv, table_to_xlsx, to_csv, to_xlsx
from hengqi.server.analytics.report_pdf import to_pdf
from hengqi.server.errors import NotFoundError
from hengqi.server.headers import content_disposition
from hengqi.server.rendering import off_process
from hengqi.server.services import inspection, province, statistics
from hengqi.server.web.common import Viewer, app_state, language, render, viewer
from hengqi.server.web.i18n import translate

router = APIRouter()

#: The keys offered on the page -> the key of their label (:mod:`hengqi.server.web.terms`).
KEY_LABELS: dict[str, str] = {
    "region": "stat.region",
    "organisation": "stat.organisation",
    "site": "stat.site",
    "type": "stat.type",
    "class": "stat.class",
    "maker": "stat.maker",
    "model": "stat.model",
    "age": "stat.age",
    "month": "stat.month",
}


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    group_by: Annotated[str, Query(max_length=20, pattern=r"^[a-z]*$")] = "maker",
) -> HTMLResponse:
    who = viewer(request)
    keys = [group_by] if group_by else []
    with app_state(request).database.read_session() as session:
        passes = statistics.pass_rates(session, who.principal, keys)
        overdue = (
            statistics.overdue_rates(session, who.principal, keys, as_of=date.today()) if group_by != "month" else None
        )
    return render(
        request,
        "statistics.html",
        who,
        group_by=group_by,
        labels=KEY_LABELS,
        passes=passes,
        overdue=overdue,
        export_query=urlencode({"group_by": group_by}),
        nav="statistics",
    )


def _report_dicts(name: str, table: statistics.RateTable) -> list[dict[str, Any]]:
    """``table`` as the reports of :mod:`hengqi.server.analytics.export`: the overall rate (no grouping), then
    the groups with their funnel flags."""

    reports: list[dict[str, Any]] = []
    if table.overall is not None:
        reports.append({"name": name, "statistic": name, "group_by": [], "groups": [rate_row(table.overall)]})
    if table.group_by:
        points = table.funnel or (None,) * len(table.groups)
        groups = [rate_row(g, p) for g, p in zip(table.groups, points, strict=True)]
        reports.append({"name": name, "statistic": name, "group_by": list(table.group_by), "groups": groups})
    return reports


@router.get("/statistics/export", response_class=Response)
def statistics_export(
    request: Request,
    file_format: Annotated[Literal["csv", "xlsx", "pdf"], Query(alias="format")] = "csv",
    group_by: Annotated[str, Query(max_length=20, pattern=r"^[a-z]*$")] = "maker",
) -> Response:
    """The page's tables as a download (CSV, XLSX, or the PDF report of the province statistics): the pass rate
    and (except by month) the overdue rate, overall and by ``group_by``, within the organisations the viewer may
    read; the same numbers as the page."""
    who = viewer(request)
    keys = [group_by] if group_by else []
    today = date.today()
    with app_state(request).database.read_session() as session:
        reports = _report_dicts("pass_rate", statistics.pass_rates(session, who.principal, keys))
        if group_by != "month":
            reports += _report_dicts(
                "overdue_rate", statistics.overdue_rates(session, who.principal, keys, as_of=today)
            )
    stem = f"statistics-{group_by or 'all'}-{today.isoformat()}"
    if file_format == "xlsx":
        body, media = off_process(to_xlsx, reports), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif file_format == "pdf":
        body, media = off_process(to_pdf, reports, as_of=today), "application/pdf"
    else:
        body, media = to_csv(reports), "text/csv; charset=utf-8"
    headers = {"Content-Disposition": content_disposition(f"{stem}.{file_format}")}
    return Response(body, media_type=media, headers=headers)


def _sample(request: Request, month: str | None) -> tuple[Viewer, inspection.InspectionSample]:
    who = viewer(request)
    day = inspection.parse_month(month) if month is not None else date.today().replace(day=1)
    with app_state(request).database.read_session() as session:
        return who, inspection.inspection_sample(session, who.principal, day)


@router.get("/statistics/inspection", response_class=HTMLResponse)
def inspection_page(request: Request, month: Annotated[str | None, Query()] = None) -> HTMLResponse:
    """The month's proposed inspection sample: per population (model × age band × region) of the instruments the
    viewer may read, the sample size and the instruments drawn, highest inspection priority first."""
    who, sample = _sample(request, month)
    return render(
        request,
        "inspection_sample.html",
        who,
        sample=sample,
        month=sample.month.strftime("%Y-%m"),
        export_query=urlencode({"month": sample.month.strftime("%Y-%m")}),
        nav="statistics",
    )


@router.get("/statistics/inspection/export", response_class=Response)
def inspection_export(
    request: Request,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    month: Annotated[str | None, Query()] = None,
) -> Response:
    """The page's sample as a download: every instrument of every population, drawn or not, with the columns
    ``hengqi stats population-samples`` reads, so the draw can be reproduced with the seed shown."""
    _, sample = _sample(request, month)
    rows = inspection.export_rows(sample)
    stem = f"inspection-sample-{sample.month.strftime('%Y-%m')}"
    if file_format == "xlsx":
        body = off_process(table_to_xlsx, "inspection_sample", inspection.EXPORT_COLUMNS, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = table_to_csv(inspection.EXPORT_COLUMNS, rows), "text/csv; charset=utf-8"
    headers = {"Content-Disposition": content_disposition(f"{stem}.{file_format}")}
    return Response(body, media_type=media, headers=headers)


#: The province reports offered on the page (label -> spec); the first is shown by default.
PROVINCE_REPORTS: dict[str, Spec] = {s.label: s for s in STANDARD_REPORTS if s.group_by}
KEY_LABELS_PROVINCE: dict[str, str] = KEY_LABELS
#: The province statistics by name (the page's words; the PDF export keeps its own bilingual labels).
STATISTIC_LABELS: dict[str, Message] = {
    "pass_rate": N_("Verification pass rate"),
    "overdue_rate": N_("Overdue rate"),
    "alarms_per_1000": N_("Alarms per 1 000 instruments"),
    "alarms_per_check": N_("Alarms per remote check"),
    "reverification_time": N_("Days to re-verify after a failure"),
}
_SHOWN_ROWS = 200


@router.get("/statistics/province", response_class=HTMLResponse)
def province_page(
    request: Request,
    report: Annotated[str, Query(max_length=60, pattern=r"^[a-z_0-9]*:[a-z,]*$")] = "pass_rate:region",
    as_of: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    who = viewer(request)
    lang = language(request)
    spec = PROVINCE_REPORTS.get(report)
    if spec is None:
        raise InputError("report", f"unknown report {report!r}")
    day = as_of or date.today()
    overall = tuple(Spec(s) for s in STATISTIC_LABELS)
    settings = app_state(request).settings
    summary: province.ProvinceAnswer | None
    answer: province.ProvinceAnswer | None
    try:
        summary = province.province_reports(who.principal, settings, overall, as_of=day)
        answer = province.province_reports(who.principal, settings, (spec,), as_of=day)
    except NotFoundError:
        summary = answer = None
    return render(
        request,
        "province_statistics.html",
        who,
        report=report,
        reports=PROVINCE_REPORTS,
        statistic_labels={name: translate_message(lang, label) for name, label in STATISTIC_LABELS.items()},
        key_labels={name: translate(lang, key) for name, key in KEY_LABELS_PROVINCE.items()},
        as_of=day,
        summary=None if summary is None else {r["name"]: r for r in summary.reports},
        table=None if answer is None else answer.reports[0],
        answer=answer,
        shown_rows=_SHOWN_ROWS,
        export_query=urlencode(
            {"statistic": spec.statistic, "group_by": ",".join(spec.group_by), "as_of": day.isoformat()}
        ),
    )
