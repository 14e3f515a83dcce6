"""The registry objects managed from the browser: their form fields, list columns, and the service calls that
create, change and retire them.

Every change goes through the same service functions as the REST API (:mod:`hengqi.server.services.registry`) with
the API's request schemas (:mod:`hengqi.server.schemas.registry`), so a form is validated, permitted and audited
exactly as the API call would be: the legal core refuses an impossible instrument specification with the rule
named (:class:`hengqi.errors.SpecificationError`), a role without the permission gets HTTP 403, and a record of an
organisation the user may not see is "not found".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from hengqi.errors import N_, FieldError, InputError
from hengqi.server.db.models import Base, Customer, Instrument, Laboratory, Site, Weight, WeightSet
from hengqi.server.db.types import plain_decimal
from hengqi.server.permissions import Principal
from hengqi.server.schemas import registry as schemas
from hengqi.server.services import registry

#: the most characters a form field may carry (the longest column is an address of 2000)
FIELD_LIMIT: Final = 2000


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form: ``name`` as the API schema calls it, ``attr`` the model's column it shows."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, date, select, ref
    attr: str = ""
    options: tuple[str, ...] = ()
    ref: str = ""  # the kind of record a ``ref`` field names
    required: bool = False

    @property
    def column(self) -> str:
        return self.attr or self.name


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a list: the model attribute, its label, and whether it is a reference to another kind."""

    attr: str
    label: str
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of registry record managed from the browser."""

    slug: str
    model: type[Base]
    title: str
    fields: tuple[FormField, ...]
    columns: tuple[Column, ...]
    search: tuple[str, ...]
    create: Callable[[Session, Principal, dict[str, Any]], Base]
    update: Callable[[Session, Principal, int, dict[str, Any]], Base]
    versioned_update: bool = True
    #: fields sent together when one of them changes (the specification is checked as a whole)
    together: tuple[str, ...] = ()
    label: Callable[[Any], str] = lambda obj: str(getattr(obj, "name", obj.id))


#: pydantic's error types of a number or a date that cannot be read (https://docs.pydantic.dev/latest/errors/)
_NOT_A_NUMBER: Final = frozenset(
    {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float", "decimal_parsing", "decimal_type"}
)
_NOT_A_DATE: Final = frozenset(
    {"date_parsing", "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_future"}
)


def validated(schema: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """``values`` as ``schema``; the first refusal as :class:`InputError` naming the field (the core's refusal with its
    catalogue text, where it carries one, so that the page shows it in the reader's language)."""
    try:
        return schema.model_validate(dict(values))
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first.get("loc", ()))
        kind = str(first.get("type", ""))
        if kind == "missing":
            raise FieldError(path, template=N_("required")) from err
        if kind in _NOT_A_NUMBER:
            raise FieldError(path, template=N_("not a number")) from err
        if kind in _NOT_A_DATE:
            raise FieldError(path, template=N_("not a date (YYYY-MM-DD)")) from err
        if kind in ("literal_error", "enum"):
            offered = re.findall(r"'([^']*)'", str((first.get("ctx") or {}).get("expected", "")))
            if offered:
                choices = {"choices": ", ".join(offered)}
                raise FieldError(path, template=N_("not one of the choices: {choices}"), params=choices) from err
        refused = (first.get("ctx") or {}).get("error")
        template = getattr(refused, "template", None)
        if isinstance(template, str):  # the core's refusal as a catalogue text (e.g. a mass that cannot be read)
            raise FieldError(path, template=template, params=getattr(refused, "params", {})) from err
        raise InputError(path, str(first.get("msg", "invalid"))) from err


def _create(schema: type[BaseModel], service: Callable[[Session, Principal, Any], Base]) -> Any:
    def create(session: Session, principal: Principal, values: dict[str, Any]) -> Base:
        return service(session, principal, validated(schema, values))

    return create


def _update(schema: type[BaseModel], service: Callable[[Session, Principal, int, Any], Base]) -> Any:
    def update(session: Session, principal: Principal, key: int, values: dict[str, Any]) -> Base:
        return service(session, principal, key, validated(schema, values))

    return update


_CLASSES = ("I", "II", "III", "IIII")
_WEIGHT_CLASSES = ("E1", "E2", "F1", "F2", "M1", "M1-2", "M2", "M2-3", "M3")
_STATUSES = ("in-service", "out-of-service", "withdrawn")

CUSTOMERS = Kind(
    slug="customers",
    model=Customer,
    title="reg.customers",
    fields=(
        FormField("name", "reg.name", required=True),
        FormField("name_zh", "reg.name_zh"),
        FormField("street", "reg.street"),
        FormField("street_no", "reg.street_no"),
        FormField("post_code", "reg.post_code"),
        FormField("city", "reg.city", required=True),
        FormField("state", "reg.state"),
        FormField("country", "reg.country", required=True),
        FormField("email", "reg.email"),
        FormField("phone", "reg.phone"),
    ),
    columns=(Column("name", "reg.name"), Column("city", "reg.city"), Column("country", "reg.country")),
    search=("name", "name_zh", "city"),
    create=_create(schemas.CustomerCreate, registry.create_customer),
    update=_update(schemas.CustomerUpdate, registry.update_customer),
    versioned_update=False,  # the API's customer change carries no row_version
)

SITES = Kind(
    slug="sites",
    model=Site,
    title="reg.sites",
    fields=(
        FormField("name", "reg.name", required=True),
        FormField("address", "reg.address", kind="textarea"),
        FormField("latitude", "reg.latitude"),
        FormField("longitude", "reg.longitude"),
    ),
    columns=(Column("name", "reg.name"), Column("address", "reg.address")),
    search=("name", "address"),
    create=_create(schemas.SiteCreate, registry.create_site),
    update=_update(schemas.SiteUpdate, registry.update_site),
)

INSTRUMENTS = Kind(
    slug="instruments",
    model=Instrument,
    title="reg.instruments",
    fields=(
        FormField("make", "reg.make", required=True),
        FormField("model", "reg.model", required=True),
        FormField("serial", "col.serial", required=True),
        FormField("type_approval", "reg.type_approval"),
        FormField("accuracy_class", "col.class", kind="select", options=_CLASSES, required=True),
        FormField("max", "reg.max", attr="max_kg", required=True),
        FormField("e", "reg.e", attr="e_kg", required=True),
        FormField("d", "reg.d", attr="d_kg"),
        FormField("min", "reg.min", attr="min_kg"),
        FormField("site_id", "col.site", kind="ref", ref="sites"),
        FormField("owner_id", "reg.owner", kind="ref", ref="customers"),
        FormField("status", "col.status", kind="select", options=_STATUSES, required=True),
        FormField("verification_due", "spec.verification_due", kind="date"),
        FormField("calibration_due", "reg.calibration_due", kind="date"),
        FormField("installed_on", "reg.installed_on", kind="date"),
    ),
    columns=(
        Column("make", "reg.make"),
        Column("model", "reg.model"),
        Column("serial", "col.serial"),
        Column("accuracy_class", "col.class"),
        Column("max_kg", "reg.max"),
        Column("site_id", "col.site", ref="sites"),
        Column("owner_id", "reg.owner", ref="customers"),
        Column("status", "col.status"),
        Column("verification_due", "spec.verification_due"),
        Column("calibration_due", "reg.calibration_due"),
        Column("installed_on", "reg.installed_on"),
    ),
    search=("make", "model", "serial"),
    create=_create(schemas.InstrumentCreate, registry.create_instrument),
    update=_update(schemas.InstrumentUpdate, registry.update_instrument),
    together=("accuracy_class", "max", "e", "d", "min"),
    label=lambda obj: f"{obj.make} {obj.model} {obj.serial}",
)

WEIGHT_SETS = Kind(
    slug="weight-sets",
    model=WeightSet,
    title="reg.weight_sets",
    fields=(
        FormField("name", "reg.name", required=True),
        FormField("weight_class", "col.class", kind="select", options=_WEIGHT_CLASSES, required=True),
        FormField("serial", "col.serial"),
        FormField("laboratory_id", "reg.laboratory", kind="ref", ref="laboratories"),
        FormField("certificate_number", "reg.certificate_number"),
        FormField("calibrated_on", "reg.calibrated_on", kind="date"),
        FormField("due_date", "col.due", kind="date"),
    ),
    columns=(
        Column("name", "reg.name"),
        Column("weight_class", "col.class"),
        Column("serial", "col.serial"),
        Column("certificate_number", "reg.certificate_number"),
        Column("due_date", "col.due"),
    ),
    search=("name", "serial", "certificate_number"),
    create=_create(schemas.WeightSetCreate, registry.create_weight_set),
    update=_update(schemas.WeightSetUpdate, registry.update_weight_set),
)

WEIGHT_FIELDS: Final = (
    FormField("identifier", "reg.identifier", required=True),
    FormField("nominal", "reg.nominal", attr="nominal_kg", required=True),
    FormField("weight_class", "col.class", kind="select", options=_WEIGHT_CLASSES),
    FormField("correction", "reg.correction", attr="correction_kg"),
    FormField("u", "reg.u", attr="u_kg"),
    FormField("k", "reg.k"),
    FormField("certificate_number", "reg.certificate_number"),
    FormField("due_date", "col.due", kind="date"),
)


def _no_create(session: Session, principal: Principal, values: dict[str, Any]) -> Base:  # pragma: no cover
    raise InputError("weight_set_id", "a weight is added to its set")


WEIGHTS = Kind(
    slug="weights",
    model=Weight,
    title="reg.weights",
    fields=WEIGHT_FIELDS,
    columns=(
        Column("identifier", "reg.identifier"),
        Column("nominal_kg", "reg.nominal"),
        Column("weight_class", "col.class"),
        Column("certificate_number", "reg.certificate_number"),
        Column("due_date", "col.due"),
    ),
    search=("identifier", "certificate_number"),
    create=_no_create,
    update=_update(schemas.WeightUpdate, registry.update_weight),
    label=lambda obj: str(obj.identifier),
)

KINDS: Final[dict[str, Kind]] = {k.slug: k for k in (CUSTOMERS, SITES, INSTRUMENTS, WEIGHT_SETS, WEIGHTS)}
#: the kinds a ``ref`` field may name, with their model
REF_MODELS: Final[dict[str, type[Base]]] = {
    "sites": Site,
    "customers": Customer,
    "laboratories": Laboratory,
}


def create_weight(session: Session, principal: Principal, set_id: int, values: dict[str, Any]) -> Weight:
    """A weight added to set ``set_id`` (the API's ``POST /weight-sets/{id}/weights``)."""
    return registry.create_weight(session, principal, set_id, validated(schemas.WeightCreate, values))


def shown(value: object) -> str:
    """A stored value as a form shows it (exact decimals without exponent, ISO dates, "" for none)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(plain_decimal(value), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def form_values(fields: tuple[FormField, ...], form: Mapping[str, Any]) -> dict[str, str]:
    """The submitted text of each field (stripped; at most :data:`FIELD_LIMIT` characters)."""
    values: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.name, "")
        text = raw.strip() if isinstance(raw, str) else ""
        if len(text) > FIELD_LIMIT:
            raise InputError(f.name, f"longer than {FIELD_LIMIT} characters")
        values[f.name] = text
    return values


#: fields holding numbers without a model column of another name (an empty one means "none")
_NUMBERS: Final = frozenset({"latitude", "longitude", "k"})


def _typed(f: FormField, text: str) -> Any:
    if f.kind == "ref":
        if not text:
            return None
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            raise FieldError(f.name, template=N_("not a record number"))
        return int(text)
    if text == "" and (f.kind in ("date", "select") or f.attr or f.name in _NUMBERS):
        return None
    return text


def creation(kind_fields: tuple[FormField, ...], values: Mapping[str, str]) -> dict[str, Any]:
    """The request body of a create: the fields filled in (empty ones take the API's defaults)."""
    return {f.name: _typed(f, values[f.name]) for f in kind_fields if values.get(f.name, "") != ""}


def changes(kind: Kind, obj: Any, values: Mapping[str, str], row_version: int | None) -> dict[str, Any]:
    """The request body of a change: only the fields whose text differs from the stored value (as a PATCH), the
    specification as a whole where any part of it changed, and the version the form was made from."""
    body: dict[str, Any] = {}
    for f in kind.fields:
        if values[f.name] != shown(getattr(obj, f.column)):
            body[f.name] = _typed(f, values[f.name])
    if kind.together and any(name in body for name in kind.together):
        for name in kind.together:
            f = next(x for x in kind.fields if x.name == name)
            if values[name] != "":
                body[name] = _typed(f, values[name])
            else:
                body.pop(name, None)
    if kind.versioned_update and row_version is not None:
        body["row_version"] = row_version
    return body
