"""Telemetry ingest: refuse and count what is not acceptable, store each (device, seq) once, keep status.

One :class:`Ingestor` serves one database; :meth:`Ingestor.handle_messages` takes a batch of MQTT messages
(topic, payload) and :meth:`Ingestor.handle_batch` the events of one HTTP request, each in one transaction.  A
refused message never raises: it is counted in ``field_refusals`` under its device id (or ``""``) and reason
(:data:`hengqi.supervision.admission.REFUSAL_REASONS`), and the rest of the batch goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hengqi.server.db.engine import Database
from hengqi.server.field.curves import CurveStore, PendingCurve
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldOffline, FieldRefusal, FieldStatus
from hengqi.supervision.admission import admit
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.mapping import bd_seq_of, records_from_payload
from hengqi.supervision.sequence import NodeSession, SequenceGap, WentOffline, observe
from hengqi.supervision.sparkplug import STATE_PREFIX, Topic, decode_payload, parse_topic
from hengqi.supervision.telemetry import (
    CheckWeighing,
    Counters,
    EventLogEntry,
    EventRecord,
    Heartbeat,
    Identity,
    Passage,
    StateEvent,
    TelemetryEvent,
    Transaction,
    record_of,
)

#: Default bound on one MQTT message or HTTP body (bytes); a weighbridge passage of 60 s at 100 Hz with 8 cells
#: is about 440 kB, so the default leaves room for that and little else.
MAX_MESSAGE_BYTES: Final = 1 << 20
MAX_EVENTS_PER_MESSAGE: Final = 1000
#: Columns of ``field_events`` the ingest writes, in the order of :attr:`_Batch.rows`' tuples.
EVENT_COLUMNS: Final = ("device_pk", "seq", "kind", "event_time", "received_at", "transport", "digest", "body")
#: Bound parameters per IN list (SQLite allows 32 766 per statement; PostgreSQL 65 535).
_IN_CHUNK: Final = 500


@dataclass
class IngestResult:
    """What one batch did: events stored, duplicates dropped, refusals by reason (with the first detail of each)."""

    stored: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    details: list[tuple[int, str, str]] = field(default_factory=list)

    def merge(self, other: IngestResult) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.refused.update(other.refused)
        self.details.extend(other.details)


#: A row of ``field_events``: the body as its JSON text, or as a dict when the ingest still changes it (curves).
Row = tuple[int, int, str, datetime, datetime, str, str, str | dict[str, Any]]


@dataclass
class _Batch:
    """What one transaction has pending: statuses read once, rows inserted together at the end, their digests."""

    statuses: dict[int, FieldStatus] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    pending: dict[tuple[int, int], str] = field(default_factory=dict)
    curves: list[tuple[int, PendingCurve]] = field(default_factory=list)

    def status(self, session: Session, device_pk: int) -> FieldStatus:
        status = self.statuses.get(device_pk)
        if status is None:
            status = session.get(FieldStatus, device_pk)
            if status is None:
                status = FieldStatus(device_pk=device_pk, stored=0, sequence_gaps=0, online=False)
                session.add(status)
            self.statuses[device_pk] = status
        return status

    def prefetch(self, session: Session, device_pks: Iterable[int]) -> None:
        """Read the statuses of these devices in one query per 500 (instead of one per device)."""
        wanted = sorted(set(device_pks) - set(self.statuses))
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i : i + _IN_CHUNK]
            for status in session.scalars(select(FieldStatus).where(FieldStatus.device_pk.in_(chunk))):
                self.statuses[status.device_pk] = status

    def flush(self, session: Session, store: CurveStore | None) -> None:
        if self.curves and store is not None:
            files = store.write([curve for _i, curve in self.curves])
            for index, curve in self.curves:
                body = self.rows[index][7]
                if isinstance(body, dict):
                    body["curve_file"] = files[(curve.device_id, curve.seq)]
            self.curves.clear()
        if self.rows:
            insert_events(session, self.rows)
            self.rows.clear()


def _processors(dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    table = FieldEvent.__table__
    return [table.c[name].type.bind_processor(dialect) for name in EVENT_COLUMNS[:-1]]


def insert_events(session: Session, rows: Sequence[Row]) -> None:
    """Insert event rows in one statement: ``COPY ... FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

    This goes below the ORM (its bulk insert cost about a third of the ingest's time per event): the body is
    serialised here once, as compact JSON; every other value passes the column type's own bind processor (UTC
    times stored naive, as :class:`hengqi.server.db.types.UTCDateTime` does), so the rows read back exactly as
    rows the ORM wrote.  Bodies come from validated events, whose texts cannot hold a NUL (refused before).
    """
    connection = session.connection()
    dialect = connection.dialect
    active = [(i, proc) for i, proc in enumerate(_processors(dialect)) if proc is not None]
    values: list[list[Any]] = []
    # the time of receipt is one value for a whole batch: bound once per distinct value, not once per row
    receive_proc = dict(active).get(4)
    bound_received = {row[4]: row[4] for row in rows}
    if receive_proc is not None:
        bound_received = {k: receive_proc(k) for k in bound_received}
    active = [(i, proc) for i, proc in active if i != 4]
    for row in rows:
        value: list[Any] = list(row)
        for i, proc in active:
            value[i] = proc(value[i])
        value[4] = bound_received[row[4]]
        if not isinstance(value[7], str):
            value[7] = json.dumps(value[7], separators=(",", ":"), ensure_ascii=False)
        values.append(value)
    columns = ", ".join(EVENT_COLUMNS)
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY field_events ({columns}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in EVENT_COLUMNS)
    # the DBAPI cursor directly: the engine's NUL check (hengqi.server.db.engine) walked every value of every row
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"INSERT INTO field_events ({columns}) VALUES ({marks})", values)


def _now() -> datetime:
    return datetime.now(UTC)


class Ingestor:
    """Ingest into one database (see the module docstring); Sparkplug node sessions are kept in memory."""

    def __init__(
        self,
        database: Database,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_events_per_message: int = MAX_EVENTS_PER_MESSAGE,
        curves: CurveStore | None = None,
    ) -> None:
        self.database = database
        self.curves = curves
        self.max_message_bytes = max_message_bytes
        self.max_events_per_message = max_events_per_message
        self.nodes: dict[tuple[str, str], NodeSession] = {}
        self._node_devices: dict[tuple[str, str], set[str]] = {}

    # -- refusals ----------------------------------------------------------------------------------------------
    def _refuse(
        self, session: Session, result: IngestResult, *, key: str, reason: str, detail: str, index: int = -1
    ) -> None:
        result.refused[reason] += 1
        result.details.append((index, reason, detail[:300]))
        row = session.scalar(select(FieldRefusal).where(FieldRefusal.device_key == key, FieldRefusal.reason == reason))
        if row is None:
            session.add(FieldRefusal(device_key=key[:64], reason=reason, count=1, last_detail=detail[:500]))
            session.flush()
        else:
            row.count += 1
            row.last_at = _now()
            row.last_detail = detail[:500]

    # -- events -------------------------------------------------------------------------------------------------
    def _store_events(
        self,
        session: Session,
        device: FieldDevice,
        events: Sequence[EventRecord],
        *,
        transport: str,
        received_at: datetime,
        result: IngestResult,
        batch: _Batch,
        first_index: int = 0,
        indices: Sequence[int] | None = None,
    ) -> None:
        status = batch.status(session, device.id)
        stored = 0
        # the status's columns are ORM attributes (each set is tracked): kept in locals, set once per message
        watermark = status.watermark
        last_time = status.last_event_time
        known = self._stored_digests(session, device.id, watermark, events, batch)
        pending = batch.pending
        rows = batch.rows
        for offset, event in enumerate(events):
            index = first_index + offset if indices is None else indices[offset]
            if event.instrument != device.device_id:
                self._refuse(
                    session,
                    result,
                    key=device.device_id,
                    reason="unauthenticated",
                    detail=f"event for {event.instrument!r} sent by device {device.device_id!r}",
                    index=index,
                )
                continue
            canonical = event.canonical
            if "\\u0000" in canonical:
                self._refuse(
                    session, result, key=device.device_id, reason="malformed", detail=f"seq {event.seq}: NUL in text"
                )
                continue
            digest = sha256(canonical.encode()).hexdigest()  # digest_of, inlined
            seq = event.seq
            if watermark is not None and seq <= watermark:
                stored_digest = pending.get((device.id, seq)) or known.get(seq)
                verdict = admit(watermark=watermark, seq=seq, stored_digest=stored_digest, digest=digest)
                if verdict == "duplicate":
                    result.duplicates += 1
                    continue
                if verdict != "store":
                    self._refuse(
                        session, result, key=device.device_id, reason=verdict, detail=f"seq {seq}", index=index
                    )
                    continue
            # above the watermark admit() says "store" (no stored digest can exist there): not called per event
            body: str | dict[str, Any] = event.body_text
            model = event.event
            if model is not None:
                if self.curves is not None and isinstance(model.body, Passage):
                    fields: dict[str, Any] = model.body.model_dump(mode="json")
                    fields.pop("curve_kg")
                    fields.pop("cells_kg")
                    fields["samples"] = len(model.body.curve_kg)
                    body = fields
                    curve = PendingCurve(
                        device.device_id, seq, model.time, model.body.rate_hz, model.body.curve_kg, model.body.cells_kg
                    )
                    batch.curves.append((len(rows), curve))
                if not isinstance(model.body, _PLAIN_BODIES):
                    _apply(status, model)
            rows.append((device.id, seq, event.kind, event.time, received_at, transport, digest, body))
            pending[(device.id, seq)] = digest
            if last_time is None or event.time > last_time:
                last_time = event.time
            watermark = event.seq
            stored += 1
        if stored:
            status.watermark = watermark
            status.last_event_time = last_time
            status.stored += stored
        result.stored += stored
        status.last_seen = received_at
        if transport == "http":  # over MQTT, births and deaths say it (an ORM set of the same value costs too)
            status.online = True

    @staticmethod
    def _stored_digests(
        session: Session, device_pk: int, watermark: int | None, events: Sequence[EventRecord], batch: _Batch
    ) -> dict[int, str]:
        """The stored digests of the events at or below the watermark (resends), in one query per 500 seqs."""
        if watermark is None:
            return {}
        seqs = sorted({e.seq for e in events if e.seq <= watermark and (device_pk, e.seq) not in batch.pending})
        known: dict[int, str] = {}
        for i in range(0, len(seqs), _IN_CHUNK):
            rows = session.execute(
                select(FieldEvent.seq, FieldEvent.digest).where(
                    FieldEvent.device_pk == device_pk, FieldEvent.seq.in_(seqs[i : i + _IN_CHUNK])
                )
            )
            known.update((int(seq), str(digest)) for seq, digest in rows)
        return known

    def handle_batch(
        self,
        device: FieldDevice,
        events: Sequence[tuple[int, TelemetryEvent]],
        refusals: Iterable[tuple[int, str, str]] = (),
    ) -> IngestResult:
        """Store the (index, event) pairs of one HTTP batch of ``device`` (authenticated); count ``refusals``."""
        result = IngestResult()
        received_at = _now()
        ordered = sorted(events, key=lambda pair: pair[1].seq)
        batch = _Batch()
        with self.database.write_session() as session, session.no_autoflush:
            for index, reason, detail in refusals:
                self._refuse(session, result, key=device.device_id, reason=reason, detail=detail, index=index)
            self._store_events(
                session,
                device,
                [record_of(e) for _i, e in ordered],
                transport="http",
                received_at=received_at,
                result=result,
                batch=batch,
                indices=[i for i, _e in ordered],
            )
            batch.flush(session, self.curves)
            session.commit()
        result.details.sort()
        return result

    def count_refusal(self, device_key: str, reason: str, detail: str) -> None:
        """Count one refusal that happened before any device was known (e.g. a wrong token)."""
        with self.database.write_session() as session:
            self._refuse(session, IngestResult(), key=device_key, reason=reason, detail=detail)
            session.commit()

    # -- MQTT ---------------------------------------------------------------------------------------------------
    def handle_messages(
        self, messages: Sequence[tuple[str, bytes]], received_at: datetime | None = None
    ) -> IngestResult:
        """Handle a batch of Sparkplug B messages (topic, payload) in one transaction.

        If another writer stored one of the same (device, seq) first (the unique constraint refuses the insert), the
        transaction is rolled back and the batch handled once more: the event is then a duplicate.
        """
        nodes = dict(self.nodes)
        node_devices = {node: set(names) for node, names in self._node_devices.items()}
        try:
            return self._handle_messages(messages, received_at)
        except IntegrityError:
            self.nodes, self._node_devices = nodes, node_devices  # the session bookkeeping of the failed try
            return self._handle_messages(messages, received_at)

    def _handle_messages(self, messages: Sequence[tuple[str, bytes]], received_at: datetime | None) -> IngestResult:
        result = IngestResult()
        at = received_at or _now()
        batch = _Batch()
        with self.database.write_session() as session, session.no_autoflush:
            devices = self._prefetch(session, batch, [topic for topic, _data in messages])
            for index, (topic_text, data) in enumerate(messages):
                self._handle_one(
                    session, devices, batch, index=index, topic_text=topic_text, data=data, at=at, result=result
                )
            batch.flush(session, self.curves)
            session.commit()
        return result

    def _prefetch(self, session: Session, batch: _Batch, topics: Sequence[str]) -> dict[str, FieldDevice | None]:
        """The devices named by the topics of a batch, and their statuses, in one query each per 500."""
        keys: set[str] = set()
        for text in topics:
            parts = text.split("/")
            if len(parts) in (4, 5):
                keys.add(parts[-1][:64])
        cache: dict[str, FieldDevice | None] = dict.fromkeys(keys)
        wanted = sorted(keys)
        for i in range(0, len(wanted), _IN_CHUNK):
            for device in session.scalars(
                select(FieldDevice).where(FieldDevice.device_id.in_(wanted[i : i + _IN_CHUNK]))
            ):
                cache[device.device_id] = device if device.deleted_at is None else None
        batch.prefetch(session, [d.id for d in cache.values() if d is not None])
        return cache

    def _device(self, session: Session, cache: dict[str, FieldDevice | None], device_id: str) -> FieldDevice | None:
        if device_id not in cache:
            device = session.scalar(select(FieldDevice).where(FieldDevice.device_id == device_id))
            cache[device_id] = device if device is not None and device.deleted_at is None else None
        return cache[device_id]

    def _handle_one(
        self,
        session: Session,
        cache: dict[str, FieldDevice | None],
        batch: _Batch,
        *,
        index: int,
        topic_text: str,
        data: bytes,
        at: datetime,
        result: IngestResult,
    ) -> None:
        if topic_text.startswith(STATE_PREFIX):
            return  # a host application's STATE (ours, or another platform's): not telemetry
        try:
            topic = parse_topic(topic_text)
        except TelemetryError as err:
            self._refuse(session, result, key="", reason="topic", detail=str(err), index=index)
            return
        key = topic.device or topic.edge_node
        if len(data) > self.max_message_bytes:
            self._refuse(
                session,
                result,
                key=key,
                reason="oversized",
                detail=f"{len(data)} bytes > {self.max_message_bytes}",
                index=index,
            )
            return
        device = self._device(session, cache, key)
        if device is None or device.group_id != topic.group:
            if topic.message_type in ("NBIRTH", "NDEATH"):
                device = None  # a node may serve several devices under other ids
            else:
                self._refuse(
                    session,
                    result,
                    key=key,
                    reason="unauthenticated",
                    detail=f"{topic_text[:120]}: no such field device",
                    index=index,
                )
                return
        try:
            payload = decode_payload(data, max_metrics=self.max_events_per_message * 64)
        except TelemetryError as err:
            self._refuse(session, result, key=key, reason=err.reason_class, detail=str(err), index=index)
            return
        node = (topic.group, topic.edge_node)
        at_ms = int(at.timestamp() * 1000)
        state, findings = observe(
            self.nodes.get(node, NodeSession()),
            topic.message_type,
            seq=payload.seq,
            # only births and deaths carry bdSeq (the search walked every metric of every DDATA before)
            bd_seq=bd_seq_of(payload) if topic.message_type in ("NBIRTH", "NDEATH") else None,
            at_ms=at_ms,
        )
        self.nodes[node] = state
        gaps = sum(1 for f in findings if isinstance(f, SequenceGap))
        if topic.message_type == "NDEATH":
            if any(isinstance(f, WentOffline) for f in findings):
                self._node_offline(session, cache, batch, topic, at)
            return
        if topic.message_type == "NBIRTH" or device is None:
            return
        self._node_devices.setdefault(node, set()).add(device.device_id)
        status = batch.status(session, device.id)
        if gaps:
            status.sequence_gaps += gaps
        if topic.message_type == "DBIRTH":
            self._online(session, batch, device, at)
        elif topic.message_type == "DDEATH":
            self._offline(session, batch, device, at)
        elif topic.message_type == "DDATA":
            try:
                events = records_from_payload(device.device_id, payload)
            except TelemetryError as err:
                self._refuse(session, result, key=key, reason=err.reason_class, detail=str(err), index=index)
                return
            if len(events) > self.max_events_per_message:
                self._refuse(
                    session,
                    result,
                    key=key,
                    reason="oversized",
                    detail=f"{len(events)} events in one message",
                    index=index,
                )
                return
            if not status.online:
                self._online(session, batch, device, at)
            self._store_events(
                session, device, events, transport="mqtt", received_at=at, result=result, batch=batch, first_index=index
            )

    def _node_offline(
        self, session: Session, cache: dict[str, FieldDevice | None], batch: _Batch, topic: Topic, at: datetime
    ) -> None:
        names = set(self._node_devices.get((topic.group, topic.edge_node), set())) | {topic.edge_node}
        for name in sorted(names):
            device = self._device(session, cache, name)
            if device is not None and device.group_id == topic.group:
                self._offline(session, batch, device, at)

    def _online(self, session: Session, batch: _Batch, device: FieldDevice, at: datetime) -> None:
        session.execute(
            update(FieldOffline)
            .where(FieldOffline.device_pk == device.id, FieldOffline.ended_at.is_(None))
            .values(ended_at=at)
        )
        status = batch.status(session, device.id)
        status.online = True
        status.last_seen = at

    def _offline(self, session: Session, batch: _Batch, device: FieldDevice, at: datetime) -> None:
        status = batch.status(session, device.id)
        if status.online:
            status.online = False
            session.add(FieldOffline(device_pk=device.id, started_at=at))


#: Bodies that change nothing in the status but the watermark and the last event time.
_PLAIN_BODIES: Final = (Transaction, Passage, CheckWeighing, Heartbeat, EventLogEntry)


def _apply(status: FieldStatus, event: TelemetryEvent) -> None:
    """Fold one stored event into the device's status (counters, software, case, lock)."""
    body = event.body
    if isinstance(body, Counters):
        status.calibration_counter = body.calibration.value
        status.configuration_counter = body.configuration.value
        status.counter_modulus = body.calibration.modulus
    elif isinstance(body, Identity):
        status.software_id = body.software_id
        status.software_checksum = body.software_checksum
    elif isinstance(body, StateEvent):
        if body.state in ("case_opened", "case_closed"):
            status.case_open = body.state == "case_opened"
        elif body.state in ("self_lock", "unlock"):
            status.locked = body.state == "self_lock"
