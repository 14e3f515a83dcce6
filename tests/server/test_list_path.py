"""The fast path of the instruments list (issue 19, :mod:`hengqi.server.api.pages`): the same bytes as the ORM
path (``services.base.page`` + ``api.listing.respond``, which the CSV export still uses) for the same data,
filters, sort and paging, on both stores; scope, deleted rows and refusals as before."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update
from tests.server.conftest import INSTRUMENT, Platform

from hengqi.server.api.deps import ListParams
from hengqi.server.api.listing import respond
from hengqi.server.api.pages import INSTRUMENT_FILTERABLE, INSTRUMENT_SORTABLE
from hengqi.server.db.models import Instrument
from hengqi.server.permissions import Role
from hengqi.server.schemas.registry import InstrumentPublic
from hengqi.server.services import accounts
from hengqi.server.services.base import page, scoped_select


def _rows(organisation_id: int, prefix: str) -> list[dict[str, Any]]:
    makes = ["Acme", 'Mettler "T" 东', "Bolt\\x", "acme"]
    return [
        {
            "organisation_id": organisation_id,
            "make": makes[index % 4],
            "model": f"M{index % 3}",
            "serial": f"{prefix}{index:03d}",
            "type_approval": "" if index % 2 else "T1234\n",
            "accuracy_class": ["I", "II", "III", "IIII"][index % 4],
            "kind": "single-interval" if index % 5 else "multi-interval",
            "max_kg": Decimal(15 + index),
            "min_kg": Decimal("0.10"),
            "e_kg": Decimal("0.005000"),
            "d_kg": Decimal("1E-3") if index % 2 else Decimal("0.0000001"),  # str() would write 1E-7
            "ranges": (
                [{"max_kg": "15", "e_kg": "0.005"}]
                if index % 5
                else [{"max_kg": 3, "e_kg": "0.0010"}, {"max_kg": "6.000", "e_kg": "0.002", "note": "x"}]
            ),
            "status": ["in-service", "out-of-service", "withdrawn"][index % 3],
            "verification_due": date(2027, 1 + index % 12, 1) if index % 2 else None,
            "calibration_due": None if index % 3 else date(2026, 12, 31),
            "installed_on": date(2020, 5, 17) if index % 4 == 1 else None,
            "created_at": datetime(2026, 1, 2, 3, 4, 5, 0 if index % 2 else 123456, tzinfo=UTC),
            "updated_at": datetime(2026, 6, 1, 0, 0, index, tzinfo=UTC),
        }
        for index in range(23)
    ]


def _old_body(platform: Platform, headers: dict[str, str], params: ListParams, filters: dict[str, object]) -> bytes:
    token = headers["Authorization"].removeprefix("Bearer ")
    with platform.database.read_session() as session:
        principal = accounts.principal_for_token(session, token)
        result = page(
            session,
            scoped_select(principal, Instrument),
            Instrument,
            params.query(**filters),
            sortable=INSTRUMENT_SORTABLE,
            filterable=INSTRUMENT_FILTERABLE,
        )
        return bytes(respond(InstrumentPublic, result, params, "instruments").body)


def test_fast_list_answers_the_orm_paths_bytes(platform: Platform) -> None:
    client = platform.client
    lab_a, lab_b = platform.organisation("Lab A"), platform.organisation("Lab B")
    _, tina = platform.user("tina", Role.TECHNICIAN, lab_a)
    _, root = platform.user("root", Role.ADMIN, lab_a)
    regulator_id, regulator = platform.user("reg", Role.REGULATOR, lab_b)
    assert client.post(f"/api/v1/users/{regulator_id}/grants", json={"organisation_id": lab_a}, headers=root).is_success
    made = client.post("/api/v1/instruments", json=INSTRUMENT, headers=tina)
    assert made.status_code == 201, made.text
    with platform.database.write_session() as session:
        session.execute(insert(Instrument), _rows(lab_a, "A") + _rows(lab_b, "B"))
        session.execute(update(Instrument).where(Instrument.serial.in_(["A004", "B004"])).values(deleted_at=made_at()))
        session.commit()

    cases: list[tuple[dict[str, str], int, int, str, dict[str, object]]] = [
        (tina, 50, 0, "id", {}),
        (tina, 5, 0, "-serial", {}),
        (tina, 5, 20, "-serial", {}),  # the last, short page
        (tina, 5, 200, "id", {}),  # past the end: no rows, the total still counted
        (tina, 7, 3, "max_kg", {"make": "Acme"}),
        (tina, 50, 0, "-verification_due", {"status": "withdrawn", "accuracy_class": "IIII"}),
        (tina, 50, 0, "calibration_due", {"make": 'Mettler "T" 东', "model": "M1"}),
        (tina, 50, 0, "created_at", {"serial": "A004"}),  # deleted: not listed
        (tina, 50, 0, "id", {"organisation_id": lab_b}),  # another organisation: nothing
        (tina, 50, 0, "id", {"serial": "nothing"}),
        (root, 50, 0, "-make", {}),
        (regulator, 10, 10, "-created_at", {}),  # own organisation and the granted one
        (regulator, 50, 0, "status", {"organisation_id": lab_a, "site_id": None}),
    ]
    for headers, limit, offset, sort, filters in cases:
        query = {"limit": limit, "offset": offset, "sort": sort, **{k: v for k, v in filters.items() if v is not None}}
        answer = client.get("/api/v1/instruments", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        expected = _old_body(platform, headers, ListParams(limit, offset, sort, "json"), filters)
        assert answer.content == expected, (query, answer.content[:300], expected[:300])
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "etag" not in answer.headers  # a page carries none, as before

    everything = client.get("/api/v1/instruments?limit=100", headers=tina).json()
    assert everything["total"] == 1 + 23 - 1  # the API's one, the inserted ones, less the deleted one
    assert {item["organisation_id"] for item in everything["items"]} == {lab_a}
    assert client.get("/api/v1/instruments?limit=100", headers=regulator).json()["total"] == 2 * 22 + 1


def made_at() -> datetime:
    return datetime(2026, 7, 1, tzinfo=UTC)


def test_fast_list_refuses_as_before(platform: Platform) -> None:
    client = platform.client
    _, tina = platform.user("tina", Role.TECHNICIAN, platform.organisation("Lab A"))
    assert client.get("/api/v1/instruments").status_code == 401
    assert client.get("/api/v1/instruments", headers={"Authorization": "Bearer hq_not-a-token"}).status_code == 401
    assert client.get("/api/v1/instruments", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/instruments?sort=password").status_code == 401  # who asks is decided first
    assert client.get("/api/v1/instruments?sort=password", headers=tina).status_code == 422
    assert client.get("/api/v1/instruments?sort=row_version", headers=tina).status_code == 422
    assert client.get("/api/v1/instruments?limit=0", headers=tina).status_code == 422
    assert client.get("/api/v1/instruments?status=broken", headers=tina).status_code == 422
    csv = client.get("/api/v1/instruments?format=csv", headers=tina)
    assert csv.status_code == 200
    assert csv.text.splitlines()[0].startswith("id,organisation_id,row_version")
