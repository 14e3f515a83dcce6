"""Each role sees and changes only what it may (docs/server.md, roles and permissions matrix)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.conftest import INSTRUMENT, Platform

ROLES = ("technician", "reviewer", "quality-manager", "regulator", "admin")

#: The expected answer for each (action, role), written out independently of the server's MATRIX.
EXPECTED: dict[str, dict[str, int]] = {
    "read instrument": dict.fromkeys(ROLES, 200),
    "create instrument": {"technician": 201, "reviewer": 201, "quality-manager": 201, "regulator": 403, "admin": 201},
    "update instrument": {"technician": 200, "reviewer": 200, "quality-manager": 200, "regulator": 403, "admin": 200},
    "delete instrument": {"technician": 403, "reviewer": 403, "quality-manager": 204, "regulator": 403, "admin": 204},
    "record run": {"technician": 201, "reviewer": 201, "quality-manager": 201, "regulator": 403, "admin": 403},
    "draft certificate": {"technician": 201, "reviewer": 201, "quality-manager": 201, "regulator": 403, "admin": 403},
    "read audit": {"technician": 403, "reviewer": 403, "quality-manager": 200, "regulator": 200, "admin": 200},
    "create user": {"technician": 403, "reviewer": 403, "quality-manager": 403, "regulator": 403, "admin": 201},
    "create organisation": {
        "technician": 403,
        "reviewer": 403,
        "quality-manager": 403,
        "regulator": 403,
        "admin": 201,
    },
}


@pytest.fixture
def world(platform: Platform) -> dict[str, Any]:
    org = platform.organisation("Lab A")
    other = platform.organisation("Lab B")
    heads = {role: platform.user(f"{role}-a", role, org)[1] for role in ROLES}
    regulator_id, regulator = platform.user("inspector", "regulator", platform.organisation("Authority"))
    _, admin = platform.user("root", "admin", org)
    assert (
        platform.client.post(
            f"/api/v1/users/{regulator_id}/grants", json={"organisation_id": org}, headers=admin
        ).status_code
        == 204
    )
    heads["regulator"] = regulator
    _, tech_b = platform.user("tech-b", "technician", other)
    instrument = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=heads["technician"]).json()["id"]
    foreign = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech_b).json()["id"]
    return {"org": org, "heads": heads, "instrument": instrument, "foreign": foreign, "platform": platform}


def _attempt(platform: Platform, action: str, role: str, headers: dict[str, str], world: dict[str, Any]) -> int:
    client, key = platform.client, world["instrument"]
    if action == "read instrument":
        return client.get(f"/api/v1/instruments/{key}", headers=headers).status_code
    if action == "create instrument":
        return client.post("/api/v1/instruments", json={**INSTRUMENT, "serial": role}, headers=headers).status_code
    if action == "update instrument":
        return client.patch(f"/api/v1/instruments/{key}", json={"model": role}, headers=headers).status_code
    if action == "delete instrument":
        mine = client.post(
            "/api/v1/instruments", json={**INSTRUMENT, "serial": f"d-{role}"}, headers=world["heads"]["quality-manager"]
        )
        return client.delete(f"/api/v1/instruments/{mine.json()['id']}", headers=headers).status_code
    if action == "record run":
        body = {"instrument_id": key, "kind": "routine-test"}
        return client.post("/api/v1/runs", json=body, headers=headers).status_code
    if action == "draft certificate":
        body = {"number": f"C-{role}", "kind": "calibration", "instrument_id": key}
        return client.post("/api/v1/certificates", json=body, headers=headers).status_code
    if action == "read audit":
        return client.get("/api/v1/audit", headers=headers).status_code
    if action == "create user":
        body = {"username": f"new-{role}", "password": "long-enough-password", "role": "technician"}
        return client.post("/api/v1/users", json=body, headers=headers).status_code
    if action == "create organisation":
        return client.post("/api/v1/organisations", json={"name": f"Org {role}"}, headers=headers).status_code
    raise AssertionError(action)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_matrix(world: dict[str, Any], action: str) -> None:
    platform: Platform = world["platform"]
    got = {role: _attempt(platform, action, role, world["heads"][role], world) for role in ROLES}
    assert got == EXPECTED[action]


def test_no_role_but_admin_sees_another_organisation(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    for role in ROLES:
        answer = platform.client.get(f"/api/v1/instruments/{world['foreign']}", headers=world["heads"][role])
        assert answer.status_code == (200 if role == "admin" else 404), role
        listed = platform.client.get("/api/v1/instruments", headers=world["heads"][role]).json()
        ids = {item["id"] for item in listed["items"]}
        assert (world["foreign"] in ids) == (role == "admin"), role


def test_regulator_reads_only_granted_organisations_and_their_audit(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    regulator = world["heads"]["regulator"]
    trail = platform.client.get("/api/v1/audit?limit=1000", headers=regulator).json()["items"]
    assert trail
    assert {entry["organisation_id"] for entry in trail} <= {world["org"], platform.org_id("Authority")}
    assert (
        platform.client.patch(
            f"/api/v1/instruments/{world['instrument']}", json={"model": "x"}, headers=regulator
        ).status_code
        == 403
    )


def test_technician_cannot_create_in_another_organisation(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    other = platform.org_id("Lab B")
    body = {**INSTRUMENT, "serial": "cross", "organisation_id": other}
    assert (
        platform.client.post("/api/v1/instruments", json=body, headers=world["heads"]["technician"]).status_code == 403
    )
    assert platform.client.post("/api/v1/instruments", json=body, headers=world["heads"]["admin"]).status_code == 201
