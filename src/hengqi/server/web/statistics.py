"""The statistics pages, for quality managers and regulators: verification pass rate and overdue rate by group
over the registry (the same numbers as ``GET /api/v1/statistics/*``), and the province statistics over the
Parquet partitions (the same numbers as ``GET /api/v1/statistics/province``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hengqi.errors import InputError
from hengqi.locale import N_, Message, translate_message
from hengqi.server.analytics.definitions import STANDARD_REPORTS, Spec
from hengqi.server.errors import NotFoundError
from hengqi.server.services import province, statistics
from hengqi.server.web.common import app_state, language, render, viewer
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
    )


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
