"""The verification record of a guided verification: the run's record evaluated to OIML R 76-1 (as ``hengqi
verify --json``), kept with the run and offered for download from the results page.

A passed verification also gets a verification certificate (PDF, drafted and issued by
:mod:`hengqi.server.services.guided_certificates`), which rests on this record: the verdict of each test and every
check with its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as DbSession

from hengqi.errors import HengqiError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.r76 import VerificationResult
from hengqi.records.verification import (
    VerificationRecord,
    evaluate,
    instrument_specification,
    parse_verification_record,
    result_document,
)
from hengqi.server.db.models import Run
from hengqi.server.errors import ConflictError, NotFoundError
from hengqi.server.permissions import Principal
from hengqi.server.services.base import get_scoped

RECORD_MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A run's verification record, evaluated: what the certificate and the JSON download are made of."""

    record: VerificationRecord
    spec: InstrumentSpecification
    result: VerificationResult
    document: dict[str, Any]


def evaluated(run: Run) -> Evaluated:
    """The verification record kept with ``run`` evaluated to its rules (:class:`ConflictError` when it cannot be)."""
    raw = run.raw_data.get("record") if isinstance(run.raw_data, dict) else None
    if not isinstance(raw, dict):
        raise ConflictError("the run keeps no verification record", code="run_without_record")
    try:
        record = parse_verification_record(raw)
        result = evaluate(record)
        spec = instrument_specification(record.instrument.specification)
        document = result_document(record, spec, result, rules=record.rules, stage=record.stage, source=f"run {run.id}")
    except HengqiError as err:
        raise ConflictError(f"the run's verification record cannot be evaluated: {err}", code="record_invalid") from err
    return Evaluated(record, spec, result, document)


def verification_record(session: DbSession, principal: Principal, run_record_id: int) -> dict[str, Any]:
    """The evaluated verification record of a completed verification run (``hengqi.verification-result``)."""
    run = get_scoped(session, principal, Run, run_record_id)
    if run.kind != "verification":
        raise NotFoundError("verification-record", run_record_id)
    return evaluated(run).document
