"""The committed example certificates (``examples/certificates/``) stay valid, verifiable and readable.

Regenerate them with the command in ``docs/certificates.md`` (a fresh test key each time; only the certificates of
the test CA and signer are committed, never a private key).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.certificates.conftest import ROOT

from hengqi.certificates.dcc import read_dcc
from hengqi.certificates.schema import validate_dcc
from hengqi.certificates.signing import verify_file
from hengqi.metrology.reporting import reported_error
from hengqi.records.calibration import calibrate, load_calibration_record

EXAMPLES = ROOT / "examples" / "certificates"
DCC = EXAMPLES / "HQ-CAL-2026-0418.dcc.xml"
PDF = EXAMPLES / "HQ-CAL-2026-0418.pdf"
CA = EXAMPLES / "test-keys" / "ca-cert.pem"
RECORD = ROOT / "examples" / "calibration" / "analytical-balance-220g.yaml"


def test_example_dcc_is_valid_signed_and_reads_back(schema_dir: Path) -> None:
    assert validate_dcc(DCC, schema_dir).valid
    report = verify_file(DCC, trust=CA)
    assert report.ok
    assert report.trusted
    assert report.signer_cn == "Li Wei"
    doc = read_dcc(DCC)
    result = calibrate(load_calibration_record(RECORD))
    assert doc.unique_identifier == "HQ-CAL-2026-0418"
    assert [p.load_kg for p in doc.result.points] == [p.load_kg for p in result.points]
    # the DCC states E as certified: rounded to the decimal place of U (JCGM 100:2008, 7.2.6)
    assert [p.error_kg for p in doc.result.points] == [
        reported_error(p.error_kg, p.U_kg, p.k).error_kg for p in result.points
    ]


@pytest.mark.parametrize("number", ["HQ-CAL-2026-0391", "HQ-CAL-2026-0340"])
def test_the_other_example_certificates_are_valid_and_signed(schema_dir: Path, number: str) -> None:
    dcc, pdf = EXAMPLES / f"{number}.dcc.xml", EXAMPLES / f"{number}.pdf"
    assert validate_dcc(dcc, schema_dir).valid
    assert verify_file(dcc, trust=CA).trusted
    assert verify_file(pdf, trust=CA).trusted
    assert read_dcc(dcc).unique_identifier == number


def test_example_pdf_is_small_signed_and_carries_the_dcc(tmp_path: Path) -> None:
    assert PDF.stat().st_size < 500_000
    report = verify_file(PDF, trust=CA)
    assert report.ok
    assert report.trusted
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(PDF)], check=True, capture_output=True)
    assert (tmp_path / "certificate.dcc.xml").read_bytes() == DCC.read_bytes()
