"""The DCC writer and reader: schema-valid output, an independent reader (pydcc), D-SI units, round trips.

Sources: PTB DCC 3.3.0 / D-SI 2.2.1 XSDs (``../shared/dcc/xsd``), pitfalls P2-P4 of
``/work/shared/reference/dcc.md``.  Values are compared exactly (Decimal equality; floats bit for bit), since the
writer emits exact decimal strings.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest
from dsi_unit import DsiUnit
from lxml import etree
from tests.certificates.conftest import ADMIN_YAML, CALIBRATION_RECORDS, SHARED_EXAMPLES
from tests.certificates.pydcc_shim import load_with_pydcc
from tests.certificates.sample import ADMIN, sample_admin, sample_result

from hengqi.certificates.admin import admin_from_mapping, load_admin
from hengqi.certificates.dcc import certified_result, dcc_bytes, read_dcc, read_quantities
from hengqi.certificates.dcc.vocabulary import DCC_NS, SI_NS
from hengqi.certificates.errors import DccFormatError
from hengqi.certificates.schema import validate_dcc
from hengqi.errors import RecordError
from hengqi.metrology.calibration.result import CalibrationResult, Environment
from hengqi.records.calibration import calibrate, load_calibration_record

NS = {"dcc": DCC_NS, "si": SI_NS}


def _cases() -> list[tuple[str, CalibrationResult, object]]:
    cases: list[tuple[str, CalibrationResult, object]] = [("sample", sample_result(), sample_admin())]
    admin = load_admin(ADMIN_YAML)
    for record in CALIBRATION_RECORDS:
        result = calibrate(load_calibration_record(record))
        if result.instrument.max_kg == admin.item.max_kg and result.instrument.d_kg == admin.item.d_kg:
            cases.append((record.stem, result, admin))
        else:  # another instrument: the same laboratory data with that instrument's item
            data = {
                **ADMIN,
                "item": {
                    "serial_number": result.instrument.serial_number or "n/a",
                    "max": f"{result.instrument.max_kg} kg",
                    "d": f"{result.instrument.d_kg} kg",
                },
            }
            cases.append((record.stem, result, admin_from_mapping(data)))
    return cases


CASES = _cases()
IDS = [c[0] for c in CASES]


def test_there_are_example_records() -> None:
    assert CALIBRATION_RECORDS, "examples/calibration/*.yaml expected"


@pytest.mark.parametrize(("name", "result", "admin"), CASES, ids=IDS)
def test_every_dcc_validates_with_both_engines(
    schema_dir: Path, tmp_path: Path, name: str, result: CalibrationResult, admin: object
) -> None:
    out = tmp_path / f"{name}.xml"
    out.write_bytes(dcc_bytes(result, admin))  # type: ignore[arg-type]
    report = validate_dcc(out, schema_dir)
    assert report.version == "3.3.0"
    assert report.valid, "\n".join(map(str, report.issues))


@pytest.mark.parametrize(("name", "result", "admin"), CASES, ids=IDS)
def test_round_trip_gives_equal_values(name: str, result: CalibrationResult, admin: object) -> None:
    doc = read_dcc(dcc_bytes(result, admin))  # type: ignore[arg-type]
    expected = certified_result(result, admin)  # type: ignore[arg-type]
    assert doc.result == expected
    assert doc.result.points
    assert doc.result.points[0].budget
    assert doc.unique_identifier == admin.certificate.number  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "result", "admin"), CASES, ids=IDS)
def test_pydcc_reads_back_identifiers_dates_and_numbers(
    tmp_path: Path, name: str, result: CalibrationResult, admin: object
) -> None:
    out = tmp_path / "c.xml"
    out.write_bytes(dcc_bytes(result, admin))  # type: ignore[arg-type]
    expected = certified_result(result, admin)  # type: ignore[arg-type]
    d = load_with_pydcc(out)
    assert d.is_loaded()
    assert d.version() == "3.3.0"
    assert d.uid() == admin.certificate.number  # type: ignore[attr-defined]
    assert d.calibration_date().date() == expected.calibration_date
    assert d.calibration_laboratory_name() == expected.laboratory
    ids = d.item_id()["identifications"]["identification"]
    assert expected.instrument.serial_number in [i["value"] for i in ids]
    rows = dict(d.get_calibration_results("xpath"))

    def values(result_ref: str, quantity_ref: str) -> dict[str, str]:
        key = next(k for k in rows if f"'{result_ref}'" in k and k.endswith(f"[ @ refType ='{quantity_ref}']"))
        return rows[key]["realListXMLList"]  # type: ignore[no-any-return]

    unit_exp = {"\\gram": -3, "\\kilogram": 0}
    loads = values("hengqi_errorOfIndication", "hengqi_testLoad")
    exp = unit_exp[loads["unitXMLList"]]
    assert [Decimal(x).scaleb(exp) for x in loads["valueXMLList"].split()] == [p.load_kg for p in expected.points]
    errors = values("hengqi_errorOfIndication", "hengqi_errorOfIndication")
    mu = errors["measurementUncertaintyUnivariateXMLList"]["expandedMUXMLList"]
    assert [Decimal(x).scaleb(exp) for x in errors["valueXMLList"].split()] == [p.error_kg for p in expected.points]
    assert [float(Decimal(x).scaleb(exp)) for x in mu["valueExpandedMUXMLList"].split()] == [
        p.U_kg for p in expected.points
    ]
    assert [float(x) for x in mu["coverageFactorXMLList"].split()] == [p.k for p in expected.points]


# dsiunits 3.1.3 warns about a deprecated per token even for units without one (e.g. the unit one)
@pytest.mark.filterwarnings("ignore:The dsi string contains the token:DeprecationWarning")
def test_units_are_official_dsi_and_round_trip_with_dsiunits() -> None:
    root = etree.fromstring(dcc_bytes(sample_result(), sample_admin()))
    units = {u.text for u in root.iter(f"{{{SI_NS}}}unit", f"{{{SI_NS}}}unitXMLList")}
    assert {"\\gram", "\\degreecelsius", "\\percent", "\\hecto\\pascal", "\\one"} <= units
    for unit in units:
        assert unit is not None
        for token in unit.split():
            parsed = DsiUnit(token)
            assert parsed.valid, token
            assert str(parsed) == token  # P2: "g" would be valid but normalise to \gram


def test_numbers_are_plain_decimals_and_release_has_a_letter() -> None:
    root = etree.fromstring(dcc_bytes(sample_result(), sample_admin()))
    number = re.compile(r"^-?\d+(\.\d+)?$")
    tags = ("value", "valueXMLList", "valueExpandedMU", "valueExpandedMUXMLList", "coverageFactorXMLList")
    seen = 0
    for tag in tags:
        for el in root.iter(f"{{{SI_NS}}}{tag}"):
            for token in (el.text or "").split():
                assert number.match(token), f"{tag}: {token!r}"
                seen += 1
    assert seen > 50
    release = root.find("dcc:administrativeData/dcc:dccSoftware/dcc:software/dcc:release", NS)
    assert release is not None
    assert release.text is not None
    assert re.match(r"^[a-zA-Z]{1}( )?([0-9]{1,3}\.){0,3}([0-9]{1,3})$", release.text)  # P4, dcclib's rule


def test_texts_are_bilingual_where_the_schema_allows() -> None:
    root = etree.fromstring(dcc_bytes(sample_result(), sample_admin()))
    langs = {c.get("lang") for c in root.iter(f"{{{DCC_NS}}}content")}
    assert {"en", "zh"} <= langs
    name = root.find("dcc:measurementResults/dcc:measurementResult/dcc:results/dcc:result/dcc:name", NS)
    assert name is not None
    assert [c.text for c in name] == ["Error of indication", "示值误差"]
    used = [e.text for e in root.iter(f"{{{DCC_NS}}}usedLangCodeISO639_1")]
    assert used == ["en", "zh"]


def test_conformity_statement_is_written_when_asked() -> None:
    data = {**ADMIN, "conformity": {"stage": "in-service"}}
    doc = read_dcc(dcc_bytes(sample_result(), admin_from_mapping(data)))
    assert ("hengqi_conformityMpe", "pass") in doc.conformity  # |E| + U <= 2 x class I MPE at every load
    assert ("hengqi_conformityR76", "pass") in doc.conformity  # the laboratory's own statement


def test_admin_contradicting_the_record_is_refused() -> None:
    data = {**ADMIN, "item": {**ADMIN["item"], "max": "210 g"}}
    with pytest.raises(RecordError, match=r"item\.max: 0\.210 kg in the administrative data but 0\.220 kg"):
        dcc_bytes(sample_result(), admin_from_mapping(data))


def test_issue_date_before_the_calibration_is_refused() -> None:
    data = {**ADMIN, "certificate": {**ADMIN["certificate"], "issue_date": "2026-11-17"}}
    with pytest.raises(
        RecordError, match=r"certificate\.issue_date: 2026-11-17 is before the calibration \(2026-11-18\)"
    ):
        dcc_bytes(sample_result(), admin_from_mapping(data))


def _to_old_uncertainty_form(xml: bytes) -> bytes:
    """Rewrite the D-SI 2.2 uncertainties in the deprecated ``si:expandedUnc`` forms (D-SI 2.0.0)."""
    text = xml.decode()
    text = re.sub(
        r"<si:measurementUncertaintyUnivariateXMLList>\s*<si:expandedMUXMLList>(.*?)</si:expandedMUXMLList>\s*"
        r"</si:measurementUncertaintyUnivariateXMLList>",
        lambda m: (
            "<si:expandedUncXMLList>"
            + m.group(1).replace("valueExpandedMUXMLList", "uncertaintyXMLList")
            + "</si:expandedUncXMLList>"
        ),
        text,
        flags=re.S,
    )
    text = re.sub(
        r"<si:measurementUncertaintyUnivariate>\s*<si:expandedMU>(.*?)</si:expandedMU>\s*"
        r"</si:measurementUncertaintyUnivariate>",
        lambda m: "<si:expandedUnc>" + m.group(1).replace("valueExpandedMU", "uncertainty") + "</si:expandedUnc>",
        text,
        flags=re.S,
    )
    assert "expandedMU" not in text
    return text.replace('schemaVersion="3.3.0"', 'schemaVersion="3.0.0"').encode()


def test_reader_reads_the_deprecated_expanded_unc_form() -> None:
    result, admin = sample_result(), sample_admin()
    old = _to_old_uncertainty_form(dcc_bytes(result, admin))
    doc = read_dcc(old)
    assert doc.version == "3.0.0"
    assert doc.result == certified_result(result, admin)


def test_reader_reads_quantities_of_ptb_mass_certificate() -> None:
    """PTB's silicon-sphere DCC 3.0.0 (``si:expandedUnc``): mass 1.00007841 kg (dcc.md section 4)."""
    quantities = read_quantities(SHARED_EXAMPLES / "ptb_siliziumkugel_dcc-3.0.0.xml")
    masses = [q.value for q in quantities if q.value.unit == "\\kilogram"]
    assert any(Decimal(m.value) == Decimal("1.00007841") and m.expanded_u is not None for m in masses)
    assert all(m.coverage_factor == "2" for m in masses if m.expanded_u is not None)


def test_reader_names_what_is_missing() -> None:
    with pytest.raises(DccFormatError, match=r"itemQuantities \(line 40\): missing item quantity hengqi_maximum"):
        read_dcc(SHARED_EXAMPLES / "minimal_nawi_dcc-3.3.0.xml")  # PTB's skeleton uses example_* refTypes
    with pytest.raises(DccFormatError, match="not well-formed"):
        read_dcc(b"<dcc:digitalCalibrationCertificate")
    with pytest.raises(DccFormatError, match="root element"):
        read_dcc(b"<root/>")
    xml = dcc_bytes(sample_result(), sample_admin()).replace(b'refType="hengqi_standardUncertainty"', b"", 1)
    with pytest.raises(
        DccFormatError,
        match=r"result\[1\]/dcc:data/dcc:list \(line \d+\): missing dcc:quantity with refType hengqi_standardUnc",
    ):
        read_dcc(xml)


def test_a_bare_calibration_is_valid_and_round_trips(schema_dir: Path, tmp_path: Path) -> None:
    """Only errors of indication: no repeatability, eccentricity, curve, in-use, minimum weight, environment."""
    bare = dataclasses.replace(
        sample_result(),
        repeatability=(),
        eccentricity=None,
        error_curve=None,
        uncertainty_in_use=None,
        minimum_weights=(),
        environment=Environment(),
        weights=(),
        location="",
        operator="",
        notes=(),
    )
    admin = admin_from_mapping({**ADMIN, "methods": [], "statements": []})
    out = tmp_path / "bare.xml"
    out.write_bytes(dcc_bytes(bare, admin))
    assert validate_dcc(out, schema_dir).valid
    assert read_dcc(out).result == certified_result(bare, admin)
