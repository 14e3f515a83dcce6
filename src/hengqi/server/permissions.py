"""Roles, permissions and the organisation scope of a signed-in principal.

The matrix (also in ``docs/server.md``) is data: :data:`MATRIX` maps each permission to the roles that hold it.
Every service function checks a permission and every object lookup checks the scope; an object of an
organisation the principal may not see answers "not found" (its existence is not disclosed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hengqi.server.audit import Actor
from hengqi.server.errors import PermissionDeniedError


class Role(StrEnum):
    TECHNICIAN = "technician"
    REVIEWER = "reviewer"  # authorised signatory
    QUALITY_MANAGER = "quality-manager"
    REGULATOR = "regulator"  # read-only across the organisations granted to them
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    WRITE_REGISTRY = "registry.write"  # instruments, sites, laboratories, weights, procedures
    DELETE_REGISTRY = "registry.delete"
    CONNECT_INSTRUMENT = "instrument.connect"  # set the URL the server opens to reach an instrument
    RECORD_RUN = "run.record"
    ABANDON_RUN = "run.abandon"  # end another person's stale guided run, with a reason
    DRAFT_CERTIFICATE = "certificate.draft"
    APPROVE_CERTIFICATE = "certificate.approve"  # approve and issue (four-eyes: never one's own work)
    WITHDRAW_CERTIFICATE = "certificate.withdraw"
    READ_AUDIT = "audit.read"
    MANAGE_USERS = "users.manage"
    MANAGE_ORGANISATIONS = "organisations.manage"


_T, _R, _Q, _G, _A = Role.TECHNICIAN, Role.REVIEWER, Role.QUALITY_MANAGER, Role.REGULATOR, Role.ADMIN

#: Which roles hold each permission.
MATRIX: Final[dict[Permission, frozenset[Role]]] = {
    Permission.READ: frozenset({_T, _R, _Q, _G, _A}),
    Permission.WRITE_REGISTRY: frozenset({_T, _R, _Q, _A}),
    Permission.DELETE_REGISTRY: frozenset({_Q, _A}),
    Permission.CONNECT_INSTRUMENT: frozenset({_Q, _A}),
    Permission.RECORD_RUN: frozenset({_T, _R, _Q}),
    Permission.ABANDON_RUN: frozenset({_Q}),
    Permission.DRAFT_CERTIFICATE: frozenset({_T, _R, _Q}),
    Permission.APPROVE_CERTIFICATE: frozenset({_R, _Q}),
    Permission.WITHDRAW_CERTIFICATE: frozenset({_Q}),
    Permission.READ_AUDIT: frozenset({_Q, _G, _A}),
    Permission.MANAGE_USERS: frozenset({_A}),
    Permission.MANAGE_ORGANISATIONS: frozenset({_A}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of a request.

    ``granted`` lists the organisations a regulator may read; an admin sees every organisation.

    >>> p = Principal(1, "tina", Role.TECHNICIAN, organisation_id=3)
    >>> p.can(Permission.WRITE_REGISTRY), p.can(Permission.APPROVE_CERTIFICATE), p.sees(3), p.sees(4)
    (True, False, True, False)
    """

    user_id: int
    username: str
    role: Role
    organisation_id: int
    granted: frozenset[int] = frozenset()

    def can(self, permission: Permission) -> bool:
        return self.role in MATRIX[permission]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDeniedError` unless the role holds ``permission``."""
        if not self.can(permission):
            raise PermissionDeniedError(
                f"role {self.role} may not do {permission}", details={"permission": str(permission)}
            )

    @property
    def all_organisations(self) -> bool:
        return self.role is Role.ADMIN

    def visible_organisations(self) -> frozenset[int] | None:
        """The organisations whose records this principal may read (``None``: all)."""
        if self.all_organisations:
            return None
        if self.role is Role.REGULATOR:
            return self.granted | {self.organisation_id}
        return frozenset({self.organisation_id})

    def sees(self, organisation_id: int) -> bool:
        visible = self.visible_organisations()
        return visible is None or organisation_id in visible

    def writes_to(self, organisation_id: int | None) -> int:
        """The organisation a new record goes to: one's own; an admin may name another."""
        if organisation_id is None or organisation_id == self.organisation_id:
            return self.organisation_id
        if self.all_organisations:
            return organisation_id
        raise PermissionDeniedError("records may only be created in one's own organisation")

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username)
