"""The registry's management screens: customers, sites, instruments, weight sets and weights from the browser.

Each route is driven with real forms (CSRF token, row_version) through the test client against the demo
organisation, and attacked as a role without the permission (403 page) and as a user of another organisation
(404 page: the record's existence is not disclosed)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from tests.web.conftest import Demo, WebUser

from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts

OTHER_PASSWORD = "another-org-Pa55word!"


def other_org_user(demo: Demo, role: Role = Role.QUALITY_MANAGER) -> WebUser:
    """A user of a second organisation, made by the platform's administrator."""
    database = demo.app.state.hengqi.database
    with database.write_session() as session:
        admin = Principal(1, "root", Role.ADMIN, 1)
        org = accounts.create_organisation(session, admin, OrganisationCreate(name="Other Lab"))
        name = f"other-{role.value}"
        accounts.create_user(
            session,
            admin,
            UserCreate(username=name, password=OTHER_PASSWORD, role=role, organisation_id=org.id),
        )
        session.commit()
    return WebUser.sign_in(demo.app, name, OTHER_PASSWORD)


def created_id(answer: Any, slug: str) -> int:
    assert answer.status_code == 303, answer.text
    found = re.search(rf"/web/registry/{slug}/(\d+)\?saved=1$", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return int(found.group(1))


def row_version(page: str) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


CUSTOMER = {"name": "Zhongshan Foods", "city": "Zhongshan", "country": "CN", "street": "Xingzhong Rd"}
INSTRUMENT = {
    "make": "Acme",
    "model": "B-30",
    "serial": "WEB-0001",
    "accuracy_class": "III",
    "max": "30",
    "e": "0.01",
    "status": "in-service",
    "verification_due": "2026-01-15",
}


def test_customer_create_edit_history_and_retire(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    key = created_id(qm.post("/web/registry/customers", **CUSTOMER), "customers")
    page = qm.client.get(f"/web/registry/customers/{key}")
    assert page.status_code == 200
    assert 'value="Zhongshan Foods"' in page.text
    changed = qm.post(f"/web/registry/customers/{key}", **{**CUSTOMER, "city": "Guangzhou"})
    assert changed.status_code == 303
    page = qm.client.get(f"/web/registry/customers/{key}")
    assert 'value="Guangzhou"' in page.text
    history = page.text.split('data-testid="history-table"', 1)[1]
    assert "Zhongshan" in history
    assert "Guangzhou" in history
    assert "demo-quality-manager" in history
    listing = qm.client.get("/web/registry/customers?q=zhongshan%20foods")
    assert f'/web/registry/customers/{key}"' in listing.text
    retired = qm.post(f"/web/registry/customers/{key}/retire", row_version=row_version(page.text))
    assert retired.status_code == 303
    assert qm.client.get(f"/web/registry/customers/{key}").status_code == 404
    assert f'/web/registry/customers/{key}"' not in qm.client.get("/web/registry/customers").text


def test_refused_customer_is_shown_again_with_the_field_named(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    answer = qm.post("/web/registry/customers", **{**CUSTOMER, "country": "China"})
    assert answer.status_code == 422
    assert 'data-testid="form-error"' in answer.text
    assert "country" in answer.text
    assert 'value="Zhongshan Foods"' in answer.text  # what was typed is kept
    assert "Zhongshan Foods" not in qm.client.get("/web/registry/customers").text


def test_instrument_with_owner_and_site_and_the_refusal_names_the_rule(demo: Demo) -> None:
    tech = demo.user("technician")
    owner = created_id(tech.post("/web/registry/customers", **CUSTOMER), "customers")
    site = created_id(tech.post("/web/registry/sites", name="Plant 7", address="Zhongshan"), "sites")
    key = created_id(
        tech.post("/web/registry/instruments", **INSTRUMENT, owner_id=str(owner), site_id=str(site)), "instruments"
    )
    page = tech.client.get(f"/web/registry/instruments/{key}")
    assert re.search(rf'<option value="{owner}" selected>Zhongshan Foods', page.text)
    # class III with n = Max/e = 30 / 0.000001 = 30 000 000 > 10 000: OIML R 76-1 Table 3 refuses it
    refused = tech.post(
        f"/web/registry/instruments/{key}", **{**INSTRUMENT, "e": "0.000001", "row_version": row_version(page.text)}
    )
    assert refused.status_code == 422
    error = re.search(r'data-testid="form-error">([^<]*)<', refused.text)
    assert error is not None, refused.text
    assert "R 76" in error.group(1)
    stored = tech.client.get(f"/web/registry/instruments/{key}")
    assert 'name="e" value="0.01"' in stored.text  # nothing was stored
    # a stale form (version 1 after a change made version 2) is refused with 412
    first = row_version(stored.text)
    assert (
        tech.post(
            f"/web/registry/instruments/{key}", **{**INSTRUMENT, "model": "B-31", "row_version": first}
        ).status_code
        == 303
    )
    stale = tech.post(f"/web/registry/instruments/{key}", **{**INSTRUMENT, "model": "B-32", "row_version": first})
    assert stale.status_code == 412
    assert 'value="B-31"' in tech.client.get(f"/web/registry/instruments/{key}").text


def test_instrument_list_filters_sorts_and_exports_what_it_shows(demo: Demo) -> None:
    admin = demo.user("admin")
    owner = created_id(admin.post("/web/registry/customers", **CUSTOMER), "customers")
    for serial, maximum in (("WEB-A", "6"), ("WEB-B", "30"), ("WEB-C", "60")):
        created_id(
            admin.post(
                "/web/registry/instruments", **{**INSTRUMENT, "serial": serial, "max": maximum}, owner_id=str(owner)
            ),
            "instruments",
        )
    page = admin.client.get(f"/web/registry/instruments?owner_id={owner}&sort=-max_kg")
    assert page.status_code == 200
    order = re.findall(r"WEB-[ABC]", page.text.split('data-testid="registry-table"', 1)[1])
    assert order == ["WEB-C", "WEB-B", "WEB-A"]
    export = admin.client.get(f"/web/registry/instruments?owner_id={owner}&sort=max_kg&export=csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["serial"] for r in rows] == ["WEB-A", "WEB-B", "WEB-C"]
    assert {r["owner_id"] for r in rows} == {"Zhongshan Foods"}
    due = admin.client.get(f"/web/registry/instruments?owner_id={owner}&due_within=0&export=csv")
    assert len(list(csv.DictReader(io.StringIO(due.text)))) == 3  # 2026-01-15 is already past
    # the filter form sends every field, the blank ones empty
    blank = admin.client.get("/web/registry/instruments?q=WEB-&class=&site_id=&owner_id=&status=&due_within=&sort=id")
    assert blank.status_code == 200
    assert "WEB-B" in blank.text
    assert admin.client.get("/web/registry/instruments?due_within=-1").status_code == 422
    assert admin.client.get("/web/registry/instruments?due_within=99999").status_code == 422
    assert admin.client.get("/web/registry/instruments?sort=password_hash").status_code == 422
    assert admin.client.get("/web/registry/instruments?status=bogus").status_code == 422


def test_export_neutralises_formulas(demo: Demo) -> None:
    admin = demo.user("admin")
    created_id(admin.post("/web/registry/customers", **{**CUSTOMER, "name": '=HYPERLINK("http://x")'}), "customers")
    export = admin.client.get("/web/registry/customers?export=csv")
    assert "'=HYPERLINK" in export.text


def test_weight_set_with_weights_and_their_certificates(demo: Demo) -> None:
    tech = demo.user("technician")
    key = created_id(
        tech.post("/web/registry/weight-sets", name="F1 kit 7", weight_class="F1", certificate_number="CAL-2026-07"),
        "weight-sets",
    )
    added = tech.post(
        f"/web/registry/weight-sets/{key}/weights",
        identifier="W-10kg",
        nominal="10",
        correction="0.00002",
        u="0.00005",
        k="2",
        certificate_number="CAL-2026-07-3",
    )
    assert added.status_code == 303
    page = tech.client.get(f"/web/registry/weight-sets/{key}")
    assert "W-10kg" in page.text
    assert "CAL-2026-07-3" in page.text
    bad = tech.post(f"/web/registry/weight-sets/{key}/weights", identifier="W-bad", nominal="-1")
    assert bad.status_code == 422
    assert "nominal" in bad.text
    weight = re.search(r'href="/web/registry/weights/(\d+)"', page.text)
    assert weight is not None
    weight_page = tech.client.get(f"/web/registry/weights/{weight.group(1)}")
    assert 'name="certificate_number" value="CAL-2026-07-3"' in weight_page.text


@pytest.mark.parametrize(
    ("role", "path", "data"),
    [
        ("regulator", "/web/registry/customers", CUSTOMER),
        ("regulator", "/web/registry/instruments", INSTRUMENT),
        ("regulator", "/web/registry/sites", {"name": "X"}),
        ("regulator", "/web/registry/weight-sets", {"name": "X", "weight_class": "F1"}),
    ],
)
def test_wrong_role_cannot_create(demo: Demo, role: str, path: str, data: dict[str, str]) -> None:
    user = demo.user(role)
    answer = user.post(path, **data)
    assert answer.status_code == 403
    assert 'data-testid="error-message"' in answer.text
    assert user.client.get(path + "/new").status_code == 403


def test_wrong_role_cannot_change_or_retire(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    key = created_id(qm.post("/web/registry/instruments", **INSTRUMENT), "instruments")
    set_key = created_id(qm.post("/web/registry/weight-sets", name="S", weight_class="F1"), "weight-sets")
    regulator, tech = demo.user("regulator"), demo.user("technician")
    assert regulator.client.get(f"/web/registry/instruments/{key}").status_code == 200  # may read
    assert regulator.post(f"/web/registry/instruments/{key}", **{**INSTRUMENT, "model": "X"}).status_code == 403
    assert (
        regulator.post(f"/web/registry/weight-sets/{set_key}/weights", identifier="W", nominal="1").status_code == 403
    )
    assert tech.post(f"/web/registry/instruments/{key}/retire").status_code == 403  # registry.delete: QM, admin
    assert 'value="B-30"' in qm.client.get(f"/web/registry/instruments/{key}").text
    # the history is the audit trail: shown to the roles that may read it, as on the API
    assert 'data-testid="history-table"' not in tech.client.get(f"/web/registry/instruments/{key}").text


@pytest.mark.parametrize("slug", ["customers", "sites", "instruments", "weight-sets"])
def test_other_organisation_gets_not_found(demo: Demo, slug: str) -> None:
    admin = demo.user("admin")
    data = {
        "customers": CUSTOMER,
        "sites": {"name": "Plant 9"},
        "instruments": INSTRUMENT,
        "weight-sets": {"name": "Kit 9", "weight_class": "F1"},
    }[slug]
    key = created_id(admin.post(f"/web/registry/{slug}", **data), slug)
    outsider = other_org_user(demo)
    assert outsider.client.get(f"/web/registry/{slug}/{key}").status_code == 404
    assert outsider.post(f"/web/registry/{slug}/{key}", **data).status_code == 404
    assert outsider.post(f"/web/registry/{slug}/{key}/retire").status_code == 404
    listing = outsider.client.get(f"/web/registry/{slug}?export=csv")
    assert listing.text.strip().count("\n") == 0  # header only
    if slug == "weight-sets":
        answer = outsider.post(f"/web/registry/weight-sets/{key}/weights", identifier="W", nominal="1")
        assert answer.status_code == 404
    assert admin.client.get(f"/web/registry/{slug}/{key}").status_code == 200  # still there


def test_outsider_cannot_point_an_instrument_at_another_organisations_customer(demo: Demo) -> None:
    admin = demo.user("admin")
    owner = created_id(admin.post("/web/registry/customers", **CUSTOMER), "customers")
    outsider = other_org_user(demo)
    answer = outsider.post("/web/registry/instruments", **INSTRUMENT, owner_id=str(owner))
    assert answer.status_code == 404
    assert outsider.client.get("/web/registry/instruments?export=csv").text.count("WEB-0001") == 0


def test_forms_need_the_csrf_token_and_a_session(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    answer = qm.client.post("/web/registry/customers", data={**CUSTOMER, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert "Zhongshan Foods" not in qm.client.get("/web/registry/customers").text
    anonymous = type(qm.client)(demo.app)
    assert anonymous.post("/web/registry/customers", data=CUSTOMER, follow_redirects=False).status_code == 303


def test_malformed_and_oversized_input(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    assert qm.client.get("/web/registry/no-such-kind").status_code == 404
    assert qm.post("/web/registry/customers", **{**CUSTOMER, "name": "x" * 5000}).status_code == 422
    assert qm.post("/web/registry/instruments", **{**INSTRUMENT, "site_id": "1; drop"}).status_code == 422
    assert qm.post("/web/registry/instruments", **{**INSTRUMENT, "max": "1e999999"}).status_code == 422
    many = {f"f{i}": "x" for i in range(200)}
    assert qm.post("/web/registry/customers", **CUSTOMER, **many).status_code == 400
    assert qm.client.get("/web/registry/customers/99999999999").status_code == 422


def test_screens_in_chinese(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    qm.client.cookies.set("hengqi_lang", "zh")
    key = created_id(qm.post("/web/registry/customers", **CUSTOMER), "customers")
    page = qm.client.get(f"/web/registry/customers/{key}")
    assert "客户" in page.text
    assert "历史记录" in page.text
    assert "保存更改" in page.text
    listing = qm.client.get("/web/registry/instruments")
    assert "导出 CSV" in listing.text
    assert "reg." not in listing.text


def test_installed_on_is_shown_edited_and_never_in_the_future(demo: Demo) -> None:
    from datetime import date, timedelta

    tech = demo.user("technician")
    key = created_id(
        tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "WEB-INST", "installed_on": "2019-05-02"}),
        "instruments",
    )
    page = tech.client.get(f"/web/registry/instruments/{key}")
    assert 'name="installed_on" value="2019-05-02"' in page.text
    assert "Put into service on" in page.text
    changed = tech.post(
        f"/web/registry/instruments/{key}",
        **{**INSTRUMENT, "serial": "WEB-INST", "installed_on": "2020-01-31", "row_version": row_version(page.text)},
    )
    assert changed.status_code == 303
    page = tech.client.get(f"/web/registry/instruments/{key}")
    assert 'name="installed_on" value="2020-01-31"' in page.text
    later = (date.today() + timedelta(days=2)).isoformat()
    refused = tech.post(
        f"/web/registry/instruments/{key}",
        **{**INSTRUMENT, "serial": "WEB-INST", "installed_on": later, "row_version": row_version(page.text)},
    )
    assert refused.status_code == 422
    error = re.search(r'data-testid="form-error">([^<]*)<', refused.text)
    assert error is not None
    assert "future" in error.group(1)
    assert 'name="installed_on" value="2020-01-31"' in tech.client.get(f"/web/registry/instruments/{key}").text
    new = tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "WEB-FUT", "installed_on": later})
    assert new.status_code == 422
    # tomorrow by the server's clock is still today somewhere
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page = tech.client.get(f"/web/registry/instruments/{key}")
    ok = tech.post(
        f"/web/registry/instruments/{key}",
        **{**INSTRUMENT, "serial": "WEB-INST", "installed_on": tomorrow, "row_version": row_version(page.text)},
    )
    assert ok.status_code == 303
    bad = tech.post(
        f"/web/registry/instruments/{key}",
        **{**INSTRUMENT, "serial": "WEB-INST", "installed_on": "2020-02-30", "row_version": row_version(page.text)},
    )
    assert bad.status_code == 422
