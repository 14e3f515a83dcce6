"""The laboratory's own address from the browser (``/web/organisation``): shown to everyone signed in, changed by
administrators through the API's service with CSRF token and row_version, refused input shown again with the
reason; the address is what the certificates print."""

from __future__ import annotations

import re

from tests.web.conftest import Demo
from tests.web.test_manage import other_org_user

from hengqi.server.db.models import AuditEntry, Organisation
from hengqi.server.demo import DEMO_ORGANISATION
from hengqi.server.permissions import Role

ADDRESS = {
    "name_zh": "演示衡器服务",
    "street": "Tianmushan Road",
    "street_no": "18",
    "post_code": "310013",
    "city": "Hangzhou",
    "state": "Zhejiang",
    "country": "cn",
}


def _version(page: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


def _org(demo: Demo) -> Organisation:
    with demo.app.state.hengqi.database.read_session() as session:
        org = session.query(Organisation).filter_by(name=DEMO_ORGANISATION).one()
        session.expunge(org)
        return org


def test_an_administrator_enters_the_address_and_others_read_it(demo: Demo) -> None:
    admin = demo.user("admin")
    page = admin.client.get("/web/organisation").text
    assert 'data-testid="save"' in page
    version = _version(page)
    saved = admin.post("/web/organisation", row_version=version, **ADDRESS)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/web/organisation?saved=1"
    org = _org(demo)
    assert (org.street, org.street_no, org.city, org.state, org.country) == (
        "Tianmushan Road",
        "18",
        "Hangzhou",
        "Zhejiang",
        "CN",  # typed in lower case, stored as the ISO code
    )
    with demo.app.state.hengqi.database.read_session() as session:
        entry = session.query(AuditEntry).filter_by(entity="organisations").order_by(AuditEntry.id.desc()).first()
        assert entry is not None
        assert "Tianmushan Road" in entry.new_values  # audited with the old and new values
        assert "Wensan Road" in entry.old_values
    technician = demo.user("technician")
    shown = technician.client.get("/web/organisation").text
    assert "Tianmushan Road" in shown
    assert 'data-testid="save"' not in shown  # read-only for other roles
    assert technician.post("/web/organisation", row_version=str(org.row_version), **ADDRESS).status_code == 403
    # a stale form (made before the change) is refused with 412 and nothing is written
    stale = admin.post("/web/organisation", row_version=version, **{**ADDRESS, "street": "Old Road"})
    assert stale.status_code == 412
    assert _org(demo).street == "Tianmushan Road"


def test_refused_input_is_shown_again_with_the_reason(demo: Demo) -> None:
    admin = demo.user("admin")
    version = _version(admin.client.get("/web/organisation").text)
    for field, bad, status in (
        ("country", "China", 422),
        ("city", "", 422),
        ("city", "x" * 101, 422),
        ("post_code", "1" * 21, 422),
        ("row_version", "1; drop", 422),
    ):
        answer = admin.post("/web/organisation", **{**ADDRESS, "row_version": version, field: bad})
        assert answer.status_code == status, (field, bad)
        assert 'data-testid="form-error"' in answer.text
        if field == "country":
            assert 'value="China"' in answer.text  # what was typed is kept
    assert _org(demo).street == "Wensan Road"  # the demo's address, unchanged


def test_the_form_needs_a_session_and_its_csrf_token(demo: Demo) -> None:
    admin = demo.user("admin")
    forged = admin.client.post("/web/organisation", data={**ADDRESS, "csrf_token": "forged"})
    assert forged.status_code == 403
    anonymous = type(admin.client)(demo.app)
    assert anonymous.post("/web/organisation", data=ADDRESS, follow_redirects=False).status_code == 303
    assert anonymous.get("/web/organisation", follow_redirects=False).status_code == 303
    assert _org(demo).street == "Wensan Road"


def test_another_organisations_administrator_changes_only_their_own(demo: Demo) -> None:
    outsider = other_org_user(demo, Role.ADMIN)
    page = outsider.client.get("/web/organisation").text
    assert "Other Lab" in page
    assert 'data-testid="address-missing"' in page  # no address yet: certificates are not issued
    assert outsider.post("/web/organisation", row_version=_version(page), **ADDRESS).status_code == 303
    assert _org(demo).street == "Wensan Road"  # the demo organisation is untouched
