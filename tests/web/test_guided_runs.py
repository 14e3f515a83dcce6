"""Guided runs in the web interface, in process: a full calibration to a signed certificate, and bad input.

Every test drives the real pages (forms with CSRF tokens, cookies, redirects) of an app whose demo instruments
are simulators on loopback TCP; what is recorded is read back from the database.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from hengqi.certificates.schema import validate_dcc
from hengqi.certificates.signing import verify_file
from hengqi.instruments.simulator import ControlClient
from hengqi.server.db.models import Certificate, Instrument, Run
from hengqi.server.services.due import add_months
from hengqi.server.services.guided_runs import DbRunStore

from .conftest import Demo, WebUser, schema_dir

BALANCE = "SIM-BAL-0001"


def _run_id(url: str) -> str:
    return url.rstrip("/").split("/")[-1]


def _recorded(demo: Demo, run_url: str) -> int:
    return len(DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url)).results)


def test_a_full_calibration_ends_in_an_approved_signed_certificate(demo: Demo, tmp_path: Path) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    last = technician.advance(run_url)
    assert last.headers["location"].endswith("/results")
    results = technician.client.get(f"{run_url}/results")
    assert results.status_code == 200
    assert 'data-testid="error-curve"' in results.text
    assert 'data-testid="eccentricity"' in results.text
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
        certificate = session.query(Certificate).one()
    assert run.status == "completed"
    assert run.kind == "calibration"
    loads = [Decimal(p["load_kg"]) for p in run.results["points"]]
    assert loads == sorted(loads)
    assert loads[-1] == Decimal("0.22")
    assert len(run.raw_data["record"]["repeatability"][0]["readings"]) == 5
    assert certificate.status == "draft"
    assert certificate.run_id == run.id
    # the technician may not approve their own work (four-eyes rule of the certificate service)
    assert certificate.number.startswith("DRAFT-")  # no number of the sequence drawn for a draft
    refused = technician.post(f"/web/certificates/{certificate.id}/approve", confirm="yes")
    assert "notice=denied" in refused.headers["location"]
    reviewer = demo.user("reviewer")
    unconfirmed = reviewer.post(f"/web/certificates/{certificate.id}/approve")
    assert unconfirmed.headers["location"] == f"/web/certificates/{certificate.id}/approve"  # shown what is signed
    approved = reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes")
    assert "notice=approved" in approved.headers["location"]
    with demo.app.state.hengqi.database.read_session() as session:
        issued = session.get(Certificate, certificate.id)
        assert issued is not None
        assert issued.status == "issued"
        # the issued calibration moves the balance's next calibration date (default interval 12 months)
        balance = session.get(Instrument, issued.instrument_id)
        assert balance is not None
        assert balance.calibration_due == add_months(run.performed_on, 12)
        assert re.fullmatch(r"HQ-CAL-\d{4}-00001", issued.number)  # the first of the organisation's sequence
    dcc = reviewer.client.get(f"/web/certificates/{certificate.id}/dcc")
    pdf = reviewer.client.get(f"/web/certificates/{certificate.id}/pdf")
    assert pdf.content.startswith(b"%PDF")
    (tmp_path / "c.xml").write_bytes(dcc.content)
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    report = validate_dcc(tmp_path / "c.xml", schema_dir())
    assert report.valid, report.issues
    trust = demo.data_dir / "signing" / "ca-cert.pem"
    assert verify_file(tmp_path / "c.xml", trust=trust).ok
    assert verify_file(tmp_path / "c.pdf", trust=trust).ok
    assert b"Demo reviewer" in dcc.content  # the approver is the main signer


def test_a_double_submission_is_recorded_once(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 4)  # prompt, conditions, remove, zero: the next step places the repeatability load
    pending = technician.pending(run_url)
    assert pending is not None
    step_id, action, _ = pending
    before = _recorded(demo, run_url)
    first = technician.post(f"{run_url}/step", step_id=step_id, action=action)
    second = technician.post(f"{run_url}/step", step_id=step_id, action=action)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"].endswith("?notice=already")
    assert _recorded(demo, run_url) == before + 1


def test_two_windows_of_one_technician_never_record_a_step_twice(demo: Demo) -> None:
    first = demo.user("technician")
    run_url = first.start(BALANCE)
    first.advance(run_url, 3)
    second = demo.user("technician")  # the same technician in a second window
    seen_by_second = second.pending(run_url)
    assert seen_by_second is not None
    first.advance(run_url, 1)  # the first window answers it
    before = _recorded(demo, run_url)
    late = second.post(f"{run_url}/step", step_id=seen_by_second[0], action=seen_by_second[1])
    assert late.headers["location"].endswith("?notice=already")
    stale = second.post(f"{run_url}/step", step_id="999:0123456789", action="confirm")
    assert stale.headers["location"].endswith("?notice=stale")
    page = second.client.get(stale.headers["location"])
    assert "nothing was recorded twice" in page.text
    assert _recorded(demo, run_url) == before


def test_impossible_manual_values_are_refused_with_a_reason(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE, mode="manual")
    technician.advance(run_url, 5)  # prompt, conditions, remove, zero (an instruction), place: now a reading to type in
    pending = technician.pending(run_url)
    assert pending is not None
    assert pending[1] == "enter"
    before = _recorded(demo, run_url)
    for value, reason in (
        ("abc", "abc"),
        ("100 parsecs", "parsecs"),
        ("1e999", "1e999"),
        ("5 t", "can show"),
        ("-5 kg", "can show"),
        ("1,234", "ambiguous"),
        ("", ""),
    ):
        answer = technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value=value)
        assert answer.status_code == 303, value  # post/redirect/get: the back button never resubmits
        assert answer.headers["location"].endswith("?notice=invalid")
        page = technician.client.get(answer.headers["location"])
        assert 'data-notice="invalid"' in page.text
        assert reason in page.text, (value, re.findall(r"<small[^>]*>([^<]*)", page.text))
    assert _recorded(demo, run_url) == before
    good = technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value="110,0002")  # g: d < 1 g
    assert good.status_code == 303
    state = DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url))
    assert state.results[-1].answer == "0.1100002"
    assert state.results[-1].source == "operator"


def test_an_unplugged_scale_records_nothing_and_the_run_goes_on(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 5)
    pending = technician.pending(run_url)
    assert pending is not None
    assert pending[1] == "read"
    simulator = demo.simulator(BALANCE)
    control = ControlClient(simulator.control_url)
    assert control.send("FAULT SILENCE ON").startswith("OK")
    before = _recorded(demo, run_url)
    answer = technician.post(f"{run_url}/step", step_id=pending[0], action="read")
    assert answer.status_code == 303
    page = technician.client.get(answer.headers["location"])
    assert 'data-notice="instrument"' in page.text
    assert "nothing was recorded" in page.text
    assert _recorded(demo, run_url) == before
    assert control.send("FAULT CLEAR").startswith("OK")
    again = technician.post(f"{run_url}/step", step_id=pending[0], action="read")
    assert again.status_code == 303
    state = DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url))
    assert len(state.results) == before + 1
    assert state.results[-1].source == "instrument"
    # the cable pulled out and put back: the connection is made again, nothing recorded twice
    technician.advance(run_url, 2)  # remove, place: the next reading is due
    waiting = technician.pending(run_url)
    assert waiting is not None
    assert waiting[1] == "read"
    assert control.send("FAULT DISCONNECT").startswith("OK")
    locations = []
    for _ in range(2):
        locations.append(technician.post(f"{run_url}/step", step_id=waiting[0], action="read").headers["location"])
        if "notice=" not in locations[-1]:
            break
    assert "notice=" not in locations[-1], locations
    assert len(DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url)).results) == before + 4
    assert Decimal(str(state.results[-1].answer)) - Decimal("0.11") < Decimal("0.00001")


def test_a_run_resumes_after_a_server_restart(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 7)
    waiting = technician.pending(run_url)
    assert waiting is not None
    demo.restart()
    again = demo.user("technician")
    resumed = again.pending(run_url)
    assert resumed is not None
    assert resumed[0] == waiting[0]
    again.advance(run_url)
    assert again.client.get(f"{run_url}/results").status_code == 200
    with demo.app.state.hengqi.database.read_session() as session:
        assert session.query(Run).count() == 1


def test_forms_need_the_session_csrf_token(demo: Demo) -> None:
    technician = demo.user("technician")
    instrument = technician.instrument_id(BALANCE)
    answer = technician.client.post(
        f"/web/instruments/{instrument}/runs",
        data={"csrf_token": "forged", "weight_set_id": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_pages_need_a_session_and_wrong_passwords_are_refused(demo: Demo) -> None:
    anonymous = WebUser(demo.user("technician").client.__class__(demo.app))
    first = anonymous.client.get("/web/instruments", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].startswith("/web/login?next=/web/instruments")
    page = anonymous.client.get("/web/login")
    import re

    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    wrong = anonymous.client.post(
        "/web/login", data={"username": "demo-technician", "password": "nope", "login_csrf": token.group(1)}
    )
    assert wrong.status_code == 401
    assert "Wrong user name or password" in wrong.text


def test_the_interface_speaks_chinese_when_asked(demo: Demo) -> None:
    technician = demo.user("technician")
    english = technician.client.get("/web/")
    assert "Runs in progress" in english.text
    chinese = technician.client.get("/web/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "进行中的测量" in chinese.text
    assert 'lang="zh-CN"' in chinese.text
    switched = technician.client.get("/web/lang/en?next=/web/instruments", follow_redirects=False)
    assert switched.headers["location"] == "/web/instruments"
    escaped = technician.client.get("/web/lang/zh?next=https://evil.example/", follow_redirects=False)
    assert escaped.headers["location"] == "/web/"


def test_the_instrument_list_filters_and_the_page_shows_the_live_reading(demo: Demo) -> None:
    technician = demo.user("technician")
    listing = technician.client.get("/web/instruments?class=I")
    assert BALANCE in listing.text
    assert "SIM-TRK-0001" not in listing.text
    instrument = technician.instrument_id(BALANCE)
    demo.simulator(BALANCE).place("100 g")
    import time

    time.sleep(0.2)
    reading = technician.client.get(f"/web/instruments/{instrument}/reading").json()
    assert reading["ok"]
    assert reading["stable"]
    assert reading["text"].startswith("100.0")
    missing = technician.client.get("/web/instruments/999999")
    assert missing.status_code == 404
    assert "not found" in missing.text


def test_switching_to_manual_entry_and_cancelling_are_audited(demo: Demo) -> None:
    from sqlalchemy import select

    from hengqi.server.admin import verify_audit
    from hengqi.server.db.models import AuditEntry

    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 5)
    assert technician.post(f"{run_url}/mode", mode="manual").status_code == 303
    pending = technician.pending(run_url)
    assert pending is not None
    assert pending[1] == "enter"  # the reading is now typed in
    assert technician.post(f"{run_url}/mode", mode="sideways").headers["location"].endswith("?notice=invalid")
    assert technician.post(f"{run_url}/cancel").status_code == 303
    remaining = technician.pending(run_url)
    assert remaining is not None
    assert "Remove all loads" in remaining[2]  # the shutdown step still runs
    technician.advance(run_url)
    assert "The run was cancelled" in technician.client.get(run_url).text
    with demo.app.state.hengqi.database.read_session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "guided_runs")))
        assert session.query(Run).count() == 0  # a cancelled calibration is not recorded as a run
    # one entry per recorded step (5 before the switch, the conditions step included; the shutdown's "remove all
    # loads" after the cancellation)
    assert actions == ["start", *["record_step"] * 5, "update", "cancel", "record_step"]
    assert verify_audit(demo.app.state.hengqi.database).entries > 3


def test_a_weight_set_that_cannot_make_up_the_loads_is_refused_before_the_run_starts(demo: Demo) -> None:
    import re

    technician = demo.user("technician")
    instrument = technician.instrument_id(BALANCE)
    page = technician.client.get(f"/web/instruments/{instrument}")
    kilograms = re.search(r'<option value="(\d+)">F1 set', page.text)  # 0.5 kg ... 5 kg weights for a 220 g balance
    assert kilograms is not None
    answer = technician.post(f"/web/instruments/{instrument}/runs", weight_set_id=kilograms.group(1), mode="instrument")
    shown = technician.client.get(answer.headers["location"])
    message = re.search(r'data-testid="start-error">([^<]*)<', shown.text)
    assert message is not None
    assert "weight_set_id: no weight of" in message.group(1)
    assert "is at most Max = 220 g" in message.group(1)
    with demo.app.state.hengqi.database.read_session() as session:
        from hengqi.server.db.guided import GuidedRun

        assert session.query(GuidedRun).count() == 0


def test_an_instrument_is_connected_by_its_url(demo: Demo) -> None:
    from urllib.parse import unquote

    technician = demo.user("technician")
    manager = demo.user("quality-manager")  # connections are set by roles that manage instruments
    counter = technician.instrument_id("DEMO-0001")  # seeded without a connection: readings typed in
    assert "No instrument connection configured" in technician.client.get(f"/web/instruments/{counter}").text
    assert technician.post(f"/web/instruments/{counter}/connection", url="tcp://127.0.0.1:9").status_code == 403
    assert 'data-testid="connection-url"' not in technician.client.get(f"/web/instruments/{counter}").text
    assert 'data-testid="connection-url"' in manager.client.get(f"/web/instruments/{counter}").text
    bad = manager.post(f"/web/instruments/{counter}/connection", url="ftp://nowhere")
    assert "error=" in bad.headers["location"]
    assert "ftp" in unquote(bad.headers["location"])
    silent = manager.post(f"/web/instruments/{counter}/connection", url="tcp://127.0.0.1:9?protocol=mt-sics")
    assert "notice=saved-offline" in silent.headers["location"]
    retail = demo.simulator("SIM-RET-0001")
    good = manager.post(f"/web/instruments/{counter}/connection", url=retail.url)
    assert "notice=connected" in good.headers["location"]
    page = manager.client.get(good.headers["location"])
    assert 'data-notice="connected"' in page.text
    assert retail.url.replace("&", "&amp;") in page.text
    regulator = demo.user("regulator")
    refused = regulator.post(f"/web/instruments/{counter}/connection", url="")
    assert refused.status_code in (403, 404)
    removed = manager.post(f"/web/instruments/{counter}/connection", url="")
    assert removed.status_code == 303
    assert "No instrument connection configured" in technician.client.get(f"/web/instruments/{counter}").text


@pytest.mark.parametrize(("serial", "weights"), [("SIM-RET-0001", "M1 set"), ("SIM-TRK-0001", "M1 test weights")])
def test_every_demo_instrument_can_be_calibrated_in_the_browser(demo: Demo, serial: str, weights: str) -> None:
    technician = demo.user("technician")
    run_url = technician.start(serial, weights=weights)
    technician.advance(run_url)
    results = technician.client.get(f"{run_url}/results")
    assert 'data-testid="error-curve"' in results.text, re.findall(r'class="alert[^>]*>([^<]*)', results.text)
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
    record = run.raw_data["record"]
    sources = {r.source for r in DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url)).results}
    assert sources == {"operator", "instrument"}
    max_kg = Decimal(record["instrument"]["max"].split()[0]) * (
        1000 if record["instrument"]["max"].endswith(" t") else 1
    )
    loads = [Decimal(point["load_kg"]) for point in run.results["points"]]
    assert len(loads) == 5
    assert loads[-1] == max_kg  # Max itself (on the truck scale by substitution)
    for point in run.results["points"]:
        error = Decimal(point["error_kg"])
        assert abs(error) < max_kg / 500  # a working instrument: errors of a few e at most


def _verify(technician: WebUser, serial: str = "SIM-RET-0001") -> str:
    instrument = technician.instrument_id(serial)
    page = technician.client.get(f"/web/instruments/{instrument}")
    weight_set = re.search(r'<option value="(\d+)">M1 set', page.text)
    assert weight_set is not None
    answer = technician.post(
        f"/web/instruments/{instrument}/runs",
        weight_set_id=weight_set.group(1),
        mode="instrument",
        kind="verification",
        stage="initial",
        rules="oiml-r76",
    )
    assert answer.status_code == 303
    return str(answer.headers["location"])


def _drive(technician: WebUser, run_url: str, decision: str) -> tuple[int, int]:
    steps = decided = 0
    while (pending := technician.pending(run_url)) is not None:
        step_id, action, text = pending
        if action == "decide":
            options = re.findall(r'name="value" value="([^"]+)"', text)
            assert decision in options
            answer = technician.post(f"{run_url}/step", step_id=step_id, action="decide", value=decision)
            decided += 1
        else:
            answer = technician.post(f"{run_url}/step", step_id=step_id, action=action)
        assert answer.status_code == 303, answer.text
        steps += 1
    return steps, decided


def test_a_full_verification_of_the_retail_scale_passes(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = _verify(technician)
    steps, decided = _drive(technician, run_url, "continue")
    assert decided == 0  # nothing failed: never asked whether to go on
    results = technician.client.get(f"{run_url}/results")
    assert 'data-verdict="pass"' in results.text
    assert 'data-testid="weighing-curve"' in results.text
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
        certificate = session.query(Certificate).one()  # a passed verification: its draft certificate
        assert certificate.kind == "verification"
        assert certificate.status == "draft"
    assert run.kind == "verification"
    assert run.results["passed"] is True
    tests = {check["test"] for check in run.results["checks"]}
    assert {"weighing", "eccentricity", "repeatability", "discrimination"} <= tests
    sources = {r.source for r in DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url)).results}
    assert sources == {"operator", "instrument"}
    assert steps > 100


def test_a_tampered_scale_fails_and_the_technician_may_stop_at_the_first_failure(demo: Demo) -> None:
    assert ControlClient(demo.simulator("SIM-RET-0001").control_url).send("FAULT SPAN 1.003").startswith("OK")
    technician = demo.user("technician")
    run_url = _verify(technician)
    steps, decided = _drive(technician, run_url, "stop")
    assert decided == 1
    assert steps < 60  # stopped at the first failure (then only the shutdown step)
    results = technician.client.get(f"{run_url}/results")
    assert 'data-verdict="fail"' in results.text
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
    assert run.results["passed"] is False
    assert any(check["passed"] is False for check in run.results["checks"])


def test_conditions_are_typed_in_at_the_start_and_bad_values_are_refused(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 1)  # the opening instruction
    pending = technician.pending(run_url)
    assert pending is not None
    step_id, action, page = pending
    assert action == "conditions"
    for name in ("temperature", "pressure", "humidity"):
        assert f'name="{name}"' in page
    before = _recorded(demo, run_url)
    for fields, reason in (
        ({"temperature": "20.3", "pressure": "101.3", "humidity": "45"}, "pressure"),  # kPa typed as hPa
        ({"temperature": "293", "pressure": "1008", "humidity": "45"}, "temperature"),
        ({"temperature": "20", "pressure": "1008", "humidity": "abc"}, "humidity"),
        ({"temperature": "20", "pressure": "1008", "humidity": ""}, "humidity"),
        ({"temperature": "20", "pressure": "1008", "humidity": "9" * 300}, "humidity"),
    ):
        answer = technician.post(f"{run_url}/step", step_id=step_id, action="conditions", **fields)
        if len(fields["humidity"]) > 200:  # longer than any form field may be: refused before the step is read
            assert answer.status_code == 422, fields
            continue
        assert answer.status_code == 303, fields  # post/redirect/get: the run page shows why
        assert answer.headers["location"].endswith("?notice=invalid"), fields
        assert reason in technician.client.get(answer.headers["location"]).text
    assert _recorded(demo, run_url) == before
    good = technician.post(
        f"{run_url}/step", step_id=step_id, action="conditions", temperature="20,3", pressure="1008.2", humidity="45"
    )
    assert good.status_code == 303
    state = DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url))
    assert state.results[-1].answer == "20.3 °C; 1008.2 hPa; 45 %"
    technician.advance(run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
    environment = run.raw_data["record"]["environment"]
    assert environment["temperature_start"] == 20.3
    assert environment["pressure"] == 1008.2
    assert run.raw_data["record"]["buoyancy"] == {"method": "auto"}


def test_the_truck_scale_is_calibrated_in_the_browser_with_a_third_of_max_by_substitution(demo: Demo) -> None:
    """Issue 11: a 60 t scale with 20 t of weights (4 x 5 t) is guided through substitution, not refused."""
    from datetime import date, timedelta

    from hengqi.server.schemas.registry import WeightCreate, WeightSetCreate
    from hengqi.server.services import registry
    from hengqi.server.web.demo import _demo_actor

    with demo.app.state.hengqi.database.write_session() as session:
        found = _demo_actor(session)
        assert found is not None
        _org, actor = found
        today = date.today()
        weight_set = registry.create_weight_set(
            session,
            actor,
            WeightSetCreate(
                name="M1 four 5 t weights",
                weight_class="M1",
                certificate_number="DEMO-M1-SUB",
                calibrated_on=today - timedelta(days=30),
                due_date=today + timedelta(days=300),
            ),
        )
        for n in range(4):
            registry.create_weight(
                session,
                actor,
                weight_set.id,
                WeightCreate(
                    identifier=f"SUB-5t-{n}",
                    nominal=Decimal(5000),
                    correction=Decimal(0),
                    u=Decimal("0.25"),
                    k=Decimal(2),
                ),
            )
        session.commit()
    technician = demo.user("technician")
    offer = technician.client.get(f"/web/instruments/{technician.instrument_id('SIM-TRK-0001')}").text
    four = offer.index('">M1 four 5 t weights')  # 20 t: the larger total first
    weighbridge = offer.index('">M1 test weights 10 kg - 1 t')  # the demo's 13.1 t
    misfit = offer.index("Sets that do not fit")
    assert four < weighbridge < misfit
    assert offer[four:misfit].count("less than Max: substitution loads") == 2
    assert all(offer.index(f'">{name}') > misfit for name in ("E2 set", "F1 set"))  # far too small, or too heavy
    run_url = technician.start("SIM-TRK-0001", weights="M1 four 5 t weights")
    page = technician.client.get(run_url)
    seen_substitute = False
    while (pending := technician.pending(run_url)) is not None:
        step_id, action, text = pending
        seen_substitute = seen_substitute or 'data-step-kind="substitute"' in text
        assert technician.post(f"{run_url}/step", step_id=step_id, action=action).status_code == 303
    assert seen_substitute
    assert page.status_code == 200
    with demo.app.state.hengqi.database.read_session() as session:
        run = session.query(Run).one()
    points = {p["load"]: p for p in run.raw_data["record"]["points"]}
    assert len(points["60 t"]["substitution"]) == 2  # 3 x 20 t
    assert sorted(points, key=lambda load: Decimal(load.split()[0])) == ["10 t", "20 t", "30 t", "45 t", "60 t"]
    assert "substitution" not in points["10 t"]
    assert "substitution" not in points["20 t"]  # the four weights alone
    assert len(points["45 t"]["substitution"]) == 2  # 3 x 15 t
    top = next(p for p in run.results["points"] if Decimal(p["load_kg"]) == 60000)
    assert abs(Decimal(top["error_kg"])) < 200  # the simulator's span error is -1e-4: about -6 kg at 60 t


def test_substitution_readings_are_named_in_chinese() -> None:
    from hengqi.server.web.runs import purpose_text

    assert purpose_text("zh", "substitution 2: standard weights") == "替代 2: 标准砝码"
    assert purpose_text("zh", "substitution 1: substitute") == "替代 1: 替代物"
    assert purpose_text("zh", "substitution check 20 t #3") == "替代前重复性检查 20 t #3"
    assert purpose_text("en", "substitution 1: substitute") == "Substitution 1: substitute"
