"""The audit-trail viewer: filters, pages, side-by-side values, CSV export and the chain check; attacked as the
roles that may not read the trail, as another organisation, with malformed filters and against a tampered row."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from tests.web.conftest import Demo
from tests.web.test_manage import CUSTOMER, created_id, other_org_user


def make_customer(demo: Demo) -> int:
    qm = demo.user("quality-manager")
    key = created_id(qm.post("/web/registry/customers", **CUSTOMER), "customers")
    assert qm.post(f"/web/registry/customers/{key}", **{**CUSTOMER, "city": "Foshan"}).status_code == 303
    return key


def test_filter_by_object_shows_old_and_new_side_by_side(demo: Demo) -> None:
    key = make_customer(demo)
    qm = demo.user("quality-manager")
    page = qm.client.get(f"/web/audit?entity=customers&entity_id={key}")
    assert page.status_code == 200
    table = page.text.split('data-testid="audit-table"', 1)[1]
    assert re.search(r"<td>city</td><td>Zhongshan</td><td>Foshan</td>", table)
    assert "2 entries" in page.text
    only_updates = qm.client.get(f"/web/audit?entity=customers&entity_id={key}&action=update")
    assert "1 entries" in only_updates.text
    by_actor = qm.client.get(f"/web/audit?entity=customers&entity_id={key}&actor=DEMO-quality-manager")
    assert "2 entries" in by_actor.text
    nobody = qm.client.get(f"/web/audit?entity=customers&entity_id={key}&actor=demo-technician")
    assert "0 entries" in nobody.text


def test_date_filter_and_pages(demo: Demo) -> None:
    make_customer(demo)
    qm = demo.user("quality-manager")
    today = date.today()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    assert "0 entries" in qm.client.get(f"/web/audit?since={tomorrow}").text
    assert "0 entries" in qm.client.get(f"/web/audit?until={yesterday}").text
    first = qm.client.get(f"/web/audit?since={today}&until={today}")
    total = int(re.search(r"(\d+) entries", first.text).group(1))  # type: ignore[union-attr]
    assert total > 50  # the demo's seed and fleet leave more than one page
    ids_1 = re.findall(r'<td rowspan="\d+">(\d+)</td>', first.text)
    assert len(ids_1) == 50
    assert 'data-testid="next-page"' in first.text
    second = qm.client.get(f"/web/audit?since={today}&until={today}&page=2")
    ids_2 = re.findall(r'<td rowspan="\d+">(\d+)</td>', second.text)
    assert ids_2
    assert not set(ids_1) & set(ids_2)
    assert int(ids_1[-1]) > int(ids_2[0])  # newest first


def test_export_respects_the_filter(demo: Demo) -> None:
    key = make_customer(demo)
    qm = demo.user("quality-manager")
    export = qm.client.get(f"/web/audit?entity=customers&entity_id={key}&export=csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["action"] for r in rows] == ["update", "create"]
    assert {r["entity_id"] for r in rows} == {str(key)}


@pytest.mark.parametrize("role", ["technician", "reviewer"])
def test_roles_without_the_audit_permission(demo: Demo, role: str) -> None:
    user = demo.user(role)
    assert user.client.get("/web/audit").status_code == 403
    assert user.client.get("/web/audit?export=csv").status_code == 403
    assert user.client.get("/web/audit/verify").status_code == 403


def test_another_organisation_sees_none_of_the_trail(demo: Demo) -> None:
    key = make_customer(demo)
    outsider = other_org_user(demo)
    page = outsider.client.get(f"/web/audit?entity=customers&entity_id={key}")
    assert page.status_code == 200
    assert "0 entries" in page.text
    export = outsider.client.get("/web/audit?export=csv")
    assert "Zhongshan" not in export.text
    assert "demo-" not in export.text
    assert outsider.client.get("/web/audit/verify").status_code == 403  # only administrators check the chain


def test_malformed_filters(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    assert qm.client.get("/web/audit?since=yesterday").status_code == 422
    assert qm.client.get("/web/audit?page=0").status_code == 422
    assert qm.client.get("/web/audit?actor=" + "x" * 500).status_code == 422


def test_verify_chain_finds_a_tampered_row(demo: Demo) -> None:
    key = make_customer(demo)
    admin = demo.user("admin")
    good = admin.client.get("/web/audit/verify")
    assert good.status_code == 200
    assert "The audit trail is intact." in good.text
    database = demo.app.state.hengqi.database
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_log SET new_values = :v WHERE entity = 'customers' "
                "AND entity_id = :k AND action = 'update'"
            ),
            {"v": '{"city":"Nowhere"}', "k": str(key)},
        )
    bad = admin.client.get("/web/audit/verify")
    assert "The audit trail is broken at entry" in bad.text


def test_audit_viewer_in_chinese(demo: Demo) -> None:
    make_customer(demo)
    qm = demo.user("quality-manager")
    qm.client.cookies.set("hengqi_lang", "zh")
    page = qm.client.get("/web/audit?entity=customers")
    assert "审计追踪" in page.text
    assert "修改" in page.text
    assert "aud." not in page.text
