"""The statistics page: verification pass rate and overdue rate by group, for quality managers and regulators
(the same numbers as ``GET /api/v1/statistics/*``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hengqi.server.services import statistics
from hengqi.server.web.common import app_state, render, viewer

router = APIRouter()

#: The keys offered on the page -> the key of their label (:mod:`hengqi.server.web.terms`).
KEY_LABELS: dict[str, str] = {
    "organisation": "stat.organisation",
    "site": "stat.site",
    "type": "stat.type",
    "class": "stat.class",
    "maker": "stat.maker",
    "model": "stat.model",
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
