"""Enveloped XML signatures on DCCs: XAdES-BES (ETSI EN 319 132-1) over W3C XML-DSig, as PTB's signed DCC examples use.

The signature is a ``ds:Signature`` appended as the last child of ``dcc:digitalCalibrationCertificate`` (allowed
there by ``dcc.xsd`` 3.3.0, ``ds:Signature*`` after ``dcc:document``), with one reference ``URI=""`` and the
enveloped-signature transform, so it covers the whole certificate, plus the XAdES signed properties (signing time,
signing certificate digest).  Signing and checking use signxml.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree

from hengqi.certificates.errors import DccFormatError
from hengqi.certificates.limits import MAX_DCC_BYTES, check_dcc_size
from hengqi.certificates.signing.keys import SigningIdentity, subject_fields
from hengqi.certificates.signing.report import SignatureReport
from hengqi.certificates.xml_errors import xml_syntax_text

__all__ = ["sign_dcc", "verify_dcc"]

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise DccFormatError("dcc", f"not well-formed XML: {xml_syntax_text(err)}") from err


def sign_dcc(data: bytes, identity: SigningIdentity) -> bytes:
    """Sign a DCC (bytes) with an enveloped XAdES-BES signature; returns the signed document's bytes."""
    from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

    root = _parse(data)
    if root.find(f"{{{DS}}}Signature") is not None:
        raise DccFormatError("ds:Signature", "the DCC is signed already")
    signer = XAdESSigner(
        signature_algorithm=identity.algorithm,
        digest_algorithm="sha256",
        c14n_algorithm=C14N11,
        data_object_format=XAdESDataObjectFormat(
            Description="Digital Calibration Certificate (PTB DCC)", MimeType="application/xml"
        ),
    )
    signed = signer.sign(root, key=identity.key_pem, cert=[identity.certificate])
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


def _embedded_cert(sig: etree._Element) -> x509.Certificate | None:
    el = sig.find(f".//{{{DS}}}X509Certificate")
    if el is None or not el.text:
        return None
    import base64

    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(el.text.split())))
    except ValueError:
        return None


def verify_dcc(
    data: bytes,
    *,
    cert: Path | None = None,
    trust: Path | None = None,
    at: dt.datetime | None = None,
    max_bytes: int = MAX_DCC_BYTES,
) -> SignatureReport:
    """Verify a signed DCC.  ``cert`` pins the signer's certificate; ``trust`` is a PEM file of trusted CA
    certificates; with neither, integrity is checked with the embedded certificate and trust is not established.

    A DCC over ``max_bytes`` is refused before parsing (:class:`~hengqi.certificates.limits.DccTooLargeError`).
    The report's ``signed_content`` is the canonical form of what the signature covers; read that (see
    :func:`hengqi.certificates.dcc.verified.read_verified`), not the file, whose comments, and whatever sits in the
    ``ds:Signature``, are not signed.
    """
    check_dcc_size(len(data), "dcc", max_bytes)
    from signxml.exceptions import InvalidInput, InvalidSignature
    from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

    from hengqi.certificates.signing.keys import load_certificate

    root = _parse(data)
    signatures = root.findall(f"{{{DS}}}Signature")
    if not signatures:
        return SignatureReport("dcc", False, False, None, reason="the DCC carries no ds:Signature")
    if len(signatures) > 1:
        return SignatureReport("dcc", False, False, None, reason="more than one ds:Signature (hengqi checks one)")
    sig = signatures[0]
    embedded = _embedded_cert(sig)
    cn, org = subject_fields(embedded) if embedded is not None else ("", "")
    refs = sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    whole = any(r.get("URI") == "" for r in refs)
    time_el = sig.find(f".//{{{XADES}}}SigningTime")
    signing_time = None
    if time_el is not None and time_el.text:
        try:
            signing_time = dt.datetime.fromisoformat(time_el.text.strip())
        except ValueError:
            signing_time = None
    if embedded is None:
        return SignatureReport("dcc", False, False, None, reason="no signer certificate in the signature")
    config = XAdESSignatureConfiguration(verification_time=at) if at is not None else XAdESSignatureConfiguration()
    logging.getLogger("signxml").setLevel(logging.ERROR)

    covered: list[bytes] = []

    def attempt(**kwargs: Any) -> str | None:
        try:
            results = XAdESVerifier().verify(data, expect_config=config, **kwargs)
        except (InvalidSignature, InvalidInput, ValueError) as err:  # InvalidDigest is an InvalidSignature
            return f"{type(err).__name__}: {err}"
        covered[:] = [r.signed_data for r in results if r.signed_xml is not None and r.signed_xml.tag == root.tag]
        return None

    failure = attempt(x509_cert=embedded)  # integrity and signature value, with the signer's own certificate
    if failure is not None:
        intact = not failure.startswith("InvalidDigest")
        return SignatureReport("dcc", intact, False, None, cn, org, signing_time, whole, failure)
    signed_content = covered[0] if len(covered) == 1 else None
    if signed_content is None:
        whole = False  # no single reference covers the certificate element: nothing can be read as signed
    trusted: bool | None = None
    reason = "" if whole else "the signature does not cover the whole document"
    if cert is not None:
        trusted = load_certificate(cert) == embedded
        if not trusted:
            reason = f"signed with a different certificate than {cert}"
    elif trust is not None:
        load_certificate(trust)  # a clear error for a bad file before signxml reads it
        chain_failure = attempt(ca_pem_file=str(trust))
        trusted = chain_failure is None
        if chain_failure:
            reason = f"the signer does not chain to {trust}: {chain_failure}"
    return SignatureReport("dcc", True, True, trusted, cn, org, signing_time, whole, reason, signed_content)
