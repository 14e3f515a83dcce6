"""``hengqi certificate``: issue, validate, sign and verify calibration certificates (DCC XML and PDF).

* ``issue RECORD --admin ADMIN.yaml --dcc out.xml --pdf out.pdf [--sign KEY --cert CERT] [--embed-dcc]``
  evaluates a calibration record (``hengqi.records.calibration``) and writes the DCC 3.3.0 and/or the PDF;
  with ``--sign`` both are signed with the laboratory key (DCC: XAdES enveloped signature; PDF: CMS signature).
* ``verification RECORD --admin ADMIN.yaml --pdf out.pdf [--sign KEY --cert CERT] [--draft]`` evaluates a
  verification record (``hengqi.records.verification``) and writes its verification certificate (a passed
  verification) or notice of the result (a failed one) as PDF, the evaluated result attached as JSON.
* ``validate FILE [--schema-dir DIR] [--max-size MiB]`` checks a DCC against PTB's XSD with xmlschema and lxml,
  offline.
* ``verify FILE [--cert CERT | --trust CA] [--max-size MiB]`` checks the signature of a DCC or PDF; ``--cert``
  pins the signer's own certificate, ``--trust`` names CA certificates it must chain to.
* A DCC larger than ``--max-size`` (default 20 MiB) is refused before it is parsed (exit 2).
* ``keygen --out DIR [--cn NAME] [--org NAME]`` writes a test CA, a signer key and certificate.

Exit status: 0 valid / done, 1 invalid or tampered, 2 bad input (one line on stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hengqi.certificates.limits import MAX_DCC_BYTES, MIB
from hengqi.cli.files import write_atomic
from hengqi.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAIL, EXIT_INVALID = 0, 1, 2


@click.group("certificate")
def certificate() -> None:
    """Digital Calibration Certificates (PTB DCC 3.3.0) and signed PDF certificates."""


def _write(path: Path, data: bytes) -> None:
    """Write an output file atomically (a temporary file renamed): a failure never leaves half a certificate."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as err:
        raise InputError(str(path), f"cannot write ({err.strerror or err})") from err


@certificate.command("issue")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--admin", "admin_path", required=True, type=click.Path(path_type=Path), help="ADMIN.yaml")
@click.option("--dcc", "dcc_path", type=click.Path(path_type=Path), help="write the DCC (XML) here")
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="write the PDF certificate here")
@click.option("--sign", "key_path", type=click.Path(path_type=Path), help="laboratory private key (PEM)")
@click.option("--cert", "cert_path", type=click.Path(path_type=Path), help="the key's X.509 certificate (PEM)")
@click.option("--embed-dcc", is_flag=True, help="attach the DCC to the PDF as certificate.dcc.xml")
@click.option("--schema-dir", type=click.Path(path_type=Path), help="validate the DCC before writing it")
def issue(  # noqa: PLR0917 - one parameter per click option
    record: Path,
    admin_path: Path,
    dcc_path: Path | None,
    pdf_path: Path | None,
    key_path: Path | None,
    cert_path: Path | None,
    embed_dcc: bool,
    schema_dir: Path | None,
) -> int:
    """Issue the certificate of a calibration RECORD as DCC and/or PDF."""
    from hengqi.certificates.admin import load_admin
    from hengqi.certificates.dcc import dcc_bytes
    from hengqi.certificates.pdf import render_certificate_pdf
    from hengqi.certificates.signing import load_signing_identity, sign_dcc, sign_pdf
    from hengqi.records.calibration import calibrate, load_calibration_record

    if dcc_path is None and pdf_path is None:
        raise InputError("issue", "give --dcc and/or --pdf")
    if (key_path is None) != (cert_path is None):
        raise InputError("--sign/--cert", "signing needs both the key (--sign) and its certificate (--cert)")
    for option, output in (("--dcc", dcc_path), ("--pdf", pdf_path)):
        if output is not None and output.is_dir():  # found now, not after the other file was written
            raise InputError(option, f"{output} is a folder; give a file name")
    result = calibrate(load_calibration_record(record))
    admin = load_admin(admin_path)
    identity = load_signing_identity(key_path, cert_path) if key_path and cert_path else None
    xml = dcc_bytes(result, admin)
    if identity is not None:
        xml = sign_dcc(xml, identity)
    if schema_dir is not None and dcc_path is not None:
        import tempfile

        from hengqi.certificates.schema import validate_dcc

        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "dcc.xml"
            probe.write_bytes(xml)
            report = validate_dcc(probe, schema_dir)
        if not report.valid:
            for issue_ in report.issues:
                click.echo(f"hengqi: {issue_}", err=True)
            return EXIT_FAIL
    pdf = None
    if pdf_path is not None:  # everything is made before anything is written: no half-issued certificate
        pdf = render_certificate_pdf(
            result, admin, dcc_xml=xml if embed_dcc else None, will_be_signed=identity is not None
        )
        if identity is not None:
            pdf = sign_pdf(
                pdf,
                identity,
                reason=f"Calibration certificate {admin.certificate.number}",
                location=admin.laboratory.address.city,
            )
    if dcc_path is not None:
        _write(dcc_path, xml)
        click.echo(f"DCC {admin.certificate.number} -> {dcc_path}{' (signed)' if identity else ''}")
    if pdf_path is not None and pdf is not None:
        _write(pdf_path, pdf)
        click.echo(f"PDF {admin.certificate.number} -> {pdf_path}{' (signed)' if identity else ''}")
    return EXIT_OK


@certificate.command("verification")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--admin", "admin_path", required=True, type=click.Path(path_type=Path), help="ADMIN.yaml")
@click.option("--pdf", "pdf_path", required=True, type=click.Path(path_type=Path), help="write the PDF here")
@click.option("--sign", "key_path", type=click.Path(path_type=Path), help="laboratory private key (PEM)")
@click.option("--cert", "cert_path", type=click.Path(path_type=Path), help="the key's X.509 certificate (PEM)")
@click.option("--draft", is_flag=True, help="mark every page DRAFT (not with --sign)")
def verification(  # noqa: PLR0917 - one parameter per click option
    record: Path, admin_path: Path, pdf_path: Path, key_path: Path | None, cert_path: Path | None, draft: bool
) -> int:
    """Issue the verification certificate (or notice of the result) of a verification RECORD as PDF."""
    import json

    from hengqi.certificates.admin import load_admin
    from hengqi.certificates.pdf.verification import render_verification_pdf
    from hengqi.certificates.signing import load_signing_identity, sign_pdf
    from hengqi.records.verification import (
        evaluate,
        instrument_specification,
        load_verification_record,
        result_document,
    )

    if (key_path is None) != (cert_path is None):
        raise InputError("--sign/--cert", "signing needs both the key (--sign) and its certificate (--cert)")
    if draft and key_path is not None:
        raise InputError("--draft", "a draft is not signed; leave out --sign or --draft")
    if pdf_path.is_dir():
        raise InputError("--pdf", f"{pdf_path} is a folder; give a file name")
    parsed = load_verification_record(record)
    admin = load_admin(admin_path)
    identity = load_signing_identity(key_path, cert_path) if key_path and cert_path else None
    result = evaluate(parsed)
    spec = instrument_specification(parsed.instrument.specification)
    document = result_document(parsed, spec, result, rules=parsed.rules, stage=parsed.stage, source=record.name)
    pdf = render_verification_pdf(
        parsed,
        spec,
        result,
        admin,
        result_json=json.dumps(document, ensure_ascii=False, indent=2).encode(),
        will_be_signed=identity is not None,
        draft=draft,
    )
    if identity is not None:
        pdf = sign_pdf(
            pdf,
            identity,
            reason=f"Verification certificate {admin.certificate.number}",
            location=admin.laboratory.address.city,
        )
    _write(pdf_path, pdf)
    click.echo(
        f"PDF {admin.certificate.number} ({result.verdict.value}) -> {pdf_path}{' (signed)' if identity else ''}"
    )
    return EXIT_OK


def max_size_option(func: F) -> F:
    """``--max-size MiB``: the largest DCC read (refused before parsing above it)."""
    return click.option(
        "--max-size",
        type=click.IntRange(1, 4096),
        default=MAX_DCC_BYTES // MIB,
        show_default=True,
        metavar="MiB",
        help="refuse a DCC larger than this, before parsing it",
    )(func)


@certificate.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--schema-dir", type=click.Path(path_type=Path), help="folder of PTB's XSDs ($HENGQI_DCC_SCHEMA_DIR)")
@max_size_option
def validate(file: Path, schema_dir: Path | None, max_size: int) -> int:
    """Validate a DCC against PTB's XSD (xmlschema and lxml, offline)."""
    from hengqi.certificates.schema import validate_dcc

    report = validate_dcc(file, schema_dir, max_bytes=max_size * MIB)
    if report.valid:
        click.echo(f"{file}: valid DCC {report.version} ({' and '.join(report.engines)})")
        return EXIT_OK
    click.echo(f"{file}: INVALID against DCC {report.version} ({len(report.issues)} problems)")
    for item in report.issues:
        click.echo(f"  {item}")
    return EXIT_FAIL


@certificate.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cert", "cert_path", type=click.Path(path_type=Path), help="pin the signer's certificate")
@click.option("--trust", "trust_path", type=click.Path(path_type=Path), help="trusted CA certificate(s), PEM")
@max_size_option
def verify(file: Path, cert_path: Path | None, trust_path: Path | None, max_size: int) -> int:
    """Verify the signature of a DCC (XML) or PDF certificate (--cert: the signer's own certificate, pinned)."""
    from hengqi.certificates.signing import verify_file

    if cert_path is not None and trust_path is not None:
        raise InputError("--cert/--trust", "give one of --cert and --trust")
    report = verify_file(file, cert=cert_path, trust=trust_path, max_bytes=max_size * MIB)
    signer = (
        ", ".join(
            x
            for x in (
                f"CN={report.signer_cn}" if report.signer_cn else "",
                f"O={report.signer_o}" if report.signer_o else "",
            )
            if x
        )
        or "unknown"
    )
    when = report.signing_time.isoformat() if report.signing_time else "not stated"
    content = "unchanged" if report.intact else "CHANGED or damaged"
    click.echo(f"{file}: {report.kind.upper()} signature {'VALID' if report.ok else 'INVALID'}")
    click.echo(f"  signed by: {signer}")
    click.echo(f"  signed at: {when}")
    click.echo(f"  content:   {content}{'' if report.whole_document or not report.intact else ' (partly signed)'}")
    trust = {True: "trusted", False: "NOT trusted", None: "not checked (give --cert or --trust)"}[report.trusted]
    click.echo(f"  signer:    {trust}")
    if report.reason:
        click.echo(f"  reason:    {report.reason}")
    return EXIT_OK if report.ok else EXIT_FAIL


@certificate.command("keygen")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="folder for the key files")
@click.option("--cn", default="hengqi test signer", show_default=True, help="signer's common name")
@click.option("--org", default="hengqi test laboratory", show_default=True, help="signer's organisation")
@click.option("--days", default=365, show_default=True, type=int, help="validity in days")
def keygen(out_dir: Path, cn: str, org: str, days: int) -> int:
    """Make a TEST CA, signer key and certificate (for trying signing out; not for real certificates)."""
    from hengqi.certificates.signing import make_test_keys

    try:
        keys = make_test_keys(out_dir, cn=cn, org=org, days=days)
    except InputError as err:
        if err.path in ("days", "cn", "org"):  # name the option, as typed
            raise InputError(f"--{err.path}", err.reason) from err
        raise
    click.echo(f"test CA certificate: {keys.ca_cert}")
    click.echo(f"signer key:          {keys.signer_key}")
    click.echo(f"signer certificate:  {keys.signer_cert}")
    click.echo(
        f"sign:   hengqi certificate issue RECORD --admin ADMIN.yaml --dcc c.xml --sign {keys.signer_key} "
        f"--cert {keys.signer_cert}"
    )
    click.echo(f"verify: hengqi certificate verify c.xml --trust {keys.ca_cert}")
    return EXIT_OK


COMMANDS = (certificate,)
