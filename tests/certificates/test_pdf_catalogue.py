"""Every Chinese text of the certificate PDFs comes from the catalogue: drawing each example certificate (the
calibrations, a passed and a failed verification, signed with a verification link) looks up no text without a
translation.  A text marked for translation inside an f-string is not extracted by Babel and so escapes
``scripts/i18n.py check``; this probe sees it at run time."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.certificates.conftest import ROOT
from tests.certificates.sample import sample_admin, sample_result

from hengqi.certificates.pdf import render_certificate_pdf
from hengqi.cli import cli
from hengqi.locale import record_misses

VERIFICATIONS = sorted((ROOT / "examples" / "verification").glob("*.yaml"))
ADMIN = ROOT / "examples" / "certificates" / "truck-scale-verification.ADMIN.yaml"


def test_a_signed_calibration_certificate_with_its_link_misses_no_translation() -> None:
    with record_misses() as misses:
        pdf = render_certificate_pdf(
            sample_result(), sample_admin(), will_be_signed=True, verify_url="https://lab.example/v/HQ-1"
        )
    assert pdf.startswith(b"%PDF")
    assert misses == set()


@pytest.mark.parametrize("record", VERIFICATIONS, ids=lambda p: p.stem)
def test_every_example_verification_certificate_misses_no_translation(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.pdf"
    with record_misses() as misses:
        assert cli(["certificate", "verification", str(record), "--admin", str(ADMIN), "--pdf", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert misses == set()


def test_the_probe_would_see_a_missing_certificate_text() -> None:
    from hengqi.locale import NP_, bilingual

    with record_misses() as misses:
        assert bilingual(NP_("certificate", "A paragraph nobody translated")) == (
            "A paragraph nobody translated A paragraph nobody translated"
        )
    assert misses == {("certificate", "A paragraph nobody translated")}
