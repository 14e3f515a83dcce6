"""Helpers shared by the services: scoped lookups, audited create / update / soft delete, pages with filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hengqi.errors import InputError
from hengqi.server import audit
from hengqi.server.db.models import Base, Organisation
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PreconditionFailedError
from hengqi.server.permissions import Principal

M = TypeVar("M", bound=Base)

#: Columns never copied into audit values (bookkeeping, or secrets).
_NOT_AUDITED = frozenset({"created_at", "updated_at", "password_hash", "token_sha256"})


def audited_values(obj: Base) -> dict[str, Any]:
    """The values of ``obj``'s columns that the audit trail records."""
    mapper = inspect(type(obj))
    return {
        column.key: _plain(getattr(obj, column.key)) for column in mapper.column_attrs if column.key not in _NOT_AUDITED
    }


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ between ``old`` and ``new`` (for compact audit entries)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


def entity_name(model: type[Base]) -> str:
    return str(model.__tablename__)


def get_scoped(session: Session, principal: Principal, model: type[M], key: int, *, for_update: bool = False) -> M:
    """The live object ``key`` of ``model`` if ``principal`` may see it; :class:`NotFoundError` otherwise."""
    obj = session.get(model, key, with_for_update=for_update or None)
    org = getattr(obj, "organisation_id", None)
    if obj is None or getattr(obj, "deleted_at", None) is not None or (org is not None and not principal.sees(org)):
        raise NotFoundError(entity_name(model).rstrip("s").replace("_", "-"), key)
    return obj


_BY_KEY: dict[type[Base], Select[Any]] = {}


def _by_key(model: type[Base]) -> Select[Any]:
    statement = _BY_KEY.get(model)
    if statement is None:
        table = model.__table__
        statement = _BY_KEY[model] = select(*table.columns).where(table.c.id == bindparam("key"))
    return statement


def read_scoped(session: Session | Connection, principal: Principal, model: type[M], key: int) -> Row[Any]:
    """The row of the live object ``key`` of ``model`` if ``principal`` may see it (the same answers as
    :func:`get_scoped`); :class:`NotFoundError` otherwise.

    For reads only: a Core query on the primary key, built once per model, whose row carries every column under
    its attribute name (the column types convert values as for ORM objects), so a public schema validates from it
    ``from_attributes``; no ORM object, identity map or per-call statement is made.
    """
    connection = session.connection() if isinstance(session, Session) else session
    row = connection.execute(_by_key(model), {"key": key}).one_or_none()
    return visible_or_404(row, principal, model, key)


def visible_or_404(row: Row[Any] | None, principal: Principal, model: type[Base], key: int) -> Row[Any]:
    """``row`` (the record ``key`` of ``model``, or ``None``, or a row whose ``id`` is ``None``: none found) if it
    is live and ``principal`` may see it; :class:`NotFoundError` otherwise (the same 404 for a record that does
    not exist, was deleted, or belongs to an organisation the principal may not see: existence is not
    disclosed)."""
    org = getattr(row, "organisation_id", None)
    if (
        row is None
        or getattr(row, "id", key) is None
        or getattr(row, "deleted_at", None) is not None
        or (org is not None and not principal.sees(org))
    ):
        raise NotFoundError(entity_name(model).rstrip("s").replace("_", "-"), key)
    return row


def ensure_organisation(session: Session, organisation_id: int) -> None:
    org = session.get(Organisation, organisation_id)
    if org is None or org.deleted_at is not None:
        raise NotFoundError("organisation", organisation_id)


def flush_or_conflict(session: Session, what: str, *, expected_version: int | None = None) -> None:
    """Flush pending changes; a unique or foreign-key violation becomes :class:`ConflictError`.

    An UPDATE whose ``row_version`` no longer matches (another transaction committed a change to the row after
    this one read it) becomes :class:`PreconditionFailedError` when the client named the version it read
    (``expected_version``), else :class:`ConflictError` ``stale_version``: either way nothing of this request is
    written, and the audit trail never records old values that were not the row's.
    """
    try:
        session.flush()
    except IntegrityError as err:
        session.rollback()
        raise ConflictError(f"{what} conflicts with an existing record", code="duplicate") from err
    except StaleDataError as err:
        session.rollback()
        message = f"the {what} was changed by someone else at the same time; read it again and repeat the change"
        if expected_version is not None:
            raise PreconditionFailedError(message, details={"expected_version": expected_version}) from err
        raise ConflictError(message, code="stale_version") from err


def check_version(obj: Base, expected_version: int | None, what: str) -> None:
    """Refuse (HTTP 412) a change made against a version of ``obj`` other than its current one."""
    current = getattr(obj, "row_version", None)
    if expected_version is not None and current is not None and expected_version != current:
        raise PreconditionFailedError(
            f"the {what} has changed since version {expected_version} was read (now version {current}); "
            "read it again and repeat the change",
            details={"expected_version": expected_version, "current_version": current},
        )


def _identity(obj: Base) -> str:
    identity = inspect(obj).identity
    return ":".join(str(part) for part in identity) if identity else ""


def add_audited(session: Session, principal: Principal, obj: M, *, what: str) -> M:
    """Insert ``obj`` and record its creation."""
    session.add(obj)
    flush_or_conflict(session, what)
    audit.record(
        session,
        actor=principal.actor,
        action="create",
        entity=entity_name(type(obj)),
        entity_id=_identity(obj),
        organisation_id=getattr(obj, "organisation_id", None),
        new=audited_values(obj),
    )
    return obj


def update_audited(
    session: Session, principal: Principal, obj: M, changes: Mapping[str, Any], *, what: str, action: str = "update"
) -> M:
    """Apply ``changes`` to ``obj`` and record the old and new values of what changed.

    A ``row_version`` in ``changes`` (from ``If-Match`` or the request body) is the version the client read: the
    change is refused with HTTP 412 unless it is still the current one (:func:`check_version`), and the UPDATE
    itself is checked against the version read here (:func:`flush_or_conflict`).
    """
    values = dict(changes)
    expected = values.pop("row_version", None)
    check_version(obj, expected, what)
    before = audited_values(obj)
    for key, value in values.items():
        setattr(obj, key, value)
    if hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    flush_or_conflict(session, what, expected_version=expected)
    old, new = changed(before, audited_values(obj))
    new.pop("updated_at", None)
    if old or new or action != "update":
        audit.record(
            session,
            actor=principal.actor,
            action=action,
            entity=entity_name(type(obj)),
            entity_id=_identity(obj),
            organisation_id=getattr(obj, "organisation_id", None),
            old=old,
            new=new,
        )
    return obj


def soft_delete(
    session: Session, principal: Principal, obj: M, *, what: str, expected_version: int | None = None
) -> None:
    """Mark ``obj`` deleted (it stays in the database for the record) and record the deletion."""
    changes = {"deleted_at": utcnow(), "row_version": expected_version}
    update_audited(session, principal, obj, changes, what=what, action="delete")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Paging, sorting and exact-match filters of a list request."""

    limit: int = 50
    offset: int = 0
    sort: str = "id"
    filters: Mapping[str, object] | None = None
    unpaged: bool = False


P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Page(Generic[P]):
    items: Sequence[P]
    total: int
    limit: int
    offset: int


def scoped_select(principal: Principal, model: type[M]) -> Select[M]:
    """``SELECT`` of the live rows of ``model`` that ``principal`` may see."""
    statement = select(model)
    if hasattr(model, "deleted_at"):
        statement = statement.where(model.deleted_at.is_(None))  # type: ignore[attr-defined]
    visible = principal.visible_organisations()
    if visible is not None and hasattr(model, "organisation_id"):
        statement = statement.where(model.organisation_id.in_(sorted(visible)))  # type: ignore[attr-defined]
    return statement


def page(
    session: Session,
    statement: Select[M],
    model: type[M],
    query: ListQuery,
    *,
    sortable: Sequence[str],
    filterable: Sequence[str],
    extra: Sequence[ColumnElement[bool]] = (),
) -> Page[M]:
    """Run ``statement`` with the query's filters, sort and page; also count the matching rows."""
    for key, value in (query.filters or {}).items():
        if value is None:
            continue
        if key not in filterable:  # pragma: no cover - routes only pass declared filters
            raise InputError(key, "cannot filter on this field")
        statement = statement.where(getattr(model, key) == value)
    for condition in extra:
        statement = statement.where(condition)
    field = query.sort.removeprefix("-")
    if field not in sortable:
        raise InputError("sort", f"cannot sort on {field!r} (sortable: {', '.join(sortable)})")
    column = getattr(model, field)
    key_column = model.id if hasattr(model, "id") else column  # type: ignore[attr-defined]
    ordered = statement.order_by(column.desc() if query.sort.startswith("-") else column.asc(), key_column.asc())
    if query.unpaged:
        items = list(session.scalars(ordered))
        return Page(items, len(items), len(items), 0)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    items = list(session.scalars(ordered.limit(query.limit).offset(query.offset)))
    return Page(items, total, query.limit, query.offset)
