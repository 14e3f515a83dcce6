"""Schemas of procedures, runs (verification, calibration, routine test) and certificates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from hengqi.server.schemas.common import OwnedPublic, RecordId, Schema, Text100, Text200, VersionedUpdate

RunKind = Literal["verification", "calibration", "routine-test"]
RunStatus = Literal["open", "completed", "cancelled"]
CertificateKind = Literal["verification", "calibration"]
CertificateStatus = Literal["draft", "approved", "issued", "withdrawn", "superseded"]


class ProcedureCreate(Schema):
    name: Text200
    kind: RunKind
    standard: Annotated[str, Field(max_length=200)] = ""
    version: Annotated[str, Field(max_length=50)] = "1"
    description: Annotated[str, Field(max_length=20000)] = ""
    organisation_id: RecordId | None = None


class ProcedureUpdate(VersionedUpdate):
    name: Text200 | None = None
    standard: Annotated[str, Field(max_length=200)] | None = None
    version: Annotated[str, Field(max_length=50)] | None = None
    description: Annotated[str, Field(max_length=20000)] | None = None


class ProcedurePublic(OwnedPublic):
    name: str
    kind: str
    standard: str
    version: str
    description: str


class RunCreate(Schema):
    """A run with its raw data (e.g. ``{"loads": [{"load": "10 kg", "indication": "10.005 kg"}]}``) and the results
    computed by the procedure that produced it; the server adds its own flags."""

    instrument_id: RecordId
    procedure_id: RecordId | None = None
    kind: RunKind
    status: RunStatus = "open"
    performed_on: date | None = None
    weight_ids: Annotated[list[RecordId], Field(max_length=200, default_factory=list)]
    raw_data: dict[str, Any] = Field(default_factory=dict)
    results: dict[str, Any] = Field(default_factory=dict)


class RunUpdate(VersionedUpdate):
    status: RunStatus | None = None
    performed_on: date | None = None
    weight_ids: Annotated[list[RecordId], Field(max_length=200)] | None = None
    raw_data: dict[str, Any] | None = None
    results: dict[str, Any] | None = None


class RunRevisionCreate(Schema):
    """A correction of a run: the corrected values (others are copied from the run) and why."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    status: RunStatus | None = None
    performed_on: date | None = None
    weight_ids: Annotated[list[RecordId], Field(max_length=200)] | None = None
    raw_data: dict[str, Any] | None = None
    results: dict[str, Any] | None = None


class Flag(Schema):
    """Something about a run that a reviewer must see: a weight out of calibration, a load outside the
    instrument's specification, an instrument not in service."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class RunPublic(OwnedPublic):
    instrument_id: RecordId
    procedure_id: int | None
    kind: str
    status: str
    performed_by_id: int
    performed_on: date
    weight_ids: list[int]
    raw_data: dict[str, Any]
    results: dict[str, Any]
    flags: list[Flag]
    supersedes_id: int | None = None
    revision_reason: str = ""
    stored_data_error: str | None = Field(
        default=None, description="set when the stored data of this run cannot be read (shown without it)"
    )


class CertificateCreate(Schema):
    number: Text100
    kind: CertificateKind
    instrument_id: RecordId
    run_id: RecordId | None = None
    supersedes_id: RecordId | None = None


class CertificateUpdate(VersionedUpdate):
    number: Text100 | None = None
    run_id: RecordId | None = None


class WithdrawRequest(Schema):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class CertificatePublic(OwnedPublic):
    number: str
    kind: str
    instrument_id: RecordId
    run_id: int | None
    status: CertificateStatus
    file_sha256: str | None
    file_name: str
    created_by_id: int
    approved_by_id: int | None
    approved_at: datetime | None
    issued_by_id: int | None
    issued_at: datetime | None
    supersedes_id: int | None
    withdrawn_reason: str
