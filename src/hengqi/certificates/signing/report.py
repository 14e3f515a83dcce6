"""The outcome of verifying a signed certificate (DCC or PDF)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """What a signature verification found.

    Attributes:
        kind: ``"dcc"`` (XML-DSig/XAdES) or ``"pdf"`` (PAdES/CMS).
        intact: the signed content is unchanged (digests match).
        valid: the signature value verifies with the signer's key (and the content is intact).
        trusted: ``True`` when the signer chains to a given trust anchor or equals a pinned certificate,
            ``False`` when it does not, ``None`` when no anchor was given (integrity only).
        signer_cn, signer_o: subject common name and organisation of the signing certificate.
        signing_time: the signing time the signature carries (signed attribute / XAdES SigningTime).
        whole_document: the signature covers the whole file (enveloped reference ``""`` / entire PDF).
        reason: why it failed, or notes.
        signed_content: for a DCC whose signature verified, the canonicalised bytes that the reference covering
            the certificate digests (the document without its signature and comments): what a reader should read.
    """

    kind: str
    intact: bool
    valid: bool
    trusted: bool | None
    signer_cn: str = ""
    signer_o: str = ""
    signing_time: dt.datetime | None = None
    whole_document: bool = False
    reason: str = ""
    signed_content: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Intact, valid, covering the whole document, and not untrusted."""
        return self.intact and self.valid and self.whole_document and self.trusted is not False
