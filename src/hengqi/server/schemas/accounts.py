"""Schemas of users, sessions, API tokens, regulator grants and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from hengqi.server.permissions import Role
from hengqi.server.schemas.common import PublicSchema, RecordId, Schema, Text100, VersionedUpdate
from hengqi.server.security import MIN_PASSWORD_LENGTH

Username = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1000)]


class LoginRequest(Schema):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class UserCreate(Schema):
    username: Username
    password: Password
    role: Role
    full_name: Annotated[str, Field(max_length=200)] = ""
    organisation_id: RecordId | None = None


class UserUpdate(VersionedUpdate):
    full_name: Annotated[str, Field(max_length=200)] | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None


class UserPublic(PublicSchema):
    id: int
    organisation_id: RecordId
    username: str
    full_name: str
    role: Role
    active: bool
    created_at: datetime
    row_version: int


class SessionPublic(Schema):
    user: UserPublic
    csrf_token: str


class TokenCreate(Schema):
    name: Text100
    expires_at: datetime | None = None


class TokenPublic(PublicSchema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the token itself: shown once, store it safely")


class GrantCreate(Schema):
    organisation_id: RecordId


class AuditPublic(PublicSchema):
    id: int
    at: str
    actor_id: int | None
    actor: str
    organisation_id: int | None
    action: str
    entity: str
    entity_id: str
    old_values: str
    new_values: str
    prev_hash: str
    hash: str


class AuditVerifyPublic(Schema):
    ok: bool
    entries: int
    head: str | None = None
    first_bad_row: int | None = None
    reason: str | None = None


class HealthPublic(Schema):
    status: str
    database: str
    revision: str | None
    head: str
    details: dict[str, Any] = Field(default_factory=dict)
