"""GET /api/v1/statistics/*: numbers from the registry's runs, roles, organisation scope, malformed queries."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform

from hengqi.cli import cli
from hengqi.server.services.statistics import verification_outcome
from hengqi.supervision.statistics import pass_rate

# class III, e = 5 g: MPE 2.5 g up to 2.5 kg (OIML R 76-1:2006, Table 6)
PASSING = {"stage": "initial", "loads": [{"load": "2 kg", "indication": "2.001 kg"}]}
FAILING = {"stage": "initial", "loads": [{"load": "2 kg", "indication": "2.004 kg"}]}


@pytest.fixture
def fleet(platform: Platform) -> dict[str, Any]:
    client = platform.client
    org, other = platform.organisation("Lab A"), platform.organisation("Lab B")
    _, tech = platform.user("tech-a", "technician", org)
    _, qm = platform.user("qm-a", "quality-manager", org)
    _, reviewer = platform.user("rev-a", "reviewer", org)
    _, admin = platform.user("root", "admin", org)
    _, tech_b = platform.user("tech-b", "technician", other)
    _, qm_b = platform.user("qm-b", "quality-manager", other)
    reg_id, regulator = platform.user("inspector", "regulator", platform.organisation("Authority"))
    assert (
        client.post(f"/api/v1/users/{reg_id}/grants", json={"organisation_id": org}, headers=admin).status_code == 204
    )
    today = date.today()
    made: list[dict[str, Any]] = []
    serials: list[str] = []

    def instrument(headers: dict[str, str], make: str, due: date | None) -> int:
        serial = f"S-{len(serials) + 1}"
        serials.append(serial)
        body = {
            **INSTRUMENT,
            "make": make,
            "serial": serial,
            "verification_due": None if due is None else due.isoformat(),
        }
        answer = client.post("/api/v1/instruments", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def verify(headers: dict[str, str], inst: int, raw: dict[str, Any], make: str, on: date) -> None:
        answer = client.post(
            "/api/v1/runs",
            json={"instrument_id": inst, "kind": "verification", "raw_data": raw, "performed_on": on.isoformat()},
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
        assert "simple acceptance" in answer.json()["results"]["server_check"]["decision_rule"]
        assert "ILAC-G8:09/2019, 4.2.1" in answer.json()["results"]["server_check"]["decision_rule"]
        made.append({"maker": make, "passed": answer.json()["results"]["server_check"]["pass"], "date": on.isoformat()})

    a1 = instrument(tech, "Acme", today - timedelta(days=1))  # overdue
    a2 = instrument(tech, "Bolt", today)  # due today: not overdue
    a3 = instrument(tech, "Bolt", None)  # never verified: overdue
    for i in range(5):
        verify(tech, a1, PASSING if i < 4 else FAILING, "Acme", date(2026, 1, 10 + i))
    for i in range(3):
        verify(tech, a2, PASSING if i == 0 else FAILING, "Bolt", date(2026, 2, 1 + i))
    verify(tech, a3, PASSING, "Bolt", date(2026, 2, 20))
    # a verification without loads carries no server check and is not counted
    client.post("/api/v1/runs", json={"instrument_id": a3, "kind": "verification", "raw_data": {}}, headers=tech)
    b1 = instrument(tech_b, "Acme", today - timedelta(days=400))
    for i in range(4):
        client.post(
            "/api/v1/runs",
            json={
                "instrument_id": b1,
                "kind": "verification",
                "raw_data": FAILING,
                "performed_on": f"2026-01-0{i + 1}",
            },
            headers=tech_b,
        )
    return {
        "client": client,
        "made": made,
        "instruments": {"a1": a1, "a2": a2, "a3": a3},
        "heads": {"tech": tech, "qm": qm, "reviewer": reviewer, "admin": admin, "regulator": regulator, "qm_b": qm_b},
    }


def test_pass_rates_match_the_runs_recorded(fleet: dict[str, Any]) -> None:
    client, made = fleet["client"], fleet["made"]
    body = client.get("/api/v1/statistics/pass-rates?group_by=maker", headers=fleet["heads"]["qm"]).json()
    assert body["overall"]["total"] == len(made) == 9
    assert body["overall"]["count"] == sum(m["passed"] for m in made)
    expected = {dict(g.key)["maker"]: g for g in pass_rate(made, group_by=("maker",))}
    assert {row["key"]["maker"] for row in body["groups"]} == set(expected)
    for row in body["groups"]:
        g = expected[row["key"]["maker"]]
        assert (row["count"], row["total"]) == (g.interval.successes, g.interval.trials)
        assert row["lower"] == pytest.approx(g.interval.lower)
        assert row["upper"] == pytest.approx(g.interval.upper)
    cp = client.get(
        "/api/v1/statistics/pass-rates?group_by=month,maker&method=clopper-pearson&confidence=0.99",
        headers=fleet["heads"]["qm"],
    ).json()
    assert cp["method"] == "clopper-pearson"
    assert {(r["key"]["month"], r["key"]["maker"]) for r in cp["groups"]} == {("2026-01", "Acme"), ("2026-02", "Bolt")}


def test_regulator_sees_granted_organisations_only(fleet: dict[str, Any]) -> None:
    client, heads = fleet["client"], fleet["heads"]
    mine = client.get("/api/v1/statistics/pass-rates", headers=heads["regulator"]).json()
    assert mine["overall"]["total"] == len(fleet["made"])  # Lab A only, not Lab B's four failures
    other = client.get("/api/v1/statistics/pass-rates", headers=heads["qm_b"]).json()
    assert (other["overall"]["count"], other["overall"]["total"]) == (0, 4)
    by_org = client.get("/api/v1/statistics/pass-rates?group_by=organisation", headers=heads["regulator"]).json()
    assert len(by_org["groups"]) == 1


@pytest.mark.parametrize("role", ["tech", "reviewer", "admin"])
def test_other_roles_are_refused(fleet: dict[str, Any], role: str) -> None:
    answer = fleet["client"].get("/api/v1/statistics/pass-rates", headers=fleet["heads"][role])
    assert answer.status_code == 403
    assert "statistics" in answer.text


def test_anonymous_is_refused(fleet: dict[str, Any]) -> None:
    assert fleet["client"].get("/api/v1/statistics/pass-rates").status_code == 401


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("group_by=colour", "unknown key 'colour'"),
        ("group_by=maker,maker", "only once"),
        ("group_by=a,b,c,d,e", "group_by"),
        ("group_by=" + "x" * 5000, "group_by"),
        ("group_by=maker;drop", "group_by"),
        ("confidence=1", "confidence"),
        ("confidence=nan", "confidence"),
        ("method=wald", "method"),
    ],
)
def test_malformed_queries_answer_422(fleet: dict[str, Any], query: str, needle: str) -> None:
    answer = fleet["client"].get(f"/api/v1/statistics/pass-rates?{query}", headers=fleet["heads"]["qm"])
    assert answer.status_code == 422, answer.text
    assert needle in answer.text


def test_overdue_rates(fleet: dict[str, Any]) -> None:
    client, heads = fleet["client"], fleet["heads"]
    body = client.get("/api/v1/statistics/overdue-rates?group_by=maker", headers=heads["regulator"]).json()
    rows = {r["key"]["maker"]: (r["count"], r["total"]) for r in body["groups"]}
    assert rows == {"Acme": (1, 1), "Bolt": (1, 2)}
    later = (date.today() + timedelta(days=1)).isoformat()
    body = client.get(f"/api/v1/statistics/overdue-rates?as_of={later}", headers=heads["qm"]).json()
    assert (body["overall"]["count"], body["overall"]["total"]) == (3, 3)
    month = client.get("/api/v1/statistics/overdue-rates?group_by=month", headers=heads["qm"])
    assert month.status_code == 422
    assert "does not apply" in month.text


def test_cli_and_api_give_the_same_numbers(
    fleet: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "verifications.json"
    path.write_text(json.dumps(fleet["made"]))
    for group_by in ("maker", "month,maker", ""):
        api = fleet["client"].get(
            f"/api/v1/statistics/pass-rates?group_by={group_by}&method=clopper-pearson", headers=fleet["heads"]["qm"]
        )
        assert api.status_code == 200, api.text
        argv = ["stats", "pass-rate", str(path), "--method", "clopper-pearson", "--json"]
        assert cli([*argv, "--group-by", group_by] if group_by else argv) == 0
        assert json.loads(capsys.readouterr().out) == api.json()


def _browser(fleet: dict[str, Any], username: str) -> TestClient:
    client = TestClient(fleet["client"].app)
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/web/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def test_statistics_page_shows_the_api_numbers(fleet: dict[str, Any]) -> None:
    api = fleet["client"].get("/api/v1/statistics/pass-rates?group_by=maker", headers=fleet["heads"]["qm"]).json()
    browser = _browser(fleet, "qm-a")
    assert "Verification pass rate" in browser.get("/web/statistics?group_by=maker").text
    browser.cookies.set("hengqi_lang", "zh")
    page = browser.get("/web/statistics?group_by=maker")
    assert page.status_code == 200
    assert "检定合格率" in page.text
    table = page.text.split('data-testid="pass-rate-table"')[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    for row in api["groups"]:
        assert row["key"]["maker"] in cells
        assert f"{row['rate'] * 100:.1f} %" in table
    overall = api["overall"]
    assert f"<td>{overall['count']}</td><td>{overall['total']}</td>" in table
    assert 'data-testid="overdue-rate-table"' in page.text


def test_statistics_page_refuses_other_roles_and_bad_keys(fleet: dict[str, Any]) -> None:
    tech = _browser(fleet, "tech-a")
    assert tech.get("/web/statistics").status_code == 403
    qm = _browser(fleet, "qm-a")
    bad = qm.get("/web/statistics?group_by=colour")
    assert bad.status_code == 422
    assert "unknown key" in bad.text
    assert qm.get("/web/statistics?group_by=" + "x" * 500).status_code == 422
    anonymous = TestClient(fleet["client"].app).get("/web/statistics", follow_redirects=False)
    assert anonymous.status_code == 303
    assert "/web/login" in anonymous.headers["location"]


def test_reverification_times(fleet: dict[str, Any]) -> None:
    client, heads = fleet["client"], fleet["heads"]
    a2 = fleet["instruments"]["a2"]  # Bolt: passed 02-01, failed 02-02 and 02-03
    answer = client.post(
        "/api/v1/runs",
        json={"instrument_id": a2, "kind": "verification", "raw_data": PASSING, "performed_on": "2026-02-10"},
        headers=heads["tech"],
    )
    assert answer.status_code == 201
    body = client.get("/api/v1/statistics/reverification-times?group_by=maker", headers=heads["regulator"]).json()
    rows = {r["key"]["maker"]: r for r in body["groups"]}
    assert rows["Bolt"]["mean_days"] == pytest.approx(((date(2026, 2, 10) - date(2026, 2, 2)).days + 7) / 2)
    assert (rows["Bolt"]["resolved"], rows["Bolt"]["open"]) == (2, 0)
    assert rows["Acme"]["mean_days"] is None
    assert rows["Acme"]["open"] == 1  # failed 01-14, never passed since
    assert client.get("/api/v1/statistics/reverification-times", headers=heads["tech"]).status_code == 403
    assert client.get("/api/v1/statistics/reverification-times?group_by=nope", headers=heads["qm"]).status_code == 422


def test_recorded_verdicts_count_and_a_failed_server_check_overrides_them(fleet: dict[str, Any]) -> None:
    client, heads = fleet["client"], fleet["heads"]
    a3 = fleet["instruments"]["a3"]
    before = client.get("/api/v1/statistics/pass-rates", headers=heads["qm"]).json()["overall"]
    # (a text such as "yes" for `passed` is read as a boolean by the run-results format, so the run without a
    # verdict here has none at all)
    for raw, results in (({}, {"passed": True}), (FAILING, {"passed": True}), ({}, {})):
        body = {"instrument_id": a3, "kind": "verification", "raw_data": raw, "results": results}
        assert client.post("/api/v1/runs", json=body, headers=heads["tech"]).status_code == 201
    after = client.get("/api/v1/statistics/pass-rates", headers=heads["qm"]).json()["overall"]
    # the first counts as a pass, the second as a failure, the third (no boolean verdict) is not counted
    assert (after["count"], after["total"]) == (before["count"] + 1, before["total"] + 2)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({"passed": True}, True),
        ({"passed": False, "server_check": {"pass": True}}, False),
        ({"passed": True, "server_check": {"pass": False}}, False),
        ({"server_check": {"pass": True}}, True),
        ({"server_check": {"pass": "x"}}, None),
        ({}, None),
        ([], None),
    ],
)
def test_verification_outcome(results: object, expected: bool | None) -> None:
    assert verification_outcome(results) is expected


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    import csv
    import io

    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_statistics_page_exports_what_it_shows(fleet: dict[str, Any]) -> None:
    qm = _browser(fleet, "qm-a")
    page = qm.get("/web/statistics?group_by=maker").text
    assert 'href="/web/statistics/export?format=csv&amp;group_by=maker"' in page
    assert 'href="/web/statistics/export?format=xlsx&amp;group_by=maker"' in page
    answer = qm.get("/web/statistics/export?format=csv&group_by=maker")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "statistics-maker-" in answer.headers["content-disposition"]
    rows = _csv_rows(answer.content)
    api = fleet["client"].get("/api/v1/statistics/pass-rates?group_by=maker", headers=fleet["heads"]["qm"]).json()
    overall = next(r for r in rows if r["statistic"] == "pass_rate" and r["group_by"] == "")
    assert (int(overall["count"]), int(overall["total"])) == (api["overall"]["count"], api["overall"]["total"])
    by_maker = {r["key"]: r for r in rows if r["statistic"] == "pass_rate" and r["group_by"] == "maker"}
    assert set(by_maker) == {f"maker={g['key']['maker']}" for g in api["groups"]}
    for g in api["groups"]:
        assert float(by_maker[f"maker={g['key']['maker']}"]["rate"]) == pytest.approx(g["rate"])
    assert {r["statistic"] for r in rows} == {"pass_rate", "overdue_rate"}
    by_month = _csv_rows(qm.get("/web/statistics/export?group_by=month").content)
    assert {r["statistic"] for r in by_month} == {"pass_rate"}  # no overdue rate by month, as on the page


def test_statistics_export_xlsx(fleet: dict[str, Any]) -> None:
    import io

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    answer = _browser(fleet, "qm-a").get("/web/statistics/export?format=xlsx&group_by=maker")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["pass_rate", "overdue_rate"]
    header = [c.value for c in next(book["pass_rate"].iter_rows(max_row=1))]
    assert header[:3] == ["statistic", "group_by", "key"]
    pdf = _browser(fleet, "inspector").get("/web/statistics/export?format=pdf&group_by=maker")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_statistics_export_keeps_to_granted_organisations(fleet: dict[str, Any]) -> None:
    regulator = _browser(fleet, "inspector")
    rows = _csv_rows(regulator.get("/web/statistics/export?group_by=organisation").content)
    overall = next(r for r in rows if r["statistic"] == "pass_rate" and r["group_by"] == "")
    assert int(overall["total"]) == len(fleet["made"])  # Lab A's nine, not Lab B's four failures
    orgs = [r["key"] for r in rows if r["statistic"] == "pass_rate" and r["group_by"] == "organisation"]
    assert len(orgs) == 1
    assert "Lab B" not in regulator.get("/web/statistics/export?group_by=organisation").text
    other = _csv_rows(_browser(fleet, "qm-b").get("/web/statistics/export?group_by=maker").content)
    mine = next(r for r in other if r["statistic"] == "pass_rate" and r["group_by"] == "")
    assert (mine["count"], mine["total"]) == ("0", "4")


def test_statistics_export_refuses(fleet: dict[str, Any]) -> None:
    assert _browser(fleet, "tech-a").get("/web/statistics/export").status_code == 403
    qm = _browser(fleet, "qm-a")
    assert qm.get("/web/statistics/export?format=doc").status_code == 422
    assert qm.get("/web/statistics/export?group_by=colour").status_code == 422
    anonymous = TestClient(fleet["client"].app).get("/web/statistics/export", follow_redirects=False)
    assert anonymous.status_code == 303
