"""Lost updates: ETag on reads and writes, If-Match (or ``row_version``) refuses stale changes with 412; concurrent
PATCHes against a live server: exactly one of those naming the same version wins, and the audit trail's old values
chain (issue 10, item 8)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from sqlalchemy import select
from tests.server.conftest import INSTRUMENT, Platform
from tests.server.integrity.conftest import Seeded

from hengqi.server.db.models import AuditEntry


def _people(platform: Platform) -> dict[str, dict[str, str]]:
    org = platform.organisation("A")
    other = platform.organisation("B")
    return {
        "tech": platform.user("tech", "technician", org)[1],
        "qm": platform.user("qm", "quality-manager", org)[1],
        "regulator": platform.user("reg", "regulator", org)[1],
        "outsider": platform.user("out", "technician", other)[1],
        "admin": platform.user("root", "admin", org)[1],
    }


def test_etag_and_if_match_on_an_instrument(platform: Platform) -> None:
    heads = _people(platform)
    client, tech = platform.client, heads["tech"]
    made = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech)
    key = made.json()["id"]
    url = f"/api/v1/instruments/{key}"
    read = client.get(url, headers=tech)
    assert read.headers["etag"] == '"1"'
    assert read.json()["row_version"] == 1
    first = client.patch(url, json={"model": "A"}, headers={**tech, "If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert (first.headers["etag"], first.json()["row_version"]) == ('"2"', 2)
    stale = client.patch(url, json={"model": "B"}, headers={**tech, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert stale.json()["error"]["details"] == {"expected_version": 1, "current_version": 2}
    in_body = client.patch(url, json={"model": "B", "row_version": 1}, headers=tech)
    assert in_body.status_code == 412
    mixed = client.patch(url, json={"model": "B", "row_version": 2}, headers={**tech, "If-Match": '"1"'})
    assert mixed.status_code == 412
    weak = client.patch(url, json={"model": "B"}, headers={**tech, "If-Match": 'W/"2"'})
    assert weak.status_code == 412  # If-Match compares strongly (RFC 9110, 13.1.1)
    malformed = client.patch(url, json={"model": "B"}, headers={**tech, "If-Match": "2"})
    assert malformed.status_code == 422
    assert client.get(url, headers=tech).json()["model"] == "A"
    assert client.patch(url, json={"model": "B", "row_version": 2}, headers=tech).status_code == 200
    assert client.patch(url, json={"model": "C"}, headers={**tech, "If-Match": "*"}).status_code == 200
    assert client.patch(url, json={"model": "D"}, headers=tech).json()["row_version"] == 5
    # wrong role and other organisation: refused as before, whatever the version named
    assert client.patch(url, json={"model": "E"}, headers={**heads["regulator"], "If-Match": '"1"'}).status_code == 403
    assert client.patch(url, json={"model": "E"}, headers={**heads["outsider"], "If-Match": '"5"'}).status_code == 404
    # a stale DELETE is refused and the instrument stays; a current one deletes it
    assert client.delete(url, headers={**heads["qm"], "If-Match": '"4"'}).status_code == 412
    assert client.get(url, headers=tech).status_code == 200
    assert client.delete(url, headers={**heads["qm"], "If-Match": '"5"'}).status_code == 204
    assert client.get(url, headers=tech).status_code == 404


def test_every_record_kind_carries_its_version(platform: Platform) -> None:
    heads = _people(platform)
    client, tech, admin = platform.client, heads["tech"], heads["admin"]
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    made = {
        "sites": client.post("/api/v1/sites", json={"name": "Plant"}, headers=tech),
        "laboratories": client.post("/api/v1/laboratories", json={"name": "Lab"}, headers=tech),
        "weight-sets": client.post("/api/v1/weight-sets", json={"name": "Set", "weight_class": "F1"}, headers=tech),
        "procedures": client.post("/api/v1/procedures", json={"name": "P", "kind": "calibration"}, headers=tech),
        "runs": client.post("/api/v1/runs", json={"instrument_id": instrument, "kind": "calibration"}, headers=tech),
        "certificates": client.post(
            "/api/v1/certificates",
            json={"number": "C-1", "kind": "calibration", "instrument_id": instrument},
            headers=tech,
        ),
    }
    weight = client.post(
        f"/api/v1/weight-sets/{made['weight-sets'].json()['id']}/weights",
        json={"identifier": "1", "nominal": "1 kg", "u": "1 mg"},
        headers=tech,
    )
    made["weights"] = weight
    changes = {
        "sites": {"name": "Plant 2"},
        "laboratories": {"name": "Lab 2"},
        "weight-sets": {"name": "Set 2"},
        "procedures": {"name": "P2"},
        "runs": {"status": "completed"},
        "certificates": {"number": "C-2"},
        "weights": {"identifier": "2"},
    }
    for kind, answer in made.items():
        assert answer.status_code == 201, (kind, answer.text)
        url = f"/api/v1/{kind}/{answer.json()['id']}"
        assert client.get(url, headers=tech).headers["etag"] == '"1"', kind
        assert client.patch(url, json=changes[kind], headers={**tech, "If-Match": '"1"'}).status_code == 200, kind
        again = client.patch(url, json=changes[kind], headers={**tech, "If-Match": '"1"'})
        assert again.status_code == 412, kind
    user = client.get("/api/v1/users?limit=100", headers=admin).json()["items"][0]
    url = f"/api/v1/users/{user['id']}"
    etag = client.get(url, headers=admin).headers["etag"]
    assert client.patch(url, json={"full_name": "X"}, headers={**admin, "If-Match": etag}).status_code == 200
    assert client.patch(url, json={"full_name": "Y"}, headers={**admin, "If-Match": etag}).status_code == 412
    organisation = client.get(f"/api/v1/organisations/{user['organisation_id']}", headers=admin)
    assert organisation.headers["etag"] == f'"{organisation.json()["row_version"]}"'


def _audit_updates(lab: Seeded, entity: str, key: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    with lab.database.read_session() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(key), AuditEntry.action == "update")
            .order_by(AuditEntry.id)
        )
        return [(json.loads(row.old_values), json.loads(row.new_values)) for row in rows]


def _race(lab: Seeded, key: int, workers: int, headers: dict[str, str]) -> list[tuple[str, int]]:
    """``workers`` threads PATCH the instrument's model at once; returns (model sent, status) per thread."""
    barrier = threading.Barrier(workers)
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    def patch(index: int) -> None:
        model = f"M{index}"
        with httpx.Client(base_url=f"{lab.server.base}/api/v1", headers=lab.heads["tech"], timeout=60) as client:
            barrier.wait()
            answer = client.patch(f"/instruments/{key}", json={"model": model}, headers=headers)
        with lock:
            outcomes.append((model, answer.status_code))

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_concurrent_patches_naming_the_same_version_exactly_one_wins(live_lab: Seeded) -> None:
    with live_lab.client("tech") as tech:
        key = tech.post("/instruments", json={**INSTRUMENT, "serial": "RACE-1"}).json()["id"]
    outcomes = _race(live_lab, key, 8, {"If-Match": '"1"'})
    winners = [model for model, status in outcomes if status == 200]
    assert len(winners) == 1, outcomes
    assert all(status in (409, 412) for _model, status in outcomes if status != 200), outcomes
    with live_lab.client("tech") as tech:
        stored = tech.get(f"/instruments/{key}").json()
    assert (stored["model"], stored["row_version"]) == (winners[0], 2)
    assert _audit_updates(live_lab, "instruments", key) == [
        ({"model": INSTRUMENT["model"], "row_version": 1}, {"model": winners[0], "row_version": 2})
    ]


def test_concurrent_patches_without_if_match_leave_a_chained_audit_trail(live_lab: Seeded) -> None:
    """Writers that name no version: none is lost silently (each is applied on the value it read, or refused with
    409), and each audit row's old values are the previous row's new values."""
    with live_lab.client("tech") as tech:
        key = tech.post("/instruments", json={**INSTRUMENT, "serial": "RACE-2"}).json()["id"]
    outcomes = _race(live_lab, key, 8, {})
    applied = [model for model, status in outcomes if status == 200]
    assert applied, outcomes
    assert all(status == 409 for _model, status in outcomes if status != 200), outcomes
    trail = _audit_updates(live_lab, "instruments", key)
    assert len(trail) == len(applied)
    previous = {"model": INSTRUMENT["model"], "row_version": 1}
    for old, new in trail:
        assert old["row_version"] == previous["row_version"]
        assert old.get("model", previous["model"]) == previous["model"]
        previous = {"model": new.get("model", previous["model"]), "row_version": new["row_version"]}
    with live_lab.client("tech") as tech:
        stored = tech.get(f"/instruments/{key}").json()
    assert (stored["model"], stored["row_version"]) == (previous["model"], 1 + len(applied))
