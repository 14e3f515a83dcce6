"""The PDF certificate rendered with poppler (pdftotext, pdftoppm, pdffonts, pdfdetach from Debian's
poppler-utils, installed by ``scripts/ensure-system-packages.sh``): text, pages, fonts, plot and attachment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from tests.certificates.sample import sample_admin, sample_result

from hengqi.certificates.dcc import dcc_bytes
from hengqi.certificates.pdf import DCC_ATTACHMENT, render_certificate_pdf

DPI = 50


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result, admin = sample_result(), sample_admin()
    out = tmp_path_factory.mktemp("pdf") / "certificate.pdf"
    out.write_bytes(render_certificate_pdf(result, admin, dcc_xml=dcc_bytes(result, admin)))
    return out


def _pages(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", str(pdf)), re.M)
    assert match is not None
    return int(match.group(1))


def test_text_has_identifier_title_and_page_x_of_y_on_every_page(pdf_file: Path) -> None:
    total = _pages(pdf_file)
    assert total >= 2
    for page in range(1, total + 1):
        text = _run("pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf_file), "-")
        assert "HQ-CAL-2026-0042" in text
        assert f"Page {page} of {total}" in text
        assert f"第 {page} 页 共 {total} 页" in text
    first = _run("pdftotext", "-l", "1", str(pdf_file), "-")
    assert "校准证书" in first
    assert "Calibration Certificate" in first
    everything = _run("pdftotext", "-layout", str(pdf_file), "-")
    for needed in (
        "Errors of indication",
        "示值误差",
        "U(E)",
        "Traceability",
        "Li Wei",
        "2026-11-18",
        "2026-11-20",
        "Example Pharma",
        "EURAMET",
        "End of certificate",
    ):
        assert needed in everything, needed


def test_error_table_shows_u_rounded_up_to_two_digits(pdf_file: Path) -> None:
    text = _run("pdftotext", "-layout", str(pdf_file), "-")
    # sample point at 100 g: E = 0.2 mg, U = 2.0000163 x 9.0e-8 kg = 0.18000147 mg -> 0.19 mg (rounded up), and E
    # to the same decimal place: 0.20 mg; the conventional mass of the load (m_ref) is printed before I
    assert re.search(r"100\.0000\s+99\.9999\d*\s+100\.0001\s+0\.20\s+0\.19\s+2\.00", text), text


def test_fonts_are_embedded(pdf_file: Path) -> None:
    rows = _run("pdffonts", str(pdf_file)).splitlines()[2:]
    assert rows
    for row in rows:
        assert re.search(r"\byes\s+yes\s+yes\b", row), row  # emb sub uni


def test_dcc_is_attached(pdf_file: Path, tmp_path: Path) -> None:
    assert DCC_ATTACHMENT in _run("pdfdetach", "-list", str(pdf_file))
    _run("pdfdetach", "-saveall", "-o", str(tmp_path), str(pdf_file))
    assert (tmp_path / DCC_ATTACHMENT).read_bytes() == dcc_bytes(sample_result(), sample_admin())


def test_rendered_page_shows_the_plot(pdf_file: Path, tmp_path: Path) -> None:
    """Locate the plot between the note under the error table and the next heading; it must have ink and blue
    error bars there."""
    total = _pages(pdf_file)
    for page in range(1, total + 1):
        bbox = _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf_file), "-")
        words = re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', bbox
        )
        tops = {w[4]: float(w[3]) for w in words}
        if "expanded" in tops and "Repeatability" in tops:
            break
    else:
        pytest.fail("no page with the error table note and the repeatability heading")
    prefix = tmp_path / "page"
    _run("pdftoppm", "-f", str(page), "-l", str(page), "-r", str(DPI), "-png", str(pdf_file), str(prefix))
    png = next(tmp_path.glob("page*.png"))
    pixels = image.imread(str(png))[:, :, :3]
    scale = DPI / 72
    top, bottom = int(tops["expanded"] * scale) + 2, int(tops["Repeatability"] * scale) - 12
    assert bottom - top > 60  # about 60 mm of plot
    area = pixels[top:bottom]
    ink = np.mean(area.min(axis=2) < 0.9)
    blue = np.mean((area[:, :, 2] - area[:, :, 0]) > 0.15)
    assert 0.01 < ink < 0.5, ink
    assert blue > 0.0005, blue


def test_pdf_is_small(pdf_file: Path) -> None:
    assert pdf_file.stat().st_size < 500_000
