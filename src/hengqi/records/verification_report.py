"""The result of ``hengqi verify`` as a JSON document (``hengqi verify --json``).

Masses are numbers in kilograms and their keys say so (``load_kg``, ``error_kg``, ``mpe_kg``); a value that is
not known (no indication read, no MPE applying to a check) is ``null``.  Numbers come from exact decimals via
the shortest float that reads back the same (exact for every value with at most 15 significant digits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.r76 import PointResult, TestResult, VerificationResult
from hengqi.metrology.rulesets import Stage
from hengqi.records.verification_models import VerificationRecord

RESULT_FORMAT = "hengqi.verification-result"
RESULT_VERSION = 1


def kg(value: Decimal | None) -> float | None:
    """A mass in kg as a JSON number (``None`` stays ``null``).

    >>> kg(Decimal("0.0025")), kg(None)
    (0.0025, None)
    """
    return None if value is None else float(value)


def point_document(point: PointResult) -> dict[str, Any]:
    """One check as JSON."""
    return {
        "label": point.label,
        "check": point.check.value,
        "load_kg": kg(point.load_kg),
        "indication_kg": kg(point.indication_kg),
        "error_kg": kg(point.error_kg),
        "corrected_error_kg": kg(point.corrected_error_kg),
        "mpe_kg": kg(point.mpe_kg),
        "value_kg": kg(point.value_kg),
        "limit_kg": kg(point.limit_kg),
        "verdict": point.verdict.value,
        "rule": point.rule,
        "message": point.message,
    }


def document_of_test(test: TestResult) -> dict[str, Any]:
    """One test as JSON."""
    return {
        "name": test.name,
        "verdict": test.verdict.value,
        "notes": list(test.notes),
        "points": [point_document(point) for point in test.points],
    }


def instrument_document(record: VerificationRecord, spec: InstrumentSpecification) -> dict[str, Any]:
    """The instrument as JSON: identity and the checked specification."""
    instrument = record.instrument
    return {
        "id": instrument.id,
        "make": instrument.make,
        "model": instrument.model,
        "serial": instrument.serial,
        "class": spec.accuracy_class.value,
        "kind": spec.kind.value,
        "max_kg": kg(spec.max_kg),
        "min_kg": kg(spec.min_kg),
        "e_kg": kg(spec.e_kg),
        "d_kg": kg(spec.d_kg),
        "ranges": [{"max_kg": kg(part.max_kg), "e_kg": kg(part.e_kg)} for part in spec.ranges],
        "supports": instrument.specification.supports,
    }


def result_document(
    record: VerificationRecord,
    spec: InstrumentSpecification,
    result: VerificationResult,
    *,
    rules: str,
    stage: Stage,
    source: str | None = None,
) -> dict[str, Any]:
    """The whole result as JSON (the contract of ``hengqi verify --json``)."""
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "record": source,
        "verdict": result.verdict.value,
        "expected_verdict": record.expected_verdict,
        "instrument": instrument_document(record, spec),
        "rules": rules,
        "stage": stage.value,
        "date": record.date.isoformat(),
        "operator": record.operator,
        "tests": [document_of_test(test) for test in result.tests],
        "failing_points": [{"test": item.test, **point_document(item.point)} for item in result.failing_points],
        "notes": list(result.notes),
    }
