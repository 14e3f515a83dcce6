"""Sites, customers, instruments, laboratories, weight sets, weights, the traceability chain and the overdue list."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from hengqi.server.api import pages
from hengqi.server.api.deps import CurrentPrincipal, Listing, ReadSession, WriteSession
from hengqi.server.api.listing import CSV_RESPONSE, csv_response, respond
from hengqi.server.api.reads import Caller, CallerDep, principal_on, read_as, read_record
from hengqi.server.api.versioning import IfMatch, expected_version, tagged, with_version
from hengqi.server.db.models import Customer, Instrument, Laboratory, Site, Weight, WeightSet
from hengqi.server.permissions import Principal
from hengqi.server.schemas.common import Page
from hengqi.server.schemas.registry import (
    AccuracyClassText,
    CustomerCreate,
    CustomerPublic,
    CustomerUpdate,
    DueIntervalPublic,
    DueIntervalSet,
    InstrumentCreate,
    InstrumentPublic,
    InstrumentStatus,
    InstrumentUpdate,
    LaboratoryCreate,
    LaboratoryPublic,
    LaboratoryUpdate,
    OverdueItem,
    SiteCreate,
    SitePublic,
    SiteUpdate,
    TraceabilityLink,
    WeightCreate,
    WeightPublic,
    WeightSetCreate,
    WeightSetPublic,
    WeightSetUpdate,
    WeightUpdate,
)
from hengqi.server.services import due, registry
from hengqi.server.services.base import page, scoped_select

router = APIRouter(tags=["registry"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
OrgFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=100)]


# -- instruments ------------------------------------------------------------------------------------------------
@router.post("/instruments", response_model=InstrumentPublic, status_code=201)
def create_instrument(data: InstrumentCreate, principal: CurrentPrincipal, session: WriteSession) -> InstrumentPublic:
    """Register an instrument; its specification is checked against its accuracy class (OIML R 76-1:2006)."""
    instrument = registry.create_instrument(session, principal, data)
    session.commit()
    return InstrumentPublic.model_validate(instrument)


@router.get("/instruments", response_model=Page[InstrumentPublic], responses=CSV_RESPONSE)
async def list_instruments(
    *,
    caller: CallerDep,
    params: Listing,
    organisation_id: OrgFilter = None,
    site_id: OrgFilter = None,
    owner_id: OrgFilter = None,
    status: InstrumentStatus | None = None,
    accuracy_class: AccuracyClassText | None = None,
    make: Text = None,
    model: Text = None,
    serial: Text = None,
) -> Response:
    """A page of instruments as JSON (the fast path of :mod:`hengqi.server.api.pages`: the caller's lookup and
    the page's queries on one reading connection in one hop, :func:`~hengqi.server.api.reads.read_as`), or
    every row as CSV."""
    filters: dict[str, object] = {
        "organisation_id": organisation_id,
        "site_id": site_id,
        "owner_id": owner_id,
        "status": status,
        "accuracy_class": accuracy_class,
        "make": make,
        "model": model,
        "serial": serial,
    }
    if params.format == "csv":
        return await run_in_threadpool(_instruments_csv, caller, params, filters)

    def body(connection: Connection, principal: Principal) -> bytes:
        return pages.instrument_page(
            connection, principal, sort=params.sort, limit=params.limit, offset=params.offset, filters=filters
        )

    return Response(await read_as(caller, body), media_type="application/json")


def _instruments_csv(caller: Caller, params: Listing, filters: dict[str, object]) -> Response:
    with caller.state.database.read_session() as session:
        principal = principal_on(caller, session.connection())
        result = page(
            session,
            scoped_select(principal, Instrument),
            Instrument,
            params.query(**filters),
            sortable=pages.INSTRUMENT_SORTABLE,
            filterable=pages.INSTRUMENT_FILTERABLE,
        )
        return respond(InstrumentPublic, result, params, "instruments")


@router.get("/instruments/export.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
def export_instruments(principal: CurrentPrincipal, session: ReadSession) -> StreamingResponse:
    """Every instrument the caller may see, as CSV."""
    statement = scoped_select(principal, Instrument).order_by(Instrument.id)
    return csv_response(InstrumentPublic, list(session.scalars(statement)), "instruments")


@router.get("/instruments/{instrument_id}", response_model=InstrumentPublic)
async def get_instrument(instrument_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Instrument, InstrumentPublic, instrument_id)


@router.patch("/instruments/{instrument_id}", response_model=InstrumentPublic)
def update_instrument(
    *,
    instrument_id: Id,
    data: InstrumentUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> InstrumentPublic:
    instrument = registry.update_instrument(session, principal, instrument_id, with_version(data, if_match))
    session.commit()
    return tagged(response, InstrumentPublic.model_validate(instrument))


@router.delete("/instruments/{instrument_id}", status_code=204)
def delete_instrument(
    instrument_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None
) -> None:
    """Soft delete: the instrument stays in the database (and the audit trail) but leaves every list."""
    registry.delete_instrument(session, principal, instrument_id, expected_version=expected_version(if_match))
    session.commit()


# -- sites ------------------------------------------------------------------------------------------------------
@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(data: SiteCreate, principal: CurrentPrincipal, session: WriteSession) -> SitePublic:
    site = registry.create_site(session, principal, data)
    session.commit()
    return SitePublic.model_validate(site)


@router.get("/sites", response_model=Page[SitePublic], responses=CSV_RESPONSE)
def list_sites(
    principal: CurrentPrincipal, session: ReadSession, params: Listing, organisation_id: OrgFilter = None
) -> Response:
    result = page(
        session,
        scoped_select(principal, Site),
        Site,
        params.query(organisation_id=organisation_id),
        sortable=("id", "name", "created_at"),
        filterable=("organisation_id",),
    )
    return respond(SitePublic, result, params, "sites")


@router.get("/sites/{site_id}", response_model=SitePublic)
async def get_site(site_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Site, SitePublic, site_id)


@router.patch("/sites/{site_id}", response_model=SitePublic)
def update_site(
    *,
    site_id: Id,
    data: SiteUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> SitePublic:
    site = registry.update_site(session, principal, site_id, with_version(data, if_match))
    session.commit()
    return tagged(response, SitePublic.model_validate(site))


# -- customers --------------------------------------------------------------------------------------------------
@router.post("/customers", response_model=CustomerPublic, status_code=201)
def create_customer(data: CustomerCreate, principal: CurrentPrincipal, session: WriteSession) -> CustomerPublic:
    """Register a customer (an instrument's owner, named with its address on certificates)."""
    customer = registry.create_customer(session, principal, data)
    session.commit()
    return CustomerPublic.model_validate(customer)


@router.get("/customers", response_model=Page[CustomerPublic], responses=CSV_RESPONSE)
def list_customers(
    principal: CurrentPrincipal, session: ReadSession, params: Listing, organisation_id: OrgFilter = None
) -> Response:
    result = page(
        session,
        scoped_select(principal, Customer),
        Customer,
        params.query(organisation_id=organisation_id),
        sortable=("id", "name", "city", "created_at"),
        filterable=("organisation_id",),
    )
    return respond(CustomerPublic, result, params, "customers")


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
async def get_customer(customer_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Customer, CustomerPublic, customer_id)


@router.patch("/customers/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: Id, data: CustomerUpdate, principal: CurrentPrincipal, session: WriteSession
) -> CustomerPublic:
    customer = registry.update_customer(session, principal, customer_id, data)
    session.commit()
    return CustomerPublic.model_validate(customer)


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(customer_id: Id, principal: CurrentPrincipal, session: WriteSession) -> None:
    registry.delete_record(session, principal, Customer, customer_id)
    session.commit()


@router.delete("/sites/{site_id}", status_code=204)
def delete_site(site_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None) -> None:
    registry.delete_record(session, principal, Site, site_id, expected_version=expected_version(if_match))
    session.commit()


# -- laboratories -----------------------------------------------------------------------------------------------
@router.post("/laboratories", response_model=LaboratoryPublic, status_code=201)
def create_laboratory(data: LaboratoryCreate, principal: CurrentPrincipal, session: WriteSession) -> LaboratoryPublic:
    lab = registry.create_laboratory(session, principal, data)
    session.commit()
    return LaboratoryPublic.model_validate(lab)


@router.get("/laboratories", response_model=Page[LaboratoryPublic], responses=CSV_RESPONSE)
def list_laboratories(principal: CurrentPrincipal, session: ReadSession, params: Listing) -> Response:
    result = page(
        session,
        scoped_select(principal, Laboratory),
        Laboratory,
        params.query(),
        sortable=("id", "name"),
        filterable=(),
    )
    return respond(LaboratoryPublic, result, params, "laboratories")


@router.get("/laboratories/{lab_id}", response_model=LaboratoryPublic)
async def get_laboratory(lab_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Laboratory, LaboratoryPublic, lab_id)


@router.patch("/laboratories/{lab_id}", response_model=LaboratoryPublic)
def update_laboratory(
    *,
    lab_id: Id,
    data: LaboratoryUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> LaboratoryPublic:
    lab = registry.update_laboratory(session, principal, lab_id, with_version(data, if_match))
    session.commit()
    return tagged(response, LaboratoryPublic.model_validate(lab))


@router.delete("/laboratories/{lab_id}", status_code=204)
def delete_laboratory(lab_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None) -> None:
    registry.delete_record(session, principal, Laboratory, lab_id, expected_version=expected_version(if_match))
    session.commit()


# -- weight sets and weights ------------------------------------------------------------------------------------
@router.post("/weight-sets", response_model=WeightSetPublic, status_code=201)
def create_weight_set(data: WeightSetCreate, principal: CurrentPrincipal, session: WriteSession) -> WeightSetPublic:
    weight_set = registry.create_weight_set(session, principal, data)
    session.commit()
    return WeightSetPublic.model_validate(weight_set)


@router.get("/weight-sets", response_model=Page[WeightSetPublic], responses=CSV_RESPONSE)
def list_weight_sets(principal: CurrentPrincipal, session: ReadSession, params: Listing) -> Response:
    result = page(
        session,
        scoped_select(principal, WeightSet),
        WeightSet,
        params.query(),
        sortable=("id", "name", "due_date"),
        filterable=(),
    )
    return respond(WeightSetPublic, result, params, "weight-sets")


@router.get("/weight-sets/{set_id}", response_model=WeightSetPublic)
async def get_weight_set(set_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, WeightSet, WeightSetPublic, set_id)


@router.patch("/weight-sets/{set_id}", response_model=WeightSetPublic)
def update_weight_set(
    *,
    set_id: Id,
    data: WeightSetUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> WeightSetPublic:
    weight_set = registry.update_weight_set(session, principal, set_id, with_version(data, if_match))
    session.commit()
    return tagged(response, WeightSetPublic.model_validate(weight_set))


@router.delete("/weight-sets/{set_id}", status_code=204)
def delete_weight_set(set_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None) -> None:
    registry.delete_record(session, principal, WeightSet, set_id, expected_version=expected_version(if_match))
    session.commit()


@router.get("/weight-sets/{set_id}/traceability", response_model=list[TraceabilityLink])
def weight_set_traceability(set_id: Id, principal: CurrentPrincipal, session: ReadSession) -> list[TraceabilityLink]:
    """The chain of calibration laboratories, from the one that calibrated the set upwards."""
    return [TraceabilityLink.model_validate(lab) for lab in registry.traceability(session, principal, set_id)]


@router.post("/weight-sets/{set_id}/weights", response_model=WeightPublic, status_code=201)
def create_weight(set_id: Id, data: WeightCreate, principal: CurrentPrincipal, session: WriteSession) -> WeightPublic:
    weight = registry.create_weight(session, principal, set_id, data)
    session.commit()
    return WeightPublic.model_validate(weight)


@router.get("/weights", response_model=Page[WeightPublic], responses=CSV_RESPONSE)
def list_weights(
    principal: CurrentPrincipal, session: ReadSession, params: Listing, weight_set_id: OrgFilter = None
) -> Response:
    result = page(
        session,
        scoped_select(principal, Weight),
        Weight,
        params.query(weight_set_id=weight_set_id),
        sortable=("id", "identifier", "nominal_kg", "due_date"),
        filterable=("weight_set_id",),
    )
    return respond(WeightPublic, result, params, "weights")


@router.get("/weights/{weight_id}", response_model=WeightPublic)
async def get_weight(weight_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Weight, WeightPublic, weight_id)


@router.patch("/weights/{weight_id}", response_model=WeightPublic)
def update_weight(
    *,
    weight_id: Id,
    data: WeightUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> WeightPublic:
    weight = registry.update_weight(session, principal, weight_id, with_version(data, if_match))
    session.commit()
    return tagged(response, WeightPublic.model_validate(weight))


@router.delete("/weights/{weight_id}", status_code=204)
def delete_weight(weight_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None) -> None:
    registry.delete_record(session, principal, Weight, weight_id, expected_version=expected_version(if_match))
    session.commit()


# -- due dates --------------------------------------------------------------------------------------------------
@router.get("/due-intervals", response_model=list[DueIntervalPublic])
def list_due_intervals(principal: CurrentPrincipal, session: ReadSession) -> list[DueIntervalPublic]:
    """The intervals the organisation has set (where none applies: 12 months, a hengqi default)."""
    return [DueIntervalPublic.model_validate(row) for row in due.intervals(session, principal)]


@router.put("/due-intervals", response_model=DueIntervalPublic)
def set_due_interval(data: DueIntervalSet, principal: CurrentPrincipal, session: WriteSession) -> DueIntervalPublic:
    """Set one interval (created, or changed where the same scope exists)."""
    row = due.set_interval(
        session,
        principal,
        due=data.due,
        months=data.months,
        instrument_kind=data.instrument_kind,
        accuracy_class=data.accuracy_class,
    )
    session.commit()
    return DueIntervalPublic.model_validate(row)


@router.get("/overdue", response_model=list[OverdueItem])
def overdue(
    principal: CurrentPrincipal,
    session: ReadSession,
    on: Annotated[date | None, Query(description="due on or before this day (default: today)")] = None,
) -> list[OverdueItem]:
    """Instruments, weight sets and weights whose verification or calibration is due on or before ``on``; each
    says whether it is overdue (due date passed), due (today) or ok (still ahead)."""
    items = registry.overdue(session, principal, on or date.today(), today=date.today())
    return [OverdueItem.model_validate(item) for item in items]
