"""GET /api/v1/statistics/province (+ /export, /web/statistics/province): the province statistics within the
organisations the caller may read, the same numbers as ``hengqi stats province``, CSV and XLSX exports, roles."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from tests.server.conftest import PASSWORD, Platform, Store

from hengqi.cli import cli
from hengqi.locale import record_misses
from hengqi.server.analytics.definitions import Spec
from hengqi.server.analytics.engines import compute
from hengqi.server.analytics.partitions import write_province
from hengqi.supervision.province import synthetic_province

PROVINCE = synthetic_province(900, seed=11, regions=3)  # organisations 1, 2, 3: one per region
AS_OF = PROVINCE.as_of.isoformat()


@pytest.fixture
def setup(sqlite_store: Store) -> Iterator[dict[str, Any]]:
    platform = Platform(sqlite_store)
    orgs = [platform.organisation(name) for name in ("Lab A", "Lab B", "Authority")]
    assert orgs == [1, 2, 3]  # the province's organisation numbers
    _, admin = platform.user("root", "admin", orgs[0])
    _, qm = platform.user("qm-a", "quality-manager", orgs[0])
    _, tech = platform.user("tech-a", "technician", orgs[0])
    reg_id, regulator = platform.user("inspector", "regulator", orgs[2])
    granted = platform.client.post(f"/api/v1/users/{reg_id}/grants", json={"organisation_id": orgs[0]}, headers=admin)
    assert granted.status_code == 204
    yield {"platform": platform, "qm": qm, "tech": tech, "regulator": regulator, "orgs": orgs}
    platform.close()


def _with_data(setup: dict[str, Any]) -> Any:
    root = setup["platform"].store.data_dir / "province"
    write_province(PROVINCE, root)
    return root


def _get(setup: dict[str, Any], who: str, query: str) -> Any:
    return setup["platform"].client.get(f"/api/v1/statistics/province?{query}", headers=setup[who])


def test_each_caller_sees_only_the_organisations_they_may_read(setup: dict[str, Any]) -> None:
    root = _with_data(setup)
    query = f"statistic=pass_rate&group_by=organisation&as_of={AS_OF}"
    mine = _get(setup, "qm", query)
    assert mine.status_code == 200, mine.text
    assert [g["key"]["organisation"] for g in mine.json()["reports"][0]["groups"]] == [1]
    seen = _get(setup, "regulator", query).json()["reports"][0]
    assert [g["key"]["organisation"] for g in seen["groups"]] == [1, 3]  # granted Lab A and their own; not Lab B
    expected = compute(
        root, [Spec("pass_rate", ("organisation",))], as_of=PROVINCE.as_of, organisations=frozenset({1, 3})
    )
    assert seen == expected[0]
    # every standard report keeps to the scope: no key of organisation 2's region appears
    everything = _get(setup, "qm", f"as_of={AS_OF}").json()
    assert len(everything["reports"]) > 20
    assert everything["compute"] == "embedded"
    regions_a = {
        r for r, o in zip(PROVINCE.instruments["region"], PROVINCE.instruments["organisation"], strict=True) if o == 1
    }
    for report in everything["reports"]:
        if report["group_by"] == ["region"]:
            assert {g["key"]["region"] for g in report["groups"]} <= regions_a
    again = _get(setup, "qm", f"as_of={AS_OF}").json()
    assert again["cached"] is True
    assert again["reports"] == everything["reports"]


def test_the_cli_gives_the_dashboard_numbers(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    root = _with_data(setup)
    answer = _get(setup, "regulator", f"statistic=overdue_rate&group_by=age&as_of={AS_OF}").json()
    args = ["stats", "province", str(root), "--as-of", AS_OF, "--statistic", "overdue_rate", "--group-by", "age"]
    assert cli([*args, "--organisations", "1,3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == answer["reports"]


def test_exports_hold_the_same_numbers(setup: dict[str, Any]) -> None:
    _with_data(setup)
    query = f"statistic=pass_rate&group_by=region&as_of={AS_OF}"
    report = _get(setup, "regulator", query).json()["reports"][0]
    client = setup["platform"].client
    got = client.get(f"/api/v1/statistics/province/export?format=csv&{query}", headers=setup["regulator"])
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert 'filename="province-statistics-' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [(r["key"], int(r["count"]), int(r["total"]), float(r["rate"])) for r in rows] == [
        (f"region={g['key']['region']}", g["count"], g["total"], g["rate"]) for g in report["groups"]
    ]
    book = client.get(f"/api/v1/statistics/province/export?format=xlsx&{query}", headers=setup["regulator"])
    assert book.status_code == 200
    assert "spreadsheetml" in book.headers["content-type"]
    sheet = load_workbook(io.BytesIO(book.content))["pass_rate"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    at = {name: i for i, name in enumerate(header)}
    assert [(c[at["count"]], c[at["total"]], c[at["rate"]]) for c in cells] == [
        (g["count"], g["total"], g["rate"]) for g in report["groups"]
    ]
    pdf = client.get(f"/api/v1/statistics/province/export?format=pdf&{query}", headers=setup["regulator"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    bad = client.get(f"/api/v1/statistics/province/export?format=ods&{query}", headers=setup["regulator"])
    assert bad.status_code == 422
    denied = client.get(f"/api/v1/statistics/province/export?format=pdf&{query}", headers=setup["tech"])
    assert denied.status_code == 403


def test_roles_sign_in_and_bad_queries(setup: dict[str, Any]) -> None:
    client = setup["platform"].client
    assert _get(setup, "qm", f"as_of={AS_OF}").status_code == 404  # no province data yet
    _with_data(setup)
    assert _get(setup, "tech", f"as_of={AS_OF}").status_code == 403
    assert client.get("/api/v1/statistics/province").status_code == 401
    assert client.get("/api/v1/statistics/province/export?format=csv", headers=setup["tech"]).status_code == 403
    assert _get(setup, "qm", "statistic=median").status_code == 422
    assert _get(setup, "qm", "statistic=overdue_rate&group_by=month").status_code == 422
    assert _get(setup, "qm", "statistic=pass_rate&group_by=colour").status_code == 422
    assert _get(setup, "qm", "group_by=region").status_code == 422


def _browser(setup: dict[str, Any], username: str) -> TestClient:
    client = TestClient(setup["platform"].app)
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    client.post(
        "/web/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
    )
    return client


def test_the_dashboard_page(setup: dict[str, Any]) -> None:
    regulator = _browser(setup, "inspector")
    empty = regulator.get("/web/statistics/province")
    assert empty.status_code == 200
    assert "no-province-data" in empty.text
    _with_data(setup)
    page = regulator.get(f"/web/statistics/province?report=overdue_rate:organisation&as_of={AS_OF}")
    assert page.status_code == 200, page.text
    numbers = _get(setup, "regulator", f"statistic=overdue_rate&group_by=organisation&as_of={AS_OF}").json()
    for g in numbers["reports"][0]["groups"]:
        assert f"<td>{g['count']}</td><td>{g['total']}</td>" in page.text
    assert page.text.count("<tr>") == 1 + len(numbers["reports"][0]["groups"])  # header + organisations 1 and 3
    assert "export-xlsx" in page.text
    assert "Province statistics" in page.text
    assert "全省统计" not in page.text
    assert "stat.organisation" not in page.text  # the group's label, not its key
    regulator.cookies.set("hengqi_lang", "zh")
    with record_misses() as misses:
        chinese = regulator.get(f"/web/statistics/province?report=overdue_rate:organisation&as_of={AS_OF}").text
    assert misses == set()
    for words in ("全省统计", "超期未检率", "计数", "置信区间：Wilson 95 %", "<th>机构</th>"):
        assert words in chinese, words
    assert "Province statistics" not in chinese
    regulator.cookies.set("hengqi_lang", "en")
    assert _browser(setup, "tech-a").get("/web/statistics/province").status_code == 403
    assert regulator.get("/web/statistics/province?report=nope:x").status_code == 422
    anonymous = TestClient(setup["platform"].app).get("/web/statistics/province", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert "/web/login" in anonymous.headers["location"]
