"""Robustness of ``hengqi certificate issue | validate | verify | keygen`` and of the DCC and ADMIN readers.

Defects found and fixed (regression tests below):
* ``validate`` of a DCC with a DOCTYPE and an external entity crashed with lxml's ``XMLSchemaValidateError``
  (the entity was never resolved: parsers use ``resolve_entities=False, no_network=True``); DOCTYPEs are now
  refused by ``validate`` and by :func:`read_dcc`;
* ``validate`` and :func:`read_dcc` of a file with bytes invalid in its encoding crashed with ``OSError``;
  ``validate`` of a folder said "no such file";
* :func:`read_dcc` crashed with ``ValueError``/``IndexError`` on damaged values (dates, integers, lists);
* ``keygen --days 100000000`` crashed with ``OverflowError``; ``--cn ""`` and a 1000-character ``--cn`` with
  ``ValueError``; the signer key was written world-readable and chmod-ed afterwards;
* ADMIN.yaml was read with ``yaml.safe_load``: duplicate keys silently kept the last value, alias bombs and
  deep nesting were not refused, and errors ran over several lines;
* ``issue`` crashed on a record or ADMIN text holding a control character (lxml ``ValueError``) and on a text
  too long for a page (reportlab ``LayoutError``); an empty norm made an invalid DCC (exit 1, not 2);
* ``issue`` wrote output files in place (a failure could leave half a certificate) and wrote the DCC before
  the PDF was made; files are now written through a temporary file, after everything is made.
"""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from hengqi.certificates.admin import admin_from_mapping, load_admin
from hengqi.certificates.dcc import read_dcc
from hengqi.errors import InputError, RecordError

from .conftest import EXAMPLES, GARBAGE, Hengqi, billion_laughs

CERTS = EXAMPLES / "certificates"
DCC = CERTS / "HQ-CAL-2026-0418.dcc.xml"
PDF = CERTS / "HQ-CAL-2026-0418.pdf"
ADMIN = CERTS / "ADMIN.yaml"
RECORD = EXAMPLES / "calibration" / "analytical-balance-220g.yaml"
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "dcc" / "xsd"


def _xxe(tmp_path: Path) -> tuple[Path, Path]:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42", encoding="utf-8")
    text = DCC.read_text(encoding="utf-8")
    head, _, rest = text.partition("?>")
    doc = f'{head}?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>{rest}'
    doc = doc.replace("<dcc:content", "<dcc:content>&x;</dcc:content><dcc:content", 1)
    evil = tmp_path / "evil.xml"
    evil.write_text(doc, encoding="utf-8")
    return evil, secret


def test_external_entity_is_refused_and_never_read(hengqi: Hengqi, tmp_path: Path) -> None:
    evil, _ = _xxe(tmp_path)
    result = hengqi("certificate", "validate", evil, "--schema-dir", SCHEMA_DIR)
    assert "TOPSECRET" not in result.out + result.err
    result.refused(str(evil), "DOCTYPE")
    with pytest.raises(InputError, match="DOCTYPE"):
        read_dcc(evil)
    with pytest.raises(InputError, match="DOCTYPE"):
        read_dcc(evil.read_bytes())
    verified = hengqi("certificate", "verify", evil)
    assert verified.rc == 1
    assert "TOPSECRET" not in verified.out + verified.err


def test_entity_expansion_bomb_is_refused(hengqi: Hengqi, tmp_path: Path) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    bomb = tmp_path / "lol.xml"
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><r>&i;</r>', encoding="utf-8")
    hengqi("certificate", "validate", bomb, "--schema-dir", SCHEMA_DIR).refused(str(bomb))
    hengqi("certificate", "verify", bomb).refused()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "not well-formed"),
        (b"hello", "not well-formed"),
        (b"<html><body/></html>", "not dcc:digitalCalibrationCertificate"),
        (b'<?xml version="1.0" encoding="utf-8"?><a>\xff\xfe</a>', "XML"),
        (DCC.read_bytes()[:5000], "not well-formed"),
        (b'<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>', "DOCTYPE"),  # no fetch, refused
    ],
)
def test_validate_refuses_what_is_not_a_dcc(hengqi: Hengqi, tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    hengqi("certificate", "validate", bad, "--schema-dir", SCHEMA_DIR).refused(needle)
    with pytest.raises(InputError):
        read_dcc(bad)


def test_validate_of_a_folder_says_so(hengqi: Hengqi, tmp_path: Path) -> None:
    hengqi("certificate", "validate", tmp_path, "--schema-dir", SCHEMA_DIR).refused(str(tmp_path), "is a folder")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_reported_damaged_not_a_crash(hengqi: Hengqi, tmp_path: Path, cut: float) -> None:
    data = PDF.read_bytes()
    broken = tmp_path / "cut.pdf"
    broken.write_bytes(data[: int(len(data) * cut)])
    result = hengqi("certificate", "verify", broken)
    assert result.rc == 1, result.err
    assert "INVALID" in result.out


def test_unrecognisable_file_is_named(hengqi: Hengqi, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    hengqi("certificate", "verify", blob).refused(str(blob), "neither a PDF nor an XML document")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from hengqi.cli import cli

    base = tmp_path_factory.mktemp("keys")
    for name in ("a", "b"):
        assert cli(["certificate", "keygen", "--out", str(base / name)]) == 0
    return {"base": base}


def test_keygen_writes_the_key_private_from_the_start(keys: dict[str, Path]) -> None:
    mode = stat.S_IMODE((keys["base"] / "a" / "signer-key.pem").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--days", "100000000"), "--days"),
        (("--days", "99999999999999999999"), "--days"),
        (("--days", "0"), "--days"),
        (("--cn", ""), "--cn"),
        (("--cn", "x" * 1000), "--cn"),
        (("--org", "lab\x00"), "--org"),
    ],
)
def test_keygen_refuses_out_of_range_options(hengqi: Hengqi, tmp_path: Path, args: tuple[str, ...],
                                            needle: str) -> None:  # fmt: skip
    hengqi("certificate", "keygen", "--out", tmp_path / "k", *args).refused(needle)
    assert not (tmp_path / "k" / "signer-key.pem").exists()


def test_wrong_key_material_is_refused_and_nothing_is_written(
    hengqi: Hengqi, tmp_path: Path, keys: dict[str, Path]
) -> None:
    a, b = keys["base"] / "a", keys["base"] / "b"
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    dcc, pdf = tmp_path / "c.xml", tmp_path / "c.pdf"
    for key, cert, needle in (
        (a / "signer-key.pem", b / "signer-cert.pem", "does not belong to the key"),
        (not_a_key, a / "signer-cert.pem", "not a PEM private key"),
        (a / "signer-cert.pem", a / "signer-cert.pem", "not a PEM private key"),
        (tmp_path / "absent.pem", a / "signer-cert.pem", "no such file"),
    ):
        args = ("certificate", "issue", RECORD, "--admin", ADMIN, "--dcc", dcc, "--pdf", pdf)
        hengqi(*args, "--sign", key, "--cert", cert).refused(needle)
        assert not dcc.exists()
        assert not pdf.exists()
    hengqi("certificate", "verify", DCC, "--trust", a / "signer-key.pem").refused("not an X.509 certificate")


def test_issue_keeps_an_existing_file_when_it_fails_and_leaves_no_temporary(hengqi: Hengqi, tmp_path: Path) -> None:
    old = tmp_path / "old.xml"
    old.write_text("OLD", encoding="utf-8")
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    hengqi("certificate", "issue", RECORD, "--admin", ADMIN, "--dcc", old, "--pdf", folder).refused("--pdf", "folder")
    assert old.read_text(encoding="utf-8") == "OLD"  # nothing was written: the PDF path was checked first
    assert hengqi("certificate", "issue", RECORD, "--admin", ADMIN, "--dcc", old).rc == 0
    assert old.read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.pdf", "old.xml"]


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_admin_files_are_refused_with_one_line(hengqi: Hengqi, tmp_path: Path, name: str) -> None:
    bad = tmp_path / "ADMIN.yaml"
    bad.write_bytes(GARBAGE[name])
    hengqi("certificate", "issue", RECORD, "--admin", bad, "--dcc", tmp_path / "c.xml").refused()
    assert not (tmp_path / "c.xml").exists()


def test_admin_duplicate_keys_and_alias_bombs_are_refused(tmp_path: Path) -> None:
    text = ADMIN.read_text(encoding="utf-8")
    twice = tmp_path / "twice.yaml"
    twice.write_text(text + "\ncertificate: {number: X-2}\n", encoding="utf-8")
    with pytest.raises(RecordError, match="duplicate key 'certificate'"):
        load_admin(twice)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(billion_laughs(9))
    with pytest.raises(RecordError, match="alias bomb"):
        load_admin(bomb)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@given(key=st.sampled_from(["certificate", "laboratory", "customer", "item", "persons", "languages", "issue_date"]),
       value=_JSON)  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_admin_reader_answers_any_value_with_a_record_error(key: str, value: object) -> None:
    data = yaml.safe_load(ADMIN.read_text(encoding="utf-8"))
    data[key] = value
    try:
        admin_from_mapping(data)
    except RecordError as err:
        message = str(err)
    else:
        message = ""
    assert "\n" not in message


_BAD_TEXT = st.sampled_from(["", "x", "1e400", "NaN", "-Infinity", "2026-02-30", "１２", "9" * 30, " ", "-0"])


@given(index=st.integers(min_value=1, max_value=2000), text=_BAD_TEXT, remove=st.booleans())
@settings(max_examples=300, deadline=None)
def test_dcc_reader_answers_any_damage_with_a_dcc_format_error(index: int, text: str, remove: bool) -> None:
    root = etree.fromstring(DCC.read_bytes())
    elements = list(root.iter())
    element = elements[index % len(elements)]
    if element is root:
        return
    if remove:
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)
    elif len(element) == 0:
        element.text = text
    try:
        read_dcc(etree.tostring(root))
    except InputError as err:
        message = str(err)
    else:
        message = ""
    assert "\n" not in message


def test_admin_error_with_an_odd_key_stays_on_one_line() -> None:
    data = yaml.safe_load(ADMIN.read_text(encoding="utf-8"))
    data["conformity"] = {"a\nb": 1}
    with pytest.raises(RecordError) as caught:
        admin_from_mapping(data)
    assert "\n" not in str(caught.value)
    assert "conformity['a\\nb']" in str(caught.value)


def _issue_with(tmp_path: Path, record_change: dict[str, object], admin_change: dict[str, object]) -> tuple[str, ...]:
    record = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
    admin = yaml.safe_load(ADMIN.read_text(encoding="utf-8"))
    record.update(record_change)
    admin.update(admin_change)
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(admin, allow_unicode=True), encoding="utf-8")
    return ("certificate", "issue", str(tmp_path / "r.yaml"), "--admin", str(tmp_path / "a.yaml"),
            "--dcc", str(tmp_path / "c.xml"), "--pdf", str(tmp_path / "c.pdf"))  # fmt: skip


@pytest.mark.parametrize(
    ("record_change", "admin_change", "needle"),
    [
        ({"location": "hall\x0b2"}, {}, "location: contains the control character U+000B"),
        ({}, {"customer": {"name": "ACME\x07", "address": {"city": "X", "country": "CN"}}}, "customer.name"),
        ({}, {"methods": [{"name": "R 76", "norms": [""]}]}, "methods[0].norms: an entry of this list is empty"),
        ({"location": "x" * 20_000}, {}, "too long to lay out"),
    ],
)
def test_texts_a_certificate_cannot_hold_are_refused_before_anything_is_written(
    hengqi: Hengqi, tmp_path: Path, record_change: dict[str, object], admin_change: dict[str, object], needle: str
) -> None:
    # before the fix: lxml ValueError, reportlab LayoutError (tracebacks), or an invalid DCC (exit 1)
    hengqi(*_issue_with(tmp_path, record_change, admin_change)).refused(needle)
    assert not (tmp_path / "c.xml").exists()
    assert not (tmp_path / "c.pdf").exists()


@given(
    kind=st.sampled_from(["dcc", "pdf"]),
    cut=st.floats(min_value=0.0, max_value=1.0),
    noise=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
@settings(max_examples=60, deadline=None)
# found by CI: a NUL byte mid-file, whose libxml2 message ran over two lines
@example(kind="dcc", cut=0.5, noise=[(0.5, 0)])
def test_signature_reader_answers_any_damage_with_a_report_or_an_input_error(
    kind: str, cut: float, noise: list[tuple[float, int]]
) -> None:
    from hengqi.certificates.signing import verify_file

    data = bytearray((DCC if kind == "dcc" else PDF).read_bytes())
    for where, value in noise:
        data[int(where * (len(data) - 1))] = value
    damaged = bytes(data[: max(1, int(len(data) * cut))])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"c.{'xml' if kind == 'dcc' else 'pdf'}"
        path.write_bytes(damaged)
        try:
            report = verify_file(path)
        except InputError as err:
            message = str(err)
        else:
            message = ""
            assert report.ok or report.reason
        assert "\n" not in message


def test_output_on_a_read_only_file_system_is_refused(hengqi: Hengqi) -> None:
    # /proc is read-only even for root: the temporary file cannot be made, nothing is written
    hengqi("certificate", "issue", RECORD, "--admin", ADMIN, "--dcc", "/proc/hengqi-robustness.xml").refused(
        "/proc/hengqi-robustness.xml", "cannot write"
    )
