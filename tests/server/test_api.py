"""The REST API's conventions on both backends: health, authentication, scoping, errors, lists, CSV, exact masses."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from tests.server.conftest import INSTRUMENT, Platform, Store

from hengqi.server.app import create_app
from hengqi.server.settings import Settings


def test_health_answers_with_the_migration_head(platform: Platform) -> None:
    answer = platform.client.get("/api/v1/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["revision"] == body["head"]
    assert body["database"] == platform.store.backend


def test_unauthenticated_requests_get_401_as_json(platform: Platform) -> None:
    for method, path in (("GET", "/api/v1/instruments"), ("POST", "/api/v1/instruments"), ("GET", "/api/v1/runs/1")):
        answer = platform.client.request(method, path, json=INSTRUMENT if method == "POST" else None)
        assert answer.status_code == 401, path
        assert answer.json()["error"]["code"] == "not_authenticated"
        assert answer.headers["www-authenticate"] == "Bearer"
    bad = platform.client.get("/api/v1/instruments", headers={"Authorization": "Bearer hq_not-a-token"})
    assert bad.status_code == 401


def test_another_organisations_instrument_answers_404(platform: Platform) -> None:
    a, b = platform.organisation("A"), platform.organisation("B")
    _, tech_a = platform.user("tech-a", "technician", a)
    _, tech_b = platform.user("tech-b", "technician", b)
    created = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech_a)
    assert created.status_code == 201, created.text
    key = created.json()["id"]
    assert platform.client.get(f"/api/v1/instruments/{key}", headers=tech_a).status_code == 200
    for method in ("GET", "PATCH", "DELETE"):
        answer = platform.client.request(
            method, f"/api/v1/instruments/{key}", headers=tech_b, json={"make": "X"} if method == "PATCH" else None
        )
        assert answer.status_code in (404, 403), method
        if method != "DELETE":  # a technician may not delete at all (403 before the lookup)
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"
    assert platform.client.get("/api/v1/instruments", headers=tech_b).json()["total"] == 0
    # the same serial in another organisation is a different instrument
    assert platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech_b).status_code == 201


def test_specification_is_checked_by_the_legal_core(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    # n = Max/e = 20000 > 10000 for class III (OIML R 76-1:2006, Table 3)
    answer = platform.client.post("/api/v1/instruments", json={**INSTRUMENT, "max": "100 kg"}, headers=tech)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_specification"
    assert error["details"]["path"] == "max"
    bad_unit = platform.client.post("/api/v1/instruments", json={**INSTRUMENT, "max": "15 parsecs"}, headers=tech)
    assert bad_unit.status_code == 422
    assert bad_unit.json()["error"]["code"] == "invalid_input"
    assert "max" in bad_unit.json()["error"]["message"]


def test_masses_are_exact_and_multi_interval_ranges_kept(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    body = {
        **{k: v for k, v in INSTRUMENT.items() if k not in ("max", "e")},
        "kind": "multi-interval",
        "ranges": [{"max": "6 kg", "e": "2 g"}, {"max": "15 kg", "e": "5 g"}],
    }
    created = platform.client.post("/api/v1/instruments", json=body, headers=tech).json()
    assert created["max_kg"] == "15"
    assert created["e_kg"] == "0.002"
    assert created["ranges"] == [{"max_kg": "6", "e_kg": "0.002"}, {"max_kg": "15", "e_kg": "0.005"}]
    fine = platform.client.post(
        "/api/v1/instruments",
        json={**INSTRUMENT, "serial": "S-2", "accuracy_class": "I", "max": "220 g", "e": "1 mg", "d": "0.1 mg"},
        headers=tech,
    )
    assert fine.status_code == 201, fine.text
    assert fine.json()["d_kg"] == "0.0000001"
    again = platform.client.get(f"/api/v1/instruments/{fine.json()['id']}", headers=tech).json()
    assert (again["d_kg"], again["e_kg"], again["max_kg"]) == ("0.0000001", "0.000001", "0.22")


def test_duplicates_conflict_and_validation_errors_name_the_field(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    assert platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).status_code == 201
    dup = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech)
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "duplicate"
    missing = platform.client.post("/api/v1/instruments", json={"make": "Acme"}, headers=tech)
    assert missing.status_code == 422
    paths = {item["path"] for item in missing.json()["error"]["details"]}
    assert "body.serial" in paths
    garbage = platform.client.post(
        "/api/v1/instruments", content=b"{not json", headers={**tech, "Content-Type": "application/json"}
    )
    assert garbage.status_code == 422
    assert platform.client.get("/api/v1/no-such-thing").json()["error"]["code"] == "not_found"
    assert platform.client.get("/api/v1/instruments?sort=password", headers=tech).status_code == 422


def test_lists_page_filter_sort_and_export_csv(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    for index in range(7):
        body = {**INSTRUMENT, "serial": f"S-{index}", "make": "Acme" if index % 2 else "Bolt"}
        assert platform.client.post("/api/v1/instruments", json=body, headers=tech).status_code == 201
    first = platform.client.get("/api/v1/instruments?limit=3&offset=0&sort=-serial", headers=tech).json()
    assert first["total"] == 7
    assert [item["serial"] for item in first["items"]] == ["S-6", "S-5", "S-4"]
    last = platform.client.get("/api/v1/instruments?limit=3&offset=6&sort=-serial", headers=tech).json()
    assert [item["serial"] for item in last["items"]] == ["S-0"]
    acme = platform.client.get("/api/v1/instruments?make=Acme", headers=tech).json()
    assert acme["total"] == 3
    assert {item["make"] for item in acme["items"]} == {"Acme"}
    exported = platform.client.get("/api/v1/instruments?format=csv&make=Bolt&sort=serial", headers=tech)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["serial"] for row in rows] == ["S-0", "S-2", "S-4", "S-6"]
    assert rows[0]["max_kg"] == "15"
    whole = platform.client.get("/api/v1/instruments/export.csv", headers=tech)
    assert len(list(csv.DictReader(io.StringIO(whole.text)))) == 7


def test_soft_delete_keeps_the_row_and_hides_it(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    _, qm = platform.user("qm", "quality-manager", org)
    key = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    assert platform.client.delete(f"/api/v1/instruments/{key}", headers=tech).status_code == 403
    assert platform.client.delete(f"/api/v1/instruments/{key}", headers=qm).status_code == 204
    assert platform.client.get(f"/api/v1/instruments/{key}", headers=qm).status_code == 404
    from hengqi.server.db.models import Instrument

    with platform.database.read_session() as session:
        row = session.get(Instrument, key)
        assert row is not None
        assert row.deleted_at is not None
    trail = platform.client.get("/api/v1/audit?entity=instruments&action=delete", headers=qm).json()
    assert trail["total"] == 1


def test_updates_recheck_the_specification_and_are_audited(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    _, qm = platform.user("qm", "quality-manager", org)
    key = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    ok = platform.client.patch(f"/api/v1/instruments/{key}", json={"max": "30 kg", "e": "10 g"}, headers=tech)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["max_kg"], ok.json()["e_kg"]) == ("30", "0.01")
    refused = platform.client.patch(f"/api/v1/instruments/{key}", json={"max": "300 kg"}, headers=tech)
    assert refused.status_code == 422
    entries = platform.client.get(f"/api/v1/audit?entity=instruments&entity_id={key}", headers=qm).json()["items"]
    assert [e["action"] for e in entries] == ["create", "update"]
    assert '"max_kg":"15"' in entries[1]["old_values"]
    assert '"max_kg":"30"' in entries[1]["new_values"]


def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    from tests.server.live import free_port

    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2",
        auto_migrate=False,
    )
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json()["database"] == "unreachable"


def test_health_is_503_before_migration(sqlite_store: Store) -> None:
    with TestClient(create_app(sqlite_store.settings(auto_migrate=False))) as client:
        answer = client.get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "migration-pending"


def test_registry_records_are_soft_deleted_by_quality_managers(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    _, qm = platform.user("qm", "quality-manager", org)
    client = platform.client
    made = {
        "sites": client.post("/api/v1/sites", json={"name": "S"}, headers=tech).json()["id"],
        "laboratories": client.post("/api/v1/laboratories", json={"name": "L"}, headers=tech).json()["id"],
        "weight-sets": client.post(
            "/api/v1/weight-sets", json={"name": "W", "weight_class": "M1"}, headers=tech
        ).json()["id"],
    }
    made["weights"] = client.post(
        f"/api/v1/weight-sets/{made['weight-sets']}/weights", json={"identifier": "1", "nominal": "1 kg"}, headers=tech
    ).json()["id"]
    for path, key in made.items():
        assert client.delete(f"/api/v1/{path}/{key}", headers=tech).status_code == 403, path
        assert client.delete(f"/api/v1/{path}/{key}", headers=qm).status_code == 204, path
        assert client.get(f"/api/v1/{path}/{key}", headers=qm).status_code == 404, path
        assert client.delete(f"/api/v1/{path}/{key}", headers=qm).status_code == 404, path
