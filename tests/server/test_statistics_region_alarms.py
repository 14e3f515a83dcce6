"""Registry statistics by region (the field device's region code) and alarm rates from the field alerts, within the
organisations the caller may read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.server.conftest import INSTRUMENT, Platform, Store

from hengqi.server.alerts.models import FieldAlert
from hengqi.server.field.models import FieldDevice

PASSING = {"stage": "initial", "loads": [{"load": "2 kg", "indication": "2.001 kg"}]}


@pytest.fixture
def world(sqlite_store: Store) -> Iterator[dict[str, Any]]:
    platform = Platform(sqlite_store)
    client = platform.client
    a, b, authority = (platform.organisation(n) for n in ("Lab A", "Lab B", "Authority"))
    _, admin = platform.user("root", "admin", a)
    _, tech_a = platform.user("tech-a", "technician", a)
    _, tech_b = platform.user("tech-b", "technician", b)
    _, qm_b = platform.user("qm-b", "quality-manager", b)
    reg_id, regulator = platform.user("inspector", "regulator", authority)
    assert client.post(f"/api/v1/users/{reg_id}/grants", json={"organisation_id": a}, headers=admin).status_code == 204

    installed = {"A-1": "2020-01-01", "A-2": "2025-06-01"}

    def instrument(headers: dict[str, str], serial: str) -> int:
        body = {**INSTRUMENT, "serial": serial, "installed_on": installed.get(serial)}
        answer = client.post("/api/v1/instruments", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.json()["installed_on"] == installed.get(serial)
        return int(answer.json()["id"])

    i1, i2, _i3 = (instrument(tech_a, s) for s in ("A-1", "A-2", "A-3"))
    b1 = instrument(tech_b, "B-1")
    for inst, headers in ((i1, tech_a), (b1, tech_b)):
        run = client.post(
            "/api/v1/runs",
            json={"instrument_id": inst, "kind": "verification", "raw_data": PASSING, "performed_on": "2026-03-01"},
            headers=headers,
        )
        assert run.status_code == 201, run.text
    t = datetime(2026, 5, 1, tzinfo=UTC).replace(tzinfo=None)
    with platform.database.write_session() as session:
        devices = {}
        for inst, org, device, region in ((i1, a, "dev-a1", "610102"), (i2, a, "dev-a2", "610103"),
                                          (b1, b, "dev-b1", "610102")):  # fmt: skip
            d = FieldDevice(organisation_id=org, instrument_id=inst, device_id=device, group_id="g", region_code=region)
            session.add(d)
            session.flush()
            devices[device] = (d.id, org)
        for n, device in enumerate(["dev-a1", "dev-a1", "dev-a2", *["dev-b1"] * 5]):
            pk, org = devices[device]
            session.add(
                FieldAlert(
                    alert_key=f"{n:064d}",
                    organisation_id=org,
                    device_pk=pk,
                    device_id=device,
                    detector="seal",
                    window_start=t,
                    window_end=t,
                    severity="high",
                )
            )
        session.commit()
    yield {"client": client, "regulator": regulator, "qm_b": qm_b, "tech_a": tech_a, "ids": (i1, i2, b1)}
    platform.close()


def _groups(world: dict[str, Any], who: str, path: str) -> list[dict[str, Any]]:
    answer = world["client"].get(path, headers=world[who])
    assert answer.status_code == 200, answer.text
    return list(answer.json()["groups"])


def test_alarm_rates_by_region_within_the_grants(world: dict[str, Any]) -> None:
    rows = _groups(world, "regulator", "/api/v1/statistics/alarm-rates?group_by=region")
    got = {r["key"]["region"]: (r["events"], r["exposure"], r["rate"]) for r in rows}
    # Lab A only: i1 (610102, 2 alerts), i2 (610103, 1 alert), i3 (no field device); Lab B's 5 alerts stay out
    assert got == {"610102": (2, 1.0, 2000.0), "610103": (1, 1.0, 1000.0), None: (0, 1.0, 0.0)}
    (overall,) = _groups(world, "regulator", "/api/v1/statistics/alarm-rates")
    assert (overall["events"], overall["exposure"], overall["rate"]) == (3, 3.0, 1000.0)
    assert overall["lower"] < 1000.0 < overall["upper"]
    (theirs,) = _groups(world, "qm_b", "/api/v1/statistics/alarm-rates?group_by=region")
    assert (theirs["key"]["region"], theirs["events"], theirs["exposure"]) == ("610102", 5, 1.0)
    later = _groups(world, "regulator", "/api/v1/statistics/alarm-rates?since=2026-06-01")
    assert later[0]["events"] == 0


def test_pass_and_overdue_rates_by_region(world: dict[str, Any]) -> None:
    rows = _groups(world, "regulator", "/api/v1/statistics/pass-rates?group_by=region")
    assert [(r["key"]["region"], r["count"], r["total"]) for r in rows] == [("610102", 1, 1)]
    overdue = _groups(world, "regulator", "/api/v1/statistics/overdue-rates?group_by=region")
    assert sorted((str(r["key"]["region"]), r["total"]) for r in overdue) == [("610102", 1), ("610103", 1), ("None", 1)]


def test_alarm_rates_refuse_other_roles_and_month(world: dict[str, Any]) -> None:
    client = world["client"]
    assert client.get("/api/v1/statistics/alarm-rates", headers=world["tech_a"]).status_code == 403
    assert client.get("/api/v1/statistics/alarm-rates").status_code == 401
    bad = client.get("/api/v1/statistics/alarm-rates?group_by=month", headers=world["regulator"])
    assert bad.status_code == 422


def test_statistics_by_age_from_the_installation_date(world: dict[str, Any]) -> None:
    rows = _groups(world, "regulator", "/api/v1/statistics/overdue-rates?group_by=age&as_of=2026-12-01")
    # A-1 installed 2020-01-01 (6 years), A-2 2025-06-01 (1 year), A-3 without a date; Lab B's not seen
    assert sorted((r["key"]["age"], r["total"]) for r in rows) == [("0-2", 1), ("5-10", 1), ("unknown", 1)]
    passes = _groups(world, "regulator", "/api/v1/statistics/pass-rates?group_by=region,age")
    assert [(r["key"]["region"], r["key"]["age"], r["total"]) for r in passes] == [("610102", "5-10", 1)]
    alarms = _groups(world, "regulator", "/api/v1/statistics/alarm-rates?group_by=age")
    assert {r["key"]["age"]: r["events"] for r in alarms} == {"0-2": 1, "5-10": 2, "unknown": 0}
    client, (i1, _i2, _b1) = world["client"], world["ids"]
    changed = client.patch(f"/api/v1/instruments/{i1}", json={"installed_on": "2026-01-01"}, headers=world["tech_a"])
    assert changed.status_code == 200, changed.text
    assert changed.json()["installed_on"] == "2026-01-01"
    rows = _groups(world, "regulator", "/api/v1/statistics/overdue-rates?group_by=age&as_of=2026-12-01")
    assert sorted((r["key"]["age"], r["total"]) for r in rows) == [("0-2", 2), ("unknown", 1)]


def test_installed_on_in_the_future_is_refused_and_nothing_changes(world: dict[str, Any]) -> None:
    from datetime import date, timedelta

    client, (i1, _i2, _b1) = world["client"], world["ids"]
    before = client.get(f"/api/v1/instruments/{i1}", headers=world["tech_a"]).json()["installed_on"]
    later = (date.today() + timedelta(days=2)).isoformat()
    answer = client.patch(f"/api/v1/instruments/{i1}", json={"installed_on": later}, headers=world["tech_a"])
    assert answer.status_code == 422
    assert "installed_on" in answer.text
    assert client.get(f"/api/v1/instruments/{i1}", headers=world["tech_a"]).json()["installed_on"] == before
    body = {**INSTRUMENT, "serial": "FUTURE-1", "installed_on": later}
    assert client.post("/api/v1/instruments", json=body, headers=world["tech_a"]).status_code == 422
