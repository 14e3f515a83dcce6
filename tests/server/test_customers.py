"""The customer registry: an instrument's owner with its address, named on its certificates.

Attacks tried: wrong role, another organisation (read, change, and as an instrument's owner), malformed,
oversized and deeply nested bodies; every refusal leaves what was stored unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect
from tests.server.conftest import INSTRUMENT, Platform, Store

from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision, downgrade, head_revision, upgrade

CUSTOMER = {
    "name": "Example Aggregates Co.",
    "name_zh": "示例砂石有限公司",
    "street": "Quarry Road",
    "street_no": "8",
    "post_code": "311300",
    "city": "Lin'an",
    "country": "CN",
}
ROLES = ("technician", "reviewer", "quality-manager", "regulator", "admin")


@pytest.fixture
def world(platform: Platform) -> dict[str, Any]:
    org = platform.organisation("Lab A")
    other = platform.organisation("Lab B")
    heads = {role: platform.user(f"{role}-a", role, org)[1] for role in ROLES}
    _, tech_b = platform.user("tech-b", "technician", other)
    return {"platform": platform, "heads": heads, "tech_b": tech_b}


def test_customer_crud_and_instrument_owner(world: dict[str, Any]) -> None:
    client, tech = world["platform"].client, world["heads"]["technician"]
    made = client.post("/api/v1/customers", json=CUSTOMER, headers=tech)
    assert made.status_code == 201, made.text
    customer = made.json()
    assert customer["city"] == "Lin'an"
    assert customer["name_zh"] == "示例砂石有限公司"
    listed = client.get("/api/v1/customers", headers=tech).json()["items"]
    assert [c["id"] for c in listed] == [customer["id"]]
    changed = client.patch(f"/api/v1/customers/{customer['id']}", json={"street_no": "10"}, headers=tech)
    assert changed.json()["street_no"] == "10"
    owned = client.post("/api/v1/instruments", json={**INSTRUMENT, "owner_id": customer["id"]}, headers=tech)
    assert owned.status_code == 201, owned.text
    assert owned.json()["owner_id"] == customer["id"]
    by_owner = client.get(f"/api/v1/instruments?owner_id={customer['id']}", headers=tech).json()["items"]
    assert [i["id"] for i in by_owner] == [owned.json()["id"]]
    cleared = client.patch(f"/api/v1/instruments/{owned.json()['id']}", json={"owner_id": None}, headers=tech)
    assert cleared.json()["owner_id"] is None


def test_roles_on_customers(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    client, heads = platform.client, world["heads"]
    key = client.post("/api/v1/customers", json=CUSTOMER, headers=heads["technician"]).json()["id"]
    created = {
        role: client.post("/api/v1/customers", json={**CUSTOMER, "name": role}, headers=h).status_code
        for role, h in heads.items()
    }
    assert created == {"technician": 201, "reviewer": 201, "quality-manager": 201, "regulator": 403, "admin": 201}
    deleted = {
        role: client.delete(
            f"/api/v1/customers/{client.post('/api/v1/customers', json=CUSTOMER, headers=heads['admin']).json()['id']}",
            headers=h,
        ).status_code
        for role, h in heads.items()
        if role != "regulator"
    }
    assert deleted == {"technician": 403, "reviewer": 403, "quality-manager": 204, "admin": 204}
    assert client.get(f"/api/v1/customers/{key}", headers=heads["reviewer"]).status_code == 200


def test_another_organisation_neither_sees_nor_uses_a_customer(world: dict[str, Any]) -> None:
    client, tech, tech_b = world["platform"].client, world["heads"]["technician"], world["tech_b"]
    key = client.post("/api/v1/customers", json=CUSTOMER, headers=tech).json()["id"]
    assert client.get(f"/api/v1/customers/{key}", headers=tech_b).status_code == 404
    assert client.patch(f"/api/v1/customers/{key}", json={"city": "X"}, headers=tech_b).status_code == 404
    assert client.delete(f"/api/v1/customers/{key}", headers=tech_b).status_code == 403  # role first: no delete
    assert client.get("/api/v1/customers", headers=tech_b).json()["items"] == []
    # an instrument of organisation B cannot name A's customer as its owner
    refused = client.post("/api/v1/instruments", json={**INSTRUMENT, "owner_id": key}, headers=tech_b)
    assert refused.status_code in (404, 422), refused.text
    theirs = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tech_b).json()["id"]
    assert client.patch(f"/api/v1/instruments/{theirs}", json={"owner_id": key}, headers=tech_b).status_code in (
        404,
        422,
    )
    assert client.get(f"/api/v1/customers/{key}", headers=tech).json()["city"] == "Lin'an"  # unchanged


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CUSTOMER, "country": "China"}, "country"),
        ({**CUSTOMER, "country": "cn"}, "country"),
        ({k: v for k, v in CUSTOMER.items() if k != "city"}, "city"),
        ({**CUSTOMER, "name": ""}, "name"),
        ({**CUSTOMER, "name": "x" * 201}, "name"),
        ({**CUSTOMER, "street": "x" * 100_000}, "street"),
        ({**CUSTOMER, "city": {"a": [[[[[{"b": 1}]]]]]}}, "city"),
        ({**CUSTOMER, "extra": 1}, "extra"),
    ],
)
def test_malformed_customers_are_refused_naming_the_field(
    world: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    client, tech = world["platform"].client, world["heads"]["technician"]
    answer = client.post("/api/v1/customers", json=body, headers=tech)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert client.get("/api/v1/customers", headers=tech).json()["items"] == []
    key = client.post("/api/v1/customers", json=CUSTOMER, headers=tech).json()["id"]
    assert client.patch(f"/api/v1/customers/{key}", json={"city": None}, headers=tech).status_code == 422
    assert client.get(f"/api/v1/customers/{key}", headers=tech).json()["city"] == "Lin'an"


def test_the_customers_migration_goes_down_and_up_again(store: Store) -> None:
    """Revision 0116_customers adds the table and the instruments' owner column, and removes them again."""
    database = Database(store.database_url)
    upgrade(database.engine)
    assert "owner_id" in {c["name"] for c in inspect(database.engine).get_columns("instruments")}
    downgrade(database.engine, "0100")
    assert "customers" not in inspect(database.engine).get_table_names()
    assert "owner_id" not in {c["name"] for c in inspect(database.engine).get_columns("instruments")}
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()
    assert "customers" in inspect(database.engine).get_table_names()
    database.dispose()
