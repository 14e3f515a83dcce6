"""``hengqi certificate issue | validate | verify | keygen``: files, exit codes 0 / 1 / 2, one-byte tampering."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.certificates.tamper import flip, pdf_content_byte, pdf_signature_byte, xml_content_byte, xml_signature_byte

from hengqi.certificates.dcc import read_dcc
from hengqi.cli import cli

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "examples" / "calibration" / "analytical-balance-220g.yaml"
ADMIN = ROOT / "examples" / "certificates" / "ADMIN.yaml"
SCHEMA_DIR = ROOT.parent / "shared" / "dcc" / "xsd"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("issued")
    keys = base / "keys"
    assert cli(["certificate", "keygen", "--out", str(keys), "--cn", "Li Wei", "--org", "Hengqi Mass Lab"]) == 0
    dcc, pdf = base / "c.xml", base / "c.pdf"
    args = [
        "certificate",
        "issue",
        str(RECORD),
        "--admin",
        str(ADMIN),
        "--dcc",
        str(dcc),
        "--pdf",
        str(pdf),
        "--sign",
        str(keys / "signer-key.pem"),
        "--cert",
        str(keys / "signer-cert.pem"),
        "--embed-dcc",
        "--schema-dir",
        str(SCHEMA_DIR),
    ]
    assert cli(args) == 0
    return {"dcc": dcc, "pdf": pdf, "ca": keys / "ca-cert.pem", "cert": keys / "signer-cert.pem", "base": base}


def test_issue_writes_signed_dcc_and_pdf(issued: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    doc = read_dcc(issued["dcc"])
    assert doc.signed
    assert doc.unique_identifier == "HQ-CAL-2026-0418"
    assert issued["pdf"].read_bytes().startswith(b"%PDF-")
    assert cli(["certificate", "validate", str(issued["dcc"]), "--schema-dir", str(SCHEMA_DIR)]) == 0
    assert "valid DCC 3.3.0 (xmlschema and lxml)" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["dcc", "pdf"])
def test_verify_reports_signer_and_time(issued: dict[str, Path], kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["certificate", "verify", str(issued[kind]), "--trust", str(issued["ca"])]) == 0
    out = capsys.readouterr().out
    assert "signature VALID" in out
    assert "signed by: CN=Li Wei, O=Hengqi Mass Lab" in out
    assert "signed at: 20" in out
    assert "content:   unchanged" in out
    assert "signer:    trusted" in out
    assert cli(["certificate", "verify", str(issued[kind]), "--cert", str(issued["cert"])]) == 0
    assert cli(["certificate", "verify", str(issued[kind])]) == 0
    assert "not checked (give --cert or --trust)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kind", "where"),
    [("dcc", "content"), ("dcc", "signature"), ("pdf", "content"), ("pdf", "signature")],
)
def test_one_changed_byte_fails_with_exit_1(
    issued: dict[str, Path], tmp_path: Path, kind: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = issued[kind].read_bytes()
    if kind == "dcc":
        index = xml_content_byte(data) if where == "content" else xml_signature_byte(data)
    else:
        index = pdf_content_byte(data) if where == "content" else pdf_signature_byte(data)
    bad = tmp_path / f"tampered-{issued[kind].name}"
    bad.write_bytes(flip(data, index))
    assert cli(["certificate", "verify", str(bad), "--trust", str(issued["ca"])]) == 1
    out = capsys.readouterr().out
    assert "signature INVALID" in out
    if where == "content":
        assert "CHANGED or damaged" in out


def test_other_trust_anchor_fails_with_exit_1(issued: dict[str, Path], tmp_path: Path) -> None:
    assert cli(["certificate", "keygen", "--out", str(tmp_path / "other")]) == 0
    assert cli(["certificate", "verify", str(issued["dcc"]), "--trust", str(tmp_path / "other" / "ca-cert.pem")]) == 1
    assert (
        cli(["certificate", "verify", str(issued["pdf"]), "--cert", str(tmp_path / "other" / "signer-cert.pem")]) == 1
    )


def test_invalid_dcc_fails_validation_with_exit_1(
    issued: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = issued["dcc"].read_text(encoding="utf-8")
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace("<si:coverageFactorXMLList>", "<si:coverageFactorXMLList>0.5 ", 1), encoding="utf-8")
    assert cli(["certificate", "validate", str(bad), "--schema-dir", str(SCHEMA_DIR)]) == 1
    out = capsys.readouterr().out
    assert "INVALID against DCC 3.3.0" in out
    assert "[xmlschema] line" in out
    assert "[lxml] line" in out
    assert "coverageFactorXMLList" in out


@pytest.mark.parametrize(
    "args",
    [
        ["certificate", "validate", "absent.xml", "--schema-dir", str(SCHEMA_DIR)],
        ["certificate", "validate", str(RECORD), "--schema-dir", str(SCHEMA_DIR)],  # YAML, not XML
        ["certificate", "verify", "absent.pdf"],
        ["certificate", "verify", str(RECORD)],  # neither PDF nor XML
        ["certificate", "issue", str(RECORD), "--admin", str(ADMIN)],  # no output asked for
        ["certificate", "issue", str(RECORD), "--admin", "absent.yaml", "--dcc", "x.xml"],
        ["certificate", "issue", str(RECORD), "--admin", str(ADMIN), "--dcc", "x.xml", "--sign", "k.pem"],
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hengqi: error:")
    assert "\n" not in err
    assert "Traceback" not in err


def test_missing_schema_says_where_to_get_it(
    issued: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HENGQI_DCC_SCHEMA_DIR", raising=False)
    assert cli(["certificate", "validate", str(issued["dcc"])]) == 2
    err = capsys.readouterr().err
    assert "https://www.ptb.de/dcc/" in err
    assert "dcc-3.3.0/dcc.xsd" in err
    assert "HENGQI_DCC_SCHEMA_DIR" in err
    monkeypatch.setenv("HENGQI_DCC_SCHEMA_DIR", str(SCHEMA_DIR))
    assert cli(["certificate", "validate", str(issued["dcc"])]) == 0


def test_bad_admin_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    admin = tmp_path / "admin.yaml"
    admin.write_text(ADMIN.read_text(encoding="utf-8").replace("country: CN", "country: China", 1), encoding="utf-8")
    assert cli(["certificate", "issue", str(RECORD), "--admin", str(admin), "--dcc", str(tmp_path / "c.xml")]) == 2
    assert "certificate.country" in capsys.readouterr().err


def test_unsigned_or_damaged_files_do_not_verify(
    issued: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unsigned = tmp_path / "unsigned.xml"
    assert cli(["certificate", "issue", str(RECORD), "--admin", str(ADMIN), "--dcc", str(unsigned)]) == 0
    assert cli(["certificate", "verify", str(unsigned)]) == 1
    assert "no ds:Signature" in capsys.readouterr().out
    broken = tmp_path / "broken.xml"
    broken.write_bytes(issued["dcc"].read_bytes()[:-40])  # cut off: no longer well-formed
    assert cli(["certificate", "verify", str(broken)]) == 1
    assert "damaged signed DCC" in capsys.readouterr().out
