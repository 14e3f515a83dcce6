"""The HTTP batch endpoint (device tokens, every bad input class refused and counted) and the field pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.field.conftest import make_platform, unique

from hengqi.server.app import create_app
from hengqi.server.field.models import FieldRefusal
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings

T0 = datetime(2026, 12, 7, 8, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def ev(device: str, seq: int, **body: Any) -> dict[str, Any]:
    return {
        "instrument": device,
        "seq": seq,
        "time": (T0 + timedelta(seconds=seq)).isoformat(),
        "body": body or {"kind": "transaction", "gross_kg": "2.000", "tare_kg": "0.500", "net_kg": "1.500"},
    }


@pytest.fixture
def field_app(tmp_path: Path, db_url: str) -> Any:
    a, b = unique("SC"), unique("SC")
    platform = make_platform(db_url, [a, b], group=unique("market"))
    platform.database.dispose()
    app = create_app(Settings(env="test", data_dir=tmp_path / "data", database_url=db_url))  # type: ignore[arg-type]
    client = TestClient(app)
    yield app, client, platform.tokens, a, b
    client.close()
    app.state.hengqi.database.dispose()


def refusals(app: Any) -> dict[tuple[str, str], int]:
    with app.state.hengqi.database.read_session() as session:
        return {(r.device_key, r.reason): r.count for r in session.scalars(select(FieldRefusal))}


def test_batch_stores_once_and_refuses_each_class(field_app: Any) -> None:
    app, client, tokens, a, b = field_app
    auth = {"Authorization": f"Bearer {tokens[a]}"}
    answer = client.post("/api/v1/field/batch", json={"events": [ev(a, 1), ev(a, 0)]}, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": 2, "duplicates": 0, "refused": []}
    batch = [
        ev(a, 1),  # resend: duplicate
        ev(a, 0, kind="transaction", gross_kg="9", net_kg="9"),  # same seq, other content: replayed
        ev(b, 7),  # another device's event under a's token
        {"instrument": a, "seq": "x", "time": "now", "body": {}},  # malformed
        ev(a, 5),
        ev(a, 3),  # below the watermark after 5 is stored in this batch? no: sorted by seq, 3 comes first
    ]
    answer = client.post("/api/v1/field/batch", json={"events": batch}, headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["stored"], body["duplicates"]) == (2, 1)
    assert [(r["index"], r["reason"]) for r in body["refused"]] == [
        (1, "replayed"),
        (2, "unauthenticated"),
        (3, "malformed"),
    ]
    assert "events[3].seq" in body["refused"][2]["detail"]
    answer = client.post("/api/v1/field/batch", json={"events": [ev(a, 4)]}, headers=auth)
    assert answer.json()["refused"] == [{"index": 0, "reason": "out_of_order", "detail": "seq 4"}]
    counted = refusals(app)
    assert counted[(a, "replayed")] == 1
    assert counted[(a, "out_of_order")] == 1


def test_batch_refuses_bad_requests_without_storing(field_app: Any) -> None:
    app, client, tokens, a, _b = field_app
    url = "/api/v1/field/batch"
    auth = {"Authorization": f"Bearer {tokens[a]}"}
    assert client.post(url, json={"events": [ev(a, 0)]}).status_code == 401
    assert (
        client.post(url, json={"events": [ev(a, 0)]}, headers={"Authorization": "Bearer hqd_wrong"}).status_code == 401
    )
    assert client.post(url, json={"events": []}, headers={"Authorization": f"Basic {tokens[a]}"}).status_code == 401
    assert client.post(url, content=b"{not json", headers=auth).status_code == 422
    assert client.post(url, json=[ev(a, 0)], headers=auth).status_code == 422
    assert client.post(url, json={"events": [], "extra": 1}, headers=auth).status_code == 422
    deep = "[" * 100_000 + "]" * 100_000
    assert client.post(url, content=deep.encode(), headers=auth).status_code in (413, 422)
    nested = '{"events": [' + "[" * 5000 + "]" * 5000 + "]}"
    answer = client.post(url, content=nested.encode(), headers=auth)
    assert answer.status_code in (200, 422)
    big = json.dumps({"events": [ev(a, i) for i in range(1001)]})
    assert client.post(url, content=big.encode(), headers=auth).status_code == 413
    huge = b'{"events": ["' + b"x" * (1 << 20) + b'"]}'
    assert client.post(url, content=huge, headers=auth).status_code == 413
    counted = refusals(app)
    assert counted[("", "unauthenticated")] == 3
    assert counted[(a, "malformed")] >= 3
    # the 1 MiB body is refused (413) by the platform's body limit before the endpoint sees it, so only the
    # 1 001-event batch is counted by the field endpoint itself
    assert counted[(a, "oversized")] >= 1
    ok = client.post(url, json={"events": [ev(a, 0)]}, headers=auth)
    assert ok.json()["stored"] == 1  # nothing of the refused requests was stored


def test_field_pages_show_status_and_hide_other_organisations(field_app: Any) -> None:
    app, client, tokens, a, _b = field_app
    auth = {"Authorization": f"Bearer {tokens[a]}"}
    events = [
        ev(
            a,
            0,
            kind="counters",
            calibration={"value": 999, "modulus": 1000},
            configuration={"value": 12, "modulus": 1000},
        ),
        ev(
            a,
            1,
            kind="event_log",
            counter=13,
            parameter_id="CFG.UNIT_PRICE_DP",
            changed_at=T0.isoformat(),
            old_value="2",
            new_value="1",
        ),
        ev(a, 2, kind="state", state="case_opened"),
        ev(a, 3),
        ev(a, 4, kind="passage", plate="<b>陕A1</b>", rate_hz=10, curve_kg=[0.0, 5000.0, 30000.0, 30000.0, 0.0],
           cells_kg=[[0.0, 1250.0, 7500.0, 7500.0, 0.0]] * 4, gross_kg="30000", tare_kg="12000", net_kg="18000"),
    ]  # fmt: skip
    assert client.post("/api/v1/field/batch", json={"events": events}, headers=auth).json()["stored"] == 5
    database = app.state.hengqi.database
    from hengqi.server.field.models import FieldDevice

    with database.write_session() as session:
        org = session.scalar(select(FieldDevice.organisation_id).where(FieldDevice.device_id == a))
        assert org is not None
        user = accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(username=unique("insp"), password=PASSWORD, role=Role("technician"), organisation_id=org),
        )
        other = accounts.create_organisation(
            session,
            accounts.SYSTEM,
            OrganisationCreate(name=unique("Other")),
        )
        session.flush()
        stranger = accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(username=unique("insp"), password=PASSWORD, role=Role("technician"), organisation_id=other.id),
        )
        session.commit()
        names = (user.username, stranger.username)

    def sign_in(username: str) -> TestClient:
        browser = TestClient(app)
        page = browser.get("/web/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token is not None
        answer = browser.post(
            "/web/login",
            data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        return browser

    browser = sign_in(names[0])
    overview = browser.get("/web/field")
    assert overview.status_code == 200
    assert a in overview.text
    assert "999 / 12" in overview.text
    page = browser.get(f"/web/field/{a}")
    assert page.status_code == 200
    assert "CFG.UNIT_PRICE_DP" in page.text
    assert "1.500 kg" in page.text
    assert "999 / 12 (mod 1000)" in page.text
    assert page.text.count("<polyline") == 5  # the curve read back from its Parquet file, and four cells
    assert "&lt;b&gt;陕A1&lt;/b&gt;" in page.text  # the plate is text, not markup
    outsider = sign_in(names[1])
    assert a not in outsider.get("/web/field").text
    assert outsider.get(f"/web/field/{a}").status_code == 404
    assert outsider.get("/web/field/..%2F..%2Fetc").status_code in (404, 422)
    assert TestClient(app).get("/web/field", follow_redirects=False).status_code == 303
