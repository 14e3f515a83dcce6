"""The registry's tables as typed SQLAlchemy 2 models.

Every organisation-owned row carries ``organisation_id`` (the services filter every query by it) and ``deleted_at``
(records are soft-deleted, never removed once used).  Masses are :class:`~hengqi.server.db.types.ExactDecimal`
kilograms; raw data, results and flags of runs are JSON documents.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from hengqi.server.db.types import ExactDecimal, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a deterministic constraint naming convention (for migrations)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: ExactDecimal(),
        dict[str, Any]: JSON(),
    }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """A row changed through the API: ``row_version`` counts its versions (1 when made).

    SQLAlchemy's version counter makes every UPDATE ``... WHERE id = :id AND row_version = :v`` and raises
    ``StaleDataError`` when no row matched (another transaction changed it first), so an update never applies to,
    nor audits, values other than those it read.  The API shows the version as the ETag and takes it back in
    ``If-Match`` (or ``row_version`` in a body) to refuse stale writes (HTTP 412).  The column is not named
    ``version`` because procedures already have a ``version`` (of the procedure document).
    """

    row_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a declared_attr takes the class
        return {"version_id_col": cls.__table__.c.row_version}  # type: ignore[attr-defined]


class Owned(Versioned, Timestamps):
    """A row that belongs to one organisation and is soft-deleted."""

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Organisation(Versioned, Timestamps, Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Hosts the server may open instrument connections to for this organisation (comma-separated IP addresses,
    #: CIDR networks, host names; :mod:`hengqi.server.services.instrument_policy`); empty: none.
    instrument_hosts: Mapped[str] = mapped_column(Text, default="")
    #: The laboratory's name in Chinese and postal address, printed on its certificates and in the DCC
    #: (``dcc:calibrationLaboratory``); empty until entered (certificates are not issued without city and country).
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    street_no: Mapped[str] = mapped_column(String(20), default="")
    post_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="")


class User(Versioned, Timestamps, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RegulatorGrant(Base):
    """A regulator's read access to one organisation's records."""

    __tablename__ = "regulator_grants"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A machine credential: only the SHA-256 of the random token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class BrowserSession(Base):
    """A signed-in browser: only the SHA-256 of the random session id in the cookie is stored.

    A session ends (``ended_at`` set, with the reason) at logout, password change, role change or deactivation of
    its user, or at a new login in the same browser; it lapses after the idle and the absolute timeout.
    """

    __tablename__ = "browser_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str] = mapped_column(String(32), default="")


class Site(Owned, Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[Decimal | None] = mapped_column(default=None)
    longitude: Mapped[Decimal | None] = mapped_column(default=None)


class Customer(Owned, Base):
    """A customer of the laboratory, named with its address on certificates (ISO/IEC 17025:2017, 7.8.2.1 e:
    the name and contact information of the customer; SECONDARY, read through summaries)."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    street_no: Mapped[str] = mapped_column(String(20), default="")
    post_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")


class Instrument(Owned, Base):
    """A non-automatic weighing instrument with its metrological specification (OIML R 76-1:2006, 2 and 3)."""

    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("organisation_id", "make", "model", "serial", name="uq_instruments_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), default=None, index=True)
    make: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    serial: Mapped[str] = mapped_column(String(100))
    type_approval: Mapped[str] = mapped_column(String(100), default="")
    accuracy_class: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(20))
    max_kg: Mapped[Decimal]
    min_kg: Mapped[Decimal]
    e_kg: Mapped[Decimal]
    d_kg: Mapped[Decimal]
    ranges: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="in-service", index=True)
    verification_due: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    calibration_due: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    installed_on: Mapped[date | None] = mapped_column(Date, default=None)  # put into service (statistics by age)


class DueInterval(Timestamps, Base):
    """How many months after a calibration or a passed verification the next one falls due, for an organisation,
    optionally only for one instrument kind and/or accuracy class ("" = any); see
    :mod:`hengqi.server.services.due`."""

    __tablename__ = "due_intervals"
    __table_args__ = (
        UniqueConstraint("organisation_id", "due", "instrument_kind", "accuracy_class", name="uq_due_intervals_scope"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    due: Mapped[str] = mapped_column(String(20))
    instrument_kind: Mapped[str] = mapped_column(String(20), default="")
    accuracy_class: Mapped[str] = mapped_column(String(4), default="")
    months: Mapped[int] = mapped_column(Integer)


#: An instrument's identity is unique ignoring letter case too ("sn-1" and "SN-1" are one serial number).
Index(
    "uq_instruments_identity_ci",
    Instrument.organisation_id,
    func.lower(Instrument.make),
    func.lower(Instrument.model),
    func.lower(Instrument.serial),
    unique=True,
)


class Laboratory(Owned, Base):
    """A calibration laboratory; ``traceable_to_id`` links the next step of the traceability chain
    (ISO/IEC 17025:2017, 6.5; ILAC P10)."""

    __tablename__ = "laboratories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    accreditation: Mapped[str] = mapped_column(String(200), default="")
    traceable_to_id: Mapped[int | None] = mapped_column(ForeignKey("laboratories.id"), default=None)


class WeightSet(Owned, Base):
    """A set of reference weights (OIML R 111-1:2004) calibrated together under one certificate."""

    __tablename__ = "weight_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    weight_class: Mapped[str] = mapped_column(String(8))
    serial: Mapped[str] = mapped_column(String(100), default="")
    laboratory_id: Mapped[int | None] = mapped_column(ForeignKey("laboratories.id"), default=None)
    certificate_number: Mapped[str] = mapped_column(String(100), default="")
    calibrated_on: Mapped[date | None] = mapped_column(Date, default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)


class Weight(Owned, Base):
    """One reference weight: conventional mass correction with its expanded uncertainty ``U`` (coverage ``k``)."""

    __tablename__ = "weights"
    id: Mapped[int] = mapped_column(primary_key=True)
    weight_set_id: Mapped[int] = mapped_column(ForeignKey("weight_sets.id"), index=True)
    identifier: Mapped[str] = mapped_column(String(50))
    nominal_kg: Mapped[Decimal]
    weight_class: Mapped[str] = mapped_column(String(8))
    correction_kg: Mapped[Decimal]
    u_kg: Mapped[Decimal]
    k: Mapped[Decimal]
    certificate_number: Mapped[str] = mapped_column(String(100), default="")
    due_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)


class Procedure(Owned, Base):
    __tablename__ = "procedures"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    standard: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(50), default="1")
    description: Mapped[str] = mapped_column(Text, default="")


class Run(Owned, Base):
    """One verification, calibration or routine test of an instrument: raw data, computed results, flags.

    A correction of a run is a new run that names the one it corrects (``supersedes_id``) with the reason;
    the corrected run is kept unchanged (ALCOA+: original and enduring).  A run has at most one correction
    (the unique index), so revisions form a chain.
    """

    __tablename__ = "runs"
    __table_args__ = (Index("uq_runs_supersedes_id", "supersedes_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    procedure_id: Mapped[int | None] = mapped_column(ForeignKey("procedures.id"), default=None)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    performed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    performed_on: Mapped[date] = mapped_column(Date)
    raw_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    weight_ids: Mapped[list[int]] = mapped_column(JSON)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    revision_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class StoredFile(Base):
    """A file in the content-addressed store: its name on disk is its SHA-256."""

    __tablename__ = "stored_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Owned, Base):
    """A calibration or verification certificate and its workflow state (draft, approved, issued, withdrawn,
    superseded)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("organisation_id", "number", name="uq_certificates_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), default=None)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"), default=None)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), default=None)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One append-only audit record, chained to the previous by SHA-256 (see :mod:`hengqi.server.audit`).

    Values are kept as the exact canonical JSON text that was hashed, so verification needs no re-serialisation.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    old_values: Mapped[str] = mapped_column(Text)
    new_values: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the audited row's canonical content after the change ("" once the row is gone; NULL: the entity
    #: is not bound, or the entry predates revision 0113).  Part of the hash.
    row_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    #: HMAC-SHA256 of ``hash`` under a key kept outside the database (NULL before revision 0113).
    mac: Mapped[str | None] = mapped_column(String(64), default=None)


# The tables of guided runs (hengqi.server.db.guided) live in their own module; imported here so that they are
# always part of Base.metadata (backups, migrations checks).
from hengqi.server.alerts import models as _alerts  # noqa: E402, F401
from hengqi.server.db import guided as _guided  # noqa: E402, F401
from hengqi.server.db import reminders as _reminders  # noqa: E402, F401
from hengqi.server.db import saved_views as _saved_views  # noqa: E402, F401
from hengqi.server.field import models as _field  # noqa: E402, F401
