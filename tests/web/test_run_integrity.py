"""Run integrity in the web interface, in process (issue 11, items 1-4 and 16): who records, one run per
instrument, readings held for confirmation, corrections, review returns, gapless certificate numbers.

Every test drives the real pages (forms with CSRF tokens, cookies, redirects) against simulators on loopback TCP
and reads what was recorded back from the database.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from hengqi.server.db.guided import CertificateCounter, GuidedRun
from hengqi.server.db.models import AuditEntry, Certificate, Organisation, Run
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.services import accounts, numbering
from hengqi.server.services.guided_runs import DbRunStore

from .conftest import Demo, WebUser

BALANCE = "SIM-BAL-0001"
SECOND_PASSWORD = "second-technician-password-2026"


def _run_id(url: str) -> str:
    return url.rstrip("/").split("/")[-1]


def _state(demo: Demo, run_url: str) -> Any:
    return DbRunStore(demo.app.state.hengqi.database).load(_run_id(run_url))


def _second_technician(demo: Demo) -> WebUser:
    database = demo.app.state.hengqi.database
    with database.write_session() as session:
        org = session.scalar(select(Organisation.id).where(Organisation.name.like("%emo%")))
        assert org is not None
        accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(
                username="demo-technician-2",
                password=SECOND_PASSWORD,
                role=Role.TECHNICIAN,
                full_name="Second technician",
                organisation_id=org,
            ),
        )
        session.commit()
    return WebUser.sign_in(demo.app, "demo-technician-2", SECOND_PASSWORD)


def _audit(demo: Demo, run_url: str) -> list[AuditEntry]:
    with demo.app.state.hengqi.database.read_session() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "guided_runs", AuditEntry.entity_id == _run_id(run_url))
                .order_by(AuditEntry.id)
            )
        )


def _flash(user: WebUser, answer: Any) -> str:
    """The page a refused form redirected to, with its message."""
    assert answer.status_code == 303, answer.text
    page = user.client.get(answer.headers["location"])
    assert page.status_code == 200
    return str(page.text)


def test_a_regulator_opening_a_run_records_nothing_and_draws_no_number(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 3)
    regulator = demo.user("regulator")
    page = regulator.client.get(run_url)
    assert page.status_code == 200
    assert 'name="step_id"' not in page.text  # nothing offered to answer
    assert 'data-testid="take-over"' not in page.text
    step_id = technician.pending(run_url)[0]  # type: ignore[index]
    before = len(_state(demo, run_url).results)
    for action in ("confirm", "read", "zero", "enter"):
        answer = regulator.post(f"{run_url}/step", step_id=step_id, action=action, value="110 g")
        assert answer.headers["location"].endswith("?notice=denied"), action
    assert "may not do run.record" in _flash(regulator, regulator.post(f"{run_url}/step", step_id=step_id))
    assert regulator.post(f"{run_url}/take-over").headers["location"].endswith("?notice=denied")
    assert regulator.post(f"{run_url}/cancel").headers["location"].endswith("?notice=denied")
    assert len(_state(demo, run_url).results) == before
    # the technician finishes; the reviewer issues: the first number of the sequence, none consumed before
    technician.advance(run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        assert session.query(CertificateCounter).count() == 0
        certificate = session.query(Certificate).one()
    assert certificate.number.startswith("DRAFT-")
    reviewer = demo.user("reviewer")
    assert (
        "notice=approved"
        in reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes").headers["location"]
    )
    with demo.app.state.hengqi.database.read_session() as session:
        issued = session.get(Certificate, certificate.id)
        assert issued is not None
        assert re.fullmatch(r"HQ-CAL-\d{4}-00001", issued.number)
        assert session.query(CertificateCounter).one().last == 1


def test_a_second_technician_can_neither_step_nor_start_on_the_same_instrument(demo: Demo) -> None:
    first = demo.user("technician")
    run_url = first.start(BALANCE)
    first.advance(run_url, 2)
    second = _second_technician(demo)
    page = second.client.get(run_url)
    assert 'data-testid="not-performer"' in page.text
    assert 'data-testid="take-over"' in page.text
    step_id = first.pending(run_url)[0]  # type: ignore[index]
    before = len(_state(demo, run_url).results)
    refused = second.post(f"{run_url}/step", step_id=step_id, action="zero")
    assert "only the technician performing this run" in _flash(second, refused)
    assert len(_state(demo, run_url).results) == before
    # a second run on the same instrument is refused, naming who uses it since when
    instrument = second.instrument_id(BALANCE)
    weight_set = re.search(r'<option value="(\d+)">E2 set', second.client.get(f"/web/instruments/{instrument}").text)
    assert weight_set is not None
    started = second.post(f"/web/instruments/{instrument}/runs", weight_set_id=weight_set.group(1), mode="instrument")
    assert "error=" in started.headers["location"]
    assert re.search(
        r"in use by Demo technician since \d{4}-\d\d-\d\d \d\d:\d\d UTC", unquote(started.headers["location"])
    )
    instrument_page = second.client.get(f"/web/instruments/{instrument}").text
    assert 'data-testid="in-use"' in instrument_page
    with demo.app.state.hengqi.database.read_session() as session:
        assert session.query(GuidedRun).count() == 1
    # an explicit takeover, audited; then only the new performer records
    assert second.post(f"{run_url}/take-over").headers["location"].endswith("?notice=taken-over")
    assert first.post(f"{run_url}/step", step_id=step_id, action="zero").headers["location"].endswith("notice=denied")
    second.advance(run_url, 1)
    assert len(_state(demo, run_url).results) == before + 1
    assert _state(demo, run_url).results[-1].by == "demo-technician-2"
    takeover = [entry for entry in _audit(demo, run_url) if entry.action == "take_over"]
    assert len(takeover) == 1
    assert takeover[0].actor == "demo-technician-2"


def test_a_quality_manager_ends_a_stale_run_with_a_reason(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url, 4)
    assert technician.post(f"{run_url}/abandon", reason="mine").headers["location"].endswith("?notice=denied")
    manager = demo.user("quality-manager")
    assert 'data-testid="abandon"' in manager.client.get(run_url).text
    assert "give a reason" in _flash(manager, manager.post(f"{run_url}/abandon", reason=" "))
    done = manager.post(f"{run_url}/abandon", reason="left running since Friday; technician on leave")
    assert done.headers["location"].endswith("?notice=abandoned")
    page = technician.client.get(run_url).text
    assert "left running since Friday" in page
    step_id = technician.pending(run_url)
    assert step_id is None  # no step form on an abandoned run
    entries = [entry for entry in _audit(demo, run_url) if entry.action == "abandon"]
    assert len(entries) == 1
    assert "technician on leave" in entries[0].new_values
    # the instrument is free again
    assert "/web/runs/" in technician.start(BALANCE)


def test_minus_five_grams_under_110_grams_needs_a_reason_or_a_new_measurement(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE, mode="manual")
    technician.advance(run_url, 5)  # prompt, conditions, remove, zero, place 110 g: a reading to type in
    pending = technician.pending(run_url)
    assert pending is not None
    assert 'data-testid="unit">g<' in pending[2]  # the unit is shown beside the input
    before = len(_state(demo, run_url).results)
    held = technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value="-5")
    assert held.headers["location"].endswith("?notice=confirm")
    page = technician.client.get(held.headers["location"]).text
    assert 'data-testid="held"' in page
    assert "-5 g is negative with 110 g on the receptor" in page
    assert len(_state(demo, run_url).results) == before  # nothing recorded yet
    assert "give a reason" in _flash(
        technician, technician.post(f"{run_url}/step", step_id=pending[0], action="accept", reason="")
    )
    technician.post(f"{run_url}/step", step_id=pending[0], action="remeasure")
    assert 'data-testid="held"' not in technician.client.get(run_url).text
    technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value="-5")
    accepted = technician.post(
        f"{run_url}/step", step_id=pending[0], action="accept", reason="tare left on by the previous user"
    )
    assert "notice" not in accepted.headers["location"]
    record = _state(demo, run_url).results[-1]
    assert record.answer == "-0.005"
    assert record.flags == ("sign", "gross_error")
    assert record.reason == "tare left on by the previous user"
    steps = [entry for entry in _audit(demo, run_url) if entry.action == "record_step"]
    assert len(steps) == before + 1  # one audit entry per recorded step
    assert "tare left on" in steps[-1].new_values


def test_a_reading_is_corrected_with_a_reason_only_by_the_performer(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE, mode="manual")
    technician.advance(run_url, 5)  # prompt, conditions, remove, zero, place 110 g
    pending = technician.pending(run_url)
    assert pending is not None
    technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value="110.0001")
    index = len(_state(demo, run_url).results) - 1
    page = technician.client.get(run_url).text
    assert f'data-testid="correct-{index}"' in page
    reviewer = demo.user("reviewer")
    refused = reviewer.post(f"{run_url}/correct", index=index, value="110.0002", reason="looks wrong")
    assert refused.headers["location"].endswith("?notice=denied")
    empty = technician.post(f"{run_url}/correct", index=index, value="110.0002", reason="")
    assert "give a reason" in _flash(technician, empty)
    done = technician.post(f"{run_url}/correct", index=index, value="110,0002", reason="misread the last digit")
    assert done.headers["location"].endswith("?notice=corrected")
    state = _state(demo, run_url)
    assert state.results[index].answer == "0.1100002"
    assert state.corrections[0]["original"]["answer"] == "0.1100001"
    assert [e.action for e in _audit(demo, run_url)].count("correct_step") == 1
    assert "corrected" in technician.client.get(run_url).text


def test_a_reviewer_returns_a_run_with_a_comment_and_the_technician_resubmits(demo: Demo, tmp_path: Path) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    reviewer = demo.user("reviewer")
    results = reviewer.client.get(f"{run_url}/results").text
    assert 'data-code="missing_conditions"' in results  # every warning listed for the review
    chinese = reviewer.client.get(f"{run_url}/results", headers={"Accept-Language": "zh-CN"}).text
    assert "未记录环境条件" in chinese
    with demo.app.state.hengqi.database.read_session() as session:
        draft = session.query(Certificate).one()
    pdf = reviewer.client.get(f"/web/certificates/{draft.id}/pdf").content
    (tmp_path / "draft.pdf").write_bytes(pdf)
    pages = int(
        re.findall(
            r"Pages:\s+(\d+)",
            subprocess.run(["pdfinfo", str(tmp_path / "draft.pdf")], check=True, capture_output=True, text=True).stdout,
        )[0]
    )
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(tmp_path / "draft.pdf"), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert "DRAFT" in text, page
    confirm = reviewer.client.get(f"/web/certificates/{draft.id}/approve").text  # what is signed, then the button
    assert 'data-testid="sign-points"' in confirm
    assert 'data-code="missing_conditions"' in confirm
    assert technician.post(f"{run_url}/return", comment="recheck").headers["location"].endswith("notice=denied")
    assert "give a reason" in _flash(reviewer, reviewer.post(f"{run_url}/return", comment=""))
    returned = reviewer.post(f"{run_url}/return", comment="repeatability #3 looks mistyped; please check")
    assert returned.headers["location"].endswith("?notice=returned")
    with demo.app.state.hengqi.database.read_session() as session:
        assert session.query(Certificate).filter(Certificate.deleted_at.is_(None)).count() == 0
        assert session.query(Run).one().status == "returned"
    page = technician.client.get(run_url).text
    assert "repeatability #3 looks mistyped" in page
    index = next(i for i, s, _ in technician_history(demo, run_url) if getattr(s, "purpose", "") == "repeatability #3")
    fixed = technician.post(f"{run_url}/correct", index=index, value="110.0001", reason="re-read the printout")
    assert fixed.headers["location"].endswith("?notice=corrected")
    assert technician.post(f"{run_url}/resubmit").headers["location"].endswith("?notice=resubmitted")
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.query(Certificate).filter(Certificate.deleted_at.is_(None)).one()
        record = session.query(Run).filter(Run.status == "completed").one()
    assert record.raw_data["record"]["repeatability"][0]["readings"][2] == "110.0001 g"
    results = reviewer.client.get(f"{run_url}/results").text
    assert 'data-code="corrected_reading"' in results
    assert "re-read the printout" in results
    approved = reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes")
    assert "notice=approved" in approved.headers["location"]
    actions = [entry.action for entry in _audit(demo, run_url)]
    assert "return" in actions
    assert "resubmit" in actions


def technician_history(demo: Demo, run_url: str) -> list[Any]:
    from hengqi.server.services.guided_runs import open_session

    return open_session(demo.app.state.hengqi.database, _run_id(run_url)).history


def test_certificate_numbers_are_gapless_when_an_issue_rolls_back(demo: Demo) -> None:
    database = demo.app.state.hengqi.database
    with database.read_session() as session:
        org = session.scalar(select(Organisation.id))
    assert org is not None
    with database.write_session() as session:
        assert numbering.draw_number(session, org, "HQ-CAL-2026") == "HQ-CAL-2026-00001"
        session.rollback()  # the issue failed: the number is not consumed
    with database.write_session() as session:
        assert numbering.draw_number(session, org, "HQ-CAL-2026") == "HQ-CAL-2026-00001"
        session.commit()
    with database.write_session() as session:
        assert numbering.draw_number(session, org, "HQ-CAL-2026") == "HQ-CAL-2026-00002"
        assert numbering.draw_number(session, org, "HQ-CAL-2027") == "HQ-CAL-2027-00001"
        session.commit()


def test_the_start_form_and_the_sign_in_page(demo: Demo) -> None:
    technician = demo.user("technician")
    instrument = technician.instrument_id(BALANCE)
    page = technician.client.get(f"/web/instruments/{instrument}").text
    assert 'data-for-kind="verification"' in page  # stage and rules belong to a verification only
    anonymous = WebUser(technician.client.__class__(demo.app))
    form = anonymous.client.get("/web/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert token is not None
    wrong = anonymous.client.post(
        "/web/login", data={"username": "demo-technician", "password": "nope", "login_csrf": token.group(1)}
    )
    assert wrong.status_code == 401
    assert 'value="demo-technician"' in wrong.text  # the user name is kept; only the password is asked again


@pytest.mark.parametrize("load", ["300 g"])
def test_an_overloaded_instrument_is_connected_not_offline(demo: Demo, load: str) -> None:
    from hengqi.instruments.simulator import ControlClient

    technician = demo.user("technician")
    instrument = technician.instrument_id(BALANCE)
    assert ControlClient(demo.simulator(BALANCE).control_url).send(f"PLACE {load} centre").startswith("OK")
    import time

    time.sleep(0.3)
    reading = technician.client.get(f"/web/instruments/{instrument}/reading").json()
    assert reading["ok"] is False
    assert reading["settling"] is True  # the page says "settling", never "no connection"


def _other_organisation_technician(demo: Demo) -> WebUser:
    from hengqi.server.schemas.registry import OrganisationCreate

    database = demo.app.state.hengqi.database
    with database.write_session() as session:
        other = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name="Other lab"))
        session.flush()
        accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(username="outsider", password=SECOND_PASSWORD, role=Role.TECHNICIAN, organisation_id=other.id),
        )
        session.commit()
    return WebUser.sign_in(demo.app, "outsider", SECOND_PASSWORD)


def test_the_new_forms_refuse_other_organisations_wrong_roles_and_bad_input(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE, mode="manual")
    technician.advance(run_url, 4)
    before = _state(demo, run_url)
    outsider = _other_organisation_technician(demo)
    assert outsider.client.get(run_url).status_code == 404  # its existence is not disclosed
    for path, data in (
        ("take-over", {}),
        ("abandon", {"reason": "mine now"}),
        ("correct", {"index": "1", "value": "1", "reason": "because"}),
        ("return", {"comment": "no"}),
        ("resubmit", {}),
        ("step", {"step_id": "4:x", "action": "accept", "reason": "because"}),
    ):
        answer = outsider.post(f"{run_url}/{path}", **data)
        assert answer.status_code in (303, 404), (path, answer.status_code)
        if answer.status_code == 303:
            assert "notice=denied" in answer.headers["location"], path
    reviewer = demo.user("reviewer")
    assert reviewer.post(f"{run_url}/abandon", reason="not mine").headers["location"].endswith("notice=denied")
    assert reviewer.post(f"{run_url}/resubmit").headers["location"].endswith("notice=denied")
    # a run still running is not returned for review
    manager = demo.user("quality-manager")
    assert manager.post(f"{run_url}/return", comment="too early").headers["location"].endswith("notice=denied")
    # malformed and oversized input: a 4xx naming the field, nothing stored
    for data in ({"index": "-1"}, {"index": "many"}, {"index": str(10**12)}, {"reason": "x" * 5000}):
        answer = technician.post(f"{run_url}/correct", **{"index": "4", "value": "1", "reason": "ok!", **data})
        assert answer.status_code == 422, data
    assert technician.post(f"{run_url}/abandon", reason="y" * 5000).status_code == 422
    prompt = technician.post(f"{run_url}/correct", index="0", value="110 g", reason="a prompt has no value")
    assert "only readings can be corrected" in _flash(technician, prompt)
    far = technician.post(f"{run_url}/correct", index="999", value="110 g", reason="not recorded yet")
    assert "expected a recorded step" in _flash(technician, far)
    held = technician.post(f"{run_url}/step", step_id=technician.pending(run_url)[0], action="accept", reason="ok!")  # type: ignore[index]
    assert held.headers["location"].endswith("?notice=stale")  # nothing held: nothing to accept
    after = _state(demo, run_url)
    assert after.results == before.results
    assert after.corrections == []


def test_who_recorded_steps_before_a_takeover_does_not_approve(demo: Demo) -> None:
    manager = demo.user("quality-manager")  # a signatory who also records runs
    run_url = manager.start(BALANCE)
    manager.advance(run_url, 3)
    technician = demo.user("technician")
    assert technician.post(f"{run_url}/take-over").headers["location"].endswith("?notice=taken-over")
    technician.advance(run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.query(Certificate).one()
    refused = manager.post(f"/web/certificates/{certificate.id}/approve", confirm="yes")
    assert "recorded no step of its run" in _flash(manager, refused)
    reviewer = demo.user("reviewer")
    assert (
        "notice=approved"
        in reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes").headers["location"]
    )
