"""The ``field_alerts`` table: one row per (instrument, detector, UTC day) episode, keyed by the SHA-256 of those."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hengqi.server.db.models import Base
from hengqi.server.db.types import utcnow


class FieldAlert(Base):
    __tablename__ = "field_alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("field_devices.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    detector: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="new", index=True)
    closure_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    inspection_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
