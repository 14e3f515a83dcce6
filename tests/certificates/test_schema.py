"""Offline validation of DCCs with xmlschema and lxml against PTB's XSDs (dcc.md section 5)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from tests.certificates.conftest import SHARED_EXAMPLES

from hengqi.certificates.errors import DccFormatError, SchemaNotFoundError
from hengqi.certificates.schema import SCHEMA_DIR_ENV, validate_dcc

SKELETON = SHARED_EXAMPLES / "minimal_nawi_dcc-3.3.0.xml"


@pytest.mark.parametrize(
    "name",
    [
        "minimal_nawi_dcc-3.3.0.xml",
        "ptb_siliziumkugel_dcc-3.0.0.xml",
        "ptb_gp_temperature_typical_v12_dcc-3.2.0_signed.xml",
    ],
)
def test_ptb_examples_are_valid_in_both_engines(schema_dir: Path, name: str) -> None:
    report = validate_dcc(SHARED_EXAMPLES / name, schema_dir)
    assert report.valid, report.issues
    assert report.engines == ("xmlschema", "lxml")


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("<si:valueExpandedMU>0.00002", "<si:valueExpandedMU>-0.00002", "valueExpandedMU"),
        ("<si:coverageFactor>2</si:coverageFactor>", "<si:coverageFactor>0.5</si:coverageFactor>", "coverageFactor"),
    ],
)
def test_broken_documents_fail_in_both_engines_with_paths(
    schema_dir: Path, tmp_path: Path, old: str, new: str, element: str
) -> None:
    text = SKELETON.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    report = validate_dcc(bad, schema_dir)
    assert not report.valid
    engines = {i.engine for i in report.issues}
    assert engines == {"xmlschema", "lxml"}
    for issue in report.issues:
        assert element in issue.path
        assert issue.line is not None
        assert issue.line > 100


def test_document_is_checked_against_the_version_it_declares(schema_dir: Path, tmp_path: Path) -> None:
    """P5: the 3.3.0 skeleton declaring 3.2.0 meets the 3.2.0 XSD with D-SI 2.1.0, which has no si:expandedMU."""
    bad = tmp_path / "v.xml"
    bad.write_text(SKELETON.read_text(encoding="utf-8").replace('schemaVersion="3.3.0"', 'schemaVersion="3.2.0"'))
    report = validate_dcc(bad, schema_dir)
    assert report.version == "3.2.0"
    assert report.schema.endswith("dcc-3.2.0/dcc.xsd")
    assert not report.valid
    assert {i.engine for i in report.issues} == {"xmlschema", "lxml"}
    assert all("measurementUncertaintyUnivariate" in i.message for i in report.issues)


def test_missing_resp_persons_is_invalid(schema_dir: Path, tmp_path: Path) -> None:
    text = SKELETON.read_text(encoding="utf-8")
    start, end = text.index("<dcc:respPersons>"), text.index("</dcc:respPersons>") + len("</dcc:respPersons>")
    bad = tmp_path / "bad.xml"
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    report = validate_dcc(bad, schema_dir)
    assert {i.engine for i in report.issues} == {"xmlschema", "lxml"}
    assert any("respPersons" in i.message for i in report.issues)


def test_unknown_version_is_bad_input(schema_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "v.xml"
    bad.write_text(SKELETON.read_text(encoding="utf-8").replace('schemaVersion="3.3.0"', 'schemaVersion="9.9.9"'))
    with pytest.raises(DccFormatError, match=r"unsupported DCC version '9\.9\.9'"):
        validate_dcc(bad, schema_dir)


def test_not_xml_and_missing_file(schema_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"%PDF-1.7 not xml")
    with pytest.raises(DccFormatError, match="not well-formed XML"):
        validate_dcc(junk, schema_dir)
    with pytest.raises(DccFormatError, match="no such file"):
        validate_dcc(tmp_path / "absent.xml", schema_dir)


def test_schema_dir_from_environment_and_clear_message_when_missing(
    schema_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(schema_dir))
    assert validate_dcc(SKELETON).valid
    monkeypatch.delenv(SCHEMA_DIR_ENV)
    with pytest.raises(SchemaNotFoundError, match=r"https://www\.ptb\.de/dcc/.*dcc-3\.3\.0/dcc\.xsd"):
        validate_dcc(SKELETON)
    (tmp_path / "dcc-3.3.0").mkdir()
    with pytest.raises(SchemaNotFoundError, match=r"missing .*dcc-3\.3\.0/dcc\.xsd"):
        validate_dcc(SKELETON, tmp_path)


def test_schema_files_are_the_recorded_ones(schema_dir: Path) -> None:
    """The XSDs the tests validate against are byte-identical to those listed (with sha256) in SOURCES.md."""
    sources = (schema_dir.parent / "SOURCES.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `xsd/([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", sources, re.M)
    assert len(rows) >= 8
    for relative, digest in rows:
        assert hashlib.sha256((schema_dir / relative).read_bytes()).hexdigest() == digest, relative
