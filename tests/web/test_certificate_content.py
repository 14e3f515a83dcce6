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

from .conftest import Demo

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
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.query(Certificate).one()
    reviewer = demo.user("reviewer")
    assert "notice=approved" in reviewer.post(f"/web/certificates/{certificate.id}/approve").headers["location"]
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
    refused = reviewer.post(f"/web/certificates/{certificate.id}/approve")
    assert "notice=invalid" in refused.headers["location"]
    assert "owner" in refused.headers["location"]
    with demo.app.state.hengqi.database.read_session() as session:
        again = session.get(Certificate, certificate.id)
        assert again is not None
        assert again.status == "draft"
