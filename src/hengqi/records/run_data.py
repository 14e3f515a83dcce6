"""What a run stores: its raw data (``run-raw-data``) and its results (``run-results``), checked before storage.

A run kept by the platform carries two JSON documents.  Both are checked against these models before they are
stored (``hengqi schema run-raw-data`` / ``run-results`` print their JSON Schemas), so that what is stored can
always be read back, listed, exported and drawn:

* every number is finite (no NaN, no infinity, nothing that overflows a float such as ``1e400``);
* decimal values (``load_kg``, ``error_kg``, ``U_kg``, ...) are decimal text or numbers within
  :data:`MAX_MAGNITUDE`, kept as exact text;
* unknown fields are refused (free values go under ``results.values``, free text under ``raw_data.notes``);
* documents nest at most :data:`MAX_DEPTH` levels and hold at most :data:`MAX_NODES` values;
* a procedure's record under ``raw_data.record`` is checked against its own format (``hengqi.calibration-record``
  or ``hengqi.verification-record``), except when the run's results say why it could not be evaluated
  (``results.error``): that record is kept as it was measured (nothing measured is lost), within the same limits.

Every failure is a :class:`~hengqi.errors.RecordError` naming the field path
(``results.points[0].load_kg: not a decimal number: 'abc'``).

>>> check_run_data({"loads": [{"load": "2 kg", "indication": "2.001 kg"}]}, {"points": []})[0]["loads"][0]["load"]
'2 kg'
>>> check_run_data({}, {"points": [{"load_kg": "abc", "error_kg": "0", "U_kg": "0"}]})
Traceback (most recent call last):
...
hengqi.errors.RecordError: results.points[0].load_kg: not a decimal number: 'abc'
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from hengqi.errors import InputError, RecordError
from hengqi.records.loading import record_error

#: Deepest nesting of a stored document (the document itself is level 1).
MAX_DEPTH: Final = 32
#: Most values (objects, arrays, scalars) in one stored document.
MAX_NODES: Final = 200_000
#: Largest magnitude of a decimal value (kg, or a plain number): beyond any weighing instrument.
MAX_MAGNITUDE: Final = Decimal(10) ** 15
#: Longest text value.
MAX_TEXT: Final = 100_000

RECORD_FORMATS: Final = ("hengqi.calibration-record", "hengqi.verification-record")


def _decimal_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a decimal number (text or number), got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or infinity)")
    text = value.strip() if isinstance(value, str) else repr(value)
    if len(text) > 60:
        raise ValueError("is too long for a decimal number (at most 60 characters)")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not number.is_finite():
        raise ValueError("must be a finite number (not NaN or infinity)")
    if abs(number) >= MAX_MAGNITUDE:
        raise ValueError(f"magnitude must be below {MAX_MAGNITUDE:.0E}")
    return text


def _finite(value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or infinity)")
    if abs(value) >= MAX_MAGNITUDE:
        raise ValueError(f"magnitude must be below {MAX_MAGNITUDE:.0E}")
    return value


#: A decimal value kept as exact text: ``"0.0002"``, ``"-1.5E-7"``; a JSON number is accepted and kept as its text.
DecimalText = Annotated[
    str,
    BeforeValidator(_decimal_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"},
                {"type": "number"},
            ],
            "description": f"a finite decimal number, magnitude below {MAX_MAGNITUDE:.0E}; kept as exact text",
        }
    ),
]
#: A finite JSON number (a coverage factor, a standard deviation as a float).
FiniteNumber = Annotated[float | int, BeforeValidator(_finite), WithJsonSchema({"type": "number"})]
Text = Annotated[str, Field(max_length=2000)]
LongText = Annotated[str, Field(max_length=MAX_TEXT)]
Scalar = Annotated[str, Field(max_length=2000)] | bool | FiniteNumber | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- raw data ---------------------------------------------------------------------------------------------------
class LoadReading(_Model):
    """A test load and the indication read (masses as text with a unit, ``"10 kg"``, or numbers in kg)."""

    load: Annotated[str, Field(max_length=100)] | FiniteNumber
    indication: Annotated[str, Field(max_length=100)] | FiniteNumber | None = None


class RunRawData(_Model):
    """The raw data of a run: loads and indications, or the record of the procedure that produced it."""

    stage: Annotated[str, Field(max_length=40)] | None = None
    loads: Annotated[list[LoadReading], Field(max_length=10_000)] | None = None
    record: dict[str, Any] | None = Field(
        default=None, description="the procedure's record (format hengqi.calibration-record or verification-record)"
    )
    guided_run: Annotated[str, Field(max_length=128)] | None = None
    notes: LongText | None = None


# -- results ----------------------------------------------------------------------------------------------------
class PointResult(_Model):
    """One calibration point: test load, error of indication and its expanded uncertainty (kg), coverage factor."""

    load_kg: DecimalText
    error_kg: DecimalText
    U_kg: DecimalText
    k: FiniteNumber | None = None
    reference_mass_kg: DecimalText | None = Field(default=None, description="conventional mass of the reference load")
    indication_kg: DecimalText | None = None
    range: int | None = Field(
        default=None, ge=1, strict=True, description="instruments with several ranges: the range in use (1 = first)"
    )


class RepeatabilityResult(_Model):
    load_kg: DecimalText
    readings_kg: Annotated[list[DecimalText], Field(max_length=10_000)]
    s_kg: FiniteNumber | DecimalText | None = None


class EccentricityResult(_Model):
    load_kg: DecimalText
    positions: Annotated[list[Text], Field(max_length=100)]
    deviations_kg: Annotated[list[DecimalText], Field(max_length=100)]
    max_deviation_kg: DecimalText


class CheckResult(_Model):
    """One check of a verification (a test at a load against its limit)."""

    test: Text
    label: Text = ""
    load_kg: DecimalText
    quantity: Text = ""
    value_kg: DecimalText
    limit_name: Text = ""
    limit_kg: DecimalText | None = None
    passed: bool | None = None
    message: Text = ""


class ServerCheckRow(_Model):
    index: Annotated[int, Field(ge=0)]
    load_kg: DecimalText
    error_kg: DecimalText
    mpe_kg: DecimalText
    within: bool


class ServerCheck(_Model):
    """The server's own MPE check of a verification run (added by the server; a client's value is replaced)."""

    rule: Text
    stage: Text
    loads: Annotated[list[ServerCheckRow], Field(max_length=10_000)]
    pass_: bool = Field(alias="pass")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunResults(_Model):
    """The results of a run as the procedure that produced it computed them."""

    passed: bool | None = None
    summary: Annotated[list[Text], Field(max_length=1000)] | None = None
    error: LongText | None = None
    points: Annotated[list[PointResult], Field(max_length=10_000)] | None = None
    repeatability: Annotated[list[RepeatabilityResult], Field(max_length=1000)] | None = None
    eccentricity: EccentricityResult | None = None
    checks: Annotated[list[CheckResult], Field(max_length=10_000)] | None = None
    server_check: ServerCheck | None = None
    values: Annotated[dict[Annotated[str, Field(max_length=100)], Scalar], Field(max_length=1000)] | None = Field(
        default=None, description="further named results of the procedure (text, numbers, booleans)"
    )


# -- checks -----------------------------------------------------------------------------------------------------
def check_json_value(value: object, path: str) -> None:
    """Refuse a JSON document nested deeper than :data:`MAX_DEPTH`, larger than :data:`MAX_NODES` values, with a
    non-finite number, a text longer than :data:`MAX_TEXT`, or a value JSON cannot hold; without recursion."""
    stack: list[tuple[object, str, int]] = [(value, path, 1)]
    nodes = 0
    while stack:
        item, where, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise RecordError(path, f"holds more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise RecordError(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise RecordError(where, "object keys must be text")
                stack.append((child, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise RecordError(where, "must be a finite number (not NaN or infinity)")
        elif isinstance(item, str):
            if len(item) > MAX_TEXT:
                raise RecordError(where, f"text longer than {MAX_TEXT} characters")
        elif item is not None and not isinstance(item, bool | int):
            raise RecordError(where, f"a {type(item).__name__} is not a JSON value")


def _validated(model: type[BaseModel], data: object, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RecordError(prefix, f"must be an object, got {type(data).__name__}")
    try:
        parsed = model.model_validate(data)
    except ValidationError as err:
        raise record_error(err).at(prefix) from None
    dumped: dict[str, Any] = parsed.model_dump(mode="json", exclude_unset=True, by_alias=True)
    return dumped


def _check_record(record: dict[str, Any], *, evaluated: bool) -> None:
    kind = record.get("format")
    if kind not in RECORD_FORMATS:
        raise RecordError("raw_data.record.format", f"must be one of {', '.join(RECORD_FORMATS)}; got {kind!r}")
    if not evaluated:
        return  # kept as measured; the results say why it could not be evaluated
    from hengqi.records.calibration import parse_calibration_record
    from hengqi.records.verification import parse_verification_record

    parse = parse_calibration_record if kind == "hengqi.calibration-record" else parse_verification_record
    try:
        parse(record)
    except InputError as err:
        raise err.at("raw_data.record") from None


def check_run_data(raw_data: object, results: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """``raw_data`` and ``results`` as they will be stored (decimal numbers as text), or :class:`RecordError`
    naming the first field that is wrong."""
    check_json_value(raw_data, "raw_data")
    check_json_value(results, "results")
    raw = _validated(RunRawData, raw_data, "raw_data")
    done = _validated(RunResults, results, "results")
    if isinstance(raw.get("record"), dict):
        _check_record(raw["record"], evaluated=done.get("error") is None)
    return raw, done
