"""Stored data cannot break reads: run documents are checked against their formats before anything is stored,
bodies are limited in size and depth before they are parsed, and a row broken in the database is shown marked
instead of failing the list, the export or the page (issue 10, item 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform, Store
from tests.server.integrity.conftest import Seeded
from tests.web.conftest import WebUser

from hengqi.server.db.models import AuditEntry, Run
from hengqi.server.settings import Settings

POINT = {"load_kg": "10", "error_kg": "0.002", "U_kg": "0.001", "k": 2}


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return root


def _counts(session_factory: Any) -> tuple[int, int]:
    with session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Run)),
            session.scalar(select(func.count(AuditEntry.id))),
        )


# -- against a live server: the attacks of the issue ----------------------------------------------------------------
def test_deep_raw_data_is_refused_and_nothing_is_stored(live_lab: Seeded) -> None:
    before = _counts(live_lab.database.read_session)
    with live_lab.client("tech") as tech:
        deep = tech.post(
            "/runs", json={"instrument_id": live_lab.instrument, "kind": "calibration", "raw_data": _nested(500)}
        )
        assert deep.status_code == 422, deep.text
        assert "nested deeper than 32 levels" in deep.json()["error"]["message"]
        assert _counts(live_lab.database.read_session) == before
        assert tech.get("/runs", params={"limit": 1000}).status_code == 200
        export = tech.get("/runs", params={"format": "csv"})
        assert export.status_code == 200
        assert export.text.startswith("id,")


def test_a_ten_megabyte_body_is_refused_before_it_is_read(live_lab: Seeded) -> None:
    before = _counts(live_lab.database.read_session)
    notes = "x" * (10 * 1024 * 1024)
    body = json.dumps({"instrument_id": live_lab.instrument, "kind": "calibration", "raw_data": {"notes": notes}})
    with live_lab.client("tech") as tech:
        declared = tech.post("/runs", content=body, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on the stream too
            data = body.encode()
            for start in range(0, len(data), 65536):
                yield data[start : start + 65536]

        streamed = tech.post("/runs", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        form = tech.post("/runs", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert form.status_code == 413
        assert tech.get("/runs", params={"limit": 1000}).status_code == 200
    assert _counts(live_lab.database.read_session) == before


def test_results_that_would_break_the_instrument_page_are_refused(live_lab: Seeded) -> None:
    before = _counts(live_lab.database.read_session)
    base = f'{{"instrument_id": {live_lab.instrument}, "kind": "calibration", "results": {{"points": [{{'
    raw_bodies = {
        "NaN": base + '"load_kg": NaN, "error_kg": "0", "U_kg": "0"}]}}',
        "1e400": base + '"load_kg": 1e400, "error_kg": "0", "U_kg": "0"}]}}',
    }
    with live_lab.client("tech") as tech:
        abc = tech.post(
            "/runs",
            json={
                "instrument_id": live_lab.instrument,
                "kind": "calibration",
                "results": {"points": [{**POINT, "load_kg": "abc"}]},
            },
        )
        assert abc.status_code == 422
        assert abc.json()["error"]["details"]["path"] == "results.points[0].load_kg"
        for name, body in raw_bodies.items():
            answer = tech.post("/runs", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 422, (name, answer.text)
    assert _counts(live_lab.database.read_session) == before


# -- what the formats refuse (in process, both backends) ----------------------------------------------------------
BAD_DOCUMENTS = [
    ({"results": {"points": [{**POINT, "load_kg": "abc"}]}}, "results.points[0].load_kg", "not a decimal number"),
    ({"results": {"points": [{**POINT, "load_kg": "1e400"}]}}, "results.points[0].load_kg", "magnitude"),
    ({"results": {"points": [{**POINT, "U_kg": "NaN"}]}}, "results.points[0].U_kg", "finite"),
    ({"results": {"points": [{"load_kg": "10"}]}}, "results.points[0].error_kg", "required field is missing"),
    ({"results": {"points": [{**POINT, "load_kg": True}]}}, "results.points[0].load_kg", "decimal number"),
    ({"results": {"points": "many"}}, "results.points", "list"),
    ({"results": {"surprise": 1}}, "results.surprise", "unknown field"),
    ({"results": {"values": {"x": {"nested": 1}}}}, "results.values.x", ""),
    ({"raw_data": {"loads": [{"load": "2 kg", "extra": 1}]}}, "raw_data.loads[0].extra", "unknown field"),
    ({"raw_data": {"record": {"format": "mine"}}}, "raw_data.record.format", "must be one of"),
    (
        {"raw_data": {"record": {"format": "hengqi.calibration-record", "version": 1}}},
        "raw_data.record.",
        "",
    ),
]


@pytest.mark.parametrize(("document", "path", "reason"), BAD_DOCUMENTS)
def test_a_run_document_off_its_format_is_refused_naming_the_field(
    platform: Platform, document: dict[str, Any], path: str, reason: str
) -> None:
    org = platform.organisation("A")
    tech = platform.user("tech", "technician", org)[1]
    client = platform.client
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    before = _counts(platform.database.read_session)
    made = client.post(
        "/api/v1/runs", json={"instrument_id": instrument, "kind": "calibration", **document}, headers=tech
    )
    assert made.status_code == 422, made.text
    error = made.json()["error"]
    assert error["details"]["path"].startswith(path), error
    assert reason in error["message"]
    assert _counts(platform.database.read_session) == before
    run = client.post("/api/v1/runs", json={"instrument_id": instrument, "kind": "calibration"}, headers=tech).json()
    changed = client.patch(f"/api/v1/runs/{run['id']}", json=document, headers=tech)
    assert changed.status_code == 422
    assert client.get(f"/api/v1/runs/{run['id']}", headers=tech).json()["row_version"] == 1


@dataclass(frozen=True)
class LooseStore(Store):
    """A store whose server lets bodies nest 200 deep (so that the service's own limit is what refuses)."""

    def settings(self, **extra: object) -> Settings:
        return super().settings(max_json_depth=200, **extra)


def test_the_service_refuses_what_a_looser_body_limit_lets_through(store: Store) -> None:
    loose = Platform(LooseStore(store.backend, store.data_dir, store.database_url))
    try:
        org = loose.organisation("A")
        tech = loose.user("tech", "technician", org)[1]
        instrument = loose.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
        before = _counts(loose.database.read_session)
        deep = loose.client.post(
            "/api/v1/runs",
            json={"instrument_id": instrument, "kind": "calibration", "raw_data": {"record": _nested(100)}},
            headers=tech,
        )
        assert deep.status_code == 422
        assert "nested deeper than 32 levels" in deep.json()["error"]["message"]
        assert deep.json()["error"]["details"]["path"].startswith("raw_data.record.a.a.")
        assert _counts(loose.database.read_session) == before
    finally:
        loose.close()


def test_legitimate_documents_are_kept_exactly(platform: Platform) -> None:
    org = platform.organisation("A")
    tech = platform.user("tech", "technician", org)[1]
    client = platform.client
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    results = {
        "points": [{"load_kg": 10, "error_kg": "0.0020", "U_kg": 0.00125, "k": 2.0}],
        "values": {"operator_note": "ok", "temperature_C": 20.5, "stable": True, "missing": None},
        "server_check": {"forged": True},  # the server's to make: dropped, never refused
    }
    made = client.post(
        "/api/v1/runs",
        json={"instrument_id": instrument, "kind": "calibration", "results": results, "raw_data": {"notes": "é"}},
        headers=tech,
    )
    assert made.status_code == 201, made.text
    stored = made.json()["results"]
    assert stored == {
        "points": [{"load_kg": "10", "error_kg": "0.0020", "U_kg": "0.00125", "k": 2.0}],
        "values": results["values"],
    }


# -- a row broken in the database behind the server's back --------------------------------------------------------
CORRUPTIONS = {
    "value": json.dumps({"points": [{"load_kg": "abc", "error_kg": "x", "U_kg": "y"}]}),
    "not-an-object": json.dumps("oops"),
    "too-deep": json.dumps({"points": [_nested(600)]}),
    "not-json": "{oops",
}


def test_runs_broken_in_the_database_are_shown_marked(platform: Platform) -> None:
    corruptions = dict(CORRUPTIONS)
    if platform.store.backend == "postgresql":
        del corruptions["not-json"]  # PostgreSQL's json type itself refuses text that is not JSON
    org = platform.organisation("A")
    tech = platform.user("tech", "technician", org)[1]
    client = platform.client
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech).json()["id"]
    ids = [
        client.post(
            "/api/v1/runs",
            json={"instrument_id": instrument, "kind": "calibration", "results": {"points": [POINT]}},
            headers=tech,
        ).json()["id"]
        for _ in range(len(corruptions) + 2)
    ]
    broken = dict(zip(ids[1:-1], corruptions.values(), strict=True))
    cast = "CAST(:value AS json)" if platform.store.backend == "postgresql" else ":value"
    with platform.database.engine.begin() as connection:
        for key, value in broken.items():
            connection.execute(text(f"UPDATE runs SET results = {cast} WHERE id = :id"), {"value": value, "id": key})
    listed = client.get("/api/v1/runs", params={"limit": 1000}, headers=tech)
    assert listed.status_code == 200, listed.text
    items = {item["id"]: item for item in listed.json()["items"]}
    for key in broken:
        assert items[key]["stored_data_error"], key
        assert [flag["code"] for flag in items[key]["flags"]] == ["stored_data_invalid"]
        single = client.get(f"/api/v1/runs/{key}", headers=tech)
        assert single.status_code == 200
        assert single.json()["stored_data_error"] == items[key]["stored_data_error"]
    for key in (ids[0], ids[-1]):
        assert items[key]["stored_data_error"] is None
        assert items[key]["results"]["points"] == [{**POINT, "k": 2}]
    export = client.get("/api/v1/runs", params={"format": "csv"}, headers=tech)
    assert export.status_code == 200
    assert len(export.text.strip().splitlines()) == 1 + len(ids)
    for key in broken:  # a damaged run is neither evaluated nor changed; it is corrected by a revision
        assert client.patch(f"/api/v1/runs/{key}", json={"status": "completed"}, headers=tech).status_code == 422
    first = next(iter(broken))
    fixed = client.post(
        f"/api/v1/runs/{first}/revisions",
        json={"reason": "damaged in storage", "raw_data": {}, "results": {"points": [POINT]}},
        headers=tech,
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["stored_data_error"] is None
    web = WebUser.sign_in_with(TestClient(platform.app), "tech", PASSWORD)
    page = web.client.get(f"/web/instruments/{instrument}")
    assert page.status_code == 200
    assert page.text.count('data-testid="run-damaged"') == len(broken)
    assert 'data-testid="history-chart"' in page.text  # the good runs are still drawn
