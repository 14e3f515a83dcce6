"""Certificates and their workflow: draft -> approved -> issued -> withdrawn | superseded.

Four-eyes rule: a certificate is approved and issued only by an authorised signatory (reviewer or quality
manager) who is neither the one who drafted it nor the one who performed its run (ISO/IEC 17025:2017, 7.8.1.2:
reports are reviewed and authorized before release; 6.2.6: authorization of personnel; clause numbers SECONDARY,
the standard was not read). An issued certificate is
never deleted or changed; it is withdrawn (with a reason) or superseded by a new one that names it.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.db.models import Certificate, Instrument, Run, StoredFile
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.files import FileStore
from hengqi.server.permissions import Permission, Principal
from hengqi.server.schemas.workflow import CertificateCreate, CertificateUpdate
from hengqi.server.services.base import add_audited, get_scoped, soft_delete, update_audited


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
    return run


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


def approve(session: Session, principal: Principal, key: int) -> Certificate:
    certificate = _draft(session, principal, key)
    _four_eyes(session, principal, certificate)
    if certificate.file_sha256 is None:
        raise ConflictError("attach the certificate's document before approval", code="certificate_without_file")
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


def delete_draft(session: Session, principal: Principal, key: int) -> None:
    """Discard a draft (soft delete; approved and issued certificates are never deleted)."""
    principal.require(Permission.DRAFT_CERTIFICATE)
    certificate = _draft(session, principal, key)
    soft_delete(session, principal, certificate, what="certificate")


def certificates_of_run(session: Session, run_id: int) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.run_id == run_id)))
