"""A pytest plugin that verifies the audit trail after every test using the ``platform`` fixture.

It finds code that changes a record row outside :func:`hengqi.server.audit.record` (or after recording it), which
``hengqi audit verify`` would then report as edited outside the trail.  Run it over the server tests after a change
to the services or the models::

    .venv/bin/pytest -p tests.server.audit_probe tests/server -k "not postgresql"

Tests that tamper with the store on purpose are left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hengqi.server.admin import verify_audit

#: Test modules that tamper with the trail or the tables on purpose.
TAMPERING = ("test_audit.py", "test_audit_anchor.py", "test_backup_integrity.py")


@pytest.fixture(autouse=True)
def _audit_trail_verifies_afterwards(request: pytest.FixtureRequest) -> Iterator[None]:
    platform = None
    if "platform" in request.fixturenames and request.path.name not in TAMPERING:
        platform = request.getfixturevalue("platform")
    yield
    if platform is not None:
        verify_audit(platform.database)  # raises AuditChainError naming the row
