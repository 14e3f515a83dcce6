"""The verification record, version 1: what a verification officer writes down when testing an instrument.

Format ``hengqi.verification-record``, version 1 (documented in ``docs/verification-record.md``, JSON Schema in
``docs/schemas/verification-record.schema.json``).  Masses are written with their units (``"220 g"``); a record
with an unknown field is refused (a misspelt field would otherwise be silently ignored).

Versioning: a reader accepts exactly the versions it knows; fields are only ever added to a version as optional
fields with the meaning they had before; any change of meaning makes a new version, and older versions stay
readable (saved samples under ``tests/reference`` and ``examples/`` are re-read in CI).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from hengqi.errors import InputError
from hengqi.metrology.classes import AccuracyClass, InstrumentKind
from hengqi.metrology.rulesets import DEFAULT_RULE_SET, Stage, get_rule_set, parse_stage
from hengqi.metrology.weights import WeightClass, parse_weight_class
from hengqi.records.fields import Mass, PositiveMass, SignedMass

FORMAT = "hengqi.verification-record"
VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: A zero mass default, shown in the JSON Schema as people write it.
_ZERO: dict[str, Any] = {"json_schema_extra": {"default": "0 kg"}}


def _custom(err: InputError) -> PydanticCustomError:
    return PydanticCustomError("invalid", "{reason}", {"reason": err.reason})


# -- instrument -------------------------------------------------------------------------------------------------
class RangeModel(_Model):
    """One partial weighing range (multi-interval) or weighing range (multiple-range)."""

    max: PositiveMass = Field(description="Max of the range, e.g. '6 kg'.")
    e: PositiveMass = Field(description="Verification scale interval of the range, e.g. '2 g'.")


class SpecificationModel(_Model):
    """The instrument's metrological data (OIML R 76-1:2006 Table 3) and what the tests need besides."""

    accuracy_class: AccuracyClass = Field(alias="class", description="Accuracy class: I, II, III or IIII.")
    max: PositiveMass | None = Field(None, description="Max (the last range's Max for several ranges).")
    min: PositiveMass | None = Field(None, description="Min; default the lower limit for the class.")
    e: PositiveMass | None = Field(None, description="Verification scale interval (e1 for several ranges).")
    d: PositiveMass | None = Field(None, description="Actual scale interval; default e.")
    kind: InstrumentKind = Field(InstrumentKind.SINGLE_INTERVAL, description="single-interval, multi-interval "
                                 "or multiple-range.")  # fmt: skip
    ranges: list[RangeModel] | None = Field(None, description="Ranges in increasing order (multi-interval, "
                                            "multiple-range).")  # fmt: skip
    supports: int | None = Field(None, ge=1, description="Number of supports of the load receptor (eccentricity).")
    max_tare: Mass = Field(Decimal(0), description="Maximum additive tare, T (eccentricity test load).", **_ZERO)

    @field_validator("accuracy_class", mode="before")
    @classmethod
    def _class(cls, value: Any) -> Any:
        text = str(value).strip().upper()
        return {"1": "I", "2": "II", "3": "III", "4": "IIII"}.get(text, text)


class InstrumentModel(_Model):
    """The instrument under test."""

    id: str = Field(min_length=1, description="Identifier of the instrument (registry id, asset number).")
    make: str | None = Field(None, description="Manufacturer.")
    model: str | None = Field(None, description="Model or type designation.")
    serial: str | None = Field(None, description="Serial number.")
    type_approval: str | None = Field(None, description="Type approval / OIML certificate number.")
    location: str | None = Field(None, description="Where the instrument is installed.")
    specification: SpecificationModel


# -- reference weights ------------------------------------------------------------------------------------------
class CertificateModel(_Model):
    """A weight's calibration certificate: used with it, the reference value is the conventional mass."""

    id: str = Field(min_length=1, description="Certificate number.")
    correction: SignedMass = Field(
        Decimal(0), description="Conventional mass minus nominal value, e.g. '+0.2 mg'.", **_ZERO
    )
    uncertainty: PositiveMass = Field(alias="U", description="Expanded uncertainty U of the conventional mass.")
    k: Decimal = Field(Decimal(2), gt=0, description="Coverage factor of U.")
    due: dt.date | None = Field(None, description="Date by which the weight must be recalibrated.")


class ReferenceWeightModel(_Model):
    """One reference weight (or standard mass) available for the tests."""

    id: str = Field(min_length=1, description="Identifier used in the tests' 'weights' lists.")
    weight_class: WeightClass | None = Field(None, alias="class", description="OIML R 111 class (E1 ... M3).")
    nominal: PositiveMass = Field(description="Nominal value, e.g. '5 kg'.")
    certificate: CertificateModel | None = Field(None, description="Use by certificate instead of by class.")

    @field_validator("weight_class", mode="before")
    @classmethod
    def _weight_class(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse_weight_class(str(value))
        except InputError as err:
            raise _custom(err) from None

    @model_validator(mode="after")
    def _class_or_certificate(self) -> ReferenceWeightModel:
        if self.weight_class is None and self.certificate is None:
            raise PydanticCustomError("invalid", "a reference weight needs its class or its certificate")
        return self


# -- environment ------------------------------------------------------------------------------------------------
class EnvironmentModel(_Model):
    """Conditions during the tests (informational; reported with the result)."""

    temperature_start: Decimal | None = Field(None, ge=Decimal("-273.15"), description="Temperature at the start, °C.")
    temperature_end: Decimal | None = Field(None, ge=Decimal("-273.15"), description="Temperature at the end, °C.")
    relative_humidity: Decimal | None = Field(None, ge=0, le=100, description="Relative humidity, %.")
    pressure: Decimal | None = Field(None, gt=0, description="Barometric pressure, hPa.")
    notes: str | None = Field(None, description="Anything else worth recording (draughts, vibration, ...).")


# -- test data --------------------------------------------------------------------------------------------------
_CHANGE_POINT = "Small weights added until the indication stepped up by one interval (dL); omit if not done."
_WEIGHTS = "Ids of the reference weights making up the load (checked against 1/3 MPE)."


class ZeroReadingModel(_Model):
    """A reading at or near zero by the changeover-point method (gives E0 or the zero-setting deviation)."""

    load: Mass = Field(Decimal(0), description="Load at or near zero, e.g. '0 g' or '50 g' (10 e).", **_ZERO)
    indication: SignedMass = Field(Decimal(0), description="Indication before adding small weights.", **_ZERO)
    change_point: PositiveMass = Field(description="Small weights added until the indication stepped up (dL).")


_RANGE = (
    "Multiple-range instruments: the range in use (1 = first), where it is not the smallest range covering the "
    "(gross) load: the range stays up until the load returns to zero, or the operator switched it up."
)


def _range_field() -> Any:
    return Field(None, ge=1, description=_RANGE)


def _substitute_field() -> Any:
    return Field(
        None,
        description="Substitution of standard weights (OIML R 76-1:2006 3.7.3): the nominal part of the load made "
        "of substitute material; the weights listed make up the rest.",
    )


def _substitute_correction_field() -> Any:
    return Field(
        None,
        description="The substitute material's mass beyond the standard weights it replaced, sum(P_sub - P_s) of "
        "the substitution steps: added to the reference value of the load.",
    )


class WeighingPointModel(_Model):
    """One load of the weighing test."""

    load: Mass = Field(description="Nominal load applied.")
    indication: SignedMass = Field(description="Indication I.")
    change_point: PositiveMass | None = Field(None, description=_CHANGE_POINT)
    direction: Literal["increasing", "decreasing"] = Field("increasing", description="Loads going up or down.")
    weights: list[str] | None = Field(None, description=_WEIGHTS)
    substitute: PositiveMass | None = _substitute_field()
    substitute_correction: SignedMass | None = _substitute_correction_field()
    range: int | None = Field(
        None,
        ge=1,
        description="Multiple-range instruments: the range in use (1 = first), where it is not the smallest range "
        "covering the load (the range stays up on decreasing loads until the load returns to zero).",
    )


class WeighingTestModel(_Model):
    """Weighing test (R 76-1 A.4.4): increasing and decreasing loads from zero to Max."""

    zero: ZeroReadingModel | None = Field(None, description="Reading at or near zero giving E0.")
    points: list[WeighingPointModel] = Field(min_length=1)


class EccentricityPositionModel(_Model):
    """The indication with the test load at one position."""

    position: str = Field(min_length=1, description="centre, front-left, ... or the support's number.")
    indication: SignedMass
    change_point: PositiveMass | None = Field(None, description=_CHANGE_POINT)


class EccentricityTestModel(_Model):
    """Eccentricity test (R 76-1 A.4.7): one load at each position."""

    load: PositiveMass = Field(description="The load actually used.")
    weights: list[str] | None = Field(None, description=_WEIGHTS)
    substitute: PositiveMass | None = _substitute_field()
    substitute_correction: SignedMass | None = _substitute_correction_field()
    range: int | None = _range_field()
    zero: ZeroReadingModel | None = None
    points: list[EccentricityPositionModel] = Field(min_length=1)


class RepeatabilityReadingModel(_Model):
    """One weighing of a repeatability series."""

    indication: SignedMass
    change_point: PositiveMass | None = Field(None, description=_CHANGE_POINT)


class RepeatabilitySeriesModel(_Model):
    """The same load weighed several times."""

    load: PositiveMass
    weights: list[str] | None = Field(None, description=_WEIGHTS)
    substitute: PositiveMass | None = _substitute_field()
    substitute_correction: SignedMass | None = _substitute_correction_field()
    range: int | None = _range_field()
    points: list[RepeatabilityReadingModel] = Field(min_length=2)


class RepeatabilityTestModel(_Model):
    """Repeatability test (R 76-1 A.4.10): series at about 50 % and close to 100 % of Max."""

    zero: ZeroReadingModel | None = None
    series: list[RepeatabilitySeriesModel] = Field(min_length=1)


class DiscriminationPointModel(_Model):
    """One discrimination check: the indication at the change point and after the extra load."""

    load: Mass
    indication: SignedMass = Field(description="Indication at the change point (after removing 0.1 d).")
    indication_after: SignedMass = Field(description="Indication after adding (removing) the extra load.")
    extra_load: PositiveMass | None = Field(None, description="The extra load; must be 1.4 d (the default).")
    operation: Literal["add", "remove"] = "add"
    range: int | None = _range_field()
    substitute: PositiveMass | None = _substitute_field()
    substitute_correction: SignedMass | None = _substitute_correction_field()


class DiscriminationTestModel(_Model):
    """Discrimination test (R 76-1 A.4.8): at Min, 50 % Max and Max."""

    points: list[DiscriminationPointModel] = Field(min_length=1)


class ZeroSettingTestModel(_Model):
    """Zero-setting accuracy: one changeover reading at zero per trial."""

    points: list[ZeroReadingModel] = Field(min_length=1)


class TarePointModel(_Model):
    """One net load weighed with tare."""

    load: Mass = Field(description="Net load applied.")
    indication: SignedMass = Field(description="Net indication.")
    change_point: PositiveMass | None = Field(None, description=_CHANGE_POINT)
    weights: list[str] | None = Field(None, description=_WEIGHTS)
    range: int | None = _range_field()


class TareTestModel(_Model):
    """Weighing with tare (R 76-1 A.4.6): net loads after taring a load."""

    tare: PositiveMass = Field(description="The tare load.")
    zero: ZeroReadingModel | None = Field(None, description="Net zero after taring (tare-setting accuracy, E0).")
    points: list[TarePointModel] = Field(min_length=1)


class TestsModel(_Model):
    """The tests performed; at least one."""

    __test__ = False  # not a pytest class

    weighing: WeighingTestModel | None = None
    eccentricity: EccentricityTestModel | None = None
    repeatability: RepeatabilityTestModel | None = None
    discrimination: DiscriminationTestModel | None = None
    zero_setting: ZeroSettingTestModel | None = None
    tare: TareTestModel | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> TestsModel:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise PydanticCustomError("invalid", "no test recorded (give weighing, eccentricity, ...)")
        return self


# -- the record -------------------------------------------------------------------------------------------------
class VerificationRecord(_Model):
    """A verification record (format ``hengqi.verification-record``, version 1)."""

    format: Literal["hengqi.verification-record"] = Field(description="Always 'hengqi.verification-record'.")
    version: Literal[1] = Field(description="Format version; this hengqi reads version 1.")
    expected_verdict: Literal["pass", "fail"] | None = Field(
        None, description="Informational: the verdict the author expects (examples, training records)."
    )
    instrument: InstrumentModel
    reference_weights: list[ReferenceWeightModel] = Field(default_factory=list)
    environment: EnvironmentModel | None = None
    operator: str = Field(min_length=1, description="Who performed the tests.")
    date: dt.date = Field(description="Date of the tests (YYYY-MM-DD).")
    stage: Stage = Field(Stage.INITIAL, description="initial, subsequent or in-service.")
    rules: str = Field(DEFAULT_RULE_SET, description="MPE rule set: oiml-r76 or jjg539.")
    notes: str | None = None
    tests: TestsModel

    @field_validator("stage", mode="before")
    @classmethod
    def _stage(cls, value: Any) -> Any:
        try:
            return parse_stage(str(value))
        except InputError as err:
            raise _custom(err) from None

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: str) -> str:
        try:
            return get_rule_set(value).id
        except InputError as err:
            raise _custom(err) from None

    @field_validator("reference_weights")
    @classmethod
    def _unique_weight_ids(cls, weights: list[ReferenceWeightModel]) -> list[ReferenceWeightModel]:
        seen: set[str] = set()
        for weight in weights:
            if weight.id in seen:
                raise PydanticCustomError("invalid", "reference weight id {id!r} is used twice", {"id": weight.id})
            seen.add(weight.id)
        return weights
