"""Field alerts: the queue, one alert with its findings, workflow transitions, and running the detectors over the
stored field events (:mod:`hengqi.server.alerts.service`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hengqi.server.alerts import service
from hengqi.server.api.deps import CurrentPrincipal, ReadSession, WriteSession
from hengqi.server.errors import PermissionDeniedError
from hengqi.server.field.curves import CurveStore
from hengqi.server.permissions import Role

router = APIRouter(tags=["alerts"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: Text without control characters other than tab and line breaks (PostgreSQL text refuses NUL).
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_key: str
    organisation_id: int
    device_id: str
    detector: str
    window_start: datetime
    window_end: datetime
    severity: str
    state: str
    closure_reason: str | None
    note: str
    finding_count: int
    inspection_run_id: int | None
    findings: list[dict[str, Any]]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["acknowledged", "inspection_ordered", "closed"]
    reason: Literal["confirmed_fraud", "fault", "false_alarm"] | None = None
    note: str = Field(default="", max_length=2000, pattern=NO_CONTROL)


class DetectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_ids: (
        list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]] | None
    ) = Field(default=None, max_length=1000)


class DetectOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class PrecisionOut(BaseModel):
    detector: str
    confirmed_fraud: int
    fault: int
    false_alarm: int
    closed: int
    precision: float | None


Code = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


@router.get("/field/alerts", response_model=list[AlertPublic])
def list_alerts(  # noqa: PLR0917 - FastAPI query parameters
    principal: CurrentPrincipal,
    session: ReadSession,
    state: Annotated[Literal["new", "acknowledged", "inspection_ordered", "closed"] | None, Query()] = None,
    region: Code | None = None,
    site: Code | None = None,
    detector: Code | None = None,
    severity: Annotated[Literal["high", "medium"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AlertPublic]:
    where = service.AlertFilter(state, region, site, detector, severity)
    rows = service.list_alerts(session, principal, where=where, limit=limit, offset=offset)
    return [AlertPublic.model_validate(r) for r in rows]


@router.get("/field/alerts/precision", response_model=list[PrecisionOut])
def alert_precision(principal: CurrentPrincipal, session: ReadSession) -> list[PrecisionOut]:
    """Per detector, the closed alerts in scope by finding and the precision they measure."""
    return [
        PrecisionOut(
            detector=p.detector,
            confirmed_fraud=p.confirmed_fraud,
            fault=p.fault,
            false_alarm=p.false_alarm,
            closed=p.closed,
            precision=p.precision,
        )
        for p in service.precision(session, principal)
    ]


@router.get("/field/alerts/{alert_id}", response_model=AlertPublic)
def get_alert(alert_id: Id, principal: CurrentPrincipal, session: ReadSession) -> AlertPublic:
    return AlertPublic.model_validate(service.get_alert(session, principal, alert_id))


@router.post("/field/alerts/{alert_id}/transition", response_model=AlertPublic)
def transition(alert_id: Id, data: TransitionIn, principal: CurrentPrincipal, session: WriteSession) -> AlertPublic:
    alert = service.transition(session, principal, alert_id, to=data.state, reason=data.reason, note=data.note)
    session.commit()
    return AlertPublic.model_validate(alert)


@router.post("/field/alerts/detect", response_model=DetectOut)
def detect(data: DetectIn, request: Request, principal: CurrentPrincipal, session: WriteSession) -> DetectOut:
    """Run the detectors over the stored events of the principal's own organisation's devices (quality manager)."""
    if principal.role is not Role.QUALITY_MANAGER:
        raise PermissionDeniedError(f"role {principal.role} may not run the detectors")
    result = service.detect_stored(
        session,
        actor=principal.actor,
        device_ids=data.device_ids,
        organisation_id=principal.organisation_id,
        curves=CurveStore(request.app.state.hengqi.settings.data_dir / "field"),
    )
    session.commit()
    return DetectOut(created=result.created, updated=result.updated, unchanged=result.unchanged)
