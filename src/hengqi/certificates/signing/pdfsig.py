"""PDF signatures on certificates (ISO 32000 CMS signatures, PAdES baseline B) with pyHanko.

The signature is added as an incremental update covering the whole file; verification checks that the signed byte
ranges are unchanged (``intact``), the CMS signature value (``valid``), that nothing was added after signing
(coverage of the entire file), and, given a trust anchor or a pinned certificate, the signer's chain (``trusted``).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path
from typing import Any

from hengqi.certificates.signing.keys import SigningIdentity
from hengqi.certificates.signing.report import SignatureReport

__all__ = ["sign_pdf", "verify_pdf"]


def sign_pdf(data: bytes, identity: SigningIdentity, *, reason: str = "", location: str = "") -> bytes:
    """Sign a PDF (bytes) with the laboratory's key; returns the signed PDF's bytes."""
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = asn1_x509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    key = asn1_keys.PrivateKeyInfo.load(
        identity.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([cert]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name="LaboratorySignature", reason=reason or None, location=location or None
    )
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer, output=out)
    return out.getvalue()


def _cn_o(subject: Any) -> tuple[str, str]:
    native = subject.native
    return str(native.get("common_name", "")), str(native.get("organization_name", ""))


def verify_pdf(
    data: bytes, *, cert: Path | None = None, trust: Path | None = None, at: dt.datetime | None = None
) -> SignatureReport:
    """Verify every signature of a signed PDF; the report describes the last one (the one covering the file)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from hengqi.certificates.signing.keys import load_certificate

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as err:  # pyHanko raises many kinds for a damaged file
        return SignatureReport("pdf", False, False, None, reason=f"damaged PDF: {type(err).__name__}: {err}")
    if not signatures:
        return SignatureReport("pdf", False, False, None, reason="the PDF carries no signature")
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    roots = []
    pinned: bytes | None = None
    if cert is not None:  # a pin: the signer's own certificate, compared byte for byte (as for DCCs), not a CA
        pinned = load_certificate(cert).public_bytes(serialization.Encoding.DER)
    elif trust is not None:
        der = load_certificate(trust).public_bytes(serialization.Encoding.DER)
        roots.append(asn1_x509.Certificate.load(der))
    report = SignatureReport("pdf", False, False, None)
    for sig in signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=at)
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as err:
            return SignatureReport(
                "pdf", False, False, None, reason=f"signature unreadable: {type(err).__name__}: {err}"
            )
        cn, org = _cn_o(status.signing_cert.subject)
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        sound = bool(status.intact) and bool(status.valid)
        if pinned is not None:
            trusted: bool | None = sound and status.signing_cert.dump() == pinned
        else:
            trusted = bool(status.trusted) if roots and sound else None
        reason = ""
        if not status.intact:
            reason = "the signed content changed (digest mismatch)"
        elif not status.valid:
            reason = "the signature value does not verify"
        elif not whole:
            reason = "the file was changed after signing (the signature does not cover the whole file)"
        elif trusted is False and pinned is not None:
            reason = f"signed with a different certificate than {cert}"
        elif trusted is False:
            reason = f"the signer does not chain to {trust}"
        report = SignatureReport(
            "pdf", bool(status.intact), bool(status.valid), trusted, cn, org, status.signer_reported_dt, whole, reason
        )
        if not report.ok:
            return report
    return report
