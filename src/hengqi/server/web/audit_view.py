"""The audit-trail viewer: filter by object, user, action and date, old and new values side by side, paginated,
exported as CSV with the same filter; and (administrators) a check of the whole chain.

Readable by the roles that read ``/api/v1/audit`` (quality managers, regulators, administrators), over the
organisations they may see; the chain check needs the permission of ``/api/v1/audit/verify``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, select

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.db.models import AuditEntry
from hengqi.server.errors import AuditChainError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.trail import verify_trail
from hengqi.server.web import lab_messages as _lab_messages  # noqa: F401  (registers the screens' texts)
from hengqi.server.web import saved_views
from hengqi.server.web.common import PREFIX, app_state, render, viewer
from hengqi.server.web.tables import export_format, table_response

router = APIRouter()
#: entries on one page of the viewer
PAGE_SIZE: Final = 50
#: the most entries one CSV export holds (newest first)
EXPORT_LIMIT: Final = 100_000
Text = Annotated[str, Query(max_length=64)]


def _statement(
    principal: Principal,
    *,
    entity: str,
    entity_id: str,
    actor: str,
    action: str,
    since: date | None,
    until: date | None,
) -> Select[AuditEntry]:
    statement = select(AuditEntry)
    visible = principal.visible_organisations()
    if visible is not None:
        statement = statement.where(AuditEntry.organisation_id.in_(sorted(visible)))
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    if actor:
        statement = statement.where(func.lower(AuditEntry.actor) == actor.lower())
    if action:
        statement = statement.where(AuditEntry.action == action)
    # ``at`` is ISO 8601 UTC text: text order is time order
    if since is not None:
        statement = statement.where(AuditEntry.at >= since.isoformat())
    if until is not None:
        statement = statement.where(AuditEntry.at < (until + timedelta(days=1)).isoformat())
    return statement


def check_query(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters of a saved view of the audit viewer, checked as the viewer's own query is;
    :class:`InputError` naming the first that does not fit."""
    found = saved_views.only(params, {"entity", "entity_id", "actor", "action", "since", "until"})
    for name, value in found.items():
        if len(value) > (20 if name == "action" else 64):
            raise InputError(name, "too long")
        if name in ("since", "until"):
            try:
                date.fromisoformat(value)
            except ValueError as err:
                raise InputError(name, "not a date (YYYY-MM-DD)") from err
    return found


saved_views.register(saved_views.ListSpec("audit", f"{PREFIX}/audit", check_query, "aud.title"))


def _sides(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    old = json.loads(entry.old_values or "{}") or {}
    new = json.loads(entry.new_values or "{}") or {}
    if not isinstance(old, dict) or not isinstance(new, dict):  # pragma: no cover - the service writes objects
        return [("", old, new)]
    return [(k, old.get(k), new.get(k)) for k in dict.fromkeys([*new, *old])]


@router.get("/audit", response_model=None)
def audit_list(
    request: Request,
    *,
    entity: Text = "",
    entity_id: Text = "",
    actor: Text = "",
    action: Annotated[str, Query(max_length=20)] = "",
    since: date | None = None,
    until: date | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    export: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    who = viewer(request)
    who.principal.require(Permission.READ_AUDIT)
    if (default := saved_views.default_redirect(request, who, "audit")) is not None:
        return default
    statement = _statement(
        who.principal,
        entity=entity.strip(),
        entity_id=entity_id.strip(),
        actor=actor.strip(),
        action=action.strip(),
        since=since,
        until=until,
    )
    with app_state(request).database.read_session() as session:
        fmt = export_format(export)
        if fmt is not None:
            rows = list(session.scalars(statement.order_by(AuditEntry.id.desc()).limit(EXPORT_LIMIT)))
            return _export(rows, fmt)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        entries = list(
            session.scalars(statement.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
        )
        entities = list(session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)))
    query = request.url.query
    base = "&".join(p for p in query.split("&") if p and not p.startswith(("page=", "export=")))
    page_shown = render(
        request,
        "audit.html",
        who,
        entries=[(e, _sides(e)) for e in entries],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        base=base,
        entities=entities,
        f={
            "entity": entity,
            "entity_id": entity_id,
            "actor": actor,
            "action": action,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        },
        export_url=f"{PREFIX}/audit?{base + '&' if base else ''}export=",
        can_verify=who.can(Permission.MANAGE_ORGANISATIONS),
        nav="audit",
        **saved_views.context(request, who, "audit"),
    )
    return saved_views.shown(page_shown)


def _export(rows: list[AuditEntry], fmt: str) -> Response:
    header = ["id", "at", "actor", "action", "entity", "entity_id", "old_values", "new_values", "hash"]
    cells = [[r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.old_values, r.new_values, r.hash] for r in rows]
    return table_response("audit", header, cells, fmt)


@router.get("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request) -> Response:
    """Check the whole trail (chain, MACs, signed checkpoints, bound rows) as ``/api/v1/audit/verify`` does."""
    who = viewer(request)
    who.principal.require(Permission.MANAGE_ORGANISATIONS)
    with app_state(request).database.read_session() as session:
        try:
            report = verify_trail(session, audit.anchor_of(session))
            result = {
                "ok": True,
                "entries": report.entries,
                "head": report.head,
                "checkpoints": report.checkpoints,
                "reason": "",
                "row": None,
            }
        except AuditChainError as err:
            result = {
                "ok": False,
                "entries": max(err.row_id - 1, 0),
                "head": "",
                "checkpoints": 0,
                "reason": err.reason,
                "row": err.row_id,
            }
    return render(request, "audit_verify.html", who, result=result, nav="audit")
