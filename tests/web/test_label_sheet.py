"""Label sheets as PDF with QR codes: for chosen instruments or the list's filter, on each common label size, in
English and Chinese; the QR code holds the public verification link of the latest issued certificate; attacked as
another organisation, without sign-in and with malformed parameters."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.web.conftest import Demo
from tests.web.test_certificate_actions import issued_certificate
from tests.web.test_manage import INSTRUMENT, created_id, other_org_user

from hengqi.certificates.pdf.qr import modules, svg_path
from hengqi.server.db.models import Certificate
from hengqi.server.permissions import Role
from hengqi.server.services.label_sheet import SHEETS


def pdf_text(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "labels.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def pages(tmp_path: Path, content: bytes) -> int:
    path = tmp_path / "labels.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("size", sorted(SHEETS))
def test_a_technician_prints_a_sheet_for_the_filter(demo: Demo, tmp_path: Path, size: str) -> None:
    tech = demo.user("technician")
    for n in range(3):
        created_id(tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": f"LBL-{n}"}), "instruments")
    sheet = tech.client.get(f"/web/labels.pdf?q=LBL-&size={size}")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "application/pdf"
    text = pdf_text(tmp_path, sheet.content)
    assert all(f"LBL-{n}" in text for n in range(3))
    assert pages(tmp_path, sheet.content) == (3 if SHEETS[size].per_page == 1 else 1)


def test_the_label_carries_the_latest_certificate_and_its_qr_link(demo: Demo, tmp_path: Path) -> None:
    key = issued_certificate(demo, "LBL-CERT-1")
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.get(Certificate, key)
        assert certificate is not None
        instrument, org = certificate.instrument_id, certificate.organisation_id
    tech = demo.user("technician")
    sheet = tech.client.get(f"/web/labels.pdf?ids={instrument}&size=L7163")
    assert "LBL-CERT-1" in pdf_text(tmp_path, sheet.content)
    link = f"http://testserver/web/verify/{org}/LBL-CERT-1"
    label = tech.client.get(f"/web/registry/instruments/{instrument}/label.svg")
    assert svg_path(link, 40.5, 7.5, 20.0) in label.text  # the QR code of exactly that link
    assert len(modules(link)) >= 21
    zh = tech.client.get(f"/web/labels.pdf?ids={instrument}", cookies={"hengqi_lang": "zh"})
    assert "检定到期" in pdf_text(tmp_path, zh.content)


def test_labels_of_another_organisation_and_bad_parameters(demo: Demo) -> None:
    tech = demo.user("technician")
    key = created_id(tech.post("/web/registry/instruments", **INSTRUMENT), "instruments")
    outsider = other_org_user(demo, Role.TECHNICIAN)
    assert outsider.client.get(f"/web/labels.pdf?ids={key}").status_code == 404
    assert outsider.client.get("/web/labels.pdf?q=WEB-").status_code == 422  # its filter selects none of ours
    anonymous = type(tech.client)(demo.app)
    assert anonymous.get(f"/web/labels.pdf?ids={key}", follow_redirects=False).status_code == 303
    for query in ("size=A0", "ids=1,x", "ids=-1", "ids=" + ",".join(["1"] * 1001), "sort=password_hash"):
        assert tech.client.get(f"/web/labels.pdf?{query}").status_code == 422, query
