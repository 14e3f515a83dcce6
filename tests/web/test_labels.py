"""Due-date reminders and instrument labels: the due list and its export, the SVG label; attacked as another
organisation, with hostile text in the record and with malformed parameters."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from xml.etree import ElementTree

from tests.web.conftest import Demo
from tests.web.test_manage import INSTRUMENT, created_id, other_org_user

from hengqi.server.permissions import Role

SVG = "{http://www.w3.org/2000/svg}"


def test_due_list_window_and_export(demo: Demo) -> None:
    tech = demo.user("technician")
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=100)).isoformat()
    created_id(
        tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "DUE-SOON", "verification_due": soon}),
        "instruments",
    )
    created_id(
        tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "DUE-LATER", "verification_due": later}),
        "instruments",
    )
    page = tech.client.get("/web/due?days=30")
    assert "DUE-SOON" in page.text
    assert "DUE-LATER" not in page.text
    export = tech.client.get("/web/due?days=120&export=csv")
    rows = {r["name"].split()[-1]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert rows["DUE-SOON"]["status"] == "ok"
    assert rows["DUE-LATER"]["due_date"] == later
    assert tech.client.get("/web/due?days=-1").status_code == 422
    assert tech.client.get("/web/due?days=99999").status_code == 422


def test_due_list_of_another_organisation_is_empty(demo: Demo) -> None:
    tech = demo.user("technician")
    soon = (date.today() + timedelta(days=3)).isoformat()
    created_id(
        tech.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "DUE-MINE", "verification_due": soon}),
        "instruments",
    )
    outsider = other_org_user(demo, Role.TECHNICIAN)
    assert "DUE-MINE" not in outsider.client.get("/web/due?days=3650").text
    assert "DUE-MINE" not in outsider.client.get("/web/due?days=3650&export=csv").text


def test_label_is_well_formed_svg_with_the_instrument(demo: Demo) -> None:
    tech = demo.user("technician")
    key = created_id(
        tech.post("/web/registry/instruments", **{**INSTRUMENT, "make": "<script>alert(1)</script> & Co"}),
        "instruments",
    )
    label = tech.client.get(f"/web/registry/instruments/{key}/label.svg")
    assert label.status_code == 200
    assert label.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(label.content)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert texts[0].startswith("<script>alert(1)</script> & Co")  # as text, escaped in the file
    assert "<script>" not in label.text
    assert any("WEB-0001" in t and f"#{key}" in t for t in texts)
    assert any("2026-01-15" in t for t in texts)
    assert root.get("width") == "62mm"
    zh = tech.client.get(f"/web/registry/instruments/{key}/label.svg", cookies={"hengqi_lang": "zh"})
    assert "检定到期" in zh.text


def test_label_of_another_organisation_is_not_found(demo: Demo) -> None:
    tech = demo.user("technician")
    key = created_id(tech.post("/web/registry/instruments", **INSTRUMENT), "instruments")
    outsider = other_org_user(demo, Role.TECHNICIAN)
    assert outsider.client.get(f"/web/registry/instruments/{key}/label.svg").status_code == 404
    anonymous = type(tech.client)(demo.app)
    assert anonymous.get(f"/web/registry/instruments/{key}/label.svg", follow_redirects=False).status_code == 303


def test_due_list_in_chinese(demo: Demo) -> None:
    tech = demo.user("technician")
    soon = (date.today() + timedelta(days=3)).isoformat()
    created_id(tech.post("/web/registry/instruments", **{**INSTRUMENT, "verification_due": soon}), "instruments")
    tech.client.cookies.set("hengqi_lang", "zh")
    page = tech.client.get("/web/due")
    assert "到期提醒" in page.text
    assert "即将到期" in page.text
    assert "due." not in page.text
