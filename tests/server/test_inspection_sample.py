"""/web/statistics/inspection: the month's proposed inspection sample — organisation scope (page and export), the
same month giving the same draw as ``population_samples`` and ``hengqi stats population-samples`` with the seed
shown, priorities, malformed months, roles."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform, Store

from hengqi.cli import cli
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.field.models import FieldDevice
from hengqi.server.services.inspection import month_seed, parse_month
from hengqi.supervision.populations import population_samples
from hengqi.supervision.statistics import age_band

MONTH = "2026-11"


@pytest.fixture
def world(sqlite_store: Store) -> Iterator[dict[str, Any]]:
    yield from _world(sqlite_store)


@pytest.fixture
def world_on_each_backend(store: Store) -> Iterator[dict[str, Any]]:
    yield from _world(store)


def _world(store: Store) -> Iterator[dict[str, Any]]:
    platform = Platform(store)
    client = platform.client
    a, b, authority = (platform.organisation(n) for n in ("Lab A", "Lab B", "Authority"))
    _, admin = platform.user("root", "admin", a)
    platform.user("admin-b", "admin", b)
    _, tech_a = platform.user("tech-a", "technician", a)
    _, tech_b = platform.user("tech-b", "technician", b)
    platform.user("qm-a", "quality-manager", a)
    reg_id, _ = platform.user("inspector", "regulator", authority)
    assert client.post(f"/api/v1/users/{reg_id}/grants", json={"organisation_id": a}, headers=admin).status_code == 204

    def instrument(headers: dict[str, str], serial: str, model: str, installed: str | None, due: str | None) -> int:
        body = {**INSTRUMENT, "serial": serial, "model": model, "installed_on": installed, "verification_due": due}
        answer = client.post("/api/v1/instruments", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    # Lab A: 30 of model B-30 put into service in 2020 (one population of 30: sample 23), every fifth one overdue;
    # 3 of X-6 without a date; Lab B: 6 more B-30 of 2020, which the regulator may not see
    mine = [
        instrument(tech_a, f"A-{i}", "B-30", "2020-01-01", "2026-01-01" if i % 5 == 0 else "2027-06-01")
        for i in range(30)
    ] + [instrument(tech_a, f"AX-{i}", "X-6", None, None) for i in range(3)]
    theirs = [instrument(tech_b, f"B-{i}", "B-30", "2020-01-01", "2025-01-01") for i in range(6)]
    with platform.database.write_session() as session:
        for n, (inst, org) in enumerate(((mine[1], a), (theirs[0], b))):
            device = FieldDevice(
                organisation_id=org, instrument_id=inst, device_id=f"dev-{n}", group_id="g", region_code="610102"
            )
            session.add(device)
            session.flush()
            t = datetime(2026, 10, 20)
            session.add(
                FieldAlert(alert_key=f"{n:064d}", organisation_id=org, device_pk=device.id, device_id=f"dev-{n}",
                           detector="seal", window_start=t, window_end=t, severity="high")
            )  # fmt: skip
        session.commit()
    yield {"client": client, "mine": mine, "theirs": theirs}
    platform.close()


def _browser(world: dict[str, Any], username: str) -> TestClient:
    client = TestClient(world["client"].app)
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/web/login").text)
    assert token is not None
    answer = client.post(
        "/web/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def _csv(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _drawn(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="drawn" data-instrument="(\d+)"', page)]


def test_regulator_sees_granted_organisations_only(world: dict[str, Any]) -> None:
    regulator = _browser(world, "inspector")
    page = regulator.get(f"/web/statistics/inspection?month={MONTH}")
    assert page.status_code == 200, page.text
    drawn = _drawn(page.text)
    assert len(drawn) == 23 + 1 + 3
    assert set(drawn) <= set(world["mine"])
    assert not set(drawn) & set(world["theirs"])
    assert "Lab B" not in page.text
    assert f'data-testid="seed">{month_seed(parse_month(MONTH))}<' in page.text
    rows = _csv(regulator.get(f"/web/statistics/inspection/export?format=csv&month={MONTH}").content)
    assert {int(r["instrument_id"]) for r in rows} == set(world["mine"])  # every in-service one of Lab A, no other
    assert {r["organisation"] for r in rows} == {"Lab A"}
    assert {int(r["instrument_id"]) for r in rows if r["drawn"] == "yes"} == set(drawn)
    # the B-30 population of 30 (Lab B's 6 not counted): 23 drawn; the three X-6: all
    sizes = {(r["model"], r["population"], r["n"]) for r in rows}
    assert sizes == {("B-30", "29", "23"), ("B-30", "1", "1"), ("X-6", "3", "3")}  # A-1 has a region: its own one
    qm_b = _browser(world, "admin-b")
    other = _csv(qm_b.get(f"/web/statistics/inspection/export?month={MONTH}").content)
    assert {int(r["instrument_id"]) for r in other} == set(world["theirs"])


def test_same_month_same_sample_as_the_pure_function_and_the_cli(
    world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    regulator = _browser(world, "inspector")
    first = regulator.get(f"/web/statistics/inspection?month={MONTH}").text
    assert _drawn(first) == _drawn(regulator.get(f"/web/statistics/inspection?month={MONTH}").text)
    export = regulator.get(f"/web/statistics/inspection/export?month={MONTH}").content
    rows = _csv(export)
    seed = int(rows[0]["seed"])
    assert seed == 202611
    as_of = date(2026, 11, 1)
    records = [{**r, "installed": r["installed"] or None} for r in rows]
    pure = population_samples(records, ["model", ("age", age_band("installed", as_of)[1]), "region"], seed=seed)
    assert sorted(i for s in pure for i in s.instrument_ids) == sorted(
        r["instrument_id"] for r in rows if r["drawn"] == "yes"
    )
    path = tmp_path / "sample.csv"
    path.write_bytes(export)
    argv = ["stats", "population-samples", str(path), "--group-by", "model,age,region", "--seed", str(seed)]
    assert cli([*argv, "--as-of", as_of.isoformat(), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert sorted(i for s in shown for i in s["instrument_ids"]) == sorted(map(str, _drawn(first)))
    assert f"--seed {seed} --as-of 2026-11-01" in first
    # another month: another seed (the draw of the 29 changes with it)
    later = regulator.get("/web/statistics/inspection/export?month=2026-12").content
    assert {r["seed"] for r in _csv(later)} == {"202612"}


def test_drawn_instruments_come_highest_priority_first(world: dict[str, Any]) -> None:
    page = _browser(world, "inspector").get(f"/web/statistics/inspection?month={MONTH}").text
    rows = _csv(_browser(world, "inspector").get(f"/web/statistics/inspection/export?month={MONTH}").content)
    score = {int(r["instrument_id"]): float(r["score"]) for r in rows}
    big = [i for i in _drawn(page) if i in world["mine"][:30]]
    scores = [score[i] for i in big if i != world["mine"][1]]
    assert scores == sorted(scores, reverse=True)
    overdue = {int(r["instrument_id"]) for r in rows if r["days_overdue"] not in ("", "0")}
    assert overdue == {world["mine"][i] for i in range(0, 30, 5)}
    never = [r for r in rows if r["model"] == "X-6"]
    assert all(r["days_overdue"] == "" and float(r["score"]) == 4.0 for r in never)  # never verified: 4
    alarmed = next(r for r in rows if int(r["instrument_id"]) == world["mine"][1])
    assert (alarmed["recent_alarms"], alarmed["region"]) == ("1", "610102")


def test_xlsx_export(world: dict[str, Any]) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    answer = _browser(world, "qm-a").get(f"/web/statistics/inspection/export?format=xlsx&month={MONTH}")
    assert answer.status_code == 200
    assert "inspection-sample-2026-11.xlsx" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content))["inspection_sample"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["instrument_id", "model", "installed", "region"]
    assert sheet.max_row == 1 + len(world["mine"])


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "abc", "1999-12", "2026-11-01", "", "x" * 5000])
def test_a_bad_month_answers_422_naming_it(world: dict[str, Any], month: str) -> None:
    qm = _browser(world, "qm-a")
    for path in ("/web/statistics/inspection", "/web/statistics/inspection/export"):
        answer = qm.get(path, params={"month": month})
        assert answer.status_code == 422, (path, month)
        assert "month" in answer.text


def test_roles(world: dict[str, Any]) -> None:
    assert _browser(world, "tech-a").get("/web/statistics/inspection").status_code == 403
    assert _browser(world, "tech-a").get("/web/statistics/inspection/export").status_code == 403
    default = _browser(world, "qm-a").get("/web/statistics/inspection")
    assert default.status_code == 200
    assert f'value="{date.today().strftime("%Y-%m")}"' in default.text
    assert 'data-testid="inspection-link"' in _browser(world, "qm-a").get("/web/statistics").text
    admin = _browser(world, "root").get(f"/web/statistics/inspection/export?month={MONTH}")
    assert {int(r["instrument_id"]) for r in _csv(admin.content)} == set(world["mine"])  # own organisation only
    anonymous = TestClient(world["client"].app).get("/web/statistics/inspection", follow_redirects=False)
    assert anonymous.status_code == 303


def test_scope_and_draw_on_each_backend(world_on_each_backend: dict[str, Any]) -> None:
    world = world_on_each_backend
    regulator = _browser(world, "inspector")
    rows = _csv(regulator.get(f"/web/statistics/inspection/export?month={MONTH}").content)
    assert {int(r["instrument_id"]) for r in rows} == set(world["mine"])
    records = [{**r, "installed": r["installed"] or None} for r in rows]
    keys = ["model", ("age", age_band("installed", date(2026, 11, 1))[1]), "region"]
    pure = population_samples(records, keys, seed=202611)
    drawn = {i for s in pure for i in s.instrument_ids}
    assert drawn == {r["instrument_id"] for r in rows if r["drawn"] == "yes"}
    page = regulator.get(f"/web/statistics/inspection?month={MONTH}").text
    assert set(map(str, _drawn(page))) == drawn
