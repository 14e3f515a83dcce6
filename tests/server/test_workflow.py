"""Runs are flagged, not silently accepted; certificates follow the four-eyes rule; files are content-addressed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from tests.server.conftest import INSTRUMENT, Platform


@pytest.fixture
def lab(platform: Platform) -> dict[str, Any]:
    org = platform.organisation("A")
    heads = {
        "tech": platform.user("tech", "technician", org)[1],
        "tech2": platform.user("tech2", "technician", org)[1],
        "rev": platform.user("rev", "reviewer", org)[1],
        "qm": platform.user("qm", "quality-manager", org)[1],
    }
    client = platform.client
    instrument = client.post("/api/v1/instruments", json=INSTRUMENT, headers=heads["tech"]).json()["id"]
    nmi = client.post("/api/v1/laboratories", json={"name": "NMI", "accreditation": "CIPM MRA"}, headers=heads["tech"])
    cal = client.post(
        "/api/v1/laboratories",
        json={"name": "Mass lab", "accreditation": "ISO/IEC 17025", "traceable_to_id": nmi.json()["id"]},
        headers=heads["tech"],
    )
    today = date.today()
    weight_set = client.post(
        "/api/v1/weight-sets",
        json={
            "name": "F1 set",
            "weight_class": "F1",
            "laboratory_id": cal.json()["id"],
            "certificate_number": "CAL-7",
            "due_date": (today + timedelta(days=100)).isoformat(),
        },
        headers=heads["tech"],
    ).json()["id"]
    good = client.post(
        f"/api/v1/weight-sets/{weight_set}/weights",
        json={"identifier": "10 kg", "nominal": "10 kg", "correction": "-0.2 mg", "u": "1.6 mg", "k": 2},
        headers=heads["tech"],
    )
    assert good.status_code == 201, good.text
    stale = client.post(
        f"/api/v1/weight-sets/{weight_set}/weights",
        json={"identifier": "5 kg", "nominal": 5, "u": "0.8 mg", "due_date": (today - timedelta(days=1)).isoformat()},
        headers=heads["tech"],
    )
    return {
        "heads": heads,
        "instrument": instrument,
        "set": weight_set,
        "good": good.json()["id"],
        "stale": stale.json()["id"],
        "labs": (cal.json()["id"], nmi.json()["id"]),
        "platform": platform,
    }


def test_weight_values_are_exact(lab: dict[str, Any]) -> None:
    weight = lab["platform"].client.get(f"/api/v1/weights/{lab['good']}", headers=lab["heads"]["tech"]).json()
    assert (weight["nominal_kg"], weight["correction_kg"], weight["u_kg"], weight["k"]) == (
        "10",
        "-0.0000002",
        "0.0000016",
        "2",
    )
    assert weight["certificate_number"] == "CAL-7"


def test_traceability_chain_and_overdue_list(lab: dict[str, Any]) -> None:
    client, tech = lab["platform"].client, lab["heads"]["tech"]
    chain = client.get(f"/api/v1/weight-sets/{lab['set']}/traceability", headers=tech).json()
    assert [link["id"] for link in chain] == list(lab["labs"])
    loop = client.patch(
        f"/api/v1/laboratories/{lab['labs'][1]}", json={"traceable_to_id": lab["labs"][0]}, headers=tech
    )
    assert loop.status_code == 422
    overdue = client.get("/api/v1/overdue", headers=tech).json()
    assert [(item["entity"], item["id"]) for item in overdue] == [("weight", lab["stale"])]
    later = (date.today() + timedelta(days=200)).isoformat()
    ahead = client.get(f"/api/v1/overdue?on={later}", headers=tech).json()
    assert ("weight-set", lab["set"]) in {(item["entity"], item["id"]) for item in ahead}


def test_run_with_a_weight_out_of_calibration_is_flagged(lab: dict[str, Any]) -> None:
    client, tech = lab["platform"].client, lab["heads"]["tech"]
    body = {"instrument_id": lab["instrument"], "kind": "calibration", "weight_ids": [lab["good"]]}
    clean = client.post("/api/v1/runs", json=body, headers=tech)
    assert clean.status_code == 201
    assert clean.json()["flags"] == []
    flagged = client.post("/api/v1/runs", json={**body, "weight_ids": [lab["good"], lab["stale"]]}, headers=tech)
    assert flagged.status_code == 201
    codes = [flag["code"] for flag in flagged.json()["flags"]]
    assert codes == ["weight_out_of_calibration"]
    assert flagged.json()["flags"][0]["details"]["weight_id"] == lab["stale"]
    stored = client.get(f"/api/v1/runs/{flagged.json()['id']}", headers=tech).json()
    assert stored["flags"] == flagged.json()["flags"]
    # a run dated before the due date is not flagged
    earlier = (date.today() - timedelta(days=5)).isoformat()
    dated = client.post(
        "/api/v1/runs", json={**body, "weight_ids": [lab["stale"]], "performed_on": earlier}, headers=tech
    )
    assert dated.json()["flags"] == []


def test_verification_run_outside_specification_is_flagged_with_mpe_check(lab: dict[str, Any]) -> None:
    client, tech = lab["platform"].client, lab["heads"]["tech"]
    # class III, e = 5 g: MPE 2.5 g up to 500 e = 2.5 kg, 5 g up to 2000 e = 10 kg (OIML R 76-1:2006, Table 6)
    raw = {
        "stage": "initial",
        "loads": [
            {"load": "2 kg", "indication": "2.002 kg"},
            {"load": "10 kg", "indication": "10.006 kg"},
            {"load": "20 kg"},
        ],
    }
    run = client.post(
        "/api/v1/runs", json={"instrument_id": lab["instrument"], "kind": "verification", "raw_data": raw}, headers=tech
    ).json()
    codes = sorted(flag["code"] for flag in run["flags"])
    assert codes == ["load_outside_specification", "mpe_exceeded"]
    check = run["results"]["server_check"]
    assert [(row["mpe_kg"], row["within"]) for row in check["loads"]] == [("0.0025", True), ("0.005", False)]
    assert check["pass"] is False
    bad = client.post(
        "/api/v1/runs",
        json={"instrument_id": lab["instrument"], "kind": "verification", "raw_data": {"loads": [{"load": "-1 kg"}]}},
        headers=tech,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["path"] == "raw_data.loads[0].load"


def test_instrument_out_of_service_is_flagged(lab: dict[str, Any]) -> None:
    client, tech = lab["platform"].client, lab["heads"]["tech"]
    client.patch(f"/api/v1/instruments/{lab['instrument']}", json={"status": "out-of-service"}, headers=tech)
    run = client.post("/api/v1/runs", json={"instrument_id": lab["instrument"], "kind": "routine-test"}, headers=tech)
    assert [flag["code"] for flag in run.json()["flags"]] == ["instrument_not_in_service"]


def _draft(lab: dict[str, Any], author: str, run_by: str | None = None) -> int:
    client, heads = lab["platform"].client, lab["heads"]
    run_id = None
    if run_by is not None:
        run = client.post(
            "/api/v1/runs", json={"instrument_id": lab["instrument"], "kind": "calibration"}, headers=heads[run_by]
        )
        run_id = run.json()["id"]
    body = {
        "number": f"C-{author}-{run_by}",
        "kind": "calibration",
        "instrument_id": lab["instrument"],
        "run_id": run_id,
    }
    made = client.post("/api/v1/certificates", json=body, headers=heads[author])
    assert made.status_code == 201, made.text
    key = made.json()["id"]
    pdf = b"%PDF-1.7 certificate " + author.encode()
    upload = client.put(
        f"/api/v1/certificates/{key}/file", files={"file": ("c.pdf", pdf, "application/pdf")}, headers=heads[author]
    )
    assert upload.status_code == 200
    assert upload.json()["file_sha256"] == hashlib.sha256(pdf).hexdigest()
    return key


def test_four_eyes_rule(lab: dict[str, Any]) -> None:
    client, heads = lab["platform"].client, lab["heads"]
    own = _draft(lab, "rev")
    refused = client.post(f"/api/v1/certificates/{own}/approve", headers=heads["rev"])
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["rule"] == "four_eyes"
    # drafted by tech2, but the run was performed by the reviewer: still refused
    theirs = _draft(lab, "tech2", run_by="rev")
    assert client.post(f"/api/v1/certificates/{theirs}/approve", headers=heads["rev"]).status_code == 403
    assert client.post(f"/api/v1/certificates/{theirs}/approve", headers=heads["tech"]).status_code == 403
    key = _draft(lab, "tech", run_by="tech")
    assert client.post(f"/api/v1/certificates/{key}/issue", headers=heads["rev"]).status_code == 409  # not approved
    approved = client.post(f"/api/v1/certificates/{key}/approve", headers=heads["rev"])
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    issued = client.post(f"/api/v1/certificates/{key}/issue", headers=heads["qm"])
    assert issued.json()["status"] == "issued"
    assert client.patch(f"/api/v1/certificates/{key}", json={"number": "X"}, headers=heads["tech"]).status_code == 409
    assert client.delete(f"/api/v1/certificates/{key}", headers=heads["tech"]).status_code == 409
    download = client.get(f"/api/v1/certificates/{key}/file", headers=heads["tech"])
    assert download.content == b"%PDF-1.7 certificate tech"
    assert download.headers["digest"] == f"sha-256={hashlib.sha256(download.content).hexdigest()}"


def test_supersede_and_withdraw(lab: dict[str, Any]) -> None:
    client, heads = lab["platform"].client, lab["heads"]
    first = _draft(lab, "tech")
    client.post(f"/api/v1/certificates/{first}/approve", headers=heads["rev"])
    client.post(f"/api/v1/certificates/{first}/issue", headers=heads["rev"])
    body = {"number": "C-2", "kind": "calibration", "instrument_id": lab["instrument"], "supersedes_id": first}
    second = client.post("/api/v1/certificates", json=body, headers=heads["tech"]).json()["id"]
    client.put(
        f"/api/v1/certificates/{second}/file",
        files={"file": ("c.xml", b"<dcc/>", "application/xml")},
        headers=heads["tech"],
    )
    client.post(f"/api/v1/certificates/{second}/approve", headers=heads["rev"])
    client.post(f"/api/v1/certificates/{second}/issue", headers=heads["rev"])
    assert client.get(f"/api/v1/certificates/{first}", headers=heads["tech"]).json()["status"] == "superseded"
    assert (
        client.post(f"/api/v1/certificates/{second}/withdraw", json={"reason": "x"}, headers=heads["rev"]).status_code
        == 403
    )
    withdrawn = client.post(
        f"/api/v1/certificates/{second}/withdraw", json={"reason": "wrong load table"}, headers=heads["qm"]
    )
    assert withdrawn.json()["status"] == "withdrawn"
    actions = [
        e["action"]
        for e in client.get(f"/api/v1/audit?entity=certificates&entity_id={second}", headers=heads["qm"]).json()[
            "items"
        ]
    ]
    assert actions == ["create", "update", "approve", "issue", "withdraw"]


def test_altered_file_is_detected(lab: dict[str, Any]) -> None:
    platform, heads = lab["platform"], lab["heads"]
    key = _draft(lab, "tech")
    digest = platform.client.get(f"/api/v1/certificates/{key}", headers=heads["tech"]).json()["file_sha256"]
    path = platform.app.state.hengqi.files.path(digest)
    path.write_bytes(b"tampered")
    answer = platform.client.get(f"/api/v1/certificates/{key}/file", headers=heads["tech"])
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "file_corrupt"
