"""Procedures, runs and certificates (with their stored documents and the four-eyes workflow)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.api.deps import CurrentPrincipal, Listing, ReadSession, StateDep, WriteSession
from hengqi.server.api.listing import CSV_RESPONSE, respond
from hengqi.server.api.reads import CallerDep, read_record
from hengqi.server.api.versioning import IfMatch, expected_version, tagged, with_version
from hengqi.server.db.models import Certificate, Procedure, Run
from hengqi.server.headers import content_disposition
from hengqi.server.schemas.common import Page
from hengqi.server.schemas.workflow import (
    CertificateCreate,
    CertificatePublic,
    CertificateStatus,
    CertificateUpdate,
    ProcedureCreate,
    ProcedurePublic,
    ProcedureUpdate,
    RunCreate,
    RunKind,
    RunPublic,
    RunRevisionCreate,
    RunUpdate,
    WithdrawRequest,
)
from hengqi.server.services import certificates, runs
from hengqi.server.services.base import Page as ServicePage
from hengqi.server.services.base import get_scoped, page, scoped_select

router = APIRouter(tags=["workflow"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


# -- procedures -------------------------------------------------------------------------------------------------
@router.post("/procedures", response_model=ProcedurePublic, status_code=201)
def create_procedure(data: ProcedureCreate, principal: CurrentPrincipal, session: WriteSession) -> ProcedurePublic:
    procedure = runs.create_procedure(session, principal, data)
    session.commit()
    return ProcedurePublic.model_validate(procedure)


@router.get("/procedures", response_model=Page[ProcedurePublic], responses=CSV_RESPONSE)
def list_procedures(
    principal: CurrentPrincipal, session: ReadSession, params: Listing, kind: RunKind | None = None
) -> Response:
    result = page(
        session,
        scoped_select(principal, Procedure),
        Procedure,
        params.query(kind=kind),
        sortable=("id", "name", "kind"),
        filterable=("kind",),
    )
    return respond(ProcedurePublic, result, params, "procedures")


@router.get("/procedures/{procedure_id}", response_model=ProcedurePublic)
async def get_procedure(procedure_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Procedure, ProcedurePublic, procedure_id)


@router.patch("/procedures/{procedure_id}", response_model=ProcedurePublic)
def update_procedure(
    *,
    procedure_id: Id,
    data: ProcedureUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> ProcedurePublic:
    procedure = runs.update_procedure(session, principal, procedure_id, with_version(data, if_match))
    session.commit()
    return tagged(response, ProcedurePublic.model_validate(procedure))


# -- runs -------------------------------------------------------------------------------------------------------
def _commit(session: Session, public: RunPublic) -> RunPublic:
    """Commit only once the answer is known to be writable: a request that fails leaves nothing stored."""
    public.model_dump_json()
    session.commit()
    return public


@router.post("/runs", response_model=RunPublic, status_code=201)
def create_run(data: RunCreate, principal: CurrentPrincipal, session: WriteSession, response: Response) -> RunPublic:
    """Record a run; ``raw_data`` and ``results`` must follow their formats (``hengqi schema run-raw-data``,
    ``run-results``).  The answer carries the server's flags (e.g. a weight out of calibration)."""
    run = runs.create_run(session, principal, data)
    return tagged(response, _commit(session, runs.public_run(run)))


@router.get("/runs", response_model=Page[RunPublic], responses=CSV_RESPONSE)
def list_runs(
    *,
    principal: CurrentPrincipal,
    session: ReadSession,
    params: Listing,
    instrument_id: IdFilter = None,
    kind: RunKind | None = None,
    supersedes_id: IdFilter = None,
) -> Response:
    """Runs; one whose stored data cannot be read is listed with ``stored_data_error`` (and no data)."""
    result = page(
        session,
        scoped_select(principal, Run),
        Run,
        params.query(instrument_id=instrument_id, kind=kind, supersedes_id=supersedes_id),
        sortable=("id", "performed_on", "kind", "status"),
        filterable=("instrument_id", "kind", "supersedes_id"),
    )
    shown = ServicePage([runs.public_run(run) for run in result.items], result.total, result.limit, result.offset)
    return respond(RunPublic, shown, params, "runs")


@router.get("/runs/{run_id}", response_model=RunPublic)
def get_run(run_id: Id, principal: CurrentPrincipal, session: ReadSession, response: Response) -> RunPublic:
    return tagged(response, runs.public_run(get_scoped(session, principal, Run, run_id)))


@router.patch("/runs/{run_id}", response_model=RunPublic)
def update_run(
    *,
    run_id: Id,
    data: RunUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> RunPublic:
    """Change a run that no certificate draws on yet (409 ``run_frozen`` otherwise: record a revision)."""
    run = runs.update_run(session, principal, run_id, with_version(data, if_match))
    return tagged(response, _commit(session, runs.public_run(run)))


@router.post("/runs/{run_id}/revisions", response_model=RunPublic, status_code=201)
def revise_run(
    run_id: Id, data: RunRevisionCreate, principal: CurrentPrincipal, session: WriteSession, response: Response
) -> RunPublic:
    """Correct a run: a new run with the corrected values and the reason, naming the run it corrects
    (``supersedes_id``); the corrected run is kept unchanged.  A run is corrected once (409 after that)."""
    run = runs.create_revision(session, principal, run_id, data)
    return tagged(response, _commit(session, runs.public_run(run)))


# -- certificates -----------------------------------------------------------------------------------------------
@router.post("/certificates", response_model=CertificatePublic, status_code=201)
def create_certificate(
    data: CertificateCreate, principal: CurrentPrincipal, session: WriteSession
) -> CertificatePublic:
    certificate = certificates.create_certificate(session, principal, data)
    session.commit()
    return CertificatePublic.model_validate(certificate)


@router.get("/certificates", response_model=Page[CertificatePublic], responses=CSV_RESPONSE)
def list_certificates(
    principal: CurrentPrincipal,
    session: ReadSession,
    params: Listing,
    instrument_id: IdFilter = None,
    status: CertificateStatus | None = None,
) -> Response:
    result = page(
        session,
        scoped_select(principal, Certificate),
        Certificate,
        params.query(instrument_id=instrument_id, status=status),
        sortable=("id", "number", "status", "issued_at"),
        filterable=("instrument_id", "status"),
    )
    return respond(CertificatePublic, result, params, "certificates")


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
async def get_certificate(certificate_id: Id, caller: CallerDep) -> Response:
    return await read_record(caller, Certificate, CertificatePublic, certificate_id)


@router.patch("/certificates/{certificate_id}", response_model=CertificatePublic)
def update_certificate(
    *,
    certificate_id: Id,
    data: CertificateUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
    if_match: IfMatch = None,
) -> CertificatePublic:
    certificate = certificates.update_certificate(session, principal, certificate_id, with_version(data, if_match))
    session.commit()
    return tagged(response, CertificatePublic.model_validate(certificate))


@router.delete("/certificates/{certificate_id}", status_code=204)
def delete_certificate(
    certificate_id: Id, principal: CurrentPrincipal, session: WriteSession, if_match: IfMatch = None
) -> None:
    """Discard a draft; approved and issued certificates are never deleted (withdraw them)."""
    certificates.delete_draft(session, principal, certificate_id, expected_version=expected_version(if_match))
    session.commit()


@router.put("/certificates/{certificate_id}/file", response_model=CertificatePublic)
def attach_file(
    certificate_id: Id, file: UploadFile, principal: CurrentPrincipal, session: WriteSession, state: StateDep
) -> CertificatePublic:
    """Upload the certificate's document (PDF, DCC XML); it is stored under its SHA-256."""
    content = file.file.read(state.settings.max_upload_bytes + 1)
    if len(content) > state.settings.max_upload_bytes:
        raise InputError("file", f"larger than {state.settings.max_upload_bytes} bytes")
    certificate = certificates.attach_file(
        session,
        principal,
        state.files,
        certificate_id,
        content=content,
        name=file.filename or "certificate",
        media_type=file.content_type or "application/octet-stream",
    )
    session.commit()
    return CertificatePublic.model_validate(certificate)


@router.get(
    "/certificates/{certificate_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
def download_file(certificate_id: Id, principal: CurrentPrincipal, session: ReadSession, state: StateDep) -> Response:
    certificate, content, media_type = certificates.read_file(session, principal, state.files, certificate_id)
    headers = {
        "Content-Disposition": content_disposition(certificate.file_name or "certificate"),
        "Digest": f"sha-256={certificate.file_sha256}",
    }
    return Response(content, media_type=media_type, headers=headers)


@router.post("/certificates/{certificate_id}/approve", response_model=CertificatePublic)
def approve(certificate_id: Id, principal: CurrentPrincipal, session: WriteSession) -> CertificatePublic:
    """Approve a draft (an authorised signatory other than its author and its run's technician)."""
    certificate = certificates.approve(session, principal, certificate_id)
    session.commit()
    return CertificatePublic.model_validate(certificate)


@router.post("/certificates/{certificate_id}/issue", response_model=CertificatePublic)
def issue(certificate_id: Id, principal: CurrentPrincipal, session: WriteSession) -> CertificatePublic:
    certificate = certificates.issue(session, principal, certificate_id)
    session.commit()
    return CertificatePublic.model_validate(certificate)


@router.post("/certificates/{certificate_id}/withdraw", response_model=CertificatePublic)
def withdraw(
    certificate_id: Id, data: WithdrawRequest, principal: CurrentPrincipal, session: WriteSession
) -> CertificatePublic:
    certificate = certificates.withdraw(session, principal, certificate_id, data.reason)
    session.commit()
    return CertificatePublic.model_validate(certificate)
