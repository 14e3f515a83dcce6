"""Schemas of the registry: organisations, sites, customers, instruments, laboratories, weight sets and
weights."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from hengqi.server.schemas.common import (
    ExactNumber,
    Mass,
    MassOut,
    OwnedPublic,
    PublicSchema,
    RecordId,
    Schema,
    SignedMass,
    Text100,
    Text200,
    VersionedUpdate,
)

InstrumentStatus = Literal["in-service", "out-of-service", "withdrawn"]
AccuracyClassText = Literal["I", "II", "III", "IIII"]
InstrumentKindText = Literal["single-interval", "multi-interval", "multiple-range"]
WeightClassText = Literal["E1", "E2", "F1", "F2", "M1", "M1-2", "M2", "M2-3", "M3"]


def _host_list(value: object) -> object:
    """The stored comma-separated allow-list as a list (the API shows and takes a list)."""
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    return value


#: Hosts (IP addresses, CIDR networks, host names) an organisation's instrument connections may reach.
HostList = Annotated[list[Annotated[str, Field(min_length=1, max_length=253)]], Field(max_length=100)]


class OrganisationAddress(Schema):
    """The laboratory's Chinese name and postal address as printed on its certificates (all optional here;
    certificates are not issued until ``city`` and ``country`` are given)."""

    name_zh: Annotated[str, Field(max_length=200)] = ""
    street: Annotated[str, Field(max_length=200)] = ""
    street_no: Annotated[str, Field(max_length=20)] = ""
    post_code: Annotated[str, Field(max_length=20)] = ""
    city: Annotated[str, Field(max_length=100)] = ""
    state: Annotated[str, Field(max_length=100)] = ""
    country: Annotated[str, Field(pattern=r"^([A-Z]{2})?$", description="ISO 3166-1 alpha-2, e.g. CN")] = ""


class OrganisationCreate(OrganisationAddress):
    name: Text200
    instrument_hosts: HostList = Field(
        default_factory=list, description="hosts instrument connections may reach (IP, CIDR network, host name)"
    )


class OrganisationUpdate(VersionedUpdate):
    instrument_hosts: HostList | None = None
    name_zh: Annotated[str, Field(max_length=200)] | None = None
    street: Annotated[str, Field(max_length=200)] | None = None
    street_no: Annotated[str, Field(max_length=20)] | None = None
    post_code: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    state: Annotated[str, Field(max_length=100)] | None = None
    country: Annotated[str, Field(pattern=r"^([A-Z]{2})?$", description="ISO 3166-1 alpha-2, e.g. CN")] | None = None


class OrganisationPublic(PublicSchema):
    id: int
    name: str
    row_version: int
    instrument_hosts: Annotated[HostList, BeforeValidator(_host_list)] = Field(default_factory=list)
    name_zh: str = ""
    street: str = ""
    street_no: str = ""
    post_code: str = ""
    city: str = ""
    state: str = ""
    country: str = ""


class SiteCreate(Schema):
    name: Text200
    address: Annotated[str, Field(max_length=2000)] = ""
    latitude: Annotated[ExactNumber | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[ExactNumber | None, Field(ge=-180, le=180)] = None
    organisation_id: RecordId | None = None


class SiteUpdate(VersionedUpdate):
    name: Text200 | None = None
    address: Annotated[str, Field(max_length=2000)] | None = None
    latitude: Annotated[ExactNumber | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[ExactNumber | None, Field(ge=-180, le=180)] = None


class SitePublic(OwnedPublic):
    name: str
    address: str
    latitude: ExactNumber | None
    longitude: ExactNumber | None


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. CN")]
Short = Annotated[str, Field(max_length=20)]
Line = Annotated[str, Field(max_length=200)]


class CustomerCreate(Schema):
    """A customer (the owner of instruments), named with its address on certificates."""

    name: Text200
    name_zh: Line = ""
    street: Line = ""
    street_no: Short = ""
    post_code: Short = ""
    city: Text100
    state: Annotated[str, Field(max_length=100)] = ""
    country: CountryCode
    email: Line = ""
    phone: Annotated[str, Field(max_length=50)] = ""
    organisation_id: RecordId | None = None


class CustomerUpdate(Schema):
    name: Text200 | None = None
    name_zh: Line | None = None
    street: Line | None = None
    street_no: Short | None = None
    post_code: Short | None = None
    city: Text100 | None = None
    state: Annotated[str, Field(max_length=100)] | None = None
    country: CountryCode | None = None
    email: Line | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None


class CustomerPublic(OwnedPublic):
    name: str
    name_zh: str
    street: str
    street_no: str
    post_code: str
    city: str
    state: str
    country: str
    email: str
    phone: str


class RangeIn(Schema):
    max: Mass
    e: Mass


class RangePublic(PublicSchema):
    max_kg: MassOut
    e_kg: MassOut


class InstrumentCreate(Schema):
    """A new instrument: identity, and the specification checked against OIML R 76-1:2006 (see
    :class:`hengqi.metrology.classes.InstrumentSpecification`)."""

    make: Text100
    model: Text100
    serial: Text100
    type_approval: Annotated[str, Field(max_length=100)] = ""
    accuracy_class: AccuracyClassText
    kind: InstrumentKindText | None = None
    max: Mass | None = None
    e: Mass | None = None
    d: Mass | None = None
    min: Mass | None = None
    ranges: Annotated[list[RangeIn], Field(max_length=3)] | None = None
    site_id: RecordId | None = None
    owner_id: RecordId | None = None
    status: InstrumentStatus = "in-service"
    verification_due: date | None = None
    calibration_due: date | None = None
    installed_on: date | None = None
    organisation_id: RecordId | None = None


class InstrumentUpdate(VersionedUpdate):
    """Changes to an instrument; a changed specification is checked again as a whole."""

    make: Text100 | None = None
    model: Text100 | None = None
    serial: Text100 | None = None
    type_approval: Annotated[str, Field(max_length=100)] | None = None
    accuracy_class: AccuracyClassText | None = None
    kind: InstrumentKindText | None = None
    max: Mass | None = None
    e: Mass | None = None
    d: Mass | None = None
    min: Mass | None = None
    ranges: Annotated[list[RangeIn], Field(max_length=3)] | None = None
    site_id: RecordId | None = None
    owner_id: RecordId | None = None
    status: InstrumentStatus | None = None
    verification_due: date | None = None
    calibration_due: date | None = None
    installed_on: date | None = None


class InstrumentPublic(OwnedPublic):
    site_id: int | None
    owner_id: int | None
    make: str
    model: str
    serial: str
    type_approval: str
    accuracy_class: str
    kind: str
    max_kg: MassOut
    min_kg: MassOut
    e_kg: MassOut
    d_kg: MassOut
    ranges: list[RangePublic]
    status: str
    verification_due: date | None
    calibration_due: date | None
    installed_on: date | None = None


class LaboratoryCreate(Schema):
    name: Text200
    accreditation: Annotated[str, Field(max_length=200)] = ""
    traceable_to_id: RecordId | None = None
    organisation_id: RecordId | None = None


class LaboratoryUpdate(VersionedUpdate):
    name: Text200 | None = None
    accreditation: Annotated[str, Field(max_length=200)] | None = None
    traceable_to_id: RecordId | None = None


class LaboratoryPublic(OwnedPublic):
    name: str
    accreditation: str
    traceable_to_id: int | None


class WeightSetCreate(Schema):
    name: Text200
    weight_class: WeightClassText
    serial: Annotated[str, Field(max_length=100)] = ""
    laboratory_id: RecordId | None = None
    certificate_number: Annotated[str, Field(max_length=100)] = ""
    calibrated_on: date | None = None
    due_date: date | None = None
    organisation_id: RecordId | None = None


class WeightSetUpdate(VersionedUpdate):
    name: Text200 | None = None
    weight_class: WeightClassText | None = None
    serial: Annotated[str, Field(max_length=100)] | None = None
    laboratory_id: RecordId | None = None
    certificate_number: Annotated[str, Field(max_length=100)] | None = None
    calibrated_on: date | None = None
    due_date: date | None = None


class WeightSetPublic(OwnedPublic):
    name: str
    weight_class: str
    serial: str
    laboratory_id: int | None
    certificate_number: str
    calibrated_on: date | None
    due_date: date | None


class WeightCreate(Schema):
    """A reference weight: conventional mass correction and its expanded uncertainty U with coverage factor k
    (OIML R 111-1:2004, 5.2 and C.6)."""

    identifier: Annotated[str, Field(min_length=1, max_length=50)]
    nominal: Mass
    weight_class: WeightClassText | None = None
    correction: SignedMass = Decimal(0)
    u: Mass = Decimal(0)
    k: Annotated[ExactNumber, Field(gt=0, le=10)] = Decimal(2)
    certificate_number: Annotated[str, Field(max_length=100)] | None = None
    due_date: date | None = None


class WeightUpdate(VersionedUpdate):
    identifier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    nominal: Mass | None = None
    weight_class: WeightClassText | None = None
    correction: SignedMass | None = None
    u: Mass | None = None
    k: Annotated[ExactNumber, Field(gt=0, le=10)] | None = None
    certificate_number: Annotated[str, Field(max_length=100)] | None = None
    due_date: date | None = None


class WeightPublic(OwnedPublic):
    weight_set_id: int
    identifier: str
    nominal_kg: Mass
    weight_class: str
    correction_kg: SignedMass
    u_kg: Mass
    k: ExactNumber
    certificate_number: str
    due_date: date | None


class TraceabilityLink(PublicSchema):
    id: int
    name: str
    accreditation: str


class OverdueItem(PublicSchema):
    """Something whose due date has passed (or falls within the horizon asked for)."""

    entity: Literal["instrument", "weight-set", "weight"]
    id: int
    organisation_id: RecordId
    name: str
    due: Literal["verification", "calibration"]
    due_date: date
    status: Literal["overdue", "due", "ok"] = Field(
        description="overdue: the due date has passed; due: it is today; ok: it is still ahead (within the horizon)"
    )


class DueIntervalSet(Schema):
    """Set the months from a calibration or passed verification to the next one, for the organisation's
    instruments, optionally only those of one kind and/or accuracy class (empty = any)."""

    due: Literal["calibration", "verification"]
    months: Annotated[int, Field(ge=1, le=120)]
    instrument_kind: Literal["", "single-interval", "multi-interval", "multiple-range"] = ""
    accuracy_class: Literal["", "I", "II", "III", "IIII"] = ""


class DueIntervalPublic(PublicSchema):
    id: int
    organisation_id: RecordId
    due: str
    months: int
    instrument_kind: str
    accuracy_class: str
