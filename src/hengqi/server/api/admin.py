"""Organisations, users and regulator grants (administrators); the audit trail (quality managers, regulators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select

from hengqi.server import audit
from hengqi.server.api.deps import CurrentPrincipal, Listing, ReadSession, WriteSession
from hengqi.server.api.listing import CSV_RESPONSE, respond
from hengqi.server.api.versioning import IfMatch, tagged, with_version
from hengqi.server.db.models import AuditEntry
from hengqi.server.errors import AuditChainError
from hengqi.server.permissions import Permission, Role
from hengqi.server.schemas.accounts import (
    AuditPublic,
    AuditVerifyPublic,
    GrantCreate,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from hengqi.server.schemas.common import Page
from hengqi.server.schemas.registry import OrganisationCreate, OrganisationPublic, OrganisationUpdate
from hengqi.server.services import accounts
from hengqi.server.services.base import page
from hengqi.server.trail import verify_trail

router = APIRouter(tags=["administration"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/organisations", response_model=OrganisationPublic, status_code=201)
def create_organisation(
    data: OrganisationCreate, principal: CurrentPrincipal, session: WriteSession
) -> OrganisationPublic:
    org = accounts.create_organisation(session, principal, data)
    session.commit()
    return OrganisationPublic.model_validate(org)


@router.get("/organisations", response_model=Page[OrganisationPublic], responses=CSV_RESPONSE)
def list_organisations(principal: CurrentPrincipal, session: ReadSession, params: Listing) -> Response:
    return respond(
        OrganisationPublic, accounts.list_organisations(session, principal, params.query()), params, "organisations"
    )


@router.get("/organisations/{organisation_id}", response_model=OrganisationPublic)
def get_organisation(
    organisation_id: Id, principal: CurrentPrincipal, session: ReadSession, response: Response
) -> OrganisationPublic:
    return tagged(
        response, OrganisationPublic.model_validate(accounts.get_organisation(session, principal, organisation_id))
    )


@router.patch("/organisations/{organisation_id}", response_model=OrganisationPublic)
def update_organisation(
    *,
    organisation_id: Id,
    data: OrganisationUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> OrganisationPublic:
    """Change an organisation's settings (administrators): the hosts its instrument connections may reach, its
    Chinese name and postal address (printed on its certificates); ``If-Match`` as on every other record."""
    org = accounts.update_organisation(session, principal, organisation_id, with_version(data, if_match))
    session.commit()
    return tagged(response, OrganisationPublic.model_validate(org))


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(data: UserCreate, principal: CurrentPrincipal, session: WriteSession) -> UserPublic:
    user = accounts.create_user(session, principal, data)
    session.commit()
    return UserPublic.model_validate(user)


@router.get("/users", response_model=Page[UserPublic], responses=CSV_RESPONSE)
def list_users(
    principal: CurrentPrincipal,
    session: ReadSession,
    params: Listing,
    role: Role | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    query = params.query(role=None if role is None else str(role), organisation_id=organisation_id)
    return respond(UserPublic, accounts.list_users(session, principal, query), params, "users")


@router.get("/users/{user_id}", response_model=UserPublic)
def get_user(user_id: Id, principal: CurrentPrincipal, session: ReadSession, response: Response) -> UserPublic:
    return tagged(response, UserPublic.model_validate(accounts.get_user(session, principal, user_id)))


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(
    *,
    user_id: Id,
    data: UserUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> UserPublic:
    user = accounts.update_user(session, principal, user_id, with_version(data, if_match))
    session.commit()
    return tagged(response, UserPublic.model_validate(user))


@router.post("/users/{user_id}/grants", status_code=204)
def grant(user_id: Id, data: GrantCreate, principal: CurrentPrincipal, session: WriteSession) -> None:
    """Give a regulator read access to an organisation's records."""
    accounts.grant_regulator(session, principal, user_id, data.organisation_id)
    session.commit()


@router.get("/audit", response_model=Page[AuditPublic], responses=CSV_RESPONSE, tags=["audit"])
def list_audit(
    *,
    principal: CurrentPrincipal,
    session: ReadSession,
    params: Listing,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The audit trail of the organisations the caller may read (quality managers, regulators, administrators)."""
    principal.require(Permission.READ_AUDIT)
    statement = select(AuditEntry)
    visible = principal.visible_organisations()
    if visible is not None:
        statement = statement.where(AuditEntry.organisation_id.in_(sorted(visible)))
    result = page(
        session,
        statement,
        AuditEntry,
        params.query(entity=entity, entity_id=entity_id, action=action),
        sortable=("id", "at", "entity", "action"),
        filterable=("entity", "entity_id", "action"),
    )
    return respond(AuditPublic, result, params, "audit")


@router.get("/audit/verify", response_model=AuditVerifyPublic, tags=["audit"])
def verify_audit(principal: CurrentPrincipal, session: ReadSession) -> AuditVerifyPublic:
    """Check the whole audit trail: chain, MACs, signed checkpoints, bound record rows (administrators)."""
    principal.require(Permission.MANAGE_ORGANISATIONS)
    try:
        report = verify_trail(session, audit.anchor_of(session))
    except AuditChainError as err:
        return AuditVerifyPublic(
            ok=False, entries=max(err.row_id - 1, 0), first_bad_row=err.row_id or None, reason=err.reason
        )
    return AuditVerifyPublic(ok=True, entries=report.entries, head=report.head)
