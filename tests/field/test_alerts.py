"""Alerts from stored field events: idempotent detection, the workflow with its audit trail, wrong roles, other
organisations and malformed requests (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.field.conftest import make_platform, unique

from hengqi.server.app import create_app
from hengqi.server.db.models import AuditEntry, Organisation
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import TokenCreate, UserCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings

T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def ev(device: str, seq: int, body: dict[str, Any], minutes: float = 0) -> dict[str, Any]:
    return {
        "instrument": device,
        "seq": seq,
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "body": body,
    }


def counters(cal: int, cfg: int = 0) -> dict[str, Any]:
    return {
        "kind": "counters",
        "calibration": {"value": cal, "modulus": 1000},
        "configuration": {"value": cfg, "modulus": 1000},
    }


class World:
    def __init__(self, app: Any, client: TestClient, device: str, other_device: str) -> None:
        self.app, self.client, self.device, self.other_device = app, client, device, other_device
        self.headers: dict[str, dict[str, str]] = {}
        self.names: dict[str, str] = {}  # label -> username (unique: one PostgreSQL database serves the session)

    def user(self, name: str, role: Role, organisation_id: int, grant: int | None = None) -> None:
        username = self.names[name] = unique(name).lower()
        with self.app.state.hengqi.database.write_session() as session:
            user = accounts.create_user(
                session,
                accounts.SYSTEM,
                UserCreate(username=username, password=PASSWORD, role=role, organisation_id=organisation_id),
            )
            session.flush()
            if grant is not None:
                accounts.grant_regulator(session, accounts.SYSTEM, user.id, grant)
            principal = Principal(user.id, user.username, role, organisation_id)
            _row, token = accounts.create_token(session, principal, TokenCreate(name="t"))
            session.commit()
        self.headers[name] = {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    a, b = unique("SC"), unique("SC")
    one = make_platform(db_url, [a], group=unique("market"))
    two = make_platform(db_url, [b], group=unique("market"))
    app = create_app(Settings(env="test", data_dir=tmp_path / "data", database_url=db_url))  # type: ignore[arg-type]
    client = TestClient(app)
    w = World(app, client, a, b)
    # a broken seal (999 -> 001 across the wrap, no work order) and an opened case on device a; a clean b
    events = [
        ev(a, 0, counters(999)),
        ev(a, 1, counters(1), 60),
        ev(a, 2, {"kind": "state", "state": "case_opened"}, 61),
    ]
    answer = client.post(
        "/api/v1/field/batch", json={"events": events}, headers={"Authorization": f"Bearer {one.tokens[a]}"}
    )
    assert answer.status_code == 200, answer.text
    answer = client.post(
        "/api/v1/field/batch",
        json={"events": [ev(b, 0, counters(5)), ev(b, 1, counters(5), 60)]},
        headers={"Authorization": f"Bearer {two.tokens[b]}"},
    )
    assert answer.status_code == 200, answer.text
    one.database.dispose()
    two.database.dispose()
    with app.state.hengqi.database.read_session() as session:
        orgs = sorted(session.scalars(select(Organisation.id)))
    org_a, org_b = orgs[-2], orgs[-1]
    w.user("qm_a", Role.QUALITY_MANAGER, org_a)
    w.user("tech_a", Role.TECHNICIAN, org_a)
    w.user("qm_b", Role.QUALITY_MANAGER, org_b)
    w.user("reg_granted", Role.REGULATOR, org_b, grant=org_a)
    w.user("reg_other", Role.REGULATOR, org_b)
    yield w
    client.close()
    app.state.hengqi.database.dispose()


def test_detection_is_idempotent_and_scoped(world: World) -> None:
    c, h = world.client, world.headers
    first = c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_a"])
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 1, "updated": 1, "unchanged": 0}  # one seal alert, two findings
    again = c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_a"])
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    alerts = c.get("/api/v1/field/alerts", headers=h["qm_a"]).json()
    assert [(x["device_id"], x["detector"], x["state"], x["finding_count"]) for x in alerts] == [
        (world.device, "seal", "new", 2)
    ]
    rules = [f["rule"] for f in alerts[0]["findings"]]
    assert rules == ["counter_without_work_order", "case_opened"]
    assert alerts[0]["severity"] == "high"
    assert c.get("/api/v1/field/alerts", headers=h["qm_b"]).json() == []  # b's QM sees nothing of a
    assert c.get(f"/api/v1/field/alerts/{alerts[0]['id']}", headers=h["qm_b"]).status_code == 404
    assert c.get(f"/api/v1/field/alerts/{alerts[0]['id']}", headers=h["reg_other"]).status_code == 404
    assert c.get(f"/api/v1/field/alerts/{alerts[0]['id']}", headers=h["reg_granted"]).status_code == 200
    # b's QM running detection touches only b's (clean) device
    assert c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_b"]).json()["created"] == 0
    for who in ("tech_a", "reg_granted"):
        assert c.post("/api/v1/field/alerts/detect", json={}, headers=h[who]).status_code == 403


def test_workflow_roles_states_and_audit(world: World) -> None:
    c, h = world.client, world.headers
    c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_a"])
    alert_id = c.get("/api/v1/field/alerts", headers=h["qm_a"]).json()[0]["id"]
    url = f"/api/v1/field/alerts/{alert_id}/transition"
    assert c.post(url, json={"state": "acknowledged"}, headers=h["tech_a"]).status_code == 403
    assert c.post(url, json={"state": "acknowledged"}, headers=h["qm_b"]).status_code == 404
    assert c.post(url, json={"state": "acknowledged"}, headers=h["reg_other"]).status_code == 404
    assert c.post(url, json={"state": "inspection_ordered"}, headers=h["qm_a"]).status_code == 409  # skips a state
    assert c.post(url, json={"state": "acknowledged", "reason": "false_alarm"}, headers=h["qm_a"]).status_code == 422
    assert c.post(url, json={"state": "bogus"}, headers=h["qm_a"]).status_code == 422
    assert c.post(url, json={"state": "acknowledged", "x": 1}, headers=h["qm_a"]).status_code == 422
    assert c.post(url, content=b"[[[[" * 5000, headers=h["qm_a"]).status_code == 422
    assert (
        c.post("/api/v1/field/alerts/0/transition", json={"state": "acknowledged"}, headers=h["qm_a"]).status_code
        == 422
    )
    ok = c.post(url, json={"state": "acknowledged"}, headers=h["reg_granted"])
    assert ok.status_code == 200, ok.text
    ordered = c.post(url, json={"state": "inspection_ordered", "note": "check the seal"}, headers=h["qm_a"])
    assert ordered.status_code == 200
    run_id = ordered.json()["inspection_run_id"]
    run = c.get(f"/api/v1/runs/{run_id}", headers=h["tech_a"])  # the instrument's technicians see the ordered run
    assert run.status_code == 200, run.text
    assert (run.json()["kind"], run.json()["status"]) == ("verification", "open")
    assert c.get(f"/api/v1/runs/{run_id}", headers=h["qm_b"]).status_code == 404
    assert c.post(url, json={"state": "closed"}, headers=h["qm_a"]).status_code == 422  # a reason is required
    assert c.post(url, json={"state": "closed", "reason": "confirmed_tampering"}, headers=h["qm_a"]).status_code == 422
    closed = c.post(url, json={"state": "closed", "reason": "confirmed_fraud"}, headers=h["reg_granted"])
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["closure_reason"]) == ("closed", "confirmed_fraud")
    assert c.post(url, json={"state": "acknowledged"}, headers=h["qm_a"]).status_code == 409
    assert [x["id"] for x in c.get("/api/v1/field/alerts?state=closed", headers=h["qm_a"]).json()] == [alert_id]
    with world.app.state.hengqi.database.read_session() as session:
        trail = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "field_alert", AuditEntry.entity_id == str(alert_id))
            .order_by(AuditEntry.id)
        ).all()
        steps = [
            (e.action, e.actor, json.loads(e.old_values).get("state"), json.loads(e.new_values).get("state"))
            for e in trail
        ]
    qm, reg = world.names["qm_a"], world.names["reg_granted"]
    assert steps == [
        ("alert.open", qm, None, None),  # who ran the detectors
        ("alert.acknowledged", reg, "new", "acknowledged"),
        ("alert.inspect", qm, "acknowledged", "inspection_ordered"),
        ("alert.closed", reg, "inspection_ordered", "closed"),
    ]


def test_cli_field_detect_records_alerts_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hengqi.cli.app import cli
    from hengqi.server.field.ingest import Ingestor
    from hengqi.server.field.models import FieldDevice
    from hengqi.supervision.telemetry import parse_event

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    device_id = unique("SC")
    platform = make_platform(url, [device_id], group=unique("market"))
    events = [
        ev(device_id, 0, {"kind": "identity", "software_id": "FW 1", "software_checksum": "AA"}),
        ev(device_id, 1, {"kind": "identity", "software_id": "FW 1", "software_checksum": "BB"}, 5),
    ]
    with platform.database.read_session() as session:
        device = session.scalar(select(FieldDevice).where(FieldDevice.device_id == device_id))
        assert device is not None
        session.expunge(device)
    Ingestor(platform.database).handle_batch(device, [(i, parse_event(e)) for i, e in enumerate(events)])
    platform.database.dispose()
    store = ["--database-url", url, "--data-dir", str(tmp_path)]
    assert cli(["field", "detect", *store]) == 0
    assert cli(["field", "detect", *store, "--device", device_id]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["alerts: 1 created, 0 updated, 0 unchanged", "alerts: 0 created, 0 updated, 1 unchanged"]
    assert cli(["field", "detect", "--database-url", "notaurl://x"]) == 2


# --- the regulator screens ------------------------------------------------------------------------------------------


def _web(world: World, name: str) -> tuple[TestClient, str]:
    """A browser-like client signed in through the login form as ``name``; its CSRF token."""
    client = TestClient(world.app)
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/web/login",
        data={"username": world.names[name], "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    csrf = client.cookies.get("hengqi_csrf")
    assert csrf
    return client, csrf


def test_alert_queue_filters_page_workflow_and_precision(world: World) -> None:
    c, h = world.client, world.headers
    c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_a"])
    alert = c.get("/api/v1/field/alerts", headers=h["qm_a"]).json()[0]
    from hengqi.server.field.models import FieldDevice

    with world.app.state.hengqi.database.write_session() as session:  # device a stands in region 610102
        device = session.scalar(select(FieldDevice).where(FieldDevice.device_id == world.device))
        assert device is not None
        device.region_code = "610102"
        session.commit()
    reg, csrf = _web(world, "reg_granted")
    queue = reg.get("/web/alerts")
    assert queue.status_code == 200
    assert f'data-alert="{alert["id"]}"' in queue.text
    row = re.search(rf'data-alert="{alert["id"]}".*?<td>(\d+)</td><td>(market-[0-9a-f-]+)</td>', queue.text, re.S)
    assert row is not None
    region, group = row.group(1), row.group(2)
    for query, shown in (
        ("detector=seal", True),
        ("detector=retail", False),
        ("severity=high", True),
        ("severity=medium", False),
        ("state=new", True),
        ("state=closed", False),
        (f"site={group}", True),
        ("site=market-elsewhere", False),
        (f"region={region}", True),
        ("region=610103", False),
    ):
        page = reg.get(f"/web/alerts?{query}")
        assert page.status_code == 200
        assert (f'data-alert="{alert["id"]}"' in page.text) is shown, query
    assert reg.get("/web/alerts?site=a/b").status_code == 422
    # the alert page: the rule that fired, its threshold and what was observed, the workflow buttons
    page = reg.get(f"/web/alerts/{alert['id']}")
    assert page.status_code == 200
    assert 'data-rule="counter_without_work_order"' in page.text
    assert "999 -&gt; 1" in page.text or "999 -> 1" in page.text
    assert 'data-testid="to-acknowledged"' in page.text
    url = f"/web/alerts/{alert['id']}/transition"
    assert reg.post(url, data={"state": "acknowledged"}, follow_redirects=False).status_code == 403  # no CSRF token
    done = reg.post(url, data={"csrf_token": csrf, "state": "acknowledged"}, follow_redirects=False)
    assert done.status_code == 303
    ordered = reg.post(url, data={"csrf_token": csrf, "state": "inspection_ordered"}, follow_redirects=False)
    assert ordered.status_code == 303
    page = reg.get(f"/web/alerts/{alert['id']}")
    assert 'data-testid="inspection-run"' in page.text
    assert 'data-testid="to-' not in page.text  # only closing is left
    bad = reg.post(url, data={"csrf_token": csrf, "state": "closed", "reason": "bogus"}, follow_redirects=False)
    assert bad.status_code == 422
    closed = reg.post(
        url, data={"csrf_token": csrf, "state": "closed", "reason": "false_alarm", "note": "seal intact"},
        follow_redirects=False,
    )  # fmt: skip
    assert closed.status_code == 303
    precision = c.get("/api/v1/field/alerts/precision", headers=h["qm_a"]).json()
    assert precision == [
        {"detector": "seal", "confirmed_fraud": 0, "fault": 0, "false_alarm": 1, "closed": 1, "precision": 0.0}
    ]
    queue = reg.get("/web/alerts")
    assert 'data-testid="precision-seal"' in queue.text
    page = reg.get(f"/web/alerts/{alert['id']}")
    trail = page.text[page.text.index('data-testid="alert-trail"') :]
    assert [a for a in ("alert.open", "alert.acknowledged", "alert.inspect", "alert.closed") if a in trail] == [
        "alert.open",
        "alert.acknowledged",
        "alert.inspect",
        "alert.closed",
    ]
    assert c.get("/api/v1/field/alerts/precision", headers=h["qm_b"]).json() == []  # another organisation's


def test_alert_screens_refuse_other_roles_and_organisations(world: World) -> None:
    c, h = world.client, world.headers
    c.post("/api/v1/field/alerts/detect", json={}, headers=h["qm_a"])
    alert_id = c.get("/api/v1/field/alerts", headers=h["qm_a"]).json()[0]["id"]
    url = f"/web/alerts/{alert_id}/transition"
    other, other_csrf = _web(world, "reg_other")  # a regulator not granted organisation a
    assert f'data-alert="{alert_id}"' not in other.get("/web/alerts").text
    assert other.get(f"/web/alerts/{alert_id}").status_code == 404
    assert other.post(url, data={"csrf_token": other_csrf, "state": "acknowledged"}).status_code == 404
    tech, tech_csrf = _web(world, "tech_a")  # reads its organisation's alerts, may not work on them
    page = tech.get(f"/web/alerts/{alert_id}")
    assert page.status_code == 200
    assert 'data-testid="alert-workflow"' not in page.text
    assert tech.post(url, data={"csrf_token": tech_csrf, "state": "acknowledged"}).status_code == 403
    anonymous = TestClient(world.app)
    assert anonymous.get("/web/alerts", follow_redirects=False).status_code in (302, 303, 307)
    assert anonymous.post(url, data={"state": "acknowledged"}, follow_redirects=False).status_code in (303, 401, 403)
    assert c.get(f"/api/v1/field/alerts/{alert_id}", headers=h["qm_a"]).json()["state"] == "new"


#: the revision before 0170_alert_screens
BEFORE = "0160_statistics_dims"


def test_migration_renames_stored_states_and_reasons(tmp_path: Path) -> None:
    """0170_alert_screens: open -> new, investigating -> inspection_ordered, confirmed_tampering -> confirmed_fraud,
    repaired -> fault; and back on downgrade."""
    from decimal import Decimal

    from sqlalchemy import text

    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import downgrade, upgrade
    from hengqi.server.db.models import Instrument
    from hengqi.server.field.devices import register_device

    database = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(database.engine)  # the registry rows are written at head, then the schema goes back to before 0170
    stamp = "2026-12-07 08:00:00.000000"
    rows = [("open", None), ("investigating", None), ("closed", "confirmed_tampering"), ("closed", "repaired")]
    with database.write_session() as session:
        org = Organisation(name="Market authority m")
        session.add(org)
        session.flush()
        instrument = Instrument(organisation_id=org.id, make="A", model="B", serial="C", accuracy_class="III",
                                kind="single-interval", max_kg=Decimal(15), min_kg=Decimal("0.1"),
                                e_kg=Decimal("0.005"), d_kg=Decimal("0.005"), ranges=[])  # fmt: skip
        session.add(instrument)
        session.flush()
        device, _token = register_device(
            session, organisation_id=org.id, instrument_id=instrument.id, device_id="D", group_id="g"
        )
        session.commit()
        ids = {"o": org.id, "d": device.id}
    downgrade(database.engine, BEFORE)
    with database.engine.begin() as con:
        for i, (state, reason) in enumerate(rows):
            con.execute(
                text(
                    "INSERT INTO field_alerts (alert_key, organisation_id, device_pk, device_id, detector,"
                    " window_start, window_end, severity, state, closure_reason, note, finding_count, findings,"
                    " created_at, updated_at) VALUES (:k, :o, :d, 'D', 'seal', :t, :t, 'high', :s, :r, '', 0, '[]',"
                    " :t, :t)"
                ),
                {"k": f"k{i}", "t": stamp, "s": state, "r": reason, **ids},
            )
    upgrade(database.engine)
    query = text("SELECT state, closure_reason FROM field_alerts ORDER BY id")
    with database.engine.connect() as con:
        assert [tuple(r) for r in con.execute(query)] == [
            ("new", None),
            ("inspection_ordered", None),
            ("closed", "confirmed_fraud"),
            ("closed", "fault"),
        ]
    downgrade(database.engine, BEFORE)
    with database.engine.connect() as con:
        assert [tuple(r) for r in con.execute(query)] == rows
    database.dispose()
