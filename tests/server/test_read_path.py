"""The fast read path (issue 19): what it answers must be what the ORM path answered, and nothing is cached.

The token is looked up on every request (in place on the event loop on SQLite); the instrument is read with a
Core query and answered as pydantic JSON with its ETag.  Checked here: a revoked token and a deactivated user are
refused by the very next request, another organisation's instrument is 404, a regulator sees only granted
organisations, a soft-deleted instrument is 404, and the API modules' paths are disjoint (so their order, chosen
for speed in ``hengqi.server.app.api_router``, changes no answer).
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from tests.server.conftest import INSTRUMENT, Platform

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
