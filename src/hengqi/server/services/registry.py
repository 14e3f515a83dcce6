"""Sites, customers, instruments, laboratories, weight sets and weights; the traceability chain; the overdue list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from hengqi.errors import N_, FieldError, InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.server import audit
from hengqi.server.db.models import Customer, Instrument, Laboratory, Site, Weight, WeightSet
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.schemas.registry import (
    CustomerCreate,
    CustomerUpdate,
    InstrumentCreate,
    InstrumentUpdate,
    LaboratoryCreate,
    LaboratoryUpdate,
    SiteCreate,
    SiteUpdate,
    WeightCreate,
    WeightSetCreate,
    WeightSetUpdate,
    WeightUpdate,
)
from hengqi.server.services.base import (
    add_audited,
    audited_values,
    changed,
    ensure_organisation,
    flush_or_conflict,
    get_scoped,
    scoped_select,
    soft_delete,
    update_audited,
)
from hengqi.server.services.due import due_status


def _new_owned_org(session: Session, principal: Principal, organisation_id: int | None) -> int:
    principal.require(Permission.WRITE_REGISTRY)
    org = principal.writes_to(organisation_id)
    ensure_organisation(session, org)
    return org


def _same_org(session: Session, principal: Principal, model: Any, key: int | None, *, org: int, field: str) -> None:
    """A reference to another record must point to a live record of the same organisation."""
    if key is None:
        return
    obj = get_scoped(session, principal, model, key)
    if obj.organisation_id != org:
        raise InputError(field, f"{key} belongs to another organisation")


# -- sites ------------------------------------------------------------------------------------------------------
def create_site(session: Session, principal: Principal, data: SiteCreate) -> Site:
    org = _new_owned_org(session, principal, data.organisation_id)
    site = Site(
        organisation_id=org, name=data.name, address=data.address, latitude=data.latitude, longitude=data.longitude
    )
    return add_audited(session, principal, site, what="site")


def update_site(session: Session, principal: Principal, site_id: int, data: SiteUpdate) -> Site:
    principal.require(Permission.WRITE_REGISTRY)
    site = get_scoped(session, principal, Site, site_id)
    return update_audited(session, principal, site, data.model_dump(exclude_unset=True), what="site")


# -- customers --------------------------------------------------------------------------------------------------
def create_customer(session: Session, principal: Principal, data: CustomerCreate) -> Customer:
    org = _new_owned_org(session, principal, data.organisation_id)
    customer = Customer(organisation_id=org, **data.model_dump(exclude={"organisation_id"}))
    return add_audited(session, principal, customer, what="customer")


def update_customer(session: Session, principal: Principal, customer_id: int, data: CustomerUpdate) -> Customer:
    principal.require(Permission.WRITE_REGISTRY)
    customer = get_scoped(session, principal, Customer, customer_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "city", "country"):
        if required in changes and changes[required] is None:
            raise InputError(required, "may not be null")
    changes = {k: ("" if v is None else v) for k, v in changes.items()}
    return update_audited(session, principal, customer, changes, what="customer")


# -- instruments ------------------------------------------------------------------------------------------------
def specification(
    accuracy_class: str,
    *,
    kind: str | None,
    max_kg: Decimal | None,
    e_kg: Decimal | None,
    d_kg: Decimal | None,
    min_kg: Decimal | None,
    ranges: Iterable[tuple[Decimal, Decimal]] | None,
) -> InstrumentSpecification:
    """The instrument's specification, checked by :class:`~hengqi.metrology.classes.InstrumentSpecification`
    (OIML R 76-1:2006, 3.1 to 3.4 and Table 3; a broken rule raises :class:`~hengqi.errors.SpecificationError`)."""
    return InstrumentSpecification.create(
        accuracy_class=accuracy_class,
        kind=kind,
        max=max_kg,
        e=e_kg,
        d=d_kg,
        min=min_kg,
        ranges=None if ranges is None else [(m, e) for m, e in ranges],
    )


def _spec_columns(spec: InstrumentSpecification) -> dict[str, Any]:
    return {
        "accuracy_class": str(spec.accuracy_class),
        "kind": str(spec.kind),
        "max_kg": spec.max_kg,
        "min_kg": spec.min_kg,
        "e_kg": spec.e_kg,
        "d_kg": spec.d_kg,
        "ranges": [{"max_kg": str(r.max_kg), "e_kg": str(r.e_kg)} for r in spec.ranges],
    }


def instrument_specification(instrument: Instrument) -> InstrumentSpecification:
    """The stored specification of ``instrument`` as the core's value."""
    return specification(
        instrument.accuracy_class,
        kind=instrument.kind,
        max_kg=None if len(instrument.ranges) > 1 else instrument.max_kg,
        e_kg=None if len(instrument.ranges) > 1 else instrument.e_kg,
        d_kg=instrument.d_kg,
        min_kg=instrument.min_kg,
        ranges=[(Decimal(r["max_kg"]), Decimal(r["e_kg"])) for r in instrument.ranges]
        if len(instrument.ranges) > 1
        else None,
    )


def create_instrument(session: Session, principal: Principal, data: InstrumentCreate) -> Instrument:
    org = _new_owned_org(session, principal, data.organisation_id)
    _same_org(session, principal, Site, data.site_id, org=org, field="site_id")
    _same_org(session, principal, Customer, data.owner_id, org=org, field="owner_id")
    return add_audited(session, principal, _new_instrument(data, org), what="instrument (make, model, serial)")


def create_instruments(session: Session, principal: Principal, items: Sequence[InstrumentCreate]) -> list[Instrument]:
    """Create many instruments with the checks of :func:`create_instrument` (each organisation, site and owner
    checked once), inserted in one flush and audited with :func:`hengqi.server.audit.record_many`: one entry per
    instrument, as one by one.  A duplicate refuses them all (:class:`~hengqi.server.errors.ConflictError`)."""
    made: list[Instrument] = []
    orgs: dict[int | None, int] = {}
    checked: set[tuple[str, int | None, int]] = set()
    for data in items:
        if data.organisation_id not in orgs:
            orgs[data.organisation_id] = _new_owned_org(session, principal, data.organisation_id)
        org = orgs[data.organisation_id]
        for model, key, name in ((Site, data.site_id, "site_id"), (Customer, data.owner_id, "owner_id")):
            if (name, key, org) not in checked:
                _same_org(session, principal, model, key, org=org, field=name)
                checked.add((name, key, org))
        made.append(_new_instrument(data, org))
    session.add_all(made)
    flush_or_conflict(session, "instrument (make, model, serial)")
    audit.record_many(
        session,
        actor=principal.actor,
        changes=[audit.Change("create", "instruments", i.id, i.organisation_id, new=audited_values(i)) for i in made],
    )
    return made


def _check_installed_on(value: date | None) -> None:
    """An instrument cannot have been put into service after today.  Tomorrow by the server's clock is still
    accepted, so that "today" is accepted in every time zone (UTC-12 to UTC+14)."""
    latest = date.today() + timedelta(days=1)
    if value is not None and value > latest:
        raise FieldError(
            "installed_on",
            template=N_("the date an instrument was put into service may not be in the future: {day}"),
            params={"day": value.isoformat()},
        )


def _new_instrument(data: InstrumentCreate, org: int) -> Instrument:
    """A new (unsaved) instrument of ``data``; the legal core refuses an impossible specification."""
    _check_installed_on(data.installed_on)
    spec = specification(
        data.accuracy_class,
        kind=data.kind,
        max_kg=data.max,
        e_kg=data.e,
        d_kg=data.d,
        min_kg=data.min,
        ranges=None if data.ranges is None else [(r.max, r.e) for r in data.ranges],
    )
    return Instrument(
        organisation_id=org,
        site_id=data.site_id,
        owner_id=data.owner_id,
        make=data.make,
        model=data.model,
        serial=data.serial,
        type_approval=data.type_approval,
        status=data.status,
        verification_due=data.verification_due,
        calibration_due=data.calibration_due,
        installed_on=data.installed_on,
        **_spec_columns(spec),
    )


_SPEC_FIELDS = ("accuracy_class", "kind", "max", "e", "d", "min", "ranges")


def update_instrument(session: Session, principal: Principal, instrument_id: int, data: InstrumentUpdate) -> Instrument:
    principal.require(Permission.WRITE_REGISTRY)
    instrument = get_scoped(session, principal, Instrument, instrument_id)
    changes = _instrument_changes(session, principal, instrument, data, set())
    return update_audited(session, principal, instrument, changes, what="instrument (make, model, serial)")


def _instrument_changes(
    session: Session,
    principal: Principal,
    instrument: Instrument,
    data: InstrumentUpdate,
    checked: set[tuple[str, int | None, int]],
) -> dict[str, Any]:
    """The column values ``data`` sets on ``instrument``, checked as :func:`update_instrument` checks them (a site
    or owner of the instrument's organisation, the specification through the legal core); ``checked`` holds the
    references already found good (a bulk update checks each once)."""
    given = data.model_dump(exclude_unset=True)
    changes = {k: v for k, v in given.items() if k not in _SPEC_FIELDS}
    org = instrument.organisation_id
    for model, name, key in ((Site, "site_id", data.site_id), (Customer, "owner_id", data.owner_id)):
        if name in changes and (name, key, org) not in checked:
            _same_org(session, principal, model, key, org=org, field=name)
            checked.add((name, key, org))
    for required in ("make", "model", "serial", "status"):
        if required in changes and changes[required] is None:
            raise InputError(required, "may not be null")
    if "installed_on" in changes:
        _check_installed_on(data.installed_on)
    if any(k in given for k in _SPEC_FIELDS):
        ranges = data.ranges
        multi = ranges is not None and len(ranges) > 1
        spec = specification(
            data.accuracy_class or instrument.accuracy_class,
            kind=data.kind or (None if ranges is not None else instrument.kind),
            max_kg=data.max if data.max is not None else (None if ranges is not None else instrument.max_kg),
            e_kg=data.e if data.e is not None else (None if ranges is not None else instrument.e_kg),
            d_kg=data.d if data.d is not None else (None if "e" in given or ranges is not None else instrument.d_kg),
            min_kg=data.min,
            ranges=[(r.max, r.e) for r in ranges] if ranges is not None and multi else None,
        )
        changes.update(_spec_columns(spec))
    return changes


#: instruments one query loads in :func:`update_instruments`
_LOAD_CHUNK = 500


def update_instruments(
    session: Session, principal: Principal, items: Sequence[tuple[int, InstrumentUpdate]]
) -> list[Instrument]:
    """Apply many changes with the checks of :func:`update_instrument` (each site and owner checked once): the
    instruments are loaded in chunks, written by one executemany UPDATE per set of changed columns (each row still
    guarded by its ``row_version``, as the ORM guards one) and audited with :func:`hengqi.server.audit.record_many`:
    one entry per instrument with its old and new values, as one by one.  Any refusal (an instrument not found or
    not visible, a bad reference or specification, a row changed meanwhile, a duplicate) writes none of them."""
    principal.require(Permission.WRITE_REGISTRY)
    ids = [key for key, _data in items]
    loaded: dict[int, Instrument] = {}
    for start in range(0, len(ids), _LOAD_CHUNK):
        chunk = ids[start : start + _LOAD_CHUNK]
        for found in session.scalars(scoped_select(principal, Instrument).where(Instrument.id.in_(chunk))):
            loaded[found.id] = found
    checked: set[tuple[str, int | None, int]] = set()
    planned: list[tuple[Instrument, dict[str, Any]]] = []
    now = utcnow()
    for key, data in items:
        instrument = loaded.get(key)
        if instrument is None:
            raise NotFoundError("instrument", key)
        changes = _instrument_changes(session, principal, instrument, data, checked)
        changes.pop("row_version", None)
        planned.append((instrument, {**changes, "updated_at": now}))
    session.flush()  # nothing of this session waits behind the batches
    groups: dict[tuple[str, ...], list[tuple[Instrument, dict[str, Any]]]] = {}
    for instrument, values in planned:
        groups.setdefault(tuple(sorted(values)), []).append((instrument, values))
    table: Table = Instrument.__table__  # type: ignore[assignment]
    befores: list[tuple[Instrument, dict[str, Any]]] = []
    try:
        for columns, rows in groups.items():
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"), table.c.row_version == bindparam("_version"))
                .values({**{c: bindparam(c) for c in columns}, "row_version": bindparam("_next")})
            )
            params = [
                {**values, "_id": i.id, "_version": i.row_version, "_next": i.row_version + 1} for i, values in rows
            ]
            result = session.connection().execute(statement, params)
            if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
                raise StaleDataError(f"{len(params) - result.rowcount} instrument(s) changed meanwhile")
            for instrument, values in rows:
                befores.append((instrument, audited_values(instrument)))
                for name, value in {**values, "row_version": instrument.row_version + 1}.items():
                    set_committed_value(instrument, name, value)
    except IntegrityError as err:
        session.rollback()
        raise ConflictError(
            "instrument (make, model, serial) conflicts with an existing record", code="duplicate"
        ) from err
    except StaleDataError as err:
        session.rollback()
        raise ConflictError(
            "an instrument was changed by someone else at the same time; read it again and repeat the import",
            code="stale_version",
        ) from err
    order = {id(i): n for n, (i, _values) in enumerate(planned)}
    befores.sort(key=lambda pair: order[id(pair[0])])
    entries: list[audit.Change] = []
    for instrument, before in befores:
        old, new = changed(before, audited_values(instrument))
        new.pop("updated_at", None)  # as :func:`~hengqi.server.services.base.update_audited` records a change
        if old or new:
            entries.append(audit.Change("update", "instruments", instrument.id, instrument.organisation_id, old, new))
    audit.record_many(session, actor=principal.actor, changes=entries)
    return [instrument for instrument, _values in planned]


def delete_instrument(
    session: Session, principal: Principal, instrument_id: int, *, expected_version: int | None = None
) -> None:
    delete_record(session, principal, Instrument, instrument_id, expected_version=expected_version)


def delete_record(
    session: Session, principal: Principal, model: Any, key: int, *, expected_version: int | None = None
) -> None:
    """Soft-delete a registry record (it stays in the database and the audit trail, and leaves every list)."""
    principal.require(Permission.DELETE_REGISTRY)
    obj = get_scoped(session, principal, model, key)
    soft_delete(session, principal, obj, what=str(model.__tablename__), expected_version=expected_version)


# -- laboratories and the traceability chain --------------------------------------------------------------------
def create_laboratory(session: Session, principal: Principal, data: LaboratoryCreate) -> Laboratory:
    org = _new_owned_org(session, principal, data.organisation_id)
    if data.traceable_to_id is not None:
        get_scoped(session, principal, Laboratory, data.traceable_to_id)
    lab = Laboratory(
        organisation_id=org, name=data.name, accreditation=data.accreditation, traceable_to_id=data.traceable_to_id
    )
    return add_audited(session, principal, lab, what="laboratory")


def update_laboratory(session: Session, principal: Principal, lab_id: int, data: LaboratoryUpdate) -> Laboratory:
    principal.require(Permission.WRITE_REGISTRY)
    lab = get_scoped(session, principal, Laboratory, lab_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("traceable_to_id") is not None:
        get_scoped(session, principal, Laboratory, changes["traceable_to_id"])
        if lab_id in {link.id for link in _chain_from(session, principal, changes["traceable_to_id"])}:
            raise InputError("traceable_to_id", "would make the traceability chain a loop")
    return update_audited(session, principal, lab, changes, what="laboratory")


def _chain_from(session: Session, principal: Principal, lab_id: int | None) -> list[Laboratory]:
    chain: list[Laboratory] = []
    seen: set[int] = set()
    while lab_id is not None and lab_id not in seen:
        seen.add(lab_id)
        lab = session.get(Laboratory, lab_id)
        if lab is None or not principal.sees(lab.organisation_id):
            break
        chain.append(lab)
        lab_id = lab.traceable_to_id
    return chain


def traceability(session: Session, principal: Principal, weight_set_id: int) -> list[Laboratory]:
    """The calibration laboratories from the one that calibrated the set up to the last link recorded
    (ISO/IEC 17025:2017, 6.5: an unbroken chain of calibrations to the SI)."""
    weight_set = get_scoped(session, principal, WeightSet, weight_set_id)
    return _chain_from(session, principal, weight_set.laboratory_id)


# -- weight sets and weights ------------------------------------------------------------------------------------
def create_weight_set(session: Session, principal: Principal, data: WeightSetCreate) -> WeightSet:
    org = _new_owned_org(session, principal, data.organisation_id)
    _same_org(session, principal, Laboratory, data.laboratory_id, org=org, field="laboratory_id")
    values = data.model_dump(exclude={"organisation_id"})
    return add_audited(session, principal, WeightSet(organisation_id=org, **values), what="weight set")


def update_weight_set(session: Session, principal: Principal, set_id: int, data: WeightSetUpdate) -> WeightSet:
    principal.require(Permission.WRITE_REGISTRY)
    weight_set = get_scoped(session, principal, WeightSet, set_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("laboratory_id") is not None:
        _same_org(
            session,
            principal,
            Laboratory,
            changes["laboratory_id"],
            org=weight_set.organisation_id,
            field="laboratory_id",
        )
    return update_audited(session, principal, weight_set, changes, what="weight set")


def create_weight(session: Session, principal: Principal, set_id: int, data: WeightCreate) -> Weight:
    principal.require(Permission.WRITE_REGISTRY)
    weight_set = get_scoped(session, principal, WeightSet, set_id)
    weight = Weight(
        organisation_id=weight_set.organisation_id,
        weight_set_id=weight_set.id,
        identifier=data.identifier,
        nominal_kg=data.nominal,
        weight_class=data.weight_class or weight_set.weight_class,
        correction_kg=data.correction,
        u_kg=data.u,
        k=data.k,
        certificate_number=data.certificate_number
        if data.certificate_number is not None
        else weight_set.certificate_number,
        due_date=data.due_date,
    )
    return add_audited(session, principal, weight, what="weight")


_WEIGHT_COLUMNS = {"nominal": "nominal_kg", "correction": "correction_kg", "u": "u_kg"}


def update_weight(session: Session, principal: Principal, weight_id: int, data: WeightUpdate) -> Weight:
    principal.require(Permission.WRITE_REGISTRY)
    weight = get_scoped(session, principal, Weight, weight_id)
    changes = {_WEIGHT_COLUMNS.get(k, k): v for k, v in data.model_dump(exclude_unset=True).items()}
    for key in ("identifier", "nominal_kg", "weight_class", "correction_kg", "u_kg", "k", "certificate_number"):
        if key in changes and changes[key] is None:
            raise InputError(key, "may not be null")
    return update_audited(session, principal, weight, changes, what="weight")


def weight_due(session: Session, weight: Weight) -> date | None:
    """A weight's calibration due date: its own, else its set's."""
    if weight.due_date is not None:
        return weight.due_date
    weight_set = session.get(WeightSet, weight.weight_set_id)
    return None if weight_set is None else weight_set.due_date


# -- the overdue list -------------------------------------------------------------------------------------------
def overdue(session: Session, principal: Principal, on: date, *, today: date | None = None) -> list[dict[str, Any]]:
    """Instruments whose verification or calibration, and weights or sets whose calibration, is due on or before
    ``on``, soonest first; each with its ``status`` on ``today`` (default: the current date) by the one definition
    of :func:`hengqi.server.services.due.due_status` (due on the day, overdue strictly after, else ok)."""
    today = date.today() if today is None else today
    items: list[dict[str, Any]] = []
    statement = scoped_select(principal, Instrument).where(
        or_(Instrument.verification_due <= on, Instrument.calibration_due <= on)
    )
    for inst in session.scalars(statement):
        name = f"{inst.make} {inst.model} {inst.serial}"
        for due, when in (("verification", inst.verification_due), ("calibration", inst.calibration_due)):
            if when is not None and when <= on:
                items.append(_item("instrument", inst.id, inst.organisation_id, name, due=due, when=when))
    for ws in session.scalars(scoped_select(principal, WeightSet).where(WeightSet.due_date <= on)):
        items.append(_item("weight-set", ws.id, ws.organisation_id, ws.name, due="calibration", when=ws.due_date))
    for w in session.scalars(scoped_select(principal, Weight).where(Weight.due_date <= on)):
        items.append(_item("weight", w.id, w.organisation_id, w.identifier, due="calibration", when=w.due_date))
    items.sort(key=lambda item: (item["due_date"], item["entity"], item["id"]))
    for item in items:
        item["status"] = due_status(item["due_date"], today)
    return items


def _item(entity: str, key: int, org: int, name: str, *, due: str, when: date | None) -> dict[str, Any]:
    return {"entity": entity, "id": key, "organisation_id": org, "name": name, "due": due, "due_date": when}


def live_weights(session: Session, principal: Principal, ids: Iterable[int], org: int) -> list[Weight]:
    """The weights ``ids`` (each must be visible, live and of organisation ``org``)."""
    weights = []
    for index, key in enumerate(ids):
        weight = get_scoped(session, principal, Weight, key)
        if weight.organisation_id != org:
            raise InputError(f"weight_ids[{index}]", f"weight {key} belongs to another organisation")
        weights.append(weight)
    return weights
