"""The public check of a certificate, for anyone holding one (no sign-in): does the number exist, is the
certificate current, is the file in hand the one issued?

Only what a holder of the certificate already reads on it is answered: the laboratory's name, the number, the
kind, the issue date and the status (``current``, ``withdrawn`` on a date, or ``superseded`` by a later number).
Customer, instrument, reasons and people are never shown.  Drafts and approved-but-not-issued certificates are
"not found", as are unknown numbers, so the answer does not tell them apart.

A file matches when its SHA-256 equals that of the PDF stored at issue (:attr:`Certificate.file_sha256`) or of the
certificate's DCC (the XML the PDF carries, :attr:`GuidedRun.dcc_sha256`).

>>> verify_path(3, "HQ-CAL-2026-00001")
'/web/verify/3/HQ-CAL-2026-00001'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.server.db.guided import GuidedRun
from hengqi.server.db.models import AuditEntry, Certificate, Organisation

#: the statuses a certificate is publicly known in (a draft or an approved one is not yet a certificate)
PUBLIC_STATUSES: Final = ("issued", "withdrawn", "superseded")
#: the longest certificate number looked up
MAX_NUMBER: Final = 100


def verify_path(organisation_id: int, number: str) -> str:
    """The path of the public verification page of certificate ``number`` of an organisation."""
    return f"/web/verify/{organisation_id}/{quote(number, safe='')}"


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What the public is told about one certificate."""

    organisation_id: int
    laboratory: str
    number: str
    kind: str
    issued_on: date | None
    state: str  # current, withdrawn, superseded
    withdrawn_on: date | None = None
    successor: str | None = None

    @property
    def current(self) -> bool:
        return self.state == "current"


def _withdrawn_on(session: Session, certificate: Certificate) -> date | None:
    at = session.scalar(
        select(AuditEntry.at)
        .where(
            AuditEntry.entity == "certificates",
            AuditEntry.entity_id == str(certificate.id),
            AuditEntry.action == "withdraw",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return date.fromisoformat(at[:10]) if at else None


def _status(session: Session, certificate: Certificate) -> PublicStatus:
    organisation = session.get(Organisation, certificate.organisation_id)
    successor = None
    state = "current"
    withdrawn_on = None
    if certificate.status == "superseded":
        state = "superseded"
        successor = session.scalar(
            select(Certificate.number)
            .where(
                Certificate.supersedes_id == certificate.id,
                Certificate.status.in_(PUBLIC_STATUSES),
                Certificate.deleted_at.is_(None),
            )
            .order_by(Certificate.id.desc())
            .limit(1)
        )
    elif certificate.status == "withdrawn":
        state = "withdrawn"
        withdrawn_on = _withdrawn_on(session, certificate)
    return PublicStatus(
        organisation_id=certificate.organisation_id,
        laboratory=organisation.name if organisation is not None else "",
        number=certificate.number,
        kind=certificate.kind,
        issued_on=certificate.issued_at.date() if certificate.issued_at else None,
        state=state,
        withdrawn_on=withdrawn_on,
        successor=successor,
    )


def _found(session: Session, number: str, organisation_id: int | None) -> list[Certificate]:
    number = number.strip()
    if not number or len(number) > MAX_NUMBER:
        return []
    statement = select(Certificate).where(
        Certificate.number == number,
        Certificate.status.in_(PUBLIC_STATUSES),
        Certificate.deleted_at.is_(None),
    )
    if organisation_id is not None:
        statement = statement.where(Certificate.organisation_id == organisation_id)
    return list(session.scalars(statement.order_by(Certificate.organisation_id)))


def look_up(session: Session, number: str, organisation_id: int | None = None) -> list[PublicStatus]:
    """The certificates numbered ``number`` (of one organisation, or of every laboratory on this server: numbers
    are unique per organisation); empty when none is publicly known."""
    return [_status(session, c) for c in _found(session, number, organisation_id)]


def file_matches(session: Session, organisation_id: int, number: str, content: bytes) -> bool | None:
    """Whether ``content`` is the issued PDF or the DCC of certificate ``number`` (``None``: no such certificate)."""
    found = _found(session, number, organisation_id)
    if not found:
        return None
    certificate = found[0]
    digest = hashlib.sha256(content).hexdigest()
    if certificate.file_sha256 is not None and digest == certificate.file_sha256:
        return True
    dcc = session.scalar(select(GuidedRun.dcc_sha256).where(GuidedRun.certificate_id == certificate.id))
    return dcc is not None and digest == dcc
