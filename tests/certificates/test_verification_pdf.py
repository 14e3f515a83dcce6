"""The verification certificate PDF (``hengqi certificate verification``): tests grouped with their verdicts,
numbers formatted in the instrument's units, the regulation and clauses named without internal notes, DRAFT on
every page of a draft, signed like the calibration certificate, the evaluated result attached."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from matplotlib import image
from tests.certificates.conftest import ROOT

from hengqi.certificates.signing import KeyFiles, verify_file
from hengqi.cli import cli

RECORDS = ROOT / "examples" / "verification"
PASS = RECORDS / "truck-scale-class-iii-pass.yaml"
FAIL = RECORDS / "balance-class-ii-eccentricity-fail.yaml"
ADMIN = ROOT / "examples" / "certificates" / "truck-scale-verification.ADMIN.yaml"
EXAMPLE = ROOT / "examples" / "certificates" / "HQ-VER-2026-0057.pdf"
CA = ROOT / "examples" / "certificates" / "test-keys" / "ca-cert.pem"
#: What a customer must not read: provenance notes, float exponents, unrounded decimals.
INTERNAL = re.compile(r"SECONDARY|NOT FOUND|hengqi choice|CONFIRMED|construction|\d\.?\d*e-\d|\d\.\d{7,}")


def _text(pdf: Path, page: int | None = None) -> str:
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def _issue(tmp_path: Path, record: Path, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / f"{record.stem}.pdf"
    assert cli(["certificate", "verification", str(record), "--admin", str(ADMIN), "--pdf", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def passed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _issue(tmp_path_factory.mktemp("ver"), PASS)


def test_a_passed_verification_gets_a_certificate_grouped_by_test(passed: Path) -> None:
    text = " ".join(_text(passed).split())  # lines joined: a sentence may wrap
    assert "检定证书" in text
    assert "Verification Certificate" in text
    assert "HQ-VER-2026-0057" in text
    for heading in (
        "Weighing test — pass 合格",
        "Eccentricity test — pass 合格",
        "Repeatability test — pass 合格",
        "Discrimination test — pass 合格",
        "Zero-setting accuracy — pass 合格",
    ):
        assert heading in text
    assert "OIML R 76-1:2006: Non-automatic weighing instruments" in text  # the regulation
    assert "OIML R 76-1:2006, A.4.7" in text  # the clause of a test
    assert "simple acceptance" in text  # the decision rule
    assert "Max = 60000 kg" in text  # units per instrument, no trailing zeros
    assert "20 × 1000 kg, 1 × 500 kg; class 等级 M1" in text  # the weights counted
    assert "The instrument meets the requirements of OIML R 76-1:2006 for subsequent verification" in text
    assert "Example Aggregates Co." in text
    assert INTERNAL.search(text) is None, INTERNAL.search(text)


def test_numbers_are_formatted_in_the_instruments_units(passed: Path) -> None:
    text = _text(passed)
    row = next(line for line in text.splitlines() if "decreasing" in line and " 40000 " in line)
    # load and indication to d = 20 kg, the corrected error and the MPE to 0.1 e (change-point weights)
    assert re.search(r"40000\s+40020\s+Ec\s+14\.0 kg\s+20\.0 kg\s+pass 合格", row), row


def test_the_result_travels_inside_the_pdf(passed: Path, tmp_path: Path) -> None:
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(passed)], check=True)
    document = json.loads((tmp_path / "verification-result.json").read_text(encoding="utf-8"))
    assert document["format"] == "hengqi.verification-result"
    assert document["verdict"] == "pass"


def test_a_failed_verification_gets_a_notice_naming_the_failed_test(tmp_path: Path) -> None:
    text = " ".join(_text(_issue(tmp_path, FAIL)).split())  # lines joined: a sentence may wrap
    assert "检定结果通知书" in text
    assert "Notice of Verification Result" in text
    assert "Eccentricity test — fail 不合格" in text
    assert "failed Eccentricity test" in text
    assert "偏载测试不合格" in text
    assert "Verification Certificate" not in text
    assert INTERNAL.search(text) is None, INTERNAL.search(text)


def _reddish_pixels(pdf: Path, tmp_path: Path) -> list[int]:
    """Per page, the pixels where red clearly dominates: the DRAFT mark is the only red on the page (the rotated
    words come out of pdftotext in fragments, so the mark is found by its colour)."""
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    counts = []
    for png in sorted(tmp_path.glob("page*.png")):
        pixels = image.imread(str(png))[..., :3]
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        counts.append(int(((red - green > 0.08) & (red - blue > 0.08)).sum()))
    return counts


def test_a_draft_says_draft_on_every_page(tmp_path: Path) -> None:
    draft = _reddish_pixels(_issue(tmp_path / "d", FAIL, "--draft"), tmp_path / "d")
    final = _reddish_pixels(_issue(tmp_path / "f", FAIL), tmp_path / "f")
    assert len(draft) == len(final) >= 2
    assert all(count > 200 for count in draft), draft
    assert final == [0] * len(final)


def test_signed_like_the_calibration_certificate(tmp_path: Path, test_keys: KeyFiles) -> None:
    pdf = _issue(tmp_path, PASS, "--sign", str(test_keys.signer_key), "--cert", str(test_keys.signer_cert))
    report = verify_file(pdf, trust=test_keys.ca_cert)
    assert report.ok
    assert report.trusted
    assert report.signer_cn == "Li Wei"
    assert "signed electronically 电子签名" in _text(pdf)


def test_a_draft_is_not_signed_and_bad_options_exit_2(tmp_path: Path, test_keys: KeyFiles) -> None:
    out = str(tmp_path / "x.pdf")
    base = ["certificate", "verification", str(PASS), "--admin", str(ADMIN), "--pdf", out]
    assert cli([*base, "--draft", "--sign", str(test_keys.signer_key), "--cert", str(test_keys.signer_cert)]) == 2
    assert cli([*base, "--sign", str(test_keys.signer_key)]) == 2
    assert cli(["certificate", "verification", str(tmp_path / "none.yaml"), "--admin", str(ADMIN), "--pdf", out]) == 2
    assert not Path(out).exists()


def test_the_committed_example_is_signed_and_reads_clean() -> None:
    report = verify_file(EXAMPLE, trust=CA)
    assert report.ok
    assert report.trusted
    text = _text(EXAMPLE)
    assert "Verification Certificate" in text
    assert "DRAFT" not in text
    assert INTERNAL.search(text) is None
