"""Certificates and their workflow: draft -> approved -> issued -> withdrawn | superseded.

Four-eyes rule: a certificate is approved and issued only by an authorised signatory (reviewer or quality
manager) who is neither the one who drafted it nor the one who performed its run (ISO/IEC 17025:2017, 7.8.1.2:
reports are reviewed and authorized before release; 6.2.6: authorization of personnel; clause numbers SECONDARY,
the standard was not read). An issued certificate is
never deleted or changed; it is withdrawn (with a reason) or superseded by a new one that names it.

Separation of duties: nobody who recorded or changed the data of the certificate's run -- its technician, whoever
created or updated the run (or any earlier revision of it) according to the audit trail -- may approve or issue
it (HTTP 403, ``rule: separation_of_duties``).  A certificate draws only on the latest revision of a run.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.db.models import AuditEntry, Certificate, Instrument, Run, StoredFile
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.files import FileStore
from hengqi.server.permissions import Permission, Principal
from hengqi.server.schemas.workflow import CertificateCreate, CertificateUpdate
from hengqi.server.services.base import add_audited, get_scoped, soft_delete, update_audited
from hengqi.server.services.due import advance_due


def create_certificate(session: Session, principal: Principal, data: CertificateCreate) -> Certificate:
    principal.require(Permission.DRAFT_CERTIFICATE)
    instrument = get_scoped(session, principal, Instrument, data.instrument_id)
    if data.run_id is not None:
        _check_run(session, principal, data.run_id, instrument.id)
    if data.supersedes_id is not None:
        old = get_scoped(session, principal, Certificate, data.supersedes_id)
        if old.status != "issued" or old.instrument_id != instrument.id:
            raise InputError("supersedes_id", "only an issued certificate of the same instrument can be superseded")
    certificate = Certificate(
        organisation_id=instrument.organisation_id,
        number=data.number,
        kind=data.kind,
        instrument_id=instrument.id,
        run_id=data.run_id,
        status="draft",
        created_by_id=principal.user_id,
        supersedes_id=data.supersedes_id,
    )
    return add_audited(session, principal, certificate, what="certificate number")


def _check_run(session: Session, principal: Principal, run_id: int, instrument_id: int) -> Run:
    run = get_scoped(session, principal, Run, run_id)
    if run.instrument_id != instrument_id:
        raise InputError("run_id", f"run {run_id} is of another instrument")
    later = session.scalar(select(Run.id).where(Run.supersedes_id == run.id))
    if later is not None:
        raise ConflictError(
            f"run {run_id} has been corrected by run {later}; a certificate draws on the latest revision",
            code="run_superseded",
            details={"revision_id": later},
        )
    return run


def run_chain(session: Session, run: Run) -> list[Run]:
    """``run`` and every earlier revision it corrects, newest first."""
    chain = [run]
    seen = {run.id}
    while chain[-1].supersedes_id is not None and chain[-1].supersedes_id not in seen:
        earlier = session.get(Run, chain[-1].supersedes_id)
        if earlier is None:
            break
        chain.append(earlier)
        seen.add(earlier.id)
    return chain


def data_authors(session: Session, run: Run) -> set[int]:
    """The users who recorded or changed the data of ``run`` or of any earlier revision of it: the technicians,
    and every actor of a ``create`` or ``update`` of those runs in the audit trail."""
    chain = run_chain(session, run)
    authors = {r.performed_by_id for r in chain}
    actors = session.scalars(
        select(AuditEntry.actor_id).where(
            AuditEntry.entity == "runs",
            AuditEntry.entity_id.in_([str(r.id) for r in chain]),
            AuditEntry.action.in_(("create", "update")),
            AuditEntry.actor_id.is_not(None),
        )
    )
    authors.update(actor for actor in actors if actor is not None)
    return authors


def _draft(session: Session, principal: Principal, certificate_id: int) -> Certificate:
    certificate = get_scoped(session, principal, Certificate, certificate_id, for_update=True)
    if certificate.status != "draft":
        raise ConflictError(
            f"certificate {certificate.number} is {certificate.status}; only a draft can be changed",
            code="certificate_not_draft",
        )
    return certificate


def update_certificate(session: Session, principal: Principal, key: int, data: CertificateUpdate) -> Certificate:
    principal.require(Permission.DRAFT_CERTIFICATE)
    certificate = _draft(session, principal, key)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "run_id" in changes:
        _check_run(session, principal, changes["run_id"], certificate.instrument_id)
    return update_audited(session, principal, certificate, changes, what="certificate number")


_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$", re.ASCII)


def safe_media_type(text: str) -> str:
    """``text`` if it is a plain ``type/subtype`` (RFC 6838:2013, 4.2), else ``application/octet-stream``; never
    parameters, control characters or characters a header cannot carry.

    >>> safe_media_type("application/pdf"), safe_media_type("text/html\\r\\nX: y"), safe_media_type("证书/pdf")
    ('application/pdf', 'application/octet-stream', 'application/octet-stream')
    """
    value = text.strip().lower()
    return value if _MEDIA_TYPE.match(value) else "application/octet-stream"


def attach_file(
    session: Session, principal: Principal, store: FileStore, key: int, *, content: bytes, name: str, media_type: str
) -> Certificate:
    """Store the certificate's document (content-addressed) and link it to the draft."""
    principal.require(Permission.DRAFT_CERTIFICATE)
    certificate = _draft(session, principal, key)
    if not content:
        raise InputError("file", "is empty")
    digest = store.put(content)
    if session.get(StoredFile, digest) is None:
        session.add(StoredFile(sha256=digest, size=len(content), media_type=safe_media_type(media_type)))
        session.flush()
    return update_audited(
        session, principal, certificate, {"file_sha256": digest, "file_name": name[:200]}, what="certificate"
    )


def read_file(session: Session, principal: Principal, store: FileStore, key: int) -> tuple[Certificate, bytes, str]:
    certificate = get_scoped(session, principal, Certificate, key)
    if certificate.file_sha256 is None:
        raise NotFoundError("certificate-file", key)
    stored = session.get(StoredFile, certificate.file_sha256)
    media_type = safe_media_type(stored.media_type) if stored is not None else "application/octet-stream"
    return certificate, store.get(certificate.file_sha256), media_type


def _four_eyes(session: Session, principal: Principal, certificate: Certificate) -> None:
    principal.require(Permission.APPROVE_CERTIFICATE)
    if certificate.created_by_id == principal.user_id:
        raise PermissionDeniedError(
            "four-eyes rule: the certificate must be approved by someone other than who drafted it",
            details={"rule": "four_eyes"},
        )
    if certificate.run_id is not None:
        run = session.get(Run, certificate.run_id)
        if run is not None and run.performed_by_id == principal.user_id:
            raise PermissionDeniedError(
                "four-eyes rule: the certificate must be approved by someone other than the technician of its run",
                details={"rule": "four_eyes"},
            )
        if run is not None and principal.user_id in data_authors(session, run):
            raise PermissionDeniedError(
                f"separation of duties: you recorded or changed the data of run {run.id}, on which this certificate "
                "draws; it must be approved and issued by someone else",
                details={"rule": "separation_of_duties", "run_id": run.id},
            )


def approve(session: Session, principal: Principal, key: int) -> Certificate:
    certificate = _draft(session, principal, key)
    _four_eyes(session, principal, certificate)
    if certificate.file_sha256 is None:
        raise ConflictError("attach the certificate's document before approval", code="certificate_without_file")
    if certificate.run_id is not None:
        later = session.scalar(select(Run.id).where(Run.supersedes_id == certificate.run_id))
        if later is not None:
            raise ConflictError(
                f"run {certificate.run_id} has been corrected by run {later}; draw the certificate on the correction "
                "(or discard this draft) before approval",
                code="run_superseded",
                details={"revision_id": later},
            )
    changes = {"status": "approved", "approved_by_id": principal.user_id, "approved_at": utcnow()}
    return update_audited(session, principal, certificate, changes, what="certificate", action="approve")


def issue(session: Session, principal: Principal, key: int) -> Certificate:
    certificate = get_scoped(session, principal, Certificate, key, for_update=True)
    if certificate.status != "approved":
        raise ConflictError(
            f"certificate {certificate.number} is {certificate.status}; only an approved one can be issued",
            code="certificate_not_approved",
        )
    _four_eyes(session, principal, certificate)
    changes = {"status": "issued", "issued_by_id": principal.user_id, "issued_at": utcnow()}
    issued = update_audited(session, principal, certificate, changes, what="certificate", action="issue")
    if certificate.kind == "calibration":  # the instrument's next calibration falls due from the calibration date
        run = session.get(Run, certificate.run_id) if certificate.run_id is not None else None
        instrument = get_scoped(session, principal, Instrument, certificate.instrument_id)
        done_on = run.performed_on if run is not None else utcnow().date()
        advance_due(session, principal, instrument, "calibration", done_on)
    if certificate.supersedes_id is not None:
        old = get_scoped(session, principal, Certificate, certificate.supersedes_id, for_update=True)
        if old.status == "issued":
            update_audited(session, principal, old, {"status": "superseded"}, what="certificate", action="supersede")
    return issued


def withdraw(session: Session, principal: Principal, key: int, reason: str) -> Certificate:
    principal.require(Permission.WITHDRAW_CERTIFICATE)
    certificate = get_scoped(session, principal, Certificate, key, for_update=True)
    if certificate.status != "issued":
        raise ConflictError(
            f"certificate {certificate.number} is {certificate.status}; only an issued one can be withdrawn",
            code="certificate_not_issued",
        )
    changes = {"status": "withdrawn", "withdrawn_reason": reason}
    return update_audited(session, principal, certificate, changes, what="certificate", action="withdraw")


def delete_draft(session: Session, principal: Principal, key: int, *, expected_version: int | None = None) -> None:
    """Discard a draft (soft delete; approved and issued certificates are never deleted)."""
    principal.require(Permission.DRAFT_CERTIFICATE)
    certificate = _draft(session, principal, key)
    soft_delete(session, principal, certificate, what="certificate", expected_version=expected_version)


def certificates_of_run(session: Session, run_id: int) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.run_id == run_id)))
