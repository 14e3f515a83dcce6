"""Signing DCCs (XAdES enveloped XML-DSig) and PDFs (CMS), and verification: who, when, intact, trusted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.certificates.sample import sample_admin, sample_result
from tests.certificates.tamper import (
    flip,
    pdf_content_byte,
    pdf_signature_byte,
    xml_content_byte,
    xml_signature_byte,
)

from hengqi.certificates.dcc import dcc_bytes, read_dcc
from hengqi.certificates.errors import KeyMaterialError
from hengqi.certificates.pdf import render_certificate_pdf
from hengqi.certificates.schema import validate_dcc
from hengqi.certificates.signing import (
    KeyFiles,
    load_signing_identity,
    make_test_keys,
    sign_dcc,
    sign_pdf,
    verify_dcc,
    verify_pdf,
)


@pytest.fixture(scope="module")
def signed_dcc(test_keys: KeyFiles) -> bytes:
    identity = load_signing_identity(test_keys.signer_key, test_keys.signer_cert)
    return sign_dcc(dcc_bytes(sample_result(), sample_admin()), identity)


@pytest.fixture(scope="module")
def signed_pdf(test_keys: KeyFiles) -> bytes:
    identity = load_signing_identity(test_keys.signer_key, test_keys.signer_cert)
    pdf = render_certificate_pdf(sample_result(), sample_admin(), will_be_signed=True, plot=False)
    return sign_pdf(pdf, identity, reason="test", location="Hangzhou")


def test_signed_dcc_is_valid_trusted_and_still_schema_valid(
    signed_dcc: bytes, test_keys: KeyFiles, schema_dir: Path, tmp_path: Path
) -> None:
    report = verify_dcc(signed_dcc, trust=test_keys.ca_cert)
    assert report.ok
    assert report.trusted is True
    assert report.whole_document
    assert (report.signer_cn, report.signer_o) == ("Li Wei", "Hengqi Mass Laboratory")
    assert report.signing_time is not None
    assert abs(report.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    assert verify_dcc(signed_dcc, cert=test_keys.signer_cert).trusted is True
    assert verify_dcc(signed_dcc).trusted is None  # integrity only
    out = tmp_path / "signed.xml"
    out.write_bytes(signed_dcc)
    assert validate_dcc(out, schema_dir).valid
    assert read_dcc(signed_dcc).signed


def test_one_byte_changed_in_dcc_content_or_signature_is_detected(signed_dcc: bytes, test_keys: KeyFiles) -> None:
    content = verify_dcc(flip(signed_dcc, xml_content_byte(signed_dcc)), trust=test_keys.ca_cert)
    assert not content.ok
    assert not content.intact
    signature = verify_dcc(flip(signed_dcc, xml_signature_byte(signed_dcc)), trust=test_keys.ca_cert)
    assert not signature.ok
    assert not signature.valid


def test_dcc_from_another_signer_is_not_trusted(signed_dcc: bytes, other_keys: KeyFiles) -> None:
    by_ca = verify_dcc(signed_dcc, trust=other_keys.ca_cert)
    assert by_ca.intact
    assert by_ca.trusted is False
    assert not by_ca.ok
    pinned = verify_dcc(signed_dcc, cert=other_keys.signer_cert)
    assert pinned.trusted is False
    assert not pinned.ok


def test_unsigned_dcc_does_not_verify() -> None:
    report = verify_dcc(dcc_bytes(sample_result(), sample_admin()))
    assert not report.ok
    assert "no ds:Signature" in report.reason


def test_signed_pdf_is_valid_and_names_the_signer(signed_pdf: bytes, test_keys: KeyFiles) -> None:
    report = verify_pdf(signed_pdf, trust=test_keys.ca_cert)
    assert report.ok
    assert report.trusted is True
    assert report.whole_document
    assert (report.signer_cn, report.signer_o) == ("Li Wei", "Hengqi Mass Laboratory")
    assert report.signing_time is not None
    assert verify_pdf(signed_pdf, cert=test_keys.signer_cert).ok


def test_one_byte_changed_in_pdf_content_or_signature_is_detected(signed_pdf: bytes, test_keys: KeyFiles) -> None:
    content = verify_pdf(flip(signed_pdf, pdf_content_byte(signed_pdf, b"HQ-CAL-2026-0042")), trust=test_keys.ca_cert)
    assert not content.ok
    assert not content.intact
    signature = verify_pdf(flip(signed_pdf, pdf_signature_byte(signed_pdf)), trust=test_keys.ca_cert)
    assert not signature.ok
    assert signature.intact
    assert not signature.valid


def test_pdf_changed_after_signing_is_reported(signed_pdf: bytes, test_keys: KeyFiles) -> None:
    appended = signed_pdf + b"\n% appended after signing\n"
    report = verify_pdf(appended, trust=test_keys.ca_cert)
    assert not report.ok
    assert not report.whole_document


def test_key_and_certificate_must_belong_together(test_keys: KeyFiles, other_keys: KeyFiles, tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match="does not belong to the key"):
        load_signing_identity(test_keys.signer_key, other_keys.signer_cert)
    with pytest.raises(KeyMaterialError, match="no such file"):
        load_signing_identity(tmp_path / "absent.pem", test_keys.signer_cert)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(KeyMaterialError, match="not a PEM private key"):
        load_signing_identity(bad, test_keys.signer_cert)
    with pytest.raises(KeyMaterialError, match="exists already"):
        make_test_keys(test_keys.ca_cert.parent)
