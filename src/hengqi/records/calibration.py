"""The calibration record, version 1: what a calibration technician writes down when calibrating a
non-automatic weighing instrument to EURAMET cg-18 v4.0 (11/2015).

Format ``hengqi.calibration-record``, version 1 (documented in ``docs/calibration-record.md``; JSON Schema from
``hengqi schema calibration-record``).  Masses are written with their units (``"100.0006 g"``); a record with an
unknown field is refused.  Versioning follows the verification record: fields are only ever added as optional
fields with the meaning they had before; a change of meaning makes a new version.

>>> record = parse_calibration_record({
...     "format": "hengqi.calibration-record", "version": 1, "date": "2026-11-25",
...     "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
...     "weights": [{"id": "W100", "class": "E2", "nominal": "100 g"}],
...     "repeatability": [{"load": "100 g", "readings": ["100.0001 g", "100.0002 g", "100.0001 g"]}],
...     "points": [{"load": "100 g", "weights": ["W100"], "indication": "100.0002 g"}],
... })
>>> result = calibrate(record)
>>> result.points[0].error_kg, round(result.points[0].k, 2)
(Decimal('2E-7'), 2.0)
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hengqi.errors import InputError, RecordError
from hengqi.metrology.air_density import X_CO2_REFERENCE, AirConditions, AirDensity, air_density
from hengqi.metrology.calibration.curve import CurveModel
from hengqi.metrology.calibration.evaluate import (
    CalibrationData,
    EccentricityTest,
    InUseOptions,
    RepeatabilitySeries,
    TestLoad,
    evaluate_calibration,
)
from hengqi.metrology.calibration.ranges import interval_at, range_index
from hengqi.metrology.calibration.reference import BuoyancyMethod, ReferenceConditions, ReferenceWeight
from hengqi.metrology.calibration.result import (
    CalibrationResult,
    Environment,
    InstrumentSummary,
    RangeKind,
    ReferenceWeightSet,
    WeighingRange,
    mass_text,
)
from hengqi.metrology.weights import WeightClass, parse_weight_class
from hengqi.records.fields import Mass, PositiveMass, SignedMass, refuse_unwritable_text
from hengqi.records.loading import field_path, read_yaml_file, record_error

FORMAT = "hengqi.calibration-record"
VERSION = 1

__all__ = [
    "FORMAT",
    "VERSION",
    "CalibrationRecord",
    "calibrate",
    "calibration_data",
    "load_calibration_record",
    "parse_calibration_record",
]


class _Model(BaseModel):
    # allow_inf_nan=False: a NaN or infinite number in a record is bad input (and would make the JSON report invalid)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    _text = field_validator("*", mode="after")(refuse_unwritable_text)  # texts go into DCC XML


def _invalid(message: str, **values: Any) -> PydanticCustomError:
    return PydanticCustomError("invalid", message, values)


class RangeModel(_Model):
    """One partial range (multi-interval) or weighing range (multiple-range) of the instrument."""

    max: PositiveMass = Field(description="Max(i) of the range, e.g. '6 kg'.")
    d: PositiveMass = Field(description="Scale interval d(i) of the range, e.g. '2 g'.")
    e: PositiveMass | None = Field(None, description="Verification scale interval e(i), where verified.")


_RANGE = (
    "Multiple-range instruments: the range in use (1 = first). Left out: the smallest range whose Max covers "
    "the load, as for a load placed from zero (the range stays up on decreasing loads until the load returns "
    "to zero, so a reading made on the way down names its range)."
)


class InstrumentModel(_Model):
    """The instrument calibrated (a calibration needs no accuracy class)."""

    id: str = Field(min_length=1, description="Identifier of the instrument (registry id, asset number).")
    make: str | None = Field(None, description="Manufacturer.")
    model: str | None = Field(None, description="Model or type designation.")
    serial: str | None = Field(None, description="Serial number.")
    max: PositiveMass = Field(description="Maximum capacity Max, e.g. '220 g'.")
    d: PositiveMass = Field(description="Actual scale interval d, e.g. '0.1 mg'.")
    e: PositiveMass | None = Field(None, description="Verification scale interval, where the instrument is verified.")
    min: PositiveMass | None = Field(None, description="Min, where stated.")
    accuracy_class: Literal["I", "II", "III", "IIII"] | None = Field(
        None, alias="class", description="Accuracy class, where the instrument has one."
    )
    kind: Literal["multi-interval", "multiple-range"] | None = Field(
        None, description="Instruments with several scale intervals: multi-interval or multiple-range (with ranges)."
    )
    ranges: list[RangeModel] | None = Field(
        None,
        description="Instruments with several scale intervals: the ranges in increasing order (Max(i), d(i), e(i)); "
        "max is then the last Max, d the first d (and e the first e).",
    )

    @field_validator("accuracy_class", mode="before")
    @classmethod
    def _class(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip().upper()
        return {"1": "I", "2": "II", "3": "III", "4": "IIII"}.get(text, text)

    @model_validator(mode="after")
    def _d_below_max(self) -> InstrumentModel:
        if self.d >= self.max:
            raise _invalid("d must be smaller than Max")
        return self


class CertificateModel(_Model):
    """A weight's calibration certificate: the reference value is then its conventional mass."""

    id: str | None = Field(None, description="Certificate number.")
    conventional_mass: PositiveMass | None = Field(None, description="Conventional mass of one weight.")
    correction: SignedMass | None = Field(None, description="Conventional mass minus nominal value, e.g. '-0.1 mg'.")
    uncertainty: PositiveMass = Field(alias="U", description="Expanded uncertainty U of the conventional mass.")
    k: float = Field(2.0, gt=0, description="Coverage factor of U.")

    @model_validator(mode="after")
    def _one_value(self) -> CertificateModel:
        if self.conventional_mass is not None and self.correction is not None:
            raise _invalid("give either conventional_mass or correction, not both")
        return self


class WeightModel(_Model):
    """A reference weight, or several identical weights under one id (``quantity``)."""

    id: str = Field(min_length=1, description="Identifier used in the points' 'weights' lists.")
    weight_class: WeightClass | None = Field(None, alias="class", description="OIML R 111 class (E1 ... M3).")
    nominal: PositiveMass = Field(description="Nominal value of one weight, e.g. '100 g'.")
    quantity: int = Field(1, ge=1, description="How many identical weights this entry stands for.")
    certificate: CertificateModel | None = Field(None, description="Use by certificate instead of by class.")
    density: float | None = Field(None, gt=0, description="Density of the weight, kg/m3 (air-density buoyancy).")
    u_density: float | None = Field(None, ge=0, description="Standard uncertainty of the density, kg/m3.")
    drift: Mass | None = Field(None, description="Drift bound D of one weight since its calibration (cg-18 7.1.2.3).")

    @field_validator("weight_class", mode="before")
    @classmethod
    def _weight_class(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse_weight_class(str(value))
        except InputError as err:
            raise _invalid("{reason}", reason=err.reason) from None

    @model_validator(mode="after")
    def _class_or_certificate(self) -> WeightModel:
        if self.weight_class is None and self.certificate is None:
            raise _invalid("a reference weight needs its class or its certificate")
        return self


class WeightUseModel(_Model):
    """Several weights of one entry: ``{id: W1t, count: 20}``."""

    id: str = Field(min_length=1, description="Id of a weight entry.")
    count: int = Field(1, ge=1, description="How many of its weights are applied (default 1).")


class BuoyancyModel(_Model):
    """How air buoyancy of the reference weights is evaluated (see docs/calibration-record.md)."""

    method: BuoyancyMethod = Field(
        BuoyancyMethod.R111,
        description="r111 (air density not measured), air-density, auto (air-density where the air density is "
        "stated or computed from the environment, else r111) or none.",
    )
    air_density: float | None = Field(None, gt=0, description="Measured air density, kg/m3 (air-density).")
    u_air_density: float | None = Field(None, ge=0, description="Its standard uncertainty, kg/m3.")

    @model_validator(mode="after")
    def _air_density(self) -> BuoyancyModel:
        if (self.air_density is None) != (self.u_air_density is None):
            raise _invalid("give air_density together with u_air_density")
        return self


class EnvironmentModel(_Model):
    """Conditions during the calibration: at the start, and at the end where measured again.

    ``relative_humidity`` and ``pressure`` are the values at the start (or the only values); the ``u_*`` fields
    are the standard uncertainties of the instruments that measured them (needed to compute the air density).
    """

    temperature_start: float | None = Field(None, ge=-273.15, description="Temperature at the start, °C.")
    temperature_end: float | None = Field(None, ge=-273.15, description="Temperature at the end, °C.")
    relative_humidity: float | None = Field(None, ge=0, le=100, description="Relative humidity (at the start), %.")
    relative_humidity_end: float | None = Field(None, ge=0, le=100, description="Relative humidity at the end, %.")
    pressure: float | None = Field(None, gt=0, description="Barometric pressure (at the start), hPa.")
    pressure_end: float | None = Field(None, gt=0, description="Barometric pressure at the end, hPa.")
    air_density: float | None = Field(None, gt=0, description="Air density, kg/m3.")
    u_temperature: float | None = Field(None, ge=0, description="Standard uncertainty of the thermometer, K.")
    u_pressure: float | None = Field(None, ge=0, description="Standard uncertainty of the barometer, hPa.")
    u_relative_humidity: float | None = Field(None, ge=0, description="Standard uncertainty of the hygrometer, %.")
    co2: float | None = Field(None, ge=0, le=0.01, description="CO2 mole fraction (CIPM-2007 default 0.0004).")
    u_co2: float | None = Field(None, ge=0, description="Standard uncertainty of the CO2 mole fraction.")

    @property
    def measured(self) -> bool:
        """Whether temperature, pressure and humidity were all recorded (the air density can be computed)."""
        return None not in (self.temperature_start, self.pressure, self.relative_humidity)


class RepeatabilityModel(_Model):
    """A repeatability series: one load weighed several times (cg-18 5.1: at least 5, 3 from 100 kg)."""

    load: PositiveMass
    readings: list[SignedMass] = Field(description="The indications, at least 2.")
    range: int | None = Field(None, ge=1, strict=True, description=_RANGE)

    @field_validator("readings")
    @classmethod
    def _enough(cls, readings: list[Decimal]) -> list[Decimal]:
        if len(readings) < 2:
            raise _invalid("a repeatability series needs at least 2 readings, got {n}", n=len(readings))
        return readings


class EccentricityPositionModel(_Model):
    position: str = Field(min_length=1, description="centre, front-left, ... (the first is the centre).")
    indication: SignedMass


class EccentricityModel(_Model):
    """Eccentricity test: one load at each position, the centre first (cg-18 5.3)."""

    load: PositiveMass
    positions: list[EccentricityPositionModel]
    range: int | None = Field(None, ge=1, strict=True, description=_RANGE)

    @field_validator("positions")
    @classmethod
    def _positions(cls, positions: list[EccentricityPositionModel]) -> list[EccentricityPositionModel]:
        if len(positions) < 2:
            raise _invalid("an eccentricity test needs the centre and at least one other position")
        names = [p.position for p in positions]
        for name in names:
            if names.count(name) > 1:
                raise _invalid("position {name!r} is given twice", name=name)
        return positions


class SubstitutionStepModel(_Model):
    """One substitution step: the standard weights replaced by other material (hengqi construction)."""

    standard: SignedMass = Field(description="Indication with the standard weights (and earlier substitutes).")
    substitute: SignedMass = Field(description="Indication with the substitute in place of the standard weights.")


_MASS_TEXT: dict[str, Any] = {"type": "string", "description": "A mass with its unit, e.g. '0.0001 g'."}
_NO_LOAD_SCHEMA: dict[str, Any] = {"anyOf": [_MASS_TEXT, {"type": "array", "items": _MASS_TEXT, "minItems": 1}]}
_WEIGHT_USES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {
        "anyOf": [
            {"type": "string", "minLength": 1, "description": "Id of a weight entry (one weight)."},
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "count": {"type": "integer", "minimum": 1, "default": 1},
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        ]
    },
}


class PointModel(_Model):
    """One test load: the weights applied, the indication(s) and the no-load indication(s)."""

    load: PositiveMass = Field(description="Nominal test load.")
    weights: Annotated[list[WeightUseModel], WithJsonSchema(_WEIGHT_USES_SCHEMA)] = Field(
        min_length=1, description="The weights applied: ids, or {id, count}."
    )
    indication: SignedMass | None = Field(None, description="The indication at load (one reading).")
    indications: list[SignedMass] | None = Field(None, description="Several readings at load (averaged).")
    no_load: Annotated[list[SignedMass], WithJsonSchema(_NO_LOAD_SCHEMA)] = Field(
        default_factory=lambda: [Decimal(0)], description="No-load indication(s): one, or one per reading at load."
    )
    d: PositiveMass | None = Field(
        None, description="Scale interval at this load, where it differs from d (given, it overrides the range's d)."
    )
    range: int | None = Field(None, ge=1, strict=True, description=_RANGE + " Applies to the indication(s) at load.")
    no_load_range: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="Multiple-range instruments: the range in use at the no-load reading(s) (default 1).",
    )
    convection: Mass | None = Field(None, description="Convection bound dm_conv for these weights (cg-18 7.1.2.4).")
    substitution: list[SubstitutionStepModel] = Field(
        default_factory=list,
        description="Substitution steps made before this load; the weights listed are then counted N + 1 times.",
    )

    @field_validator("weights", mode="before")
    @classmethod
    def _weight_ids(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        uses: list[Any] = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                uses.append({"id": item, "count": 1})
            elif isinstance(item, dict):
                uses.append(item)
            else:
                raise _invalid(
                    "item {i}: a weight is an id or a mapping with id and count, got {v}", i=index, v=repr(item)
                )
        return uses

    @field_validator("no_load", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @model_validator(mode="after")
    def _readings(self) -> PointModel:
        if (self.indication is None) == (self.indications is None):
            raise _invalid("give either indication or indications")
        if self.indications is not None and not self.indications:
            raise _invalid("indications is empty")
        n = 1 if self.indications is None else len(self.indications)
        if len(self.no_load) not in (1, n):
            raise _invalid(
                "no_load has {m} readings for {n} indications (give one, or one per indication)",
                m=len(self.no_load),
                n=n,
            )
        return self

    @property
    def readings(self) -> tuple[Decimal, ...]:
        return (self.indication,) if self.indication is not None else tuple(self.indications or ())

    @property
    def no_load_mean(self) -> Decimal:
        return sum(self.no_load, Decimal(0)) / len(self.no_load)


class InUseModel(_Model):
    """The uncertainty of a weighing result in use (hengqi construction, see docs/calibration-record.md)."""

    error_curve: CurveModel | Literal["none"] = Field(
        CurveModel.LINEAR_THROUGH_ZERO, description="linear-through-zero, linear, quadratic or none."
    )
    corrected: bool = Field(False, description="Whether results in use are corrected by the error curve.")
    temperature_coefficient: float = Field(0.0, ge=0, description="Sensitivity temperature coefficient, 1/K.")
    temperature_range: float = Field(0.0, ge=0, description="Temperature range in use, K.")


class MinimumWeightModel(_Model):
    """Which minimum weights to compute."""

    tolerance: float | None = Field(None, gt=0, lt=1, description="Relative tolerance for the cg-18 style value.")
    safety_factor: float = Field(1.0, ge=1, description="Safety factor (both methods).")
    usp41: bool = Field(False, description="Compute the USP <41> minimum weight.")


class CalibrationRecord(_Model):
    """A calibration record (format ``hengqi.calibration-record``, version 1)."""

    format: Literal["hengqi.calibration-record"] = Field(description="Always 'hengqi.calibration-record'.")
    version: Literal[1] = Field(description="Format version; this hengqi reads version 1.")
    date: dt.date = Field(description="Date of the calibration (YYYY-MM-DD).")
    certificate_number: str | None = None
    laboratory: str | None = None
    customer: str | None = None
    location: str | None = None
    operator: str | None = None
    notes: str | None = None
    instrument: InstrumentModel
    environment: EnvironmentModel | None = None
    weights: list[WeightModel] = Field(min_length=1, description="The reference weights available.")
    buoyancy: BuoyancyModel = Field(default_factory=BuoyancyModel)
    drift_factor: float | None = Field(None, ge=1, le=3, description="k_D in [1, 3] (cg-18 7.1.2.3).")
    repeatability: list[RepeatabilityModel] = Field(min_length=1)
    eccentricity: EccentricityModel | None = None
    points: list[PointModel] = Field(min_length=1)
    in_use: InUseModel = Field(default_factory=InUseModel)
    minimum_weight: MinimumWeightModel = Field(default_factory=MinimumWeightModel)

    @model_validator(mode="after")
    def _ranges(self) -> CalibrationRecord:
        inst = self.instrument
        if inst.ranges is None:
            if inst.kind is not None:
                raise _at(("instrument", "ranges"), "a {kind} instrument needs its ranges", kind=inst.kind)
        else:
            _check_ranges(inst)
        summary = instrument_summary(inst)
        for i, series in enumerate(self.repeatability):
            _range_at(summary, series.load, series.range, ("repeatability", i, "range"))
        if self.eccentricity is not None:
            _range_at(summary, self.eccentricity.load, self.eccentricity.range, ("eccentricity", "range"))
        for i, point in enumerate(self.points):
            _range_at(summary, point.load, point.range, ("points", i, "range"))
            _range_at(summary, Decimal(0), point.no_load_range, ("points", i, "no_load_range"))
        return self

    @model_validator(mode="after")
    def _weights_known(self) -> CalibrationRecord:
        catalogue: dict[str, WeightModel] = {}
        method = self.buoyancy.method
        air_known = self.buoyancy.air_density is not None or (
            self.environment is not None and self.environment.measured
        )
        if method is BuoyancyMethod.AIR_DENSITY and not air_known:
            raise _at(
                ("buoyancy", "air_density"),
                "the air-density method needs air_density and u_air_density, or temperature, pressure and humidity "
                "in the environment",
            )
        r111 = method is BuoyancyMethod.R111 or (method is BuoyancyMethod.AUTO and not air_known)
        for i, weight in enumerate(self.weights):
            if weight.id in catalogue:
                raise _at(("weights", i, "id"), "weight id {id!r} is used twice", id=weight.id)
            if r111 and weight.weight_class is None:
                raise _at(("weights", i, "class"), "the r111 buoyancy estimate needs the weight's class")
            if (weight.density is None) != (weight.u_density is None):
                raise _at(("weights", i, "density"), "give density together with u_density")
            if (
                not r111
                and method is not BuoyancyMethod.NONE
                and weight.density is None
                and weight.weight_class is None
            ):
                raise _at(("weights", i, "density"), "buoyancy with a measured air density needs density or class")
            catalogue[weight.id] = weight
        for i, point in enumerate(self.points):
            if point.load > self.instrument.max:
                raise _at(("points", i, "load"), "the test load exceeds Max ({max} kg)", max=self.instrument.max)
            used: dict[str, int] = {}
            for j, use in enumerate(point.weights):
                wid, count = use.id, use.count
                if wid not in catalogue:
                    raise _at(("points", i, "weights", j), "unknown weight id {id!r}", id=wid)
                used[wid] = used.get(wid, 0) + count
                if used[wid] > catalogue[wid].quantity:
                    raise _at(
                        ("points", i, "weights", j),
                        "uses {n} of weight {id!r}, only {q} recorded (quantity)",
                        n=used[wid],
                        id=wid,
                        q=catalogue[wid].quantity,
                    )
        return self


class _LocatedError(ValueError):
    """A model-level error that knows its field path (raised through pydantic, unpacked by the parser)."""

    def __init__(self, loc: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _at(loc: tuple[int | str, ...], message: str, **values: Any) -> _LocatedError:
    return _LocatedError(loc, message.format(**values))


def _check_ranges(inst: InstrumentModel) -> None:
    """The ranges of an instrument with several scale intervals: a kind, at least two, Max increasing, d not
    decreasing and below Max, and ``max``, ``d`` (and ``e``) of the instrument those of the last / first range."""
    ranges = inst.ranges or []
    if inst.kind is None:
        raise _at(("instrument", "kind"), "give the kind of the ranges: multi-interval or multiple-range")
    if len(ranges) < 2:
        raise _at(("instrument", "ranges"), "a {kind} instrument has at least two ranges", kind=inst.kind)
    for i, part in enumerate(ranges):
        if part.d >= part.max:
            raise _at(("instrument", "ranges", i, "d"), "d must be smaller than Max of the range")
        if i and part.max <= ranges[i - 1].max:
            raise _at(("instrument", "ranges", i, "max"), "Max{n} must be larger than Max{m}", n=i + 1, m=i)
        if i and part.d < ranges[i - 1].d:
            raise _at(("instrument", "ranges", i, "d"), "d{n} must not be smaller than d{m}", n=i + 1, m=i)
        if (part.e is None) != (ranges[0].e is None):
            raise _at(("instrument", "ranges", i, "e"), "give e for every range or for none")
    if inst.max != ranges[-1].max:
        raise _at(("instrument", "max"), "must equal the Max of the last range ({max} kg)", max=ranges[-1].max)
    if inst.d != ranges[0].d:
        raise _at(("instrument", "d"), "must equal d1, the d of the first range ({d} kg)", d=ranges[0].d)
    if inst.e is not None and inst.e != ranges[0].e:
        raise _at(("instrument", "e"), "must equal e1, the e of the first range")


def _range_at(summary: InstrumentSummary, load: Decimal, number: int | None, loc: tuple[int | str, ...]) -> int | None:
    """The 0-based range in use of a reading (:func:`hengqi.metrology.calibration.ranges.range_index`); an
    impossible one is an error at ``loc``."""
    try:
        return range_index(summary, load, number)
    except InputError as err:
        raise _LocatedError(loc, err.reason) from None


def instrument_summary(inst: InstrumentModel) -> InstrumentSummary:
    """What the result says about the instrument, its ranges included."""
    return InstrumentSummary(
        max_kg=inst.max,
        d_kg=inst.d,
        e_kg=inst.e if inst.e is not None or not inst.ranges else inst.ranges[0].e,
        accuracy_class=inst.accuracy_class,
        min_kg=inst.min,
        manufacturer=inst.make or "",
        model=inst.model or "",
        serial_number=inst.serial or "",
        identifier=inst.id,
        kind=None if inst.kind is None or not inst.ranges else RangeKind(inst.kind),
        ranges=tuple(WeighingRange(r.max, r.d, r.e) for r in inst.ranges or ()),
    )


def parse_calibration_record(data: Any) -> CalibrationRecord:
    """Check parsed data (a mapping, as from YAML or JSON) against the format; :class:`RecordError` otherwise."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise RecordError("", f"a calibration record is a mapping of fields (format, version, ...), got {kind}")
    if data.get("format") == FORMAT and "version" in data and data["version"] != VERSION:
        raise RecordError("version", f"unsupported version {data['version']!r} (this hengqi reads version {VERSION})")
    try:
        return CalibrationRecord.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, _LocatedError):
            raise RecordError(field_path(cause.loc), cause.message) from None
        raise record_error(err) from None


def load_calibration_record(path: str | Path) -> CalibrationRecord:
    """Read a calibration record from a YAML (or JSON) file."""
    return parse_calibration_record(read_yaml_file(path))


def _weight(model: WeightModel, count: int) -> ReferenceWeight:
    certificate = model.certificate
    conventional: Decimal | None = None
    if certificate is not None:
        if certificate.conventional_mass is not None:
            conventional = certificate.conventional_mass
        else:
            conventional = model.nominal + (certificate.correction or Decimal(0))
    return ReferenceWeight(
        nominal_kg=model.nominal,
        count=count,
        weight_class=None if model.weight_class is None else model.weight_class.value,
        conventional_mass_kg=conventional,
        U_kg=None if certificate is None else float(certificate.uncertainty),
        k=2.0 if certificate is None else certificate.k,
        drift_kg=None if model.drift is None else float(model.drift),
        density_kg_m3=model.density,
        u_density_kg_m3=model.u_density,
        identifier=model.id,
    )


def _mean_and_spread(start: float, end: float | None, u_instrument: float) -> tuple[float, float]:
    """The mean of the start and end values, and its standard uncertainty: the instrument's ``u`` and the
    change during the calibration taken as rectangular over the two values, ``|end - start| / (2 sqrt 3)``
    (hengqi construction)."""
    if end is None:
        return start, u_instrument
    return (start + end) / 2.0, math.hypot(u_instrument, abs(end - start) / (2.0 * math.sqrt(3.0)))


def _record_air_density(record: CalibrationRecord) -> AirDensity | None:
    """The air density the buoyancy term uses: as stated in ``buoyancy``, or computed with CIPM-2007 from the
    recorded environment (methods ``air-density`` and ``auto``); ``None`` where there is none."""
    if record.buoyancy.method in (BuoyancyMethod.R111, BuoyancyMethod.NONE):
        return None
    if record.buoyancy.air_density is not None and record.buoyancy.u_air_density is not None:
        return AirDensity(record.buoyancy.air_density, record.buoyancy.u_air_density, (), "stated")
    env = record.environment
    if env is None or not env.measured:
        return None
    assert env.temperature_start is not None
    assert env.pressure is not None
    assert env.relative_humidity is not None
    for name in ("u_temperature", "u_pressure", "u_relative_humidity"):
        if getattr(env, name) is None:
            raise RecordError(
                f"environment.{name}", "the standard uncertainty of the instrument is needed to compute the air density"
            )
    t, u_t = _mean_and_spread(env.temperature_start, env.temperature_end, env.u_temperature or 0.0)
    p, u_p = _mean_and_spread(env.pressure, env.pressure_end, env.u_pressure or 0.0)
    h, u_h = _mean_and_spread(env.relative_humidity, env.relative_humidity_end, env.u_relative_humidity or 0.0)
    try:
        return air_density(
            AirConditions(
                temperature_c=t,
                pressure_pa=p * 100.0,
                relative_humidity=h,
                x_co2=X_CO2_REFERENCE if env.co2 is None else env.co2,
                u_temperature_c=u_t,
                u_pressure_pa=u_p * 100.0,
                u_relative_humidity=u_h,
                u_x_co2=env.u_co2 or 0.0,
            )
        )
    except InputError as err:
        raise RecordError(f"environment.{err.path}", err.reason) from err


def calibration_data(record: CalibrationRecord) -> CalibrationData:
    """The record as metrology values (:class:`~hengqi.metrology.calibration.evaluate.CalibrationData`)."""
    catalogue = {w.id: w for w in record.weights}
    summary = instrument_summary(record.instrument)
    tests: list[TestLoad] = []
    for point in record.points:
        in_use = range_index(summary, point.load, point.range)  # checked by the model
        d_load, d_zero = point.d, None
        if in_use is not None:
            d_load = point.d or summary.ranges[in_use].d_kg
            d_zero = interval_at(summary, Decimal(0), point.no_load_range)
        counts: dict[str, int] = {}
        for use in point.weights:
            wid, count = use.id, use.count
            counts[wid] = counts.get(wid, 0) + count
        tests.append(
            TestLoad(
                load_kg=point.load,
                weights=tuple(_weight(catalogue[wid], n) for wid, n in counts.items()),
                indications_kg=point.readings,
                no_load_indication_kg=point.no_load_mean,
                d_kg=d_load,
                convection_kg=None if point.convection is None else float(point.convection),
                substitution=tuple((step.standard, step.substitute) for step in point.substitution),
                d0_kg=d_zero,
                range_in_use=None if in_use is None else in_use + 1,
            )
        )
    env = record.environment or EnvironmentModel()
    notes: list[str] = []
    for series in record.repeatability:
        needed = 3 if series.load >= Decimal(100) else 5
        if len(series.readings) < needed:
            notes.append(
                f"The repeatability series at {mass_text(series.load)} has {len(series.readings)} readings; "
                f"EURAMET cg-18 asks for at least {needed}."
            )
    if record.notes:
        notes.append(record.notes)
    curve = None if record.in_use.error_curve == "none" else CurveModel(record.in_use.error_curve)
    air = _record_air_density(record)
    return CalibrationData(
        instrument=summary,
        tests=tuple(tests),
        repeatability=tuple(
            RepeatabilitySeries(r.load, tuple(r.readings), _series_d(summary, r.load, r.range))
            for r in record.repeatability
        ),
        eccentricity=None
        if record.eccentricity is None
        else EccentricityTest(
            record.eccentricity.load,
            tuple(p.position for p in record.eccentricity.positions),
            tuple(p.indication for p in record.eccentricity.positions),
        ),
        conditions=ReferenceConditions(
            buoyancy=record.buoyancy.method,
            air_density_kg_m3=None if air is None else air.value_kg_m3,
            u_air_density_kg_m3=None if air is None else air.u_kg_m3,
            drift_factor=record.drift_factor,
        ),
        calibration_date=record.date,
        in_use=InUseOptions(
            error_curve=curve,
            corrected=record.in_use.corrected,
            temperature_coefficient_per_k=record.in_use.temperature_coefficient,
            temperature_range_k=record.in_use.temperature_range,
            tolerance=record.minimum_weight.tolerance,
            safety_factor=record.minimum_weight.safety_factor,
            usp41=record.minimum_weight.usp41,
        ),
        environment=Environment(
            temperature_start_c=env.temperature_start,
            temperature_end_c=env.temperature_end,
            relative_humidity_percent=env.relative_humidity,
            pressure_hpa=env.pressure,
            air_density_kg_m3=env.air_density if air is None else air.value_kg_m3,
            u_air_density_kg_m3=None if air is None else air.u_kg_m3,
            relative_humidity_end_percent=env.relative_humidity_end,
            pressure_end_hpa=env.pressure_end,
            air_density_method="" if air is None else air.method,
        ),
        weight_sets=tuple(
            ReferenceWeightSet(
                identifier=w.id,
                weight_class=None if w.weight_class is None else w.weight_class.value,
                certificate=(w.certificate.id or "") if w.certificate is not None else "",
                quantity=w.quantity,
                nominal_kg=w.nominal,
            )
            for w in record.weights
        ),
        certificate_number=record.certificate_number or "",
        laboratory=record.laboratory or "",
        customer=record.customer or "",
        location=record.location or "",
        operator=record.operator or "",
        notes=tuple(notes),
    )


def _series_d(summary: InstrumentSummary, load: Decimal, number: int | None) -> Decimal | None:
    """The d of the range a repeatability series was read in, where the instrument has several ranges."""
    return interval_at(summary, load, number) if summary.ranges else None


def calibrate(record: CalibrationRecord) -> CalibrationResult:
    """Evaluate a calibration record to EURAMET cg-18 v4.0 (see :mod:`hengqi.metrology.calibration`).

    An inconsistency found while computing (e.g. too few points for the chosen error curve) is a
    :class:`RecordError` naming the field.
    """
    try:
        return evaluate_calibration(calibration_data(record))
    except RecordError:
        raise
    except InputError as err:
        raise RecordError(err.path, err.reason) from err
