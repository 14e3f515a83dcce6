"""Verification records: read, check and evaluate them; the result as a JSON document.

>>> record = parse_verification_record({
...     "format": "hengqi.verification-record", "version": 1,
...     "instrument": {"id": "S-1", "specification": {"class": "III", "max": "15 kg", "e": "5 g"}},
...     "operator": "A. Inspector", "date": "2026-11-25",
...     "tests": {"weighing": {"points": [{"load": "5 kg", "indication": "5.005 kg", "change_point": "3 g"}]}},
... })
>>> result = evaluate(record)
>>> result.verdict, result.tests[0].points[0].error_kg
(<Verdict.PASS: 'pass'>, Decimal('0.0045'))
>>> parse_verification_record({"format": "hengqi.verification-record", "version": 2})
Traceback (most recent call last):
...
hengqi.errors.RecordError: version: unsupported version 2 (this hengqi reads version 1)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hengqi.errors import RecordError
from hengqi.records.loading import read_yaml_file, record_error
from hengqi.records.verification_evaluation import evaluate, instrument_specification, tolerances_for
from hengqi.records.verification_models import FORMAT, VERSION, VerificationRecord
from hengqi.records.verification_report import result_document

__all__ = [
    "FORMAT",
    "VERSION",
    "VerificationRecord",
    "evaluate",
    "instrument_specification",
    "load_verification_record",
    "parse_verification_record",
    "result_document",
    "tolerances_for",
]


def parse_verification_record(data: Any) -> VerificationRecord:
    """Check parsed data (a mapping, as from YAML or JSON) against the format; :class:`RecordError` otherwise."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise RecordError("", f"a verification record is a mapping of fields (format, version, ...), got {kind}")
    if data.get("format") == FORMAT and "version" in data and data["version"] != VERSION:
        raise RecordError("version", f"unsupported version {data['version']!r} (this hengqi reads version {VERSION})")
    try:
        return VerificationRecord.model_validate(data)
    except ValidationError as err:
        raise record_error(err) from None


def load_verification_record(path: str | Path) -> VerificationRecord:
    """Read a verification record from a YAML (or JSON) file."""
    return parse_verification_record(read_yaml_file(path))
