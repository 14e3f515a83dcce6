"""Organisations, users, API tokens, regulator grants, and signing in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.db.direct import DIRECT_DIALECTS, DirectConnection, DirectSelect
from hengqi.server.db.models import ApiToken, Base, Organisation, RegulatorGrant, User
from hengqi.server.db.types import utcnow
from hengqi.server.errors import AuthenticationError, ConflictError, NotFoundError
from hengqi.server.permissions import Permission, Principal, Role
from hengqi.server.schemas.accounts import TokenCreate, UserCreate, UserUpdate
from hengqi.server.schemas.registry import OrganisationCreate, OrganisationUpdate
from hengqi.server.security import MIN_PASSWORD_LENGTH, hash_password, new_api_token, token_digest
from hengqi.server.services.base import (
    ListQuery,
    Page,
    add_audited,
    ensure_organisation,
    page,
    scoped_select,
    update_audited,
)
from hengqi.server.services.instrument_policy import parse_hosts
from hengqi.server.services.sessions import end_user_sessions

#: The principal of the command line (``hengqi users create-admin``, demo seeding).
SYSTEM = Principal(0, "system", Role.ADMIN, organisation_id=0)


#: The address fields of an organisation (the laboratory on its certificates).
ADDRESS_FIELDS = ("name_zh", "street", "street_no", "post_code", "city", "state", "country")


# -- organisations ----------------------------------------------------------------------------------------------
def create_organisation(session: Session, principal: Principal, data: OrganisationCreate) -> Organisation:
    principal.require(Permission.MANAGE_ORGANISATIONS)
    hosts = ",".join(parse_hosts(data.instrument_hosts))
    address = data.model_dump(include=set(ADDRESS_FIELDS))
    org = Organisation(name=data.name, instrument_hosts=hosts, **address)
    return add_audited(session, principal, org, what="organisation")


def update_organisation(
    session: Session, principal: Principal, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    """Change an organisation's settings (administrators): its instrument host allow-list, its Chinese name and
    postal address; ``row_version`` (from ``If-Match`` or the body) refuses a change to a newer version (412)."""
    principal.require(Permission.MANAGE_ORGANISATIONS)
    org = get_organisation(session, principal, organisation_id)
    changes: dict[str, object] = {
        key: value.strip() for key, value in data.model_dump(include=set(ADDRESS_FIELDS), exclude_none=True).items()
    }
    if data.instrument_hosts is not None:
        changes["instrument_hosts"] = ",".join(parse_hosts(data.instrument_hosts))
    if data.row_version is not None:
        changes["row_version"] = data.row_version
    return update_audited(session, principal, org, changes, what="organisation")


def list_organisations(session: Session, principal: Principal, query: ListQuery) -> Page[Organisation]:
    statement = select(Organisation).where(Organisation.deleted_at.is_(None))
    visible = principal.visible_organisations()
    if visible is not None:
        statement = statement.where(Organisation.id.in_(sorted(visible)))
    return page(session, statement, Organisation, query, sortable=("id", "name"), filterable=("name",))


def get_organisation(session: Session, principal: Principal, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None or org.deleted_at is not None or not principal.sees(org.id):
        raise NotFoundError("organisation", organisation_id)
    return org


# -- users ------------------------------------------------------------------------------------------------------
def create_user(session: Session, principal: Principal, data: UserCreate) -> User:
    principal.require(Permission.MANAGE_USERS)
    organisation_id = principal.writes_to(data.organisation_id)
    ensure_organisation(session, organisation_id)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise ConflictError(f"user {data.username!r} already exists", code="duplicate")
    user = User(
        organisation_id=organisation_id,
        username=data.username,
        full_name=data.full_name,
        role=str(data.role),
        password_hash=hash_password(data.password),
        active=True,
    )
    return add_audited(session, principal, user, what="user")


def list_users(session: Session, principal: Principal, query: ListQuery) -> Page[User]:
    principal.require(Permission.MANAGE_USERS)
    return page(
        session,
        scoped_select(principal, User),
        User,
        query,
        sortable=("id", "username", "role"),
        filterable=("role", "organisation_id", "active"),
    )


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    principal.require(Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None or not principal.sees(user.organisation_id):
        raise NotFoundError("user", user_id)
    return user


def update_user(session: Session, principal: Principal, user_id: int, data: UserUpdate) -> User:
    user = get_user(session, principal, user_id)
    if user.id == principal.user_id and (
        data.active is False or (data.role is not None and data.role != principal.role)
    ):
        raise ConflictError("administrators cannot deactivate or demote themselves", code="self_lockout")
    changes: dict[str, object] = {"row_version": data.row_version}
    if data.full_name is not None:
        changes["full_name"] = data.full_name
    if data.role is not None:
        changes["role"] = str(data.role)
    if data.active is not None:
        changes["active"] = data.active
    if data.password is not None:
        changes["password_hash"] = hash_password(data.password)
    ends = _session_ending_change(user, data)
    updated = update_audited(session, principal, user, changes, what="user")
    if ends:
        ended = end_user_sessions(session, user.id, ends)
        if ended:
            audit.record(
                session,
                actor=principal.actor,
                action="end_sessions",
                entity="users",
                entity_id=user.id,
                organisation_id=user.organisation_id,
                new={"reason": ends, "sessions": ended},
            )
    if data.password is not None:
        audit.record(
            session,
            actor=principal.actor,
            action="password",
            entity="users",
            entity_id=user.id,
            organisation_id=user.organisation_id,
        )
    return updated


def _session_ending_change(user: User, data: UserUpdate) -> str:
    """Why ``data`` ends the user's browser sessions ("" when it does not): a new password, role or deactivation."""
    if data.password is not None:
        return "password changed"
    if data.role is not None and str(data.role) != user.role:
        return "role changed"
    if data.active is False and user.active:
        return "deactivated"
    return ""


def grant_regulator(session: Session, principal: Principal, user_id: int, organisation_id: int) -> RegulatorGrant:
    """Let regulator ``user_id`` read ``organisation_id``'s records."""
    user = get_user(session, principal, user_id)
    if user.role != Role.REGULATOR:
        raise ConflictError(f"user {user.username!r} is not a regulator", code="not_a_regulator")
    ensure_organisation(session, organisation_id)
    grant = session.get(RegulatorGrant, (user_id, organisation_id))
    if grant is not None:
        return grant
    grant = RegulatorGrant(user_id=user_id, organisation_id=organisation_id)
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="grant",
        entity="regulator_grants",
        entity_id=f"{user_id}:{organisation_id}",
        organisation_id=organisation_id,
        new={"user_id": user_id, "organisation_id": organisation_id},
    )
    return grant


# -- signing in -------------------------------------------------------------------------------------------------
def principal_of(session: Session, user: User) -> Principal:
    granted: frozenset[int] = frozenset()
    if user.role == Role.REGULATOR:
        granted = frozenset(
            session.scalars(select(RegulatorGrant.organisation_id).where(RegulatorGrant.user_id == user.id))
        )
    return Principal(user.id, user.username, Role(user.role), user.organisation_id, granted)


def user_for_session(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AuthenticationError("session is no longer valid")
    return user


#: The token's state and its owner, by the unique index on ``token_sha256`` (built once: constructing a statement
#: cost more than running it).  Labelled, so that a record's columns can sit beside them in one row
#: (:func:`principal_and_row`).
_TOKEN_COLUMNS = (
    ApiToken.revoked_at.label("hq_token_revoked_at"),
    ApiToken.expires_at.label("hq_token_expires_at"),
    User.id.label("hq_user_id"),
    User.username.label("hq_user_username"),
    User.role.label("hq_user_role"),
    User.organisation_id.label("hq_user_organisation_id"),
    User.active.label("hq_user_active"),
)
_TOKEN_PRINCIPAL = (
    select(*_TOKEN_COLUMNS).join(User, User.id == ApiToken.user_id).where(ApiToken.token_sha256 == bindparam("digest"))
)
_GRANTS = select(RegulatorGrant.organisation_id).where(RegulatorGrant.user_id == bindparam("user_id"))
_WITH_ROW: dict[type[Base], Select[Any]] = {}


_DIRECT_GRANTS = DirectSelect(_GRANTS)
_DIRECT_TOKEN = DirectSelect(_TOKEN_PRINCIPAL)
_DIRECT_WITH_ROW: dict[type[Base], DirectSelect] = {}


def granted_organisations(session: Session | Connection | DirectConnection, user_id: int) -> frozenset[int]:
    """The organisations an admin granted regulator ``user_id`` to read (Core query on the session's connection)."""
    if isinstance(session, DirectConnection):
        return frozenset(row[0] for row in _DIRECT_GRANTS.rows(session, {"user_id": user_id}))
    connection = session.connection() if isinstance(session, Session) else session
    return frozenset(connection.execute(_GRANTS, {"user_id": user_id}).scalars())


def principal_of_fields(
    connection: Session | Connection | DirectConnection, user_id: int, username: str, role: str, organisation_id: int
) -> Principal:
    """The principal of an active user given by its columns (a regulator's grants read with one more query)."""
    kind = Role(role)
    granted = granted_organisations(connection, user_id) if kind == Role.REGULATOR else frozenset()
    return Principal(user_id, username, kind, organisation_id, granted)


def _token_row_principal(connection: Session | Connection | DirectConnection, row: Any) -> Principal:
    if row is None or row.hq_token_revoked_at is not None:
        raise AuthenticationError("invalid or expired API token")
    if row.hq_token_expires_at is not None and row.hq_token_expires_at <= utcnow():
        raise AuthenticationError("invalid or expired API token")
    if not row.hq_user_active:
        raise AuthenticationError("session is no longer valid")
    return principal_of_fields(
        connection, row.hq_user_id, row.hq_user_username, row.hq_user_role, row.hq_user_organisation_id
    )


def principal_for_token(session: Session | Connection, token: str) -> Principal:
    """The principal of a valid (not revoked, not expired) API token, owned by an active user.

    The same answers as ``principal_of(session, user_for_token(session, token))`` in one query (the token row
    joined to its user by the unique index on ``token_sha256``; regulators' grants in a second), without loading
    ORM objects: this runs on every request made with a token, and is never cached (a revoked token, a
    deactivated user or a changed role is seen by the next request, in every worker process).
    """
    connection = session.connection() if isinstance(session, Session) else session
    params = {"digest": token_digest(token)}
    if connection.dialect.name in DIRECT_DIALECTS:  # on the driver's connection (hengqi.server.db.direct)
        direct = DirectConnection.of(connection)
        return _token_row_principal(direct, _DIRECT_TOKEN.one_or_none(direct, params))
    return _token_row_principal(connection, connection.execute(_TOKEN_PRINCIPAL, params).one_or_none())


def _token_with_row(model: type[Base]) -> Select[Any]:
    statement = _WITH_ROW.get(model)
    if statement is None:
        table = model.__table__
        statement = _WITH_ROW[model] = (
            select(*_TOKEN_COLUMNS, *table.columns)
            .select_from(ApiToken)
            .join(User, User.id == ApiToken.user_id)
            .outerjoin(table, table.c.id == bindparam("key"))
            .where(ApiToken.token_sha256 == bindparam("digest"))
        )
    return statement


def principal_and_row(
    connection: Connection | DirectConnection, token: str, model: type[Base], key: int
) -> tuple[Principal, Any]:
    """:func:`principal_for_token` and the row ``key`` of ``model`` in one query (one round trip to the
    database): the token's row joined to its user and, by an outer join on the primary key, to the record.

    The record's columns carry their attribute names (the token's and user's are labelled ``hq_*``); when no
    record has that key, they are all ``None``.  Nothing is checked about the record here: the caller applies
    the principal's scope (:func:`hengqi.server.services.base.visible_or_404`).  A bad token is refused
    (:class:`AuthenticationError`) before anything about the record is looked at.  Given a
    :class:`~hengqi.server.db.direct.DirectConnection`, run on the driver's connection (SQLite:
    :attr:`hengqi.server.db.engine.Database.direct_reads`).
    """
    params = {"digest": token_digest(token), "key": key}
    if isinstance(connection, DirectConnection):
        direct = _DIRECT_WITH_ROW.get(model)
        if direct is None:
            direct = _DIRECT_WITH_ROW[model] = DirectSelect(_token_with_row(model))
        row = direct.one_or_none(connection, params)
    else:
        row = connection.execute(_token_with_row(model), params).one_or_none()
    principal = _token_row_principal(connection, row)  # a missing token row is refused here
    return principal, row


def user_for_token(session: Session, token: str) -> User:
    """The owner of a valid (not revoked, not expired) API token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise AuthenticationError("invalid or expired API token")
    return user_for_session(session, row.user_id)


# -- API tokens -------------------------------------------------------------------------------------------------
def create_token(session: Session, principal: Principal, data: TokenCreate) -> tuple[ApiToken, str]:
    """A new API token for the principal; returns the row and the token text (shown once)."""
    if data.expires_at is not None and _aware(data.expires_at) <= utcnow():
        raise InputError("expires_at", "must be in the future")
    token = new_api_token()
    row = ApiToken(
        user_id=principal.user_id,
        name=data.name,
        token_sha256=token_digest(token),
        prefix=token[:10],
        expires_at=data.expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="create",
        entity="api_tokens",
        entity_id=row.id,
        organisation_id=principal.organisation_id,
        new={"name": row.name, "prefix": row.prefix, "user_id": row.user_id},
    )
    return row, token


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.id)))


def revoke_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFoundError("api-token", token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=principal.actor,
            action="revoke",
            entity="api_tokens",
            entity_id=row.id,
            organisation_id=principal.organisation_id,
            new={"revoked_at": row.revoked_at.isoformat()},
        )
    return row


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
