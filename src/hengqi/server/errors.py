"""Errors of the platform server, each mapped to one HTTP status by the API's single error handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hengqi.errors import HengqiError, InputError


class UnsafeSettingsError(InputError):
    """A setting that is not safe outside development (e.g. the built-in secret key in production)."""

    code = "unsafe_settings"


class NotFoundError(HengqiError):
    """The object does not exist, or the caller may not know that it exists (another organisation's data)."""

    code = "not_found"

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key} not found", details={"entity": entity, "id": str(key)})


class AuthenticationError(HengqiError):
    """No valid credentials (HTTP 401)."""

    code = "not_authenticated"


class LoginThrottledError(HengqiError):
    """Too many failed sign-ins for this name or from this address, or too many at once (HTTP 429, ``Retry-After``)."""

    code = "too_many_attempts"

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            message or f"too many failed sign-ins; try again in {retry_after_s} s",
            details={"retry_after_s": retry_after_s},
        )


class PermissionDeniedError(HengqiError):
    """Authenticated, but the role may not do this (HTTP 403)."""

    code = "forbidden"


class CsrfError(PermissionDeniedError):
    """A browser request with a session cookie whose CSRF token is missing or does not match (HTTP 403)."""

    code = "csrf_failed"


class TooManyRequestsError(HengqiError):
    """Refused for now: a bounded resource is busy or the caller's rate is used up (HTTP 429, ``Retry-After``)."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class ConflictError(HengqiError):
    """The request conflicts with the current state (duplicate key, wrong workflow state; HTTP 409)."""

    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        if code is not None:
            self.code = code


class PreconditionFailedError(HengqiError):
    """The client's ``If-Match`` / ``row_version`` names a version that is no longer current (HTTP 412): someone
    else changed the record since the client read it."""

    code = "precondition_failed"


class AuditChainError(HengqiError):
    """The audit trail's hash chain is broken at ``row_id`` (tampering or corruption)."""

    code = "audit_chain_broken"

    def __init__(self, row_id: int, reason: str) -> None:
        self.row_id = row_id
        self.reason = reason
        super().__init__(f"audit row {row_id}: {reason}", details={"row_id": row_id})


class AuditAnchorError(InputError):
    """The audit trail's anchor (signing key, checkpoint or witness file) is missing, unreadable or unsafe."""

    code = "audit_anchor"


class BackupError(InputError):
    """A backup archive that is corrupt, incomplete or of an unknown format; or a restore that would destroy data."""

    code = "invalid_backup"
