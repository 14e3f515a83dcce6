"""What a guided calibration's certificate says: the owner as customer, and the very numbers of the results page.

The results page, the issued PDF (read back with ``pdftotext``) and the issued DCC state E, U and k rounded by one
rule (:func:`hengqi.metrology.reporting.reported_error`; JCGM 100:2008, 7.2.6); the certificate names the
instrument's owner with its address (ISO/IEC 17025:2017, 7.8.2.1, SECONDARY) and carries no internal notes.
"""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

from lxml import etree

from hengqi.certificates.dcc.vocabulary import DCC_NS, MASS_UNIT_EXPONENT, SI_NS
from hengqi.metrology.reporting import UNIT_EXPONENT
from hengqi.server.db.models import Certificate, Instrument
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts

from .conftest import Demo, WebUser

BALANCE = "SIM-BAL-0001"
NS = {"dcc": DCC_NS, "si": SI_NS}


def _screen_rows(html: str) -> list[tuple[str, str, str, str]]:
    return re.findall(
        r'data-testid="point" data-load="([^"]+)" data-error="([^"]+)" data-u="([^"]+)" data-k="([^"]+)"', html
    )


def _unit(html: str) -> str:
    found = re.search(r"U / (\w+)</th>", html)
    assert found, "the errors table names its error unit"
    return found.group(1)


def test_screen_pdf_and_dcc_of_a_guided_calibration_agree(demo: Demo, tmp_path: Path) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    html = technician.client.get(f"{run_url}/results").text
    rows = _screen_rows(html)
    assert len(rows) >= 3
    eunit = _unit(html)
    # the run's summary on the same page states the same U (no "750 µg" beside "0.76 mg")
    for _load, _error, u, _k in rows:
        assert f"U = {u} {eunit}" in html, u
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.query(Certificate).one()
    reviewer = demo.user("reviewer")
    assert (
        "notice=approved"
        in reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes").headers["location"]
    )
    dcc = reviewer.client.get(f"/web/certificates/{certificate.id}/dcc").content
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(reviewer.client.get(f"/web/certificates/{certificate.id}/pdf").content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    # the PDF: one row per point "load  m_ref  I  E  U  k" with the screen's digits
    for load, error, u, k in rows:
        row = rf"(?m)^\s*{re.escape(load)}\s+\S+\s+\S+\s+{re.escape(error)}\s+{re.escape(u)}\s+{re.escape(k)}\b"
        assert re.search(row, text), (load, error, u, k, text)
    # the DCC: the same digits, scaled exactly from its mass unit to the screen's error unit
    root = etree.fromstring(dcc)
    q = root.find(
        ".//dcc:result[@refType='hengqi_errorOfIndication']//dcc:quantity[@refType='hengqi_errorOfIndication']"
        "/si:realListXMLList",
        NS,
    )
    assert q is not None
    shift = MASS_UNIT_EXPONENT[q.findtext("si:unitXMLList", namespaces=NS) or ""] - UNIT_EXPONENT[eunit]
    mu = q.find(".//si:expandedMUXMLList", NS)
    assert mu is not None

    def tokens(el: etree._Element, tag: str) -> list[str]:
        return (el.findtext(f"si:{tag}", namespaces=NS) or "").split()

    scaled = [format(Decimal(x).scaleb(shift), "f") for x in tokens(q, "valueXMLList")]
    u_scaled = [format(Decimal(x).scaleb(shift), "f") for x in tokens(mu, "valueExpandedMUXMLList")]
    assert list(zip(scaled, u_scaled, tokens(mu, "coverageFactorXMLList"), strict=True)) == [r[1:] for r in rows]
    # the customer is the instrument's owner, with its address
    with demo.app.state.hengqi.database.read_session() as session:
        instrument = session.get(Instrument, certificate.instrument_id)
        assert instrument is not None
        assert instrument.owner_id is not None
    assert "Demo Pharma Co., Ltd., QC laboratory" in text
    assert "Zhangjiang Road 1, 201203 Shanghai, CN" in text
    for internal in ("SECONDARY", "CONFIRMED", "NOT FOUND", "hengqi construction", "secondary source"):
        assert internal not in text, internal
        assert internal.encode() not in dcc, internal


def test_an_instrument_without_owner_is_not_certified(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    with demo.app.state.hengqi.database.write_session() as session:
        certificate = session.query(Certificate).one()
        instrument = session.get(Instrument, certificate.instrument_id)
        assert instrument is not None
        instrument.owner_id = None
        session.commit()
    reviewer = demo.user("reviewer")
    refused = reviewer.post(f"/web/certificates/{certificate.id}/approve", confirm="yes")
    assert "notice=invalid" in refused.headers["location"]
    assert "owner" in reviewer.client.get(refused.headers["location"]).text  # the reason, shown after the redirect
    with demo.app.state.hengqi.database.read_session() as session:
        again = session.get(Certificate, certificate.id)
        assert again is not None
        assert again.status == "draft"


def _verify_and_drive(demo: Demo) -> str:
    technician = demo.user("technician")
    instrument = technician.instrument_id("SIM-RET-0001")
    page = technician.client.get(f"/web/instruments/{instrument}").text
    # the sets that fit the 15 kg retail scale are offered first; a set with weights above Max is offered last
    select = page.split('data-testid="weight-set"')[1].split("</select>")[0]
    fitting, unfit = select.split("<optgroup")
    assert "M1 set" in fitting
    assert "M1 test weights 10 kg - 1 t" in unfit  # 1 t weights on a 15 kg scale
    assert "M1 test weights" not in fitting
    chosen = re.search(r'<option value="(\d+)">M1 set', fitting)
    assert chosen is not None
    answer = technician.post(
        f"/web/instruments/{instrument}/runs",
        weight_set_id=chosen.group(1),
        mode="instrument",
        kind="verification",
        stage="initial",
        rules="oiml-r76",
    )
    run_url = str(answer.headers["location"])
    while (pending := technician.pending(run_url)) is not None:
        step_id, action, _text = pending
        technician.post(f"{run_url}/step", step_id=step_id, action=action)
    return run_url


def test_a_passed_verification_shows_grouped_checks_and_its_record(demo: Demo, tmp_path: Path) -> None:
    run_url = _verify_and_drive(demo)
    technician = demo.user("technician")
    html = technician.client.get(f"{run_url}/results").text
    assert 'data-verdict="pass"' in html
    groups = re.findall(r'data-testid="test-group" data-test="([^"]+)" data-verdict="([^"]+)"', html)
    assert {test for test, _ in groups} >= {"weighing", "eccentricity", "repeatability", "discrimination"}
    assert all(verdict == "pass" for _, verdict in groups), groups
    assert len(groups) == len({test for test, _ in groups}), "one group per test"
    checks = html.split('data-testid="checks"')[1].split("</section>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', checks)
    assert cells
    for cell in cells:
        assert not re.search(r"\d\.\d{5,}", cell), cell  # no 833.3333333333 mg
        units = set(re.findall(r"\d\s+(mg|g|kg|t)\b", cell))
        assert len(units) <= 1, cell
    for row in re.findall(r'<tr data-testid="check">(.*?)</tr>', checks, flags=re.S):
        value_and_limit = re.findall(r'<td class="num">[^<]*?(mg|g|kg)\b', row)
        assert len(set(value_and_limit)) <= 1, row  # a value and its limit in one unit (no "Ec = 0 kg" beside g)
    assert "The run has not produced a record." not in html
    assert 'data-testid="verification-record"' in html
    record = technician.client.get(f"{run_url}/verification-record")
    assert record.status_code == 200
    assert record.json()["verdict"] == "pass"
    assert {t["name"] for t in record.json()["tests"]} >= {"weighing", "eccentricity"}
    # a technician of another organisation cannot download it
    with demo.app.state.hengqi.database.write_session() as session:
        other = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name="Other lab"))
        session.flush()
        accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(
                username="other-tech", password="other-password-123", role=Role.TECHNICIAN, organisation_id=other.id
            ),
        )
        session.commit()
    outsider = WebUser.sign_in(demo.app, "other-tech", "other-password-123")
    assert outsider.client.get(f"{run_url}/verification-record").status_code == 404
    assert outsider.client.get(f"{run_url}/results").status_code == 404
    _certified_after_review(demo, run_url, tmp_path, outsider)


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _certified_after_review(demo: Demo, run_url: str, tmp_path: Path, outsider: WebUser) -> None:
    """A passed verification's draft certificate, approved by a reviewer: the verification certificate."""
    from hengqi.certificates.signing import verify_file

    technician = demo.user("technician")
    html = technician.client.get(f"{run_url}/results").text
    assert 'data-testid="certificate"' in html  # the verification certificate card beside the record
    assert 'data-testid="download-dcc"' not in html  # a verification certificate has no DCC
    with demo.app.state.hengqi.database.read_session() as session:
        draft = session.query(Certificate).one()
    assert draft.kind == "verification"
    assert draft.status == "draft"
    assert draft.number.startswith("DRAFT-")  # no number of the sequence drawn for a draft
    text = _pdf_text(technician.client.get(f"/web/certificates/{draft.id}/pdf").content, tmp_path, "draft.pdf")
    assert "Verification Certificate" in text
    assert "检定证书" in text
    assert "Weighing test — pass 合格" in text
    assert not re.search(r"SECONDARY|hengqi choice|\d\.\d{7,}|\de-\d", text)
    # four eyes: the technician may not approve; the reviewer sees what is signed and then signs
    refused = technician.post(f"/web/certificates/{draft.id}/approve", confirm="yes")
    assert "notice=denied" in refused.headers["location"]
    reviewer = demo.user("reviewer")
    assert 'data-testid="to-sign"' in reviewer.client.get(f"/web/certificates/{draft.id}/approve").text
    approved = reviewer.post(f"/web/certificates/{draft.id}/approve", confirm="yes")
    assert "notice=approved" in approved.headers["location"]
    with demo.app.state.hengqi.database.read_session() as session:
        issued = session.get(Certificate, draft.id)
        assert issued is not None
        assert issued.status == "issued"
        assert re.fullmatch(r"HQ-VER-\d{4}-00001", issued.number)  # the verification sequence, drawn at issue
    pdf = reviewer.client.get(f"/web/certificates/{draft.id}/pdf").content
    (tmp_path / "issued.pdf").write_bytes(pdf)
    assert verify_file(tmp_path / "issued.pdf", trust=demo.data_dir / "signing" / "ca-cert.pem").ok
    text = _pdf_text(pdf, tmp_path, "issued.pdf")
    assert issued.number in text
    assert "DRAFT" not in text
    assert "Demo reviewer" in text  # the approver signs
    assert outsider.client.get(f"/web/certificates/{draft.id}/pdf").status_code == 404  # another organisation
