"""Every issued PDF and DCC of the examples carries the same rounded numbers as the results screen.

U is rounded once, up, to two significant digits and E to the same decimal place (JCGM 100:2008, 7.2.6) by
:func:`hengqi.metrology.reporting.reported_error`; the PDF table (read back with ``pdftotext``), the DCC's
``si:realListXMLList`` of the errors of indication (values, ``si:expandedMUXMLList``) and the rows of the web
results page (:func:`hengqi.server.web.results_view.error_table`, fed the results a guided run keeps) must all
state exactly those digits, for every example certificate in ``examples/certificates/``.
"""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from tests.certificates.conftest import ROOT

from hengqi.certificates.dcc.vocabulary import DCC_NS, MASS_UNIT_EXPONENT, SI_NS
from hengqi.metrology.reporting import UNIT_EXPONENT, decimal_text, mass_units, places_of, reported_error
from hengqi.records.calibration import calibrate, load_calibration_record
from hengqi.server.services.guided_certificates import result_summary
from hengqi.server.web.results_view import error_table

EXAMPLES = ROOT / "examples" / "certificates"
#: (calibration record, certificate number), as made by scripts/make-example-certificates.sh
ISSUED = [
    ("analytical-balance-220g", "HQ-CAL-2026-0418"),
    ("bench-balance-6kg", "HQ-CAL-2026-0391"),
    ("truck-scale-60t", "HQ-CAL-2026-0340"),
]
NS = {"dcc": DCC_NS, "si": SI_NS}
INTERNAL = ("SECONDARY", "CONFIRMED", "NOT FOUND", "hengqi construction", "secondary source", "e-0", "e+0")


def _expected(record: str) -> tuple[str, str, list[tuple[str, str, str, str]]]:
    """(load unit, error unit, [(load, E, U, k)]) rounded by the one rule."""
    result = calibrate(load_calibration_record(ROOT / "examples" / "calibration" / f"{record}.yaml"))
    unit, eunit = mass_units(result.instrument.max_kg, result.instrument.d_kg)
    places = places_of(result.instrument.d_kg, unit)
    rows = []
    for p in result.points:
        r = reported_error(p.error_kg, p.U_kg, p.k)
        rows.append(
            (
                decimal_text(p.load_kg, unit, places=places),
                decimal_text(r.error_kg, eunit),
                decimal_text(r.U_kg, eunit),
                str(r.k),
            )
        )
    return unit, eunit, rows


def _dcc_errors(path: Path, eunit: str) -> list[tuple[str, str, str]]:
    root = etree.parse(str(path)).getroot()
    lst = root.find(".//dcc:result[@refType='hengqi_errorOfIndication']/dcc:data/dcc:list", NS)
    assert lst is not None
    q = lst.find("dcc:quantity[@refType='hengqi_errorOfIndication']/si:realListXMLList", NS)
    assert q is not None
    unit = q.findtext("si:unitXMLList", namespaces=NS)
    assert unit is not None
    mu = q.find("si:measurementUncertaintyUnivariateXMLList/si:expandedMUXMLList", NS)
    assert mu is not None
    assert mu.findtext("si:coverageProbabilityXMLList", namespaces=NS) == "0.9545"
    assert mu.findtext("si:distributionXMLList", namespaces=NS) == "normal"
    shift = MASS_UNIT_EXPONENT[unit] - UNIT_EXPONENT[eunit]

    def in_eunit(text: str) -> str:
        return format(Decimal(text).scaleb(shift), "f")  # exact: keeps the digits the DCC states

    values = (q.findtext("si:valueXMLList", namespaces=NS) or "").split()
    us = (mu.findtext("si:valueExpandedMUXMLList", namespaces=NS) or "").split()
    ks = (mu.findtext("si:coverageFactorXMLList", namespaces=NS) or "").split()
    return [(in_eunit(e), in_eunit(u), k) for e, u, k in zip(values, us, ks, strict=True)]


@pytest.mark.parametrize(("record", "number"), ISSUED, ids=[n for _, n in ISSUED])
def test_pdf_dcc_and_screen_state_the_same_rounded_numbers(record: str, number: str) -> None:
    unit, eunit, expected = _expected(record)
    assert expected
    # DCC: exactly the certified digits (E and U as rounded, k with two decimals)
    assert _dcc_errors(EXAMPLES / f"{number}.dcc.xml", eunit) == [(e, u, k) for _, e, u, k in expected]
    # PDF: each row of the errors table reads "load  m_ref  I  E  U  k"
    text = subprocess.run(
        ["pdftotext", "-layout", str(EXAMPLES / f"{number}.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    for load, e, u, k in expected:
        row = rf"(?m)^\s*{re.escape(load)}\s+\S+\s+\S+\s+{re.escape(e)}\s+{re.escape(u)}\s+{re.escape(k)}\b"
        assert re.search(row, text), (load, e, u, k, text)
    assert f"U(E) / {eunit}" in text
    # screen: the results page's rows from what a guided run keeps
    result = calibrate(load_calibration_record(ROOT / "examples" / "calibration" / f"{record}.yaml"))
    table = error_table(
        result_summary(result), result.instrument.max_kg, result.instrument.d_kg, lambda _load, _range: None
    )
    assert (table.unit, table.error_unit) == (unit, eunit)
    assert [(r.load, r.error, r.U, r.k) for r in table.rows] == expected


@pytest.mark.parametrize(("record", "number"), ISSUED, ids=[n for _, n in ISSUED])
def test_issued_certificates_read_clean(record: str, number: str) -> None:
    """No notes on sources, no exponent notation, no capacity with padded decimals."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(EXAMPLES / f"{number}.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    for word in INTERNAL:
        assert word not in text, word
    dcc = (EXAMPLES / f"{number}.dcc.xml").read_text(encoding="utf-8")
    for word in INTERNAL[:5]:
        assert word not in dcc, word
    assert not re.search(r"Max = \d+\.0+ ", text)
    # Chinese texts in Chinese (the international symbol SI aside)
    root = etree.parse(str(EXAMPLES / f"{number}.dcc.xml")).getroot()
    for content in root.iter(f"{{{DCC_NS}}}content"):
        if content.get("lang") == "zh":
            assert not re.search(r"[A-Za-z]{2,}", (content.text or "").replace("SI", "")), content.text
    # no line of a paragraph left alone at the top of a page: every page starts with its header line
    for page in text.split("\f")[1:]:
        if page.strip():
            assert page.lstrip().startswith("Hengqi Mass Laboratory"), page[:200]
