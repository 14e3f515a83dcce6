"""``POST /api/v1/field/batch``: telemetry from devices that cannot speak MQTT.

The device authenticates with its own token (``Authorization: Bearer hqd_...``, issued at onboarding); the body is
``{"events": [event, ...]}`` (at most 1 000 events, 1 MiB), each event in the telemetry format of
``docs/schemas/field-telemetry.schema.json`` with ``instrument`` equal to the device id.  Valid events are stored
(each (device, seq) once) even when others in the batch are refused; every refusal is counted like the MQTT ones.

Answers: 200 with what was stored and what was refused and why (by index); 401 without a valid device token;
413 for a body over the limit; 422 for a body that is not JSON or not ``{"events": [...]}``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hengqi.server.api.errors import error_response
from hengqi.server.field.curves import CurveStore
from hengqi.server.field.devices import device_for_token
from hengqi.server.field.ingest import MAX_EVENTS_PER_MESSAGE, MAX_MESSAGE_BYTES, Ingestor
from hengqi.server.schemas.common import ErrorResponse
from hengqi.server.state import AppState
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.telemetry import TelemetryEvent, parse_event

router = APIRouter(tags=["field"])

MAX_BATCH_BYTES: Final = MAX_MESSAGE_BYTES


class BatchIn(BaseModel):
    """The request body (documentation; the route reads the body itself to refuse and count bad ones)."""

    events: list[dict[str, Any]]


class Refused(BaseModel):
    index: int
    reason: str
    detail: str


class BatchOut(BaseModel):
    stored: int
    duplicates: int
    refused: list[Refused]


def ingestor_of(request: Request) -> Ingestor:
    """The app's ingestor (one per app, made on first use)."""
    ingestor: Ingestor | None = getattr(request.app.state, "field_ingestor", None)
    if ingestor is None:
        state: AppState = request.app.state.hengqi
        ingestor = Ingestor(state.database, curves=CurveStore(state.settings.data_dir / "field"))
        request.app.state.field_ingestor = ingestor
    return ingestor


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {401: "no valid device token", 413: "body over 1 MiB", 422: 'not {"events": [...]} JSON'}
    return {code: {"model": ErrorResponse, "description": text[code]} for code in codes}


@router.post(
    "/field/batch",
    response_model=BatchOut,
    responses=_errors(401, 413, 422),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BatchIn.model_json_schema()}}}
    },
)
async def post_batch(request: Request) -> JSONResponse:
    """Store a batch of telemetry events of the authenticated device."""
    ingestor = ingestor_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    state: AppState = request.app.state.hengqi
    device = None
    if scheme.lower() == "bearer" and token.strip():
        with state.database.read_session() as session:
            device = device_for_token(session, token.strip())
    if device is None:
        ingestor.count_refusal("", "unauthenticated", "HTTP batch without a valid device token")
        return error_response(401, "not_authenticated", "send the device token: 'Authorization: Bearer hqd_...'")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        ingestor.count_refusal(device.device_id, "oversized", f"declared {declared} bytes")
        return error_response(413, "too_large", f"the body may have at most {MAX_BATCH_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH_BYTES:
            ingestor.count_refusal(device.device_id, "oversized", f"more than {MAX_BATCH_BYTES} bytes")
            return error_response(413, "too_large", f"the body may have at most {MAX_BATCH_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:
        ingestor.count_refusal(device.device_id, "malformed", f"not JSON: {err}"[:200])
        return error_response(422, "invalid_input", "the body is not JSON")
    events_in = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events_in, list) or set(data) != {"events"}:
        ingestor.count_refusal(device.device_id, "malformed", "not {'events': [...]}")
        return error_response(422, "invalid_input", 'events: the body must be {"events": [...]}')
    if len(events_in) > MAX_EVENTS_PER_MESSAGE:
        ingestor.count_refusal(device.device_id, "oversized", f"{len(events_in)} events")
        return error_response(413, "too_large", f"events: at most {MAX_EVENTS_PER_MESSAGE} events per batch")
    events: list[tuple[int, TelemetryEvent]] = []
    refusals: list[tuple[int, str, str]] = []
    for index, item in enumerate(events_in):
        try:
            events.append((index, parse_event(item, path=f"events[{index}]")))
        except TelemetryError as err:
            refusals.append((index, err.reason_class, str(err)))
    result = ingestor.handle_batch(device, events, refusals)
    out = BatchOut(
        stored=result.stored,
        duplicates=result.duplicates,
        refused=[Refused(index=i, reason=r, detail=d) for i, r, d in result.details],
    )
    return JSONResponse(out.model_dump())
