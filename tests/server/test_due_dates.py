"""Due dates: one definition of due and overdue, intervals per organisation / kind / class, and the next due date
moved when a calibration certificate is issued or a verification passes (real database, SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from tests.server.conftest import INSTRUMENT, Platform

from hengqi.server.services.due import add_months, due_status


@pytest.fixture
def org(platform: Platform) -> dict[str, Any]:
    org_id = platform.organisation("A")
    other = platform.organisation("B")
    heads = {
        "tech": platform.user("tech", "technician", org_id)[1],
        "rev": platform.user("rev", "reviewer", org_id)[1],
        "qm": platform.user("qm", "quality-manager", org_id)[1],
        "other": platform.user("other-qm", "quality-manager", other)[1],
    }
    return {"platform": platform, "client": platform.client, "heads": heads}


def _instrument(org: dict[str, Any], **fields: Any) -> int:
    body = {**INSTRUMENT, "serial": f"S-{len(fields)}-{sorted(fields)!s:.20}", **fields}
    made = org["client"].post("/api/v1/instruments", json=body, headers=org["heads"]["tech"])
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _instrument_row(org: dict[str, Any], key: int) -> dict[str, Any]:
    return dict(org["client"].get(f"/api/v1/instruments/{key}", headers=org["heads"]["tech"]).json())


def test_one_definition_of_due_and_overdue() -> None:
    today = date(2026, 12, 7)
    assert due_status(today, today) == "due"
    assert due_status(today - timedelta(days=1), today) == "overdue"
    assert due_status(today + timedelta(days=1), today) == "ok"
    assert due_status(None, today) == "ok"


def test_the_overdue_list_says_due_today_and_overdue_the_same_way(org: dict[str, Any]) -> None:
    today = date.today()
    due_today = _instrument(org, verification_due=today.isoformat())
    late = _instrument(org, serial="late", verification_due=(today - timedelta(days=1)).isoformat())
    ahead = _instrument(org, serial="ahead", verification_due=(today + timedelta(days=10)).isoformat())
    items = org["client"].get("/api/v1/overdue", headers=org["heads"]["tech"]).json()
    status = {item["id"]: item["status"] for item in items if item["entity"] == "instrument"}
    assert status == {late: "overdue", due_today: "due"}
    horizon = (today + timedelta(days=30)).isoformat()
    items = org["client"].get(f"/api/v1/overdue?on={horizon}", headers=org["heads"]["tech"]).json()
    assert {item["id"]: item["status"] for item in items if item["entity"] == "instrument"}[ahead] == "ok"


def _issued_calibration(org: dict[str, Any], instrument: int, performed_on: date) -> None:
    client, heads = org["client"], org["heads"]
    run = client.post(
        "/api/v1/runs",
        json={"instrument_id": instrument, "kind": "calibration", "performed_on": performed_on.isoformat()},
        headers=heads["tech"],
    )
    assert run.status_code == 201, run.text
    body = {"number": f"C-{instrument}", "kind": "calibration", "instrument_id": instrument, "run_id": run.json()["id"]}
    key = client.post("/api/v1/certificates", json=body, headers=heads["tech"]).json()["id"]
    pdf = b"%PDF-1.7 c"
    upload = client.put(
        f"/api/v1/certificates/{key}/file", files={"file": ("c.pdf", pdf, "application/pdf")}, headers=heads["tech"]
    )
    assert upload.json()["file_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert client.post(f"/api/v1/certificates/{key}/approve", headers=heads["rev"]).status_code == 200
    assert client.post(f"/api/v1/certificates/{key}/issue", headers=heads["rev"]).json()["status"] == "issued"


def test_an_issued_calibration_certificate_moves_the_calibration_due_date(org: dict[str, Any]) -> None:
    performed = date(2026, 11, 30)
    overdue_before = (date.today() - timedelta(days=3)).isoformat()
    instrument = _instrument(org, calibration_due=overdue_before)
    _issued_calibration(org, instrument, performed)
    assert _instrument_row(org, instrument)["calibration_due"] == add_months(performed, 12).isoformat()  # default
    listed = org["client"].get("/api/v1/overdue", headers=org["heads"]["tech"]).json()
    assert all(item["id"] != instrument for item in listed if item["entity"] == "instrument")


def test_the_most_specific_interval_applies(org: dict[str, Any]) -> None:
    client, qm = org["client"], org["heads"]["qm"]
    for body in (
        {"due": "calibration", "months": 24},
        {"due": "calibration", "months": 6, "accuracy_class": "III"},
        {"due": "calibration", "months": 18, "instrument_kind": "single-interval"},
    ):
        answer = client.put("/api/v1/due-intervals", json=body, headers=qm)
        assert answer.status_code == 200, answer.text
    changed = client.put(
        "/api/v1/due-intervals", json={"due": "calibration", "months": 9, "accuracy_class": "III"}, headers=qm
    )
    assert changed.json()["months"] == 9  # the same scope is changed, not duplicated
    listed = client.get("/api/v1/due-intervals", headers=qm).json()
    assert sorted(row["months"] for row in listed) == [9, 18, 24]
    performed = date(2026, 1, 31)
    class_iii = _instrument(org)
    _issued_calibration(org, class_iii, performed)
    assert _instrument_row(org, class_iii)["calibration_due"] == "2026-10-31"  # 9 months: class beats kind
    class_ii = _instrument(org, serial="II", accuracy_class="II", max="6200 g", e="0.1 g")
    _issued_calibration(org, class_ii, performed)
    assert _instrument_row(org, class_ii)["calibration_due"] == "2027-07-31"  # 18 months: kind beats general
    # another organisation sees none of these and keeps the default
    assert client.get("/api/v1/due-intervals", headers=org["heads"]["other"]).json() == []


def test_a_passed_verification_moves_the_verification_due_date(org: dict[str, Any]) -> None:
    client, tech = org["client"], org["heads"]["tech"]
    client.put("/api/v1/due-intervals", json={"due": "verification", "months": 12}, headers=org["heads"]["qm"])
    instrument = _instrument(org, verification_due="2026-01-01")
    body = {
        "instrument_id": instrument,
        "kind": "verification",
        "status": "completed",
        "performed_on": "2026-12-01",
        "raw_data": {"loads": [{"load": "10 kg", "indication": "10.005 kg"}]},
    }
    failed = client.post("/api/v1/runs", json={**body, "results": {"passed": False}}, headers=tech)
    assert failed.status_code == 201
    assert _instrument_row(org, instrument)["verification_due"] == "2026-01-01"
    # a claimed pass that the server's own MPE check contradicts does not move it either (MPE at 10 kg: 5 g)
    contradicted = {**body, "raw_data": {"loads": [{"load": "10 kg", "indication": "10.020 kg"}]}}
    assert (
        client.post("/api/v1/runs", json={**contradicted, "results": {"passed": True}}, headers=tech).status_code == 201
    )
    assert _instrument_row(org, instrument)["verification_due"] == "2026-01-01"
    passed = client.post("/api/v1/runs", json={**body, "results": {"passed": True}}, headers=tech)
    assert passed.status_code == 201
    assert _instrument_row(org, instrument)["verification_due"] == "2027-12-01"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due": "calibration", "months": 0}, "months"),
        ({"due": "calibration", "months": 1000}, "months"),
        ({"due": "calibration", "months": "twelve"}, "months"),
        ({"due": "repair", "months": 12}, "due"),
        ({"due": "calibration", "months": 12, "accuracy_class": "V"}, "accuracy_class"),
        ({"due": "calibration", "months": 12, "instrument_kind": "x" * 5000}, "instrument_kind"),
        ({"due": "calibration", "months": 12, "organisation_id": 2}, "organisation_id"),
    ],
)
def test_bad_intervals_are_refused_naming_the_field(org: dict[str, Any], body: dict[str, Any], field: str) -> None:
    answer = org["client"].put("/api/v1/due-intervals", json=body, headers=org["heads"]["qm"])
    assert answer.status_code == 422
    assert field in answer.text


def test_a_regulator_cannot_set_intervals(org: dict[str, Any]) -> None:
    platform: Platform = org["platform"]
    regulator = platform.user("reg", "regulator", platform.org_id("A"))[1]
    answer = platform.client.put("/api/v1/due-intervals", json={"due": "calibration", "months": 1}, headers=regulator)
    assert answer.status_code == 403
