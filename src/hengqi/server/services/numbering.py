"""Certificate numbers: drawn when a certificate is issued, a gapless sequence per organisation and prefix.

The number is taken from a counter row (:class:`~hengqi.server.db.guided.CertificateCounter`) locked and
incremented in the transaction that issues the certificate: if that transaction rolls back (a refused approval,
a failed signature, a crash), the counter rolls back with it and the number is drawn again by the next issue.
A database sequence would not do: it is not transactional and leaves gaps.  Drafts carry a provisional number
(``DRAFT-...``) that is never printed on an issued certificate.

ISO/IEC 17025:2017 7.8.2.1 b asks for a unique identification of each report (clause number SECONDARY, the
standard was not read); gaplessness is what auditors check so that no issued certificate can go missing unseen.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hengqi.server.db.guided import CertificateCounter
from hengqi.server.errors import ConflictError

#: Prefix of a draft's provisional number.
DRAFT_PREFIX = "DRAFT-"


def calibration_prefix(year: int) -> str:
    """``HQ-CAL-YYYY``: numbers restart at 1 each year.

    >>> calibration_prefix(2026)
    'HQ-CAL-2026'
    """
    return f"HQ-CAL-{year}"


def verification_prefix(year: int) -> str:
    """``HQ-VER-YYYY``: verification certificates have their own sequence, restarting each year.

    >>> verification_prefix(2026)
    'HQ-VER-2026'
    """
    return f"HQ-VER-{year}"


def draw_number(session: Session, organisation_id: int, prefix: str) -> str:
    """The next number ``PREFIX-NNNNN`` of the organisation (counter row locked until the transaction ends)."""
    statement = (
        select(CertificateCounter)
        .where(CertificateCounter.organisation_id == organisation_id, CertificateCounter.prefix == prefix)
        .with_for_update()
    )
    counter = session.scalar(statement)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(CertificateCounter(organisation_id=organisation_id, prefix=prefix, last=0))
        except IntegrityError:  # made by a concurrent first issue: use theirs
            pass
        counter = session.scalar(statement)
        if counter is None:  # pragma: no cover - made just above or by the concurrent transaction
            raise ConflictError("the certificate counter could not be made; try again", code="counter_missing")
    counter.last += 1
    session.flush()
    return f"{prefix}-{counter.last:05d}"


def is_provisional(number: str) -> bool:
    """Whether ``number`` is a draft's provisional number.

    >>> is_provisional("DRAFT-3f2a"), is_provisional("HQ-CAL-2026-00001")
    (True, False)
    """
    return number.startswith(DRAFT_PREFIX)
