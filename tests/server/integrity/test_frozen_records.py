"""Records behind a certificate cannot be changed; corrections are revisions; whoever changed a run's data may
not approve the certificate built on it.  Each attack of issue 10 (item 7) against a real ``hengqi serve``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.server.integrity.conftest import Seeded

from hengqi.server.db.models import AuditEntry

RESULTS = {"points": [{"load_kg": "10", "error_kg": "0.002", "U_kg": "0.001", "k": 2}]}


@pytest.fixture
def lab(live_lab: Seeded) -> Seeded:
    return live_lab


def _run(lab: Seeded, who: str, **extra: Any) -> dict[str, Any]:
    body = {"instrument_id": lab.instrument, "kind": "calibration", "results": RESULTS, **extra}
    with lab.client(who) as client:
        made = client.post("/runs", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _draft(lab: Seeded, who: str, run_id: int, number: str) -> int:
    with lab.client(who) as client:
        body = {"number": number, "kind": "calibration", "instrument_id": lab.instrument, "run_id": run_id}
        made = client.post("/certificates", json=body)
        assert made.status_code == 201, made.text
        key = int(made.json()["id"])
        upload = client.put(f"/certificates/{key}/file", files={"file": ("c.pdf", b"%PDF-1.7 x", "application/pdf")})
        assert upload.status_code == 200, upload.text
    return key


def _issued(lab: Seeded, run_id: int, number: str) -> int:
    key = _draft(lab, "tech", run_id, number)
    with lab.client("rev") as rev, lab.client("qm") as qm:
        assert rev.post(f"/certificates/{key}/approve").status_code == 200
        assert qm.post(f"/certificates/{key}/issue").json()["status"] == "issued"
    return key


def test_run_under_an_issued_certificate_cannot_be_reopened_or_changed(lab: Seeded) -> None:
    run = _run(lab, "tech", status="completed")
    _issued(lab, run["id"], "C-1")
    with lab.client("tech") as tech, lab.client("qm") as qm:
        # the attack of the issue: status back to open, then new results -- both answered 200 before
        reopened = tech.patch(f"/runs/{run['id']}", json={"status": "open"})
        assert reopened.status_code == 409, reopened.text
        error = reopened.json()["error"]
        assert error["code"] == "run_frozen"
        assert "certificate C-1 (issued)" in error["message"]
        assert "revisions" in error["message"]
        forged = {"points": [{"load_kg": "10", "error_kg": "0", "U_kg": "0.0001", "k": 2}]}
        assert tech.patch(f"/runs/{run['id']}", json={"results": forged}).status_code == 409
        assert qm.patch(f"/runs/{run['id']}", json={"raw_data": {"notes": "x"}}).status_code == 409
        assert tech.patch(f"/runs/{run['id']}", json={"performed_on": "2020-01-01"}).status_code == 409
        stored = tech.get(f"/runs/{run['id']}").json()
    assert (stored["status"], stored["results"], stored["row_version"]) == ("completed", run["results"], 1)


def test_a_draft_freezes_its_run_until_it_is_discarded(lab: Seeded) -> None:
    run = _run(lab, "tech")
    key = _draft(lab, "tech", run["id"], "C-2")
    with lab.client("tech") as tech:
        assert tech.patch(f"/runs/{run['id']}", json={"status": "completed"}).status_code == 409
        assert tech.delete(f"/certificates/{key}").status_code == 204
        assert tech.patch(f"/runs/{run['id']}", json={"status": "completed"}).status_code == 200


def test_a_correction_is_a_new_revision_and_the_original_is_kept(lab: Seeded) -> None:
    run = _run(lab, "tech", status="completed")
    certificate = _issued(lab, run["id"], "C-3")
    corrected = {"points": [{"load_kg": "10", "error_kg": "0.0015", "U_kg": "0.001", "k": 2}]}
    with lab.client("tech") as tech:
        no_reason = tech.post(f"/runs/{run['id']}/revisions", json={"results": corrected})
        assert no_reason.status_code == 422
        assert "reason" in no_reason.json()["error"]["message"]
        bad = tech.post(
            f"/runs/{run['id']}/revisions", json={"reason": "typo", "results": {"points": [{"load_kg": "x"}]}}
        )
        assert bad.status_code == 422
        revision = tech.post(
            f"/runs/{run['id']}/revisions", json={"reason": "transcription error at 10 kg", "results": corrected}
        )
        assert revision.status_code == 201, revision.text
        new = revision.json()
        assert (new["supersedes_id"], new["revision_reason"]) == (run["id"], "transcription error at 10 kg")
        assert new["results"]["points"] == corrected["points"]
        assert (new["kind"], new["status"], new["performed_by_id"]) == ("calibration", "completed", lab.ids["tech"])
        original = tech.get(f"/runs/{run['id']}").json()
        assert (original["results"], original["row_version"]) == (run["results"], 1)
        again = tech.post(f"/runs/{run['id']}/revisions", json={"reason": "second try", "results": corrected})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "run_already_revised"
        listed = tech.get("/runs", params={"supersedes_id": run["id"]}).json()
        assert [item["id"] for item in listed["items"]] == [new["id"]]
        # the issued certificate keeps drawing on the original; a new certificate draws on the correction only
        stale = tech.post(
            "/certificates",
            json={"number": "C-3b", "kind": "calibration", "instrument_id": lab.instrument, "run_id": run["id"]},
        )
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "run_superseded"
        assert tech.get(f"/certificates/{certificate}").json()["run_id"] == run["id"]
    with lab.database.read_session() as session:
        trail = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "runs", AuditEntry.entity_id == str(run["id"]))
            )
        )
    assert [entry.action for entry in trail] == ["create", "revise"]
    assert f'"superseded_by_id":{new["id"]}' in trail[1].new_values


def test_whoever_changed_the_run_may_not_approve_its_certificate(lab: Seeded) -> None:
    """The attack of the issue: a reviewer edits a technician's run, then approves the certificate built on it."""
    run = _run(lab, "tech")
    with lab.client("rev") as rev:
        edited = rev.patch(f"/runs/{run['id']}", json={"results": {"points": [{**RESULTS["points"][0], "k": 2.1}]}})
        assert edited.status_code == 200, edited.text
    key = _draft(lab, "tech", run["id"], "C-4")
    with lab.client("rev") as rev, lab.client("rev2") as rev2, lab.client("tech") as tech:
        refused = rev.post(f"/certificates/{key}/approve")
        assert refused.status_code == 403
        assert refused.json()["error"]["details"]["rule"] == "separation_of_duties"
        assert "changed the data of run" in refused.json()["error"]["message"]
        assert tech.post(f"/certificates/{key}/approve").status_code == 403  # role, and technician of the run
        assert rev.get(f"/certificates/{key}").json()["status"] == "draft"
        approved = rev2.post(f"/certificates/{key}/approve")
        assert approved.status_code == 200, approved.text
        assert rev.post(f"/certificates/{key}/issue").status_code == 403  # nor may they issue it
    with httpx.Client(base_url=f"{lab.server.base}/api/v1", headers=lab.other_heads, timeout=30) as outsider:
        assert outsider.post(f"/certificates/{key}/issue").status_code == 404
        assert outsider.patch(f"/runs/{run['id']}", json={"status": "open"}).status_code == 404
        assert outsider.post(f"/runs/{run['id']}/revisions", json={"reason": "x"}).status_code == 404


def test_whoever_corrected_the_run_may_not_approve_its_certificate(lab: Seeded) -> None:
    run = _run(lab, "tech", status="completed")
    with lab.client("rev") as rev:
        revision = rev.post(f"/runs/{run['id']}/revisions", json={"reason": "wrong date", "performed_on": "2026-01-05"})
        assert revision.status_code == 201, revision.text
    key = _draft(lab, "tech2", revision.json()["id"], "C-5")
    with lab.client("rev") as rev, lab.client("qm") as qm, lab.client("admin") as admin:
        assert rev.post(f"/certificates/{key}/approve").json()["error"]["details"]["rule"] == "separation_of_duties"
        assert admin.post(f"/certificates/{key}/approve").status_code == 403  # wrong role
        assert qm.post(f"/certificates/{key}/approve").status_code == 200
