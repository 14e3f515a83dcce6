"""Reading a signed DCC from exactly what its signature covers.

An XML signature digests the canonical form of the referenced content (W3C Canonical XML 1.1, here without
comments; the enveloped-signature transform removes the ``ds:Signature``; W3C XML Signature 1.1, 6.6.4).  A
reader of the file itself may see something else: a comment splits a text node (``100.0<!---->0046``), and a
``ds:Object`` inside the signature can hold any XML, unsigned unless referenced.  :func:`read_verified` therefore
verifies first and then reads the canonical bytes that the verifier digested, so that what is listed is what was
signed; an unverified DCC yields no quantities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hengqi.certificates.dcc.reader import QuantityRecord, read_quantities
from hengqi.certificates.limits import MAX_DCC_BYTES, check_dcc_size
from hengqi.certificates.signing.report import SignatureReport
from hengqi.certificates.signing.xmldsig import verify_dcc

__all__ = ["VerifiedDcc", "read_verified"]


@dataclass(frozen=True, slots=True)
class VerifiedDcc:
    """The verification report and the quantities read from the signed content (none unless the report is ok)."""

    report: SignatureReport
    quantities: tuple[QuantityRecord, ...]


def read_verified(
    data: bytes, *, cert: Path | None = None, trust: Path | None = None, max_bytes: int = MAX_DCC_BYTES
) -> VerifiedDcc:
    """Verify ``data`` and list the ``si:real`` quantities of the content its signature covers."""
    check_dcc_size(len(data), "dcc", max_bytes)
    report = verify_dcc(data, cert=cert, trust=trust, max_bytes=max_bytes)
    if not report.ok or report.signed_content is None:
        return VerifiedDcc(report, ())
    return VerifiedDcc(report, tuple(read_quantities(report.signed_content, max_bytes=max_bytes)))
