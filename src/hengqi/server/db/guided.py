"""Tables of guided runs in the browser: the run states (a :class:`~hengqi.procedures.state.RunStore` in the
database) and how each instrument is reached.

A guided run's state is the JSON document of :class:`hengqi.procedures.state.RunState`, kept whole in
``guided_runs.state`` with its ``version`` in a column of its own, so that a save is one compare-and-set
``UPDATE ... WHERE version = expected`` (two submissions racing on one run cannot both be recorded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hengqi.server.db.models import Base, Timestamps
from hengqi.server.db.types import utcnow


class GuidedRun(Timestamps, Base):
    """One guided verification or calibration run, saved after every step.

    ``performer_id`` is who records its steps (the starter, or a colleague who took it over: audited);
    ``held_reading`` a reading waiting for its confirmation (JSON: step id, value, source, findings);
    ``review_status``/``review_comment`` a reviewer's return of the run to its performer; ``abandon_reason``
    why a quality manager ended a stale run (status ``abandoned``).  At most one run per instrument is
    ``running`` (a partial unique index).
    """

    __tablename__ = "guided_runs"
    __table_args__ = (
        Index(
            "uq_guided_runs_active_instrument",
            "instrument_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(128), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(20), default="instrument")
    weight_set_id: Mapped[int | None] = mapped_column(ForeignKey("weight_sets.id"), default=None)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    receptor_kg: Mapped[str] = mapped_column(String(64), default="0")
    receptor_position: Mapped[str] = mapped_column(String(40), default="centre")
    run_record_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), default=None)
    dcc_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    problem: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    held_reading: Mapped[str] = mapped_column(Text, default="")
    review_status: Mapped[str] = mapped_column(String(20), default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")
    abandon_reason: Mapped[str] = mapped_column(Text, default="")

    @property
    def performer(self) -> int:
        """The user who records the run's steps."""
        return self.performer_id if self.performer_id is not None else self.started_by_id


class CertificateCounter(Base):
    """The last certificate number issued per organisation and number prefix (e.g. ``HQ-CAL-2026``).

    Incremented in the transaction that issues the certificate (row locked), so numbers form a gapless
    sequence: a transaction that rolls back leaves the counter where it was (a database sequence would not).
    """

    __tablename__ = "certificate_counters"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class InstrumentConnection(Base):
    """How the platform reaches an instrument: its URL (``tcp://...?protocol=mt-sics``, ``serial://...``) and, for
    a simulated instrument, the simulator's control channel (the demo's "hands" that put the loads on it)."""

    __tablename__ = "instrument_connections"
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    control_url: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
