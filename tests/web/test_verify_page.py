"""The public verification page: no sign-in; a certificate's status (current, withdrawn, superseded with its
successor named) and whether a file is the one issued; no customer data; attacked by enumeration (throttled per
address), across organisations, with huge uploads and odd text.  And the QR code on the signed certificate PDF:
the signature still verifies, and the link it carries opens the page."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Demo
from tests.web.test_certificate_actions import issued_certificate, principal
from tests.web.test_guided_runs import BALANCE

from hengqi.certificates.signing import verify_file
from hengqi.server.db.models import Certificate
from hengqi.server.services import certificates


def anonymous(demo: Demo) -> TestClient:
    return TestClient(demo.app)


def number_and_org(demo: Demo, key: int) -> tuple[str, int]:
    with demo.app.state.hengqi.database.read_session() as session:
        found = session.get(Certificate, key)
        assert found is not None
        return found.number, found.organisation_id


def state_of(page: str) -> str:
    found = re.search(r'data-testid="verify-state">\s*<span class="badge \w+">([^<]+)<', page)
    assert found is not None, page
    return found.group(1)


def test_anyone_checks_a_certificate_and_its_file(demo: Demo) -> None:
    key = issued_certificate(demo, "PUB-1")
    number, org = number_and_org(demo, key)
    public = anonymous(demo)
    page = public.get(f"/web/verify/{org}/{number}")
    assert page.status_code == 200
    assert state_of(page.text) == "current"
    assert "Demo" in page.text  # the laboratory's name is on the certificate itself
    assert page.headers["cache-control"] == "no-store"
    for private in ("Zhongshan", "demo-technician", "Demo technician", "Demo reviewer", "SIM-"):
        assert private not in page.text  # no customer, instrument or people
    assert state_of(public.get("/web/verify?number=PUB-1").text) == "current"
    good = public.post(f"/web/verify/{org}/{number}", files={"file": ("c.pdf", b"%PDF-1.7 test", "application/pdf")})
    assert 'data-testid="verify-file"' in good.text
    assert "is the one issued" in good.text
    bad = public.post(f"/web/verify/{org}/{number}", files={"file": ("c.pdf", b"%PDF-1.7 tampered", "x/y")})
    assert "is NOT the one issued" in bad.text
    zh = public.get(f"/web/verify/{org}/{number}", cookies={"hengqi_lang": "zh"})
    assert "证书核验" in zh.text
    assert "有效" in zh.text
    assert "ver." not in zh.text


def test_withdrawn_and_superseded_are_named(demo: Demo) -> None:
    withdrawn = issued_certificate(demo, "PUB-W")
    qm = demo.user("quality-manager")
    assert qm.post(f"/web/certificates/{withdrawn}/withdraw", reason="customer secret reason").status_code == 303
    number, org = number_and_org(demo, withdrawn)
    page = anonymous(demo).get(f"/web/verify/{org}/{number}")
    assert state_of(page.text) == "withdrawn"
    assert "customer secret reason" not in page.text
    old = issued_certificate(demo, "PUB-OLD")
    tech = demo.user("technician")
    made = tech.post(f"/web/certificates/{old}/reissue", number="PUB-NEW", reason="typo")
    new_key = int(re.findall(r"/certificates/(\d+)/", made.headers["location"])[0])
    draft_page = anonymous(demo).get(f"/web/verify/{org}/PUB-NEW")
    assert draft_page.status_code == 404  # a draft is not a certificate yet
    state = demo.app.state.hengqi
    with state.database.write_session() as session:
        certificates.attach_file(
            session,
            principal(demo, "technician"),
            state.files,
            new_key,
            content=b"%PDF n",
            name="n.pdf",
            media_type="application/pdf",
        )
        certificates.approve(session, principal(demo, "reviewer"), new_key)
        certificates.issue(session, principal(demo, "reviewer"), new_key)
        session.commit()
    page = anonymous(demo).get(f"/web/verify/{org}/PUB-OLD")
    assert state_of(page.text) == "superseded"
    assert re.search(r'data-testid="verify-successor">PUB-NEW<', page.text)
    assert state_of(anonymous(demo).get(f"/web/verify/{org}/PUB-NEW").text) == "current"


def test_enumeration_is_throttled_per_address(demo: Demo) -> None:
    key = issued_certificate(demo, "PUB-E")
    number, org = number_and_org(demo, key)
    public = anonymous(demo)
    misses = demo.app.state.hengqi.settings.verify_misses
    for n in range(misses):
        assert public.get(f"/web/verify/{org}/HQ-CAL-2026-{n:05d}").status_code == 404
    locked = public.get(f"/web/verify/{org}/HQ-CAL-2026-99999")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert public.get(f"/web/verify/{org}/{number}").status_code == 429  # locked for everything, known or not
    assert public.get("/web/verify?number=x").status_code == 429


def test_other_organisations_odd_text_and_huge_uploads(demo: Demo) -> None:
    key = issued_certificate(demo, "PUB-O")
    number, org = number_and_org(demo, key)
    public = anonymous(demo)
    assert public.get(f"/web/verify/{org + 1}/{number}").status_code == 404  # numbers are per organisation
    odd = public.get("/web/verify?number=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E%27%22%E2%80%AE")
    assert odd.status_code == 404
    assert "<script>alert(1)" not in odd.text
    assert public.get("/web/verify?number=" + "x" * 101).status_code == 422
    assert public.get(f"/web/verify/{org}/" + "x" * 101).status_code == 422
    assert public.get(f"/web/verify/0/{number}").status_code == 422
    limit = demo.app.state.hengqi.settings.verify_max_upload_bytes
    huge = public.post(f"/web/verify/{org}/{number}", files={"file": ("c.pdf", b"0" * (limit + 1), "x/y")})
    assert huge.status_code == 413
    assert "too large" in huge.text
    empty = public.post(f"/web/verify/{org}/{number}", data={"x": "1"})
    assert empty.status_code == 422
    # the signed-in pages stay closed to the public
    assert public.get(f"/web/certificates/{key}/manage", follow_redirects=False).status_code == 303


@pytest.mark.slow  # a whole calibration (~50 steps) and a signed PDF: ~15 s
def test_the_signed_pdf_carries_the_qr_link_and_still_verifies(demo: Demo, tmp_path: Path) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        key = session.query(Certificate).one().id
    reviewer = demo.user("reviewer")
    assert "notice=approved" in reviewer.post(f"/web/certificates/{key}/approve", confirm="yes").headers["location"]
    pdf = reviewer.client.get(f"/web/certificates/{key}/pdf").content
    dcc = reviewer.client.get(f"/web/certificates/{key}/dcc").content
    (tmp_path / "c.pdf").write_bytes(pdf)
    assert verify_file(tmp_path / "c.pdf", trust=demo.data_dir / "signing" / "ca-cert.pem").ok
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, check=True).stdout
    link = re.search(rb"http://testserver(/web/verify/\d+/HQ-CAL-\d{4}-00001)", text)
    assert link is not None, text[-1500:]
    public = anonymous(demo)
    assert state_of(public.get(link.group(1).decode()).text) == "current"
    for content in (pdf, dcc):
        answer = public.post(link.group(1).decode(), files={"file": ("f", content, "application/octet-stream")})
        assert "is the one issued" in answer.text
