"""Tables of the field context.

``field_devices``        a registry instrument reporting from the field: its device id (the Sparkplug device id,
                         the MQTT user name and ``instrument`` of its events), group, site kind and region code,
                         and the SHA-256 of its HTTP token;
``field_events``         every stored telemetry event, unique on (device, seq);
``field_status``         the latest known state of each device (watermark, online, counters, case, lock, software);
``field_offline``        offline periods (from NDEATH to the next NBIRTH);
``field_refusals``       refused messages counted by device id and reason;
``field_work_orders``    authorised repairs and verifications, the records that explain a counter change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hengqi.server.db.models import Base
from hengqi.server.db.types import utcnow

#: 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is 64-bit already and autoincrements only when so named.
BigId = BigInteger().with_variant(Integer(), "sqlite")

SITE_KINDS = ("market", "weighbridge", "factory", "other")


class FieldDevice(Base):
    __tablename__ = "field_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[str] = mapped_column(String(64))
    site_kind: Mapped[str] = mapped_column(String(20), default="market")
    region_code: Mapped[str] = mapped_column(String(12), default="")
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class FieldEvent(Base):
    __tablename__ = "field_events"
    __table_args__ = (
        UniqueConstraint("device_pk", "seq", name="uq_field_events_device_seq"),
        Index("ix_field_events_device_time", "device_pk", "event_time"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("field_devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    transport: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class FieldStatus(Base):
    __tablename__ = "field_status"
    device_pk: Mapped[int] = mapped_column(ForeignKey("field_devices.id"), primary_key=True)
    watermark: Mapped[int | None] = mapped_column(BigInteger, default=None)
    stored: Mapped[int] = mapped_column(BigInteger, default=0)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    last_event_time: Mapped[datetime | None] = mapped_column(default=None)
    calibration_counter: Mapped[int | None] = mapped_column(Integer, default=None)
    configuration_counter: Mapped[int | None] = mapped_column(Integer, default=None)
    counter_modulus: Mapped[int | None] = mapped_column(Integer, default=None)
    case_open: Mapped[bool | None] = mapped_column(Boolean, default=None)
    locked: Mapped[bool | None] = mapped_column(Boolean, default=None)
    software_id: Mapped[str | None] = mapped_column(String(200), default=None)
    software_checksum: Mapped[str | None] = mapped_column(String(128), default=None)
    sequence_gaps: Mapped[int] = mapped_column(Integer, default=0)


class FieldOffline(Base):
    __tablename__ = "field_offline"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("field_devices.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class FieldRefusal(Base):
    __tablename__ = "field_refusals"
    __table_args__ = (UniqueConstraint("device_key", "reason", name="uq_field_refusals_device_reason"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    device_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_detail: Mapped[str] = mapped_column(Text, default="")


class FieldWorkOrder(Base):
    __tablename__ = "field_work_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("field_devices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    authorised_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
