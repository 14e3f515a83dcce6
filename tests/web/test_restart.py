"""A guided run survives a crash of the server: ``hengqi serve --demo`` killed (SIGKILL) mid-run and started again.

The second start serves the demo's simulators afresh (new ports, nothing on their receptors); the run resumes at
the step it waited at, the load the run says lies on the receptor is put back, and it ends in one recorded run.
Both starts have the demo's simulators settling in 0.05 s (the run's stable readings need not wait as a person
would; the restart is what is tested).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from hengqi.server.db.engine import Database
from hengqi.server.services.guided_runs import DbRunStore

from .conftest import WebUser, start_server

pytestmark = pytest.mark.slow


def test_a_run_resumes_after_the_server_is_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir, settling_s=0.05)
    try:
        with httpx.Client(base_url=first.base, timeout=60) as client:
            technician = WebUser.sign_in_with(client, "demo-technician", first.passwords["technician"])
            run_url = technician.start("SIM-BAL-0001")
            technician.advance(
                run_url, 5
            )  # conditions left empty; the repeatability load is on; its first reading is next
            waiting = technician.pending(run_url)
            assert waiting is not None
            assert waiting[1] == "read"
    finally:
        first.stop(kill=True)
    second = start_server(data_dir, first.passwords, settling_s=0.05)
    try:
        log = second.log.read_text()
        # the demo is not seeded twice: the second start prints the kept credentials of the first
        assert f"password {first.passwords['technician']}" in log
        assert "demo passwords kept in" in log
        with httpx.Client(base_url=second.base, timeout=60) as client:
            technician = WebUser.sign_in_with(client, "demo-technician", first.passwords["technician"])
            resumed = technician.pending(run_url)
            assert resumed is not None
            assert resumed[0] == waiting[0]
            answer = technician.post(f"{run_url}/step", step_id=resumed[0], action="read")
            assert answer.status_code == 303
            database = Database(f"sqlite:///{data_dir / 'hengqi.sqlite3'}")
            try:
                reading = DbRunStore(database).load(run_url.rsplit("/", 1)[-1]).results[-1]
            finally:
                database.dispose()
            assert reading.source == "instrument"
            assert abs(Decimal(str(reading.answer)) - Decimal("0.11")) < Decimal("0.00001")  # the load was put back
            technician.advance(run_url)
            results = client.get(f"{run_url}/results")
            assert results.status_code == 200
            assert 'data-testid="certificate-status">draft' in results.text
            runs = client.get("/web/certificates")
            assert runs.text.count("DRAFT-") == 1  # one draft; its number is drawn when it is issued
            assert "HQ-CAL-" not in runs.text
    finally:
        second.stop()
