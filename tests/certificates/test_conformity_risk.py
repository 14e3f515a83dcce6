"""The DCC conformity statement names its decision rule and carries the specific risk of each point
(ILAC-G8:09/2019 4.2.2; JCGM 106:2012 clause 7), and stays schema-valid."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from lxml import etree
from scipy.stats import norm
from tests.certificates.sample import ADMIN, sample_result

from hengqi.certificates.admin import admin_from_mapping
from hengqi.certificates.conformity import assess_conformity, p_nonconformity
from hengqi.certificates.dcc import dcc_bytes
from hengqi.certificates.dcc.vocabulary import DCC_NS, SI_NS
from hengqi.certificates.schema import validate_dcc

NS = {"dcc": DCC_NS, "si": SI_NS}


def test_dcc_statement_names_rule_and_carries_pfa(tmp_path: Path, schema_dir: Path) -> None:
    result = sample_result()
    out = tmp_path / "c.xml"
    out.write_bytes(dcc_bytes(result, admin_from_mapping({**ADMIN, "conformity": {"stage": "in-service"}})))
    assert validate_dcc(out, schema_dir).valid
    root = etree.parse(str(out)).getroot()
    (st,) = root.xpath("//dcc:statement[contains(concat(' ', @refType, ' '), ' hengqi_conformityMpe ')]", namespaces=NS)
    text = " ".join(st.xpath("dcc:declaration/dcc:content/text()", namespaces=NS))
    assert "guarded acceptance, w = 1 U (ILAC-G8:09/2019, 4.2.2)" in text
    assert "probability of false acceptance" in text
    (values,) = st.xpath(
        "dcc:data/dcc:list/dcc:quantity[@refType='hengqi_probabilityOutsideMpe']/si:realListXMLList/si:valueXMLList",
        namespaces=NS,
    )
    written = [float(x) for x in values.text.split()]
    assessment = assess_conformity(result, stage="in-service")
    assert assessment is not None
    # independent closed form: P(|E_true| > MPE) for E_true ~ N(E, u^2)
    expected = [
        norm.cdf(-float(m.mpe_kg), float(p.error_kg), p.u_kg) + norm.sf(float(m.mpe_kg), float(p.error_kg), p.u_kg)
        for p, m in zip(result.points, assessment.points, strict=True)
    ]
    assert len(written) == len(expected)
    for w, e in zip(written, expected, strict=True):
        assert abs(w - e) <= 5e-7  # written to 1e-6
    assert assessment.max_pfa == max(p.p_nonconformity for p in assessment.points if p.status == "pass")


def test_p_nonconformity_without_uncertainty_is_the_bare_verdict() -> None:
    assert p_nonconformity(Decimal("0.4"), 0.0, Decimal("0.5")) == 0.0
    assert p_nonconformity(Decimal("-0.6"), 0.0, Decimal("0.5")) == 1.0
    assert p_nonconformity(Decimal("0.5"), 0.1, Decimal("0.5")) == 0.5  # on the limit
