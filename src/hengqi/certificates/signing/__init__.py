"""Signing certificates with a laboratory key, and verifying them: DCC (XAdES enveloped XML-DSig) and PDF.

>>> sniff(b"%PDF-1.4 ..."), sniff(b'<?xml version="1.0"?><dcc:digitalCalibrationCertificate/>')
('pdf', 'dcc')
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from hengqi.certificates.errors import DccFormatError
from hengqi.certificates.limits import MAX_DCC_BYTES, check_dcc_size
from hengqi.certificates.signing.keys import (
    KeyFiles,
    SigningIdentity,
    load_certificate,
    load_signing_identity,
    make_test_keys,
)
from hengqi.certificates.signing.pdfsig import sign_pdf, verify_pdf
from hengqi.certificates.signing.report import SignatureReport
from hengqi.certificates.signing.xmldsig import sign_dcc, verify_dcc
from hengqi.errors import InputError

__all__ = [
    "KeyFiles",
    "SignatureReport",
    "SigningIdentity",
    "load_certificate",
    "load_signing_identity",
    "make_test_keys",
    "sign_dcc",
    "sign_pdf",
    "sniff",
    "verify_dcc",
    "verify_file",
    "verify_pdf",
]


def sniff_or_none(data: bytes) -> str | None:
    """:func:`sniff` without the error: ``None`` for neither."""
    try:
        return sniff(data)
    except InputError:
        return None


def sniff(data: bytes) -> str:
    """``"pdf"`` or ``"dcc"`` from a file's first bytes; :class:`InputError` for anything else."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"<"):
        return "dcc"
    raise InputError("file", "neither a PDF nor an XML document")


def verify_file(
    path: str | os.PathLike[str],
    *,
    cert: str | os.PathLike[str] | None = None,
    trust: str | os.PathLike[str] | None = None,
    at: dt.datetime | None = None,
    max_bytes: int = MAX_DCC_BYTES,
) -> SignatureReport:
    """Verify a signed DCC or PDF file (a DCC over ``max_bytes`` is refused before it is read: exit 2).

    :class:`InputError` for a missing or unrecognisable file (exit 2); a
    signed file damaged so badly that it no longer parses is reported as invalid (exit 1)."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            head = handle.read(1024)
            if sniff_or_none(head) != "pdf":  # a DCC (or junk) is refused from its size, before it is read
                check_dcc_size(file.stat().st_size, str(file), max_bytes)
            data = head + handle.read()
    except FileNotFoundError as err:
        raise InputError(str(file), "no such file") from err
    except IsADirectoryError as err:
        raise InputError(str(file), "is a folder, not a file") from err
    except OSError as err:
        raise InputError(str(file), f"cannot read ({err})") from err
    cert_path = Path(cert) if cert is not None else None
    trust_path = Path(trust) if trust is not None else None
    if cert_path is not None:
        load_certificate(cert_path)
    if trust_path is not None:
        load_certificate(trust_path)
    try:
        kind = sniff(data)
    except InputError as err:
        raise InputError(str(file), err.reason) from err  # name the file, not the word "file"
    if kind == "pdf":
        return verify_pdf(data, cert=cert_path, trust=trust_path, at=at)
    try:
        return verify_dcc(data, cert=cert_path, trust=trust_path, at=at, max_bytes=max_bytes)
    except DccFormatError as err:
        if b"digitalCalibrationCertificate" in data and b"Signature" in data:
            return SignatureReport("dcc", False, False, None, reason=f"damaged signed DCC: {err.reason}")
        raise
