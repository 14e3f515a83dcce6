"""Withdrawing and reissuing certificates from the browser, through the API's workflow: a quality manager
withdraws one with a reason; a technician reissues one under a new number (a draft naming the old one) that a
reviewer approves and issues, which supersedes the old.  Attacked as the wrong role, another organisation,
without the CSRF token, with an empty reason and on a certificate that is not issued."""

from __future__ import annotations

import re

import pytest
from tests.web.conftest import Demo
from tests.web.test_manage import other_org_user

from hengqi.server.db.models import Instrument, User
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.workflow import CertificateCreate
from hengqi.server.services import certificates


def principal(demo: Demo, role: str) -> Principal:
    with demo.app.state.hengqi.database.read_session() as session:
        user = session.query(User).filter(User.username == f"demo-{role}").one()
        return Principal(user.id, user.username, Role(role), user.organisation_id)


def issued_certificate(demo: Demo, number: str = "WEB-CERT-1") -> int:
    """A certificate drafted by the technician and approved and issued by the reviewer (the API's services)."""
    state = demo.app.state.hengqi
    tech, reviewer = principal(demo, "technician"), principal(demo, "reviewer")
    with state.database.write_session() as session:
        instrument = session.query(Instrument).filter(Instrument.organisation_id == tech.organisation_id).first()
        assert instrument is not None
        data = CertificateCreate(number=number, kind="calibration", instrument_id=instrument.id)
        made = certificates.create_certificate(session, tech, data)
        certificates.attach_file(
            session, tech, state.files, made.id, content=b"%PDF-1.7 test", name="c.pdf", media_type="application/pdf"
        )
        certificates.approve(session, reviewer, made.id)
        certificates.issue(session, reviewer, made.id)
        session.commit()
        return made.id


def status(page: str) -> str:
    found = re.search(r'data-testid="certificate-status">([^<]+)<', page)
    assert found is not None, page
    return found.group(1)


def test_quality_manager_withdraws_with_a_reason(demo: Demo) -> None:
    key = issued_certificate(demo)
    qm = demo.user("quality-manager")
    assert "/manage" in qm.client.get("/web/certificates").text
    page = qm.client.get(f"/web/certificates/{key}/manage")
    assert 'data-testid="withdraw-form"' in page.text
    empty = qm.post(f"/web/certificates/{key}/withdraw", reason="   ")
    assert empty.status_code == 422
    assert status(qm.client.get(f"/web/certificates/{key}/manage").text) == "issued"
    done = qm.post(f"/web/certificates/{key}/withdraw", reason="wrong customer address")
    assert done.status_code == 303
    page = qm.client.get(f"/web/certificates/{key}/manage")
    assert status(page.text) == "withdrawn"
    assert "wrong customer address" in page.text
    again = qm.post(f"/web/certificates/{key}/withdraw", reason="twice")
    assert again.status_code == 409  # only an issued certificate can be withdrawn
    trail = qm.client.get(f"/web/audit?entity=certificates&entity_id={key}&action=withdraw")
    assert "wrong customer address" in trail.text


def test_reissue_supersedes_the_old_one_once_the_new_one_is_issued(demo: Demo) -> None:
    key = issued_certificate(demo)
    tech = demo.user("technician")
    made = tech.post(f"/web/certificates/{key}/reissue", number="WEB-CERT-1-R1", reason="typo in the serial")
    assert made.status_code == 303
    found = re.search(r"/web/certificates/(\d+)/manage\?done=reissued", made.headers["location"])
    assert found is not None
    new_key = int(found.group(1))
    page = tech.client.get(f"/web/certificates/{new_key}/manage")
    assert status(page.text) == "draft"
    assert f'href="/web/certificates/{key}/manage">WEB-CERT-1<' in page.text
    state = demo.app.state.hengqi
    reviewer = principal(demo, "reviewer")
    with state.database.write_session() as session:
        certificates.attach_file(
            session,
            principal(demo, "technician"),
            state.files,
            new_key,
            content=b"%PDF new",
            name="n.pdf",
            media_type="application/pdf",
        )
        certificates.approve(session, reviewer, new_key)
        certificates.issue(session, reviewer, new_key)
        session.commit()
    old = tech.client.get(f"/web/certificates/{key}/manage")
    assert status(old.text) == "superseded"
    assert "WEB-CERT-1-R1" in old.text
    qm = demo.user("quality-manager")
    trail = qm.client.get(f"/web/audit?entity=certificates&entity_id={new_key}&action=reissue")
    assert "typo in the serial" in trail.text
    duplicate = tech.post(f"/web/certificates/{new_key}/reissue", number="WEB-CERT-1-R1", reason="again")
    assert duplicate.status_code == 409  # the number is taken


@pytest.mark.parametrize("role", ["technician", "regulator"])
def test_wrong_role_cannot_withdraw(demo: Demo, role: str) -> None:
    key = issued_certificate(demo)
    user = demo.user(role)
    assert user.post(f"/web/certificates/{key}/withdraw", reason="mine").status_code == 403
    assert 'data-testid="withdraw-form"' not in user.client.get(f"/web/certificates/{key}/manage").text
    assert status(demo.user("quality-manager").client.get(f"/web/certificates/{key}/manage").text) == "issued"


def test_regulator_cannot_reissue(demo: Demo) -> None:
    key = issued_certificate(demo)
    regulator = demo.user("regulator")
    assert regulator.post(f"/web/certificates/{key}/reissue", number="R-X", reason="x").status_code == 403


def test_another_organisation_gets_not_found(demo: Demo) -> None:
    key = issued_certificate(demo)
    outsider = other_org_user(demo)
    assert outsider.client.get(f"/web/certificates/{key}/manage").status_code == 404
    assert outsider.post(f"/web/certificates/{key}/withdraw", reason="x").status_code == 404
    assert outsider.post(f"/web/certificates/{key}/reissue", number="O-1", reason="x").status_code == 404
    assert status(demo.user("quality-manager").client.get(f"/web/certificates/{key}/manage").text) == "issued"


def test_forms_need_the_csrf_token(demo: Demo) -> None:
    key = issued_certificate(demo)
    qm = demo.user("quality-manager")
    forged = qm.client.post(f"/web/certificates/{key}/withdraw", data={"reason": "x", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert qm.post(f"/web/certificates/{key}/withdraw", reason="x" * 5000).status_code == 422
    assert status(qm.client.get(f"/web/certificates/{key}/manage").text) == "issued"


def test_in_chinese(demo: Demo) -> None:
    key = issued_certificate(demo)
    qm = demo.user("quality-manager")
    qm.client.cookies.set("hengqi_lang", "zh")
    page = qm.client.get(f"/web/certificates/{key}/manage")
    assert "撤回证书" in page.text
    assert "校准证书" in page.text
    assert "cert." not in page.text
