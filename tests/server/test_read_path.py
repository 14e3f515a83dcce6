"""The fast read path (issue 19): what it answers must be what the ORM path answered, and nothing is cached.

The token is looked up on every request (in place on the event loop on SQLite); the instrument is read with a
Core query and answered as pydantic JSON with its ETag.  Checked here: a revoked token and a deactivated user are
refused by the very next request, another organisation's instrument is 404, a regulator sees only granted
organisations, a soft-deleted instrument is 404, and the API modules' paths are disjoint (so their order, chosen
for speed in ``hengqi.server.app.api_router``, changes no answer).
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform

from hengqi.server.api import admin, alerts, auth, health, registry, statistics, workflow
from hengqi.server.permissions import Role


def test_api_modules_have_disjoint_paths() -> None:
    first_segments = {}
    for module in (health, auth, admin, registry, workflow, statistics, alerts):
        segments = {route.path.split("/")[1] for route in module.router.routes if isinstance(route, APIRoute)}
        for segment in segments:
            assert segment not in first_segments, f"{segment!r} in {module.__name__} and {first_segments[segment]}"
            first_segments[segment] = module.__name__


def test_item_read_is_scoped_tagged_and_never_served_from_a_cache(platform: Platform) -> None:
    client = platform.client
    lab_a, lab_b = platform.organisation("Lab A"), platform.organisation("Lab B")
    tina_id, tina = platform.user("tina", Role.TECHNICIAN, lab_a)
    _, bob = platform.user("bob", Role.TECHNICIAN, lab_b)
    _, root = platform.user("root", Role.ADMIN, lab_a)
    regulator_id, regulator = platform.user("reg", Role.REGULATOR, lab_b)

    made = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tina)
    assert made.status_code == 201, made.text
    item = made.json()
    path = f"/api/v1/instruments/{item['id']}"

    read = client.get(path, headers=tina)
    assert read.status_code == 200
    assert read.json() == item  # the same document as the ORM path that created it
    assert read.headers["etag"] == f'"{item["row_version"]}"'
    assert read.headers["content-type"] == "application/json"
    assert read.headers["x-content-type-options"] == "nosniff"  # security headers still on the answer

    assert client.get(path, headers=bob).status_code == 404  # another organisation: existence not disclosed
    assert client.get(path, headers=regulator).status_code == 404  # not granted yet
    granted = client.post(f"/api/v1/users/{regulator_id}/grants", json={"organisation_id": lab_a}, headers=root)
    assert granted.status_code == 204, granted.text
    assert client.get(path, headers=regulator).status_code == 200  # the grant is seen by the next request
    assert client.get("/api/v1/instruments/999999", headers=tina).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer hq_not-a-token"}).status_code == 401
    assert client.get(path, headers={"Authorization": "Basic abc"}).status_code == 401

    # revoke tina's token: the next read with it is refused (nothing cached the principal)
    tokens = client.get("/api/v1/auth/tokens", headers=tina).json()
    token_id = (tokens["items"] if isinstance(tokens, dict) else tokens)[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=tina).status_code == 200
    assert client.get(path, headers=tina).status_code == 401

    # a deactivated user's tokens stop at once as well
    tim_id, tim = platform.user("tim", Role.TECHNICIAN, lab_a)
    assert client.get(path, headers=tim).status_code == 200
    assert client.patch(f"/api/v1/users/{tim_id}", json={"active": False}, headers=root).status_code == 200
    assert client.get(path, headers=tim).status_code == 401

    # soft-deleted: gone from the read
    assert client.delete(path, headers=root).status_code == 204
    assert client.get(path, headers=root).status_code == 404
    assert tina_id != tim_id


def test_every_record_read_by_id_is_scoped_tagged_and_refused_without_a_valid_caller(platform: Platform) -> None:
    """Sites, customers, laboratories, weight sets, weights and procedures moved to the fast path with the
    instrument: each answers the document its creation answered, with its ETag, and the same refusals."""
    client = platform.client
    lab_a, lab_b = platform.organisation("Lab A"), platform.organisation("Lab B")
    _, tech = platform.user("tina", Role.TECHNICIAN, lab_a)
    _, qm = platform.user("quinn", Role.QUALITY_MANAGER, lab_a)
    _, bob = platform.user("bob", Role.TECHNICIAN, lab_b)
    made = {
        "sites": client.post("/api/v1/sites", json={"name": "Yard", "latitude": "0.100"}, headers=tech),
        "customers": client.post(
            "/api/v1/customers", json={"name": "Quarry Co.", "city": "Lin'an", "country": "CN"}, headers=tech
        ),
        "laboratories": client.post("/api/v1/laboratories", json={"name": "NMI"}, headers=tech),
        "weight-sets": client.post("/api/v1/weight-sets", json={"name": "W", "weight_class": "M1"}, headers=tech),
        "procedures": client.post("/api/v1/procedures", json={"name": "P", "kind": "calibration"}, headers=qm),
    }
    set_id = made["weight-sets"].json()["id"]
    made["weights"] = client.post(
        f"/api/v1/weight-sets/{set_id}/weights", json={"identifier": "1", "nominal": "1 kg"}, headers=tech
    )
    for path, answer in made.items():
        assert answer.status_code == 201, (path, answer.text)
        document = answer.json()
        url = f"/api/v1/{path}/{document['id']}"
        read = client.get(url, headers=tech)
        assert read.status_code == 200, (path, read.text)
        assert read.json() == document, path  # the same document as the ORM path that created it
        assert read.headers["etag"] == f'"{document["row_version"]}"', path
        assert read.headers["x-content-type-options"] == "nosniff", path
        assert client.get(url, headers=bob).status_code == 404, path  # another organisation
        assert client.get(f"/api/v1/{path}/999999", headers=tech).status_code == 404, path
        assert client.get(url).status_code == 401, path
        assert client.get(url, headers={"Authorization": "Bearer hq_not-a-token"}).status_code == 401, path
        assert client.get(url, headers={"Authorization": "Bearer "}).status_code == 401, path


def test_browser_session_read_checks_the_session_and_the_user_on_every_request(platform: Platform) -> None:
    """The fast path with a session cookie: the session and its user in one query, refused at once after logout
    or deactivation; a regulator's grant is read with it."""
    client = platform.client
    lab_a, lab_b = platform.organisation("Lab A"), platform.organisation("Lab B")
    _, tina = platform.user("tina", Role.TECHNICIAN, lab_a)
    _, root = platform.user("root", Role.ADMIN, lab_a)
    regulator_id, _ = platform.user("reg", Role.REGULATOR, lab_b)
    item = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tina).json()
    path = f"/api/v1/instruments/{item['id']}"

    with TestClient(platform.app) as browser:
        login = browser.post("/api/v1/auth/login", json={"username": "tina", "password": PASSWORD})
        assert login.status_code == 200, login.text
        read = browser.get(path)
        assert read.status_code == 200
        assert read.json() == item
        assert read.headers["etag"] == f'"{item["row_version"]}"'
        assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]}).is_success
        assert browser.get(path).status_code == 401  # the ended session is refused by the next request

    with TestClient(platform.app) as browser:
        assert browser.post("/api/v1/auth/login", json={"username": "reg", "password": PASSWORD}).status_code == 200
        assert browser.get(path).status_code == 404  # not granted
        granted = client.post(f"/api/v1/users/{regulator_id}/grants", json={"organisation_id": lab_a}, headers=root)
        assert granted.status_code == 204, granted.text
        assert browser.get(path).status_code == 200  # the grant is seen by the next request
        assert client.patch(f"/api/v1/users/{regulator_id}", json={"active": False}, headers=root).status_code == 200
        assert browser.get(path).status_code == 401  # deactivated: refused at once


def test_concurrent_health_probes_share_one_query_and_none_is_kept(platform: Platform) -> None:
    """20 probes at once all answer 200 with the same body; once answered nothing is kept (the next probe asks
    the database again)."""
    import asyncio

    import httpx

    from hengqi.server.api import health as health_module

    async def probe_many() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=platform.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get("/api/v1/health") for _ in range(20)))

    answers = asyncio.run(probe_many())
    assert [a.status_code for a in answers] == [200] * 20
    assert all(a.json() == answers[0].json() for a in answers)
    assert answers[0].json()["status"] == "ok"
    assert health_module._IN_FLIGHT == {}
