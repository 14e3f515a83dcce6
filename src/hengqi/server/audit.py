"""The audit trail: append-only, hash-chained records of every change.

Each entry records who, when, what (entity and id), the action, and the old and new values (21 CFR Part 11,
11.10(e): "secure, computer-generated, time-stamped audit trails to independently record the date and time of
operator entries and actions that create, modify, or delete electronic records"; ISO/IEC 17025:2017, 7.5 and 7.11
on technical records and the control of data).  SECONDARY: the regulation's wording is given from memory of the
public text and the standard (paywalled) was not read; the clause numbers are as commonly cited.  The chaining
design is hengqi's own.

Chain: ``hash = SHA-256(canonical_json(entry) + prev_hash)`` where ``canonical_json`` is JSON with sorted keys, no
spaces, UTF-8, and the entry includes its own row id, so that editing, deleting, inserting or reordering rows
breaks the chain at the first affected row.  The first entry's ``prev_hash`` is 64 zeros.

The entry is written in the same transaction as the change it records.  Appends are serialised: on PostgreSQL by
a transaction-level advisory lock, on SQLite by the ``BEGIN IMMEDIATE`` write lock that writing sessions take.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Table, event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hengqi.errors import HengqiError
from hengqi.server.anchor import AuditAnchor, Checkpoint
from hengqi.server.db.engine import Database
from hengqi.server.db.models import AuditEntry, Base
from hengqi.server.db.types import plain_decimal, utcnow
from hengqi.server.errors import AuditChainError

_log = logging.getLogger(__name__)

GENESIS: Final = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
ADVISORY_LOCK_KEY: Final = 0x68656E67  # "heng"


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in the audit trail")


def canonical_json(value: object) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept, decimals and instants as text.

    >>> canonical_json({"b": Decimal("0.10"), "a": [1, "x"]})
    '{"a":[1,"x"],"b":"0.10"}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def entry_hash(fields: Mapping[str, object], prev_hash: str) -> str:
    """SHA-256 (hex) of an entry's canonical JSON followed by the previous entry's hash."""
    return hashlib.sha256((canonical_json(fields) + prev_hash).encode("utf-8")).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": entry.id,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "organisation_id": entry.organisation_id,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "old": entry.old_values,
        "new": entry.new_values,
    }
    if entry.row_sha256 is not None:  # entries before revision 0113 hash as they always did
        fields["row"] = entry.row_sha256
    return fields


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it (``None`` id: the system, e.g. the command line)."""

    id: int | None
    name: str


#: The record tables whose rows are bound to their latest audit entry (a direct edit of the database is then seen
#: by ``hengqi audit verify``), each with the columns left out of the row digest.  A table or column written
#: outside :func:`record`'s transaction (bookkeeping such as a last-seen time) must not be bound.
BOUND_TABLES: Final[Mapping[str, frozenset[str]]] = {
    "organisations": frozenset(),
    "users": frozenset(),
    "api_tokens": frozenset(),
    "regulator_grants": frozenset(),
    "sites": frozenset(),
    "instruments": frozenset(),
    "laboratories": frozenset(),
    "weight_sets": frozenset(),
    "weights": frozenset(),
    "procedures": frozenset(),
    "runs": frozenset(),
    "certificates": frozenset(),
}
#: ``row_sha256`` of an entry whose row no longer exists.
ROW_ABSENT: Final = ""


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(plain_decimal(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_digest(table: str, values: Mapping[str, object]) -> str:
    """SHA-256 (hex) of a record row's canonical content (its columns, less the table's unbound ones).

    Decimals are taken without trailing zeros and instants as ISO 8601 text, as every backend reads them back.
    """
    skip = BOUND_TABLES.get(table, frozenset())
    content = {key: _plain(value) for key, value in values.items() if key not in skip}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def row_key(table: Table, values: Mapping[str, object]) -> str:
    """The ``entity_id`` under which the audit trail names a row: its primary key values joined by ``:``."""
    return ":".join(str(values[column.name]) for column in table.primary_key.columns)


def _current_digest(session: Session, entity: str, entity_id: str) -> str | None:
    """The digest of the row ``entity_id`` of bound table ``entity`` as it stands in this transaction."""
    if entity not in BOUND_TABLES:
        return None
    table = Base.metadata.tables[entity]
    columns = list(table.primary_key.columns)
    parts = entity_id.split(":")
    if len(parts) != len(columns):
        return None
    try:
        keys = [int(p) if c.type.python_type is int else p for c, p in zip(columns, parts, strict=True)]
    except ValueError:
        return None
    row = session.execute(select(table).where(*(c == k for c, k in zip(columns, keys, strict=True)))).first()
    return ROW_ABSENT if row is None else row_digest(entity, dict(row._mapping))


def anchor_of(session: Session) -> AuditAnchor | None:
    """The audit anchor the session's database was given (see :func:`attach_anchor`)."""
    anchor = session.info.get(_ANCHOR)
    return anchor if isinstance(anchor, AuditAnchor) else None


def database_anchor(database: Database) -> AuditAnchor | None:
    anchor = database.session_info.get(_ANCHOR)
    return anchor if isinstance(anchor, AuditAnchor) else None


def attach_anchor(database: Database, anchor: AuditAnchor | None) -> None:
    """Make every later session of ``database`` MAC its audit entries and write checkpoints with ``anchor``."""
    database.session_info[_ANCHOR] = anchor


_ANCHOR: Final = "hengqi.audit_anchor"
_PENDING: Final = "hengqi.audit_pending_checkpoint"


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    organisation_id: int | None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside ``session``'s transaction (committed with the change it records).

    A row of a :data:`BOUND_TABLES` table is bound to the entry by the digest of its content after the change;
    with an anchor the entry carries a MAC, and every N-th entry is checkpointed once the transaction commits.
    """
    session.flush()  # the change the entry records is in the transaction before its digest is taken
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.mac).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    prev_id, prev_hash, prev_mac = (last[0], last[1], last[2]) if last is not None else (0, GENESIS, None)
    entry = AuditEntry(
        id=prev_id + 1,
        at=utcnow().isoformat(timespec="microseconds"),
        actor_id=actor.id,
        actor=actor.name,
        organisation_id=organisation_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        old_values=canonical_json(dict(old or {})),
        new_values=canonical_json(dict(new or {})),
        prev_hash=prev_hash,
        row_sha256=_current_digest(session, entity, str(entity_id)),
    )
    entry.hash = entry_hash(_hashed_fields(entry), prev_hash)
    anchor = anchor_of(session)
    if anchor is not None:
        entry.mac = anchor.mac(entry.hash)
        if prev_mac is None or entry.id % anchor.every == 0:  # the first entry with a MAC is always checkpointed
            _checkpoint_after_commit(session, entry.id, entry.hash)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class Change:
    """One change to record with :func:`record_many` (the arguments of :func:`record`, less the actor)."""

    action: str
    entity: str
    entity_id: object
    organisation_id: int | None
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None


#: rows whose digests one query reads in :func:`record_many`
_DIGEST_CHUNK: Final = 500


def _current_digests(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """:func:`_current_digest` of many rows, read in chunks of :data:`_DIGEST_CHUNK` per table (a table with a
    one-column integer primary key; others one by one)."""
    found: dict[tuple[str, str], str | None] = {}
    by_table: dict[str, list[int]] = {}
    for entity, entity_id in keys:
        table = Base.metadata.tables.get(entity)
        columns = list(table.primary_key.columns) if table is not None and entity in BOUND_TABLES else []
        if len(columns) == 1 and columns[0].type.python_type is int and entity_id.isascii() and entity_id.isdigit():
            by_table.setdefault(entity, []).append(int(entity_id))
        else:
            found[(entity, entity_id)] = _current_digest(session, entity, entity_id)
    for entity, ids in by_table.items():
        table = Base.metadata.tables[entity]
        column = next(iter(table.primary_key.columns))
        for start in range(0, len(ids), _DIGEST_CHUNK):
            chunk = ids[start : start + _DIGEST_CHUNK]
            for row in session.execute(select(table).where(column.in_(chunk))):
                values = dict(row._mapping)
                found[(entity, str(values[column.name]))] = row_digest(entity, values)
            for key in chunk:
                found.setdefault((entity, str(key)), ROW_ABSENT)
    return found


def record_many(session: Session, *, actor: Actor, changes: Sequence[Change]) -> list[AuditEntry]:
    """Append one entry per change, in order, as :func:`record` would one by one (same chain, same fields, each
    row bound to its entry), with one flush, one read of the chain's head and the rows' digests read in chunks:
    for bulk changes such as an import.  A row changed twice in ``changes`` is bound by both entries to its
    state at the end (only the latest entry of a row is compared with it)."""
    if not changes:
        return []
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.mac).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    prev_id, prev_hash, prev_mac = (last[0], last[1], last[2]) if last is not None else (0, GENESIS, None)
    digests = _current_digests(session, [(c.entity, str(c.entity_id)) for c in changes])
    anchor = anchor_of(session)
    entries: list[AuditEntry] = []
    checkpoint_at: AuditEntry | None = None
    for change in changes:
        entry = AuditEntry(
            id=prev_id + 1,
            at=utcnow().isoformat(timespec="microseconds"),
            actor_id=actor.id,
            actor=actor.name,
            organisation_id=change.organisation_id,
            action=change.action,
            entity=change.entity,
            entity_id=str(change.entity_id),
            old_values=canonical_json(dict(change.old or {})),
            new_values=canonical_json(dict(change.new or {})),
            prev_hash=prev_hash,
            row_sha256=digests[(change.entity, str(change.entity_id))],
        )
        entry.hash = entry_hash(_hashed_fields(entry), prev_hash)
        if anchor is not None:
            entry.mac = anchor.mac(entry.hash)
            if prev_mac is None or entry.id % anchor.every == 0:
                checkpoint_at = entry
            prev_mac = entry.mac
        entries.append(entry)
        prev_id, prev_hash = entry.id, entry.hash
    if checkpoint_at is not None:  # as :func:`record`: the last entry due a checkpoint is checkpointed on commit
        _checkpoint_after_commit(session, checkpoint_at.id, checkpoint_at.hash)
    session.add_all(entries)
    session.flush()
    return entries


def _checkpoint_after_commit(session: Session, entries: int, head: str) -> None:
    session.info[_PENDING] = (entries, head)
    if not event.contains(session, "after_commit", _write_pending):
        event.listen(session, "after_commit", _write_pending)
        event.listen(session, "after_rollback", _drop_pending)


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    anchor = anchor_of(session)
    if pending is not None and anchor is not None:
        try:
            anchor.write_checkpoint(*pending)
        except (OSError, HengqiError) as err:  # the change is committed: say so loudly, do not fail the request
            _log.error("audit checkpoint of entry %s not written: %s", pending[0], err)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def checkpoint_on_shutdown(database: Database) -> None:
    """Sign the head as the app stops; a store that cannot be reached then is logged, not raised."""
    anchor = database_anchor(database)
    if anchor is None:
        return
    try:
        checkpoint(database, anchor)
    except (OSError, SQLAlchemyError, HengqiError) as err:
        _log.error("audit checkpoint on shutdown not written: %s", err)


def checkpoint(database: Database, anchor: AuditAnchor) -> Checkpoint | None:
    """Sign the chain's current head now (``None``: the last checkpoint already covers it, or the chain is empty)."""
    with database.read_session() as session:
        last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    if last is None:
        return None
    return anchor.write_checkpoint(last[0], last[1])


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of :func:`verify_chain`: how many entries were checked, and the last hash."""

    entries: int
    head: str


def _batches(session: Session, size: int = 2000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(size))
        batch = list(rows)
        if not batch:
            return
        yield from batch
        after = batch[-1].id


def verify_chain(session: Session) -> ChainReport:
    """Check every entry's hash and link; raise :class:`AuditChainError` naming the first bad row."""
    prev_hash, expected_id, count = GENESIS, 1, 0
    for entry in _batches(session):
        if entry.id != expected_id:
            raise AuditChainError(entry.id, f"expected row {expected_id} next (a row was removed or inserted)")
        if entry.prev_hash != prev_hash:
            raise AuditChainError(entry.id, "prev_hash does not match the previous row's hash")
        if entry_hash(_hashed_fields(entry), prev_hash) != entry.hash:
            raise AuditChainError(entry.id, "hash does not match the row's contents (the row was altered)")
        prev_hash, expected_id, count = entry.hash, expected_id + 1, count + 1
    return ChainReport(count, prev_hash)


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The audited values of ``obj`` (named ``fields``) as plain JSON-able values."""
    return {name: getattr(obj, name) for name in fields}
