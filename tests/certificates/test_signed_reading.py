"""Attacks on what a reader of a signed certificate sees: unsigned comments and ds:Object content, PDF pins, size.

Each test performs the attack on a really signed DCC or PDF.  Before these changes the comment trick verified
VALID and read back a different number, the forged quantity in ds:Object was listed, a CA given as ``--cert`` for
a PDF was taken as a trust anchor, and a DCC of any size was parsed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from tests.certificates.sample import sample_admin, sample_result

from hengqi.certificates.dcc import dcc_bytes, read_dcc, read_quantities
from hengqi.certificates.dcc.verified import read_verified
from hengqi.certificates.limits import MIB, DccTooLargeError
from hengqi.certificates.pdf import render_certificate_pdf
from hengqi.certificates.signing import KeyFiles, load_signing_identity, sign_dcc, sign_pdf, verify_dcc, verify_pdf
from hengqi.cli import cli


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return dcc_bytes(sample_result(), sample_admin())


@pytest.fixture(scope="module")
def signed(unsigned: bytes, test_keys: KeyFiles) -> bytes:
    return sign_dcc(unsigned, load_signing_identity(test_keys.signer_key, test_keys.signer_cert))


def _split_with_comment(xml: bytes, tag: bytes, after_point: int = 2) -> tuple[bytes, str, str]:
    """``xml`` with a comment put inside the first number of the first ``<tag>`` (``after_point`` characters
    after its decimal point; 0: just before it); returns the new bytes, the number as signed, and what a reader
    stopping at the comment sees."""
    match = re.search(rb"<" + tag + rb">(-?\d*\.\d\d+)[ <]", xml)
    assert match is not None, tag
    text = match.group(1)
    cut = text.index(b".") + after_point
    changed = xml[: match.start(1)] + text[:cut] + b"<!---->" + text[cut:] + xml[match.end(1) :]
    return changed, text.decode(), text[:cut].decode()


def test_a_comment_inside_a_signed_value_is_read_joined(signed: bytes, unsigned: bytes) -> None:
    attacked, as_signed, truncated = _split_with_comment(signed, b"si:value")
    assert as_signed != truncated
    assert verify_dcc(attacked).ok  # comments are not signed (C14N without comments): still VALID
    values = [(q.value.value, q.value.expanded_u) for q in read_quantities(attacked)]
    assert values == [(q.value.value, q.value.expanded_u) for q in read_quantities(unsigned)]
    assert as_signed in [value for value, _ in values]
    assert read_dcc(attacked).result == read_dcc(unsigned).result


def test_a_comment_cannot_turn_an_uncertainty_into_zero(signed: bytes, unsigned: bytes) -> None:
    attacked, as_signed, truncated = _split_with_comment(signed, b"si:valueExpandedMUXMLList", after_point=0)
    assert truncated == "0"
    assert float(as_signed) > 0
    assert verify_dcc(attacked).ok
    assert read_dcc(attacked).result == read_dcc(unsigned).result


def test_a_forged_quantity_inside_ds_object_is_never_read(signed: bytes, unsigned: bytes) -> None:
    forged = (
        b"<ds:Object><dcc:quantity xmlns:dcc='https://ptb.de/dcc' xmlns:si='https://ptb.de/si' refType='forged'>"
        b"<si:real><si:value>999.999</si:value><si:unit>\\kilogram</si:unit></si:real></dcc:quantity></ds:Object>"
    )
    attacked = signed.replace(b"</ds:Signature>", forged + b"</ds:Signature>")
    assert attacked != signed
    assert verify_dcc(attacked).ok  # an unreferenced ds:Object is not covered by the signature
    listed = read_quantities(attacked)
    assert all(q.value.value != "999.999" for q in listed)
    assert len(listed) == len(read_quantities(unsigned))
    verified = read_verified(attacked)
    assert verified.report.ok
    assert all(q.value.value != "999.999" for q in verified.quantities)


def test_read_verified_reads_the_signed_content_and_nothing_unverified(
    signed: bytes, unsigned: bytes, test_keys: KeyFiles, other_keys: KeyFiles
) -> None:
    attacked, as_signed, _ = _split_with_comment(signed, b"si:value")
    verified = read_verified(attacked, cert=test_keys.signer_cert)
    assert verified.report.ok
    assert verified.report.signed_content is not None
    assert b"<!--" not in verified.report.signed_content
    assert b"Signature" not in verified.report.signed_content
    assert [q.value for q in verified.quantities] == [q.value for q in read_quantities(unsigned)]
    assert as_signed in [q.value.value for q in verified.quantities]
    assert read_verified(attacked, cert=other_keys.signer_cert).quantities == ()  # not the pinned signer
    changed = signed.replace(f">{as_signed}<".encode(), b">1.0<", 1)
    assert read_verified(changed).quantities == ()  # content changed: nothing is read as signed


@pytest.fixture(scope="module")
def signed_pdf(test_keys: KeyFiles) -> bytes:
    identity = load_signing_identity(test_keys.signer_key, test_keys.signer_cert)
    pdf = render_certificate_pdf(sample_result(), sample_admin(), will_be_signed=True, plot=False)
    return sign_pdf(pdf, identity, reason="test", location="Hangzhou")


def test_cert_on_a_pdf_pins_the_signer_and_is_not_a_trust_anchor(
    signed_pdf: bytes, test_keys: KeyFiles, other_keys: KeyFiles
) -> None:
    assert verify_pdf(signed_pdf, cert=test_keys.signer_cert).trusted is True
    pinned_ca = verify_pdf(signed_pdf, cert=test_keys.ca_cert)  # the CA is not the signer's certificate
    assert pinned_ca.trusted is False
    assert not pinned_ca.ok
    assert "different certificate" in pinned_ca.reason
    assert verify_pdf(signed_pdf, cert=other_keys.signer_cert).trusted is False
    assert verify_pdf(signed_pdf, trust=test_keys.ca_cert).trusted is True  # a CA belongs in --trust


def test_cli_verify_of_a_pdf_with_the_ca_as_cert_exits_1(
    signed_pdf: bytes, test_keys: KeyFiles, tmp_path: Path
) -> None:
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(signed_pdf)
    assert cli(["certificate", "verify", str(pdf), "--cert", str(test_keys.ca_cert)]) == 1
    assert cli(["certificate", "verify", str(pdf), "--cert", str(test_keys.signer_cert)]) == 0


@pytest.fixture(scope="module")
def oversized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """21 MiB of XML-looking junk (over the 20 MiB default)."""
    path = tmp_path_factory.mktemp("big") / "big.xml"
    with path.open("wb") as out:
        out.write(b"<dcc:digitalCalibrationCertificate xmlns:dcc='https://ptb.de/dcc'>")
        out.write(b"<a/>" * (21 * MIB // 4))
    return path


@pytest.mark.parametrize("command", ["verify", "validate"])
def test_an_oversized_dcc_is_refused_before_parsing_with_one_line_exit_2(
    oversized: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    assert cli(["certificate", command, str(oversized)]) == 2
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "over the 20 MiB limit" in lines[0]
    assert "--max-size" in lines[0]
    assert elapsed < 2.0  # refused from its size, not parsed


def test_the_reader_refuses_an_oversized_dcc(oversized: Path, signed: bytes) -> None:
    with pytest.raises(DccTooLargeError, match="over the 20 MiB limit"):
        read_quantities(oversized)
    with pytest.raises(DccTooLargeError):
        read_dcc(oversized)
    with pytest.raises(DccTooLargeError):
        verify_dcc(signed, max_bytes=1024)
    assert read_quantities(signed, max_bytes=len(signed))  # at the limit: read


def test_max_size_raises_the_limit(oversized: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["certificate", "verify", str(oversized), "--max-size", "30"])
    out = capsys.readouterr()
    assert code in (1, 2)
    assert "over the" not in out.err  # parsed this time (and found to be no signed DCC)
    assert cli(["certificate", "verify", str(oversized), "--max-size", "0"]) == 2  # not a size
