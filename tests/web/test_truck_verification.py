"""The demo truck scale verified through the web run pages (no browser): its 13.1 t weighbridge set, loads above it
by substitution in every test (OIML R 76-1:2006 3.7.3 as cited, issue 11), a passed verification and its draft
certificate.  The simulator's substitute material is exactly the nominal load, so each substitution's correction
is zero within the change-point resolution (0.1 d = 2 kg): the change-point weights go off with the standard
weights (:class:`hengqi.procedures.steps.Substitute`), not carried under the substitute."""

from __future__ import annotations

import re
from decimal import Decimal

from hengqi.server.db.models import Certificate, Run

from .conftest import Demo
from .test_guided_runs import _drive


def test_the_truck_scale_is_verified_by_substitution(demo: Demo) -> None:
    technician = demo.user("technician")
    instrument = technician.instrument_id("SIM-TRK-0001")
    page = technician.client.get(f"/web/instruments/{instrument}").text
    offered = re.search(r'<option value="(\d+)">M1 test weights 10 kg - 1 t[^<]*substitution loads', page)
    assert offered is not None
    answer = technician.post(
        f"/web/instruments/{instrument}/runs",
        weight_set_id=offered.group(1),
        mode="instrument",
        kind="verification",
        stage="initial",
        rules="oiml-r76",
    )
    assert answer.status_code == 303, answer.text
    run_url = str(answer.headers["location"])
    steps, decided = _drive(technician, run_url, "stop")
    assert decided == 0  # nothing failed
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
        certificate = session.query(Certificate).one()
        assert (certificate.kind, certificate.status) == ("verification", "draft")
    assert run.results["passed"] is True, run.results["summary"]
    tests = run.raw_data["record"]["tests"]
    series = {s["load"]: s for s in tests["repeatability"]["series"]}
    assert series["60 t"]["substitute"] == "52.4 t"  # 4 x 13.1 t of substitute, 7.6 t of weights on top
    assert series["30 t"]["substitute"] == "26.2 t"
    assert tests["eccentricity"]["substitute"] == "13.1 t"  # (Max)/3 = 20 t on 4 supports
    assert [p.get("substitute") for p in tests["discrimination"]["points"]] == [None, "26.2 t", "52.4 t"]
    corrections = [
        Decimal(p["substitute_correction"].split()[0]) for p in tests["weighing"]["points"] if "substitute" in p
    ]
    assert corrections
    assert all(abs(c) <= 4 for c in corrections), corrections  # 4 substitutions, each within 0.1 d
    assert 100 < steps < 200
