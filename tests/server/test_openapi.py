"""The OpenAPI document, exercised by schemathesis against the ASGI app (bounded examples per operation).

Checks: no server error, documented status codes, documented content types, responses matching their schemas.
The caller is a quality manager with an API token, in a store holding one record of each kind, so that generated
ids sometimes hit real objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.server.conftest import INSTRUMENT, Platform, Store


@pytest.fixture
def fuzzed(store: Store) -> Iterator[tuple[Platform, dict[str, str]]]:
    platform = Platform(store)
    org = platform.organisation("A")
    _, qm = platform.user("qm", "quality-manager", org)
    client = platform.client
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=qm).json()["id"]
    client.post("/api/v1/sites", json={"name": "Site", "latitude": "31.2"}, headers=qm)
    lab = client.post("/api/v1/laboratories", json={"name": "Lab"}, headers=qm).json()["id"]
    ws = client.post(
        "/api/v1/weight-sets", json={"name": "Set", "weight_class": "F1", "laboratory_id": lab}, headers=qm
    )
    client.post(f"/api/v1/weight-sets/{ws.json()['id']}/weights", json={"identifier": "1", "nominal": 1}, headers=qm)
    client.post("/api/v1/procedures", json={"name": "P", "kind": "verification"}, headers=qm)
    client.post("/api/v1/runs", json={"instrument_id": instrument, "kind": "verification"}, headers=qm)
    client.post(
        "/api/v1/certificates", json={"number": "C1", "kind": "calibration", "instrument_id": instrument}, headers=qm
    )
    yield platform, qm
    platform.close()


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_openapi_conformance(fuzzed: tuple[Platform, dict[str, str]]) -> None:
    platform, headers = fuzzed
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", platform.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    # revoking one's own token would end the session of the fuzzer itself
    operations = [
        op for op in operations if (op.method.upper(), op.path) != ("DELETE", "/api/v1/auth/tokens/{token_id}")
    ]
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def exercise(case: Any) -> None:
            statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        exercise()
    assert len(statuses) > 150
    assert sum(code < 300 for code in statuses) >= 40, "too few cases reached the handlers"
    assert statuses.count(401) < len(statuses) // 10, "the fuzzer lost its credentials"


def test_openapi_document_lists_the_resources(fuzzed: tuple[Platform, dict[str, str]]) -> None:
    document = fuzzed[0].client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/instruments",
        "/api/v1/instruments/{instrument_id}",
        "/api/v1/runs",
        "/api/v1/certificates/{certificate_id}/approve",
        "/api/v1/audit",
        "/api/v1/weight-sets/{set_id}/traceability",
    ):
        assert path in paths, path
    assert "401" in paths["/api/v1/instruments"]["get"]["responses"]
