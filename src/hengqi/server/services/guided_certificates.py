"""When a guided calibration ends: the run recorded, its certificate drafted, approved, signed and issued.

* On the last step the run's record (format ``hengqi.calibration-record``) becomes a
  :class:`~hengqi.server.db.models.Run` (``kind="calibration"``, status ``completed``), and a draft certificate
  is made with an unsigned PDF document (the DCC embedded) for the reviewer to read.
* Approval is the four-eyes step of :mod:`hengqi.server.services.certificates` (an authorised signatory other than
  the technician): the documents are rendered again naming the approver as the main signer, signed with the
  laboratory key where one is configured (``DATA_DIR/signing/signer-key.pem`` and ``signer-cert.pem``: XAdES
  enveloped signature on the DCC, CMS signature on the PDF), attached, approved and issued in one transaction.

The certificate's stored file is the PDF (with the DCC attached inside it as ``certificate.dcc.xml``); the DCC
itself is also stored, content-addressed, and its SHA-256 kept with the guided run.

A draft carries a provisional number (``DRAFT-<run record id>``) and "DRAFT" on every page; the certificate number
is drawn from the organisation's gapless sequence only in the transaction that issues it
(:mod:`hengqi.server.services.numbering`).  A reviewer may instead return the run to its technician with a comment
(:func:`return_run`): the draft is discarded, the technician corrects readings with reasons and resubmits
(:func:`resubmit`), which records the run again and makes a new draft.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hengqi.certificates.admin import AdministrativeData, admin_from_mapping
from hengqi.certificates.dcc import dcc_bytes
from hengqi.certificates.pdf import render_certificate_pdf
from hengqi.certificates.pdf.verification import render_verification_pdf
from hengqi.certificates.signing import load_signing_identity, sign_dcc, sign_pdf
from hengqi.certificates.signing.keys import SigningIdentity
from hengqi.metrology.calibration import CalibrationResult
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76 import Verdict
from hengqi.procedures.session import Session
from hengqi.procedures.state import RunState
from hengqi.records.calibration import calibrate, parse_calibration_record
from hengqi.server import audit
from hengqi.server.db.engine import Database
from hengqi.server.db.guided import GuidedRun
from hengqi.server.db.models import Certificate, Customer, Instrument, Organisation, Run, StoredFile, User, Weight
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.files import FileStore
from hengqi.server.permissions import Permission, Principal
from hengqi.server.rendering import off_process
from hengqi.server.schemas.workflow import CertificateCreate, RunCreate
from hengqi.server.services import certificates, numbering, public_check, runs, verification_records
from hengqi.server.services.base import get_scoped, update_audited
from hengqi.server.services.guided_runs import check_reason, get_run, open_session, require_performer

PDF_MEDIA_TYPE = "application/pdf"
DCC_MEDIA_TYPE = "application/xml"


def calibration_result(record: dict[str, Any]) -> CalibrationResult:
    """The evaluated calibration of a run's record (EURAMET cg-18 v4.0 via :func:`hengqi.records.calibration`)."""
    return calibrate(parse_calibration_record(record))


def result_summary(result: CalibrationResult) -> dict[str, Any]:
    """The results kept with the run for lists and charts (masses as exact decimal text in kg)."""
    return {
        "points": [
            {
                "load_kg": str(p.load_kg),
                "reference_mass_kg": str(p.reference_mass_kg),
                "indication_kg": str(p.indication_kg),
                "error_kg": str(p.error_kg),
                "U_kg": repr(p.U_kg),
                "k": p.k,
                **({} if p.range_in_use is None else {"range": p.range_in_use}),
            }
            for p in result.points
        ],
        "repeatability": [
            {"load_kg": str(r.load_kg), "readings_kg": [str(x) for x in r.readings], "s_kg": r.s_kg}
            for r in result.repeatability
        ],
        "eccentricity": None
        if result.eccentricity is None
        else {
            "load_kg": str(result.eccentricity.load_kg),
            "positions": list(result.eccentricity.positions),
            "deviations_kg": [str(x) for x in result.eccentricity.deviations_kg],
            "max_deviation_kg": str(result.eccentricity.max_deviation_kg),
        },
    }


@dataclass(frozen=True, slots=True)
class Finalised:
    run_record_id: int | None
    certificate_id: int | None


def _user_name(session: DbSession, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        return f"user {user_id}"
    return user.full_name or user.username


#: What a draft names while the instrument has no registered owner (approval is refused until it has one).
UNREGISTERED_CUSTOMER: dict[str, Any] = {
    "name": {"en": "(owner of the instrument not registered)", "zh": "（器具所有者未登记）"},
    "address": {"city": "—", "country": "CN"},
}


def customer_of(session: DbSession, instrument: Instrument) -> dict[str, Any] | None:
    """The certificate's customer: the instrument's owner with its address (ISO/IEC 17025:2017, 7.8.2.1 e;
    SECONDARY), or ``None`` when no owner is registered."""
    owner = session.get(Customer, instrument.owner_id) if instrument.owner_id is not None else None
    if owner is None:
        return None
    name = {"en": owner.name, **({"zh": owner.name_zh} if owner.name_zh else {})}
    address = {
        key: value
        for key, value in (
            ("street", owner.street),
            ("street_no", owner.street_no),
            ("post_code", owner.post_code),
            ("city", owner.city),
            ("state", owner.state),
            ("country", owner.country),
        )
        if value
    }
    customer: dict[str, Any] = {"name": name, "address": address}
    if owner.email:
        customer["email"] = owner.email
    if owner.phone:
        customer["phone"] = owner.phone
    return customer


#: The address a draft shows while the laboratory's own is not entered (approval is refused until it is).
UNREGISTERED_ADDRESS: dict[str, str] = {"city": "(address not entered 地址未登记)", "country": "CN"}


def laboratory_of(organisation: Organisation | None) -> dict[str, Any] | None:
    """The certificate's laboratory: the organisation's name with its address (ISO/IEC 17025:2017, 7.8.2.1 b;
    SECONDARY), or ``None`` while its city or country is not entered."""
    if organisation is None or not organisation.city or not organisation.country:
        return None
    name = {"en": organisation.name, **({"zh": organisation.name_zh} if organisation.name_zh else {})}
    address = {
        key: value
        for key, value in (
            ("street", organisation.street),
            ("street_no", organisation.street_no),
            ("post_code", organisation.post_code),
            ("city", organisation.city),
            ("state", organisation.state),
            ("country", organisation.country),
        )
        if value
    }
    return {"name": name, "address": address}


def admin_data(
    session: DbSession,
    instrument: Instrument,
    number: str,
    *,
    technician: str,
    signer: str | None,
    on: date,
    kind: str = "calibration",
) -> AdministrativeData:
    """The certificate's administrative data from the registry (laboratory = the instrument's organisation);
    ``kind`` is ``calibration`` or ``verification`` (the technician's role as printed)."""
    organisation = session.get(Organisation, instrument.organisation_id)
    laboratory = laboratory_of(organisation) or {
        "name": organisation.name if organisation is not None else "Calibration laboratory",
        "address": UNREGISTERED_ADDRESS,
    }
    persons: list[dict[str, Any]] = [
        {
            "name": signer or "(to be approved)",
            "role": {"en": "Authorised signatory", "zh": "授权签字人"},
            "main_signer": True,
        },
        {
            "name": technician,
            "role": {"en": "Verification officer", "zh": "检定员"}
            if kind == "verification"
            else {"en": "Calibration technician", "zh": "校准员"},
        },
    ]
    item: dict[str, Any] = {
        "name": {"en": "Non-automatic weighing instrument", "zh": "非自动衡器"},
        "manufacturer": instrument.make,
        "model": instrument.model,
        "serial_number": instrument.serial,
        "max": format_mass(instrument.max_kg),
        "d": format_mass(instrument.d_kg),
        "e": format_mass(instrument.e_kg),
        "class": instrument.accuracy_class,
    }
    if instrument.min_kg > 0:
        item["min"] = format_mass(instrument.min_kg)
    return admin_from_mapping(
        {
            "certificate": {"number": number, "issue_date": on.isoformat(), "performance_location": "laboratory"},
            "laboratory": laboratory,
            "customer": customer_of(session, instrument) or UNREGISTERED_CUSTOMER,
            "item": item,
            "persons": persons,
            "methods": [
                {
                    "name": {"en": "Calibration of non-automatic weighing instruments", "zh": "非自动衡器校准"},
                    "norms": ["EURAMET Calibration Guide No. 18, Version 4.0 (11/2015)"],
                }
            ],
        },
        source="certificate administrative data",
    )


def render(
    result: CalibrationResult,
    admin: AdministrativeData,
    identity: SigningIdentity | None,
    *,
    draft: bool = False,
    verify_url: str | None = None,
) -> tuple[bytes, bytes]:
    """The DCC (XML) and the PDF (with the DCC attached), signed with ``identity`` where given; a ``draft``
    PDF says DRAFT on every page; ``verify_url`` is printed on the PDF with its QR code (before signing, so the
    signature covers it)."""
    xml = dcc_bytes(result, admin)
    if identity is not None:
        xml = sign_dcc(xml, identity)
    pdf = off_process(
        render_certificate_pdf,
        result,
        admin,
        dcc_xml=xml,
        will_be_signed=identity is not None,
        draft=draft,
        verify_url=verify_url,
    )
    if identity is not None:
        pdf = sign_pdf(pdf, identity, reason=f"Calibration certificate {admin.certificate.number}")
    return xml, pdf


def render_verification(
    evaluation: verification_records.Evaluated,
    admin: AdministrativeData,
    identity: SigningIdentity | None,
    *,
    draft: bool = False,
    verify_url: str | None = None,
) -> bytes:
    """The verification certificate PDF (the evaluated record attached as JSON), signed with ``identity`` where
    given; a ``draft`` says DRAFT on every page; ``verify_url``: the public verification link printed with its QR."""
    pdf = off_process(
        render_verification_pdf,
        evaluation.record,
        evaluation.spec,
        evaluation.result,
        admin,
        result_json=json.dumps(evaluation.document, ensure_ascii=False, indent=2).encode(),
        will_be_signed=identity is not None,
        draft=draft,
        verify_url=verify_url,
    )
    if identity is not None:
        pdf = sign_pdf(pdf, identity, reason=f"Verification certificate {admin.certificate.number}")
    return pdf


def signing_identity(data_dir: Path) -> SigningIdentity | None:
    """The laboratory's signing key and certificate in ``DATA_DIR/signing/``, if configured."""
    key, cert = data_dir / "signing" / "signer-key.pem", data_dir / "signing" / "signer-cert.pem"
    if key.is_file() and cert.is_file():
        return load_signing_identity(key, cert)
    return None


def _store(session: DbSession, files: FileStore, content: bytes, media_type: str) -> str:
    digest = files.put(content)
    if session.get(StoredFile, digest) is None:
        session.add(StoredFile(sha256=digest, size=len(content), media_type=media_type))
        session.flush()
    return digest


def finalise(database: Database, files: FileStore, principal: Principal, run_id: str, run: Session) -> Finalised:
    """Record an ended run once: a finished calibration becomes a Run and a draft certificate."""
    with database.write_session() as session:
        row = session.scalar(select(GuidedRun).where(GuidedRun.run_id == run_id))
        if row is None:
            raise NotFoundError("guided-run", run_id)
        if row.finished_at is not None:
            return Finalised(row.run_record_id, row.certificate_id)
        row.finished_at = utcnow()
        row.status = run.status
        product = run.product
        if run.status != "finished" or product is None:
            session.commit()
            return Finalised(None, None)
        record = dict(product.record)
        if row.kind == "verification":
            return _record_verification(session, files, principal, row=row, run=run, record=record)
        results: dict[str, Any] = {"summary": list(product.summary), "error": product.error}
        result: CalibrationResult | None = None
        if product.error is None:
            result = calibration_result(record)
            results.update(result_summary(result))
        weight_ids = list(
            session.scalars(
                select(Weight.id).where(Weight.weight_set_id == row.weight_set_id, Weight.deleted_at.is_(None))
            )
        )
        performed = date.fromisoformat(str(record.get("date", date.today().isoformat())))
        run_record = runs.create_run(
            session,
            principal,
            RunCreate(
                instrument_id=row.instrument_id,
                kind="calibration",
                status="completed",
                performed_on=performed,
                weight_ids=weight_ids,
                raw_data={"record": record, "guided_run": run_id},
                results=results,
            ),
        )
        row.run_record_id = run_record.id
        if result is None:
            row.problem = product.error or ""
            session.commit()
            return Finalised(run_record.id, None)
        instrument = get_scoped(session, principal, Instrument, row.instrument_id)
        number = f"{numbering.DRAFT_PREFIX}{run_record.id}"
        certificate = certificates.create_certificate(
            session,
            principal,
            CertificateCreate(number=number, kind="calibration", instrument_id=instrument.id, run_id=run_record.id),
        )
        admin = admin_data(
            session, instrument, number, technician=_user_name(session, row.started_by_id), signer=None, on=date.today()
        )
        xml, pdf = render(result, admin, None, draft=True)
        row.dcc_sha256 = _store(session, files, xml, DCC_MEDIA_TYPE)
        certificates.attach_file(
            session,
            principal,
            files,
            certificate.id,
            content=pdf,
            name=f"{number}-draft.pdf",
            media_type=PDF_MEDIA_TYPE,
        )
        row.certificate_id = certificate.id
        session.commit()
        return Finalised(run_record.id, certificate.id)


def _record_verification(
    session: DbSession, files: FileStore, principal: Principal, *, row: GuidedRun, run: Session, record: dict[str, Any]
) -> Finalised:
    """A finished verification becomes a Run with its verdict and every check; a passed one also gets a draft
    verification certificate."""
    product = run.product
    if product is None:  # pragma: no cover - the caller records finished runs only
        raise ConflictError("the run has not produced a record", code="run_without_record")
    final = dict(run.live)  # a check yielded again later replaces its earlier value
    results: dict[str, Any] = {
        "passed": product.passed,
        "summary": list(product.summary),
        "error": product.error,
        "checks": [value.as_json() for value in final.values()],
    }
    performed = date.fromisoformat(str(record.get("date", date.today().isoformat())))
    run_record = runs.create_run(
        session,
        principal,
        RunCreate(
            instrument_id=row.instrument_id,
            kind="verification",
            status="completed",
            performed_on=performed,
            weight_ids=list(
                session.scalars(
                    select(Weight.id).where(Weight.weight_set_id == row.weight_set_id, Weight.deleted_at.is_(None))
                )
            ),
            raw_data={"record": record, "guided_run": row.run_id},
            results=results,
        ),
    )
    row.run_record_id = run_record.id
    row.problem = product.error or ""
    certificate_id = None
    if product.passed and product.error is None:
        certificate_id = _draft_verification_certificate(session, files, principal, row, run_record)
    session.commit()
    return Finalised(run_record.id, certificate_id)


def _draft_verification_certificate(
    session: DbSession, files: FileStore, principal: Principal, row: GuidedRun, run_record: Run
) -> int | None:
    """A passed verification's draft certificate (provisional number, DRAFT on every page), when the record
    evaluates to a pass; ``None`` (the reason kept as the run's problem) otherwise."""
    try:
        evaluation = verification_records.evaluated(run_record)
    except ConflictError as err:
        row.problem = err.message
        return None
    if evaluation.result.verdict is not Verdict.PASS:
        return None
    instrument = get_scoped(session, principal, Instrument, row.instrument_id)
    number = f"{numbering.DRAFT_PREFIX}{run_record.id}"
    certificate = certificates.create_certificate(
        session,
        principal,
        CertificateCreate(number=number, kind="verification", instrument_id=instrument.id, run_id=run_record.id),
    )
    admin = admin_data(
        session,
        instrument,
        number,
        technician=_user_name(session, row.started_by_id),
        signer=None,
        on=date.today(),
        kind="verification",
    )
    pdf = render_verification(evaluation, admin, None, draft=True)
    certificates.attach_file(
        session, principal, files, certificate.id, content=pdf, name=f"{number}-draft.pdf", media_type=PDF_MEDIA_TYPE
    )
    row.certificate_id = certificate.id
    return certificate.id


def guided_run_of_certificate(session: DbSession, certificate_id: int) -> GuidedRun | None:
    return session.scalar(select(GuidedRun).where(GuidedRun.certificate_id == certificate_id))


def _not_a_recorder(principal: Principal, guided: GuidedRun) -> None:
    """Four-eyes rule over the whole run: whoever started it or recorded any of its steps (before a take-over,
    say) does not approve it."""
    recorders = {record.by for record in RunState.loads(guided.state, source=guided.run_id).results}
    if principal.user_id == guided.started_by_id or principal.username in recorders:
        raise PermissionDeniedError(
            "four-eyes rule: the certificate must be approved by someone who recorded no step of its run",
            details={"rule": "four_eyes"},
        )


def approve_and_issue(
    database: Database,
    files: FileStore,
    principal: Principal,
    certificate_id: int,
    data_dir: Path,
    *,
    verify_base: str | None = None,
) -> Certificate:
    """Four-eyes approval: re-render naming the approver, sign, attach, approve and issue (one transaction).
    With ``verify_base`` (the server's public address) the PDF carries the link to, and QR code of, the
    certificate's public verification page (``/web/verify/{organisation}/{number}``).

    The four-eyes rule is enforced by :func:`hengqi.server.services.certificates.approve`; when it refuses,
    nothing of this transaction is committed.
    """
    with database.write_session() as session:
        certificate = get_scoped(session, principal, Certificate, certificate_id, for_update=True)
        if certificate.status != "draft":
            raise ConflictError(
                f"certificate {certificate.number} is {certificate.status}; only a draft can be approved",
                code="certificate_not_draft",
            )
        guided = guided_run_of_certificate(session, certificate_id)
        run_record = session.get(Run, certificate.run_id) if certificate.run_id is not None else None
        if guided is None or run_record is None:
            raise ConflictError("this certificate was not made by a guided run", code="not_guided")
        _not_a_recorder(principal, guided)
        instrument = get_scoped(session, principal, Instrument, certificate.instrument_id)
        if laboratory_of(session.get(Organisation, certificate.organisation_id)) is None:
            raise ConflictError(
                "the laboratory's own address is not entered: an administrator enters at least its city and country "
                "(organisation settings) before certificates are issued (the certificate names the laboratory)",
                code="laboratory_address_missing",
            )
        if customer_of(session, instrument) is None:
            raise ConflictError(
                "the instrument has no registered owner: register the customer with its address and set it as the "
                "instrument's owner before issuing (the certificate names the customer)",
                code="customer_missing",
            )
        verification = certificate.kind == "verification"
        number = certificate.number
        if numbering.is_provisional(number):  # drawn now, in the issuing transaction: no gap on a rollback
            year = date.today().year
            prefix = numbering.verification_prefix(year) if verification else numbering.calibration_prefix(year)
            number = numbering.draw_number(session, certificate.organisation_id, prefix)
            update_audited(session, principal, certificate, {"number": number}, what="certificate number")
        admin = admin_data(
            session,
            instrument,
            number,
            technician=_user_name(session, run_record.performed_by_id),
            signer=_user_name(session, principal.user_id),
            on=date.today(),
            kind=certificate.kind,
        )
        link = None
        if verify_base is not None:
            link = verify_base + public_check.verify_path(certificate.organisation_id, number)
        if verification:
            pdf = render_verification(
                verification_records.evaluated(run_record), admin, signing_identity(data_dir), verify_url=link
            )
        else:
            result = calibration_result(dict(run_record.raw_data["record"]))
            xml, pdf = render(result, admin, signing_identity(data_dir), verify_url=link)
            guided.dcc_sha256 = _store(session, files, xml, DCC_MEDIA_TYPE)
        certificates.attach_file(
            session,
            principal,
            files,
            certificate.id,
            content=pdf,
            name=f"{certificate.number}.pdf",
            media_type=PDF_MEDIA_TYPE,
        )
        certificates.approve(session, principal, certificate.id)
        issued = certificates.issue(session, principal, certificate.id)
        session.commit()
        return issued


def dcc_of(
    session: DbSession, files: FileStore, principal: Principal, certificate_id: int
) -> tuple[Certificate, bytes]:
    """The certificate's DCC (XML) as last rendered."""
    certificate = get_scoped(session, principal, Certificate, certificate_id)
    guided = guided_run_of_certificate(session, certificate_id)
    if guided is None or guided.dcc_sha256 is None:
        raise NotFoundError("certificate-dcc", certificate_id)
    return certificate, files.get(guided.dcc_sha256)


# -- review: return to the technician, resubmit ---------------------------------------------------------------
def return_run(database: Database, principal: Principal, run_id: str, comment: str) -> None:
    """A reviewer sends a finished run back to its technician with a comment (the draft certificate is
    discarded, the run record marked ``returned``); recorded in the audit trail."""
    principal.require(Permission.APPROVE_CERTIFICATE)
    text = check_reason(comment, "comment")
    with database.write_session() as session:
        row = get_run(session, principal, run_id)
        if row.organisation_id != principal.organisation_id:
            raise PermissionDeniedError("a run is reviewed only within its own organisation")
        if row.finished_at is None or row.status != "finished" or row.review_status == "returned":
            raise ConflictError("only a finished run waiting for review can be returned", code="run_not_in_review")
        if row.performer == principal.user_id:
            raise PermissionDeniedError("four-eyes rule: a run is reviewed by someone other than its technician")
        if row.certificate_id is not None:
            certificate = get_scoped(session, principal, Certificate, row.certificate_id, for_update=True)
            if certificate.status != "draft":
                raise ConflictError(
                    f"certificate {certificate.number} is {certificate.status}; only a draft's run can be returned",
                    code="certificate_not_draft",
                )
            certificates.delete_draft(session, principal, certificate.id)
            row.certificate_id = None
        if row.run_record_id is not None:
            record = get_scoped(session, principal, Run, row.run_record_id)
            update_audited(session, principal, record, {"status": "returned"}, what="run", action="return")
        audit.record(
            session,
            actor=principal.actor,
            action="return",
            entity="guided_runs",
            entity_id=run_id,
            organisation_id=row.organisation_id,
            old={"review_status": row.review_status},
            new={"review_status": "returned", "comment": text},
        )
        row.review_status, row.review_comment = "returned", text
        session.commit()


def resubmit(database: Database, files: FileStore, principal: Principal, run_id: str) -> Finalised:
    """The technician sends a returned run (corrected) for review again: recorded anew, with a new draft."""
    with database.write_session() as session:
        row = get_run(session, principal, run_id)
        require_performer(principal, row)
        if row.review_status != "returned":
            raise ConflictError("only a run returned by a reviewer is resubmitted", code="run_not_returned")
        audit.record(
            session,
            actor=principal.actor,
            action="resubmit",
            entity="guided_runs",
            entity_id=run_id,
            organisation_id=row.organisation_id,
            old={"review_status": "returned"},
            new={"review_status": "resubmitted"},
        )
        row.review_status, row.finished_at, row.run_record_id = "resubmitted", None, None
        session.commit()
    return finalise(database, files, principal, run_id, open_session(database, run_id))
