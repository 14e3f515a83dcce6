"""A fleet of simulated instruments described in one YAML file (``hengqi sim --config FLEET.yaml``).

The format is documented in ``docs/simulator.md``; examples are in ``examples/sim/``.  Every error names its
field path (``instruments[1].e: unknown mass unit 'gg' ...``).

>>> config = parse_fleet({"instruments": [{"name": "bench", "protocol": "mt-sics", "class": "I",
...                                         "max": "220 g", "e": "1 mg", "d": "0.1 mg"}]})
>>> config.instruments[0].specification().n
Decimal('220000')
>>> parse_fleet({"instruments": [{"name": "x", "protocol": "mt-sics", "class": "III", "max": "15 kg"}]})
Traceback (most recent call last):
...
hengqi.errors.InputError: instruments[0].e: e is required
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hengqi.errors import InputError, RecordError
from hengqi.instruments.simulator import DeviceInfo, Imperfections, Simulator, WeighingModel
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.quantities import canonical_unit
from hengqi.records.fields import Mass, PositiveMass
from hengqi.records.loading import read_yaml_file, record_error

Protocol = Literal["mt-sics", "sbi", "and", "toledo-continuous"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ImperfectionsConfig(_Model):
    """Departures from a perfect instrument (masses with units)."""

    span_error: float = 0.0
    linearity: Mass = Decimal(0)
    hysteresis: Mass = Decimal(0)
    repeatability: Mass = Decimal(0)
    eccentricity: tuple[float, float] = (0.0, 0.0)
    zero_drift_per_hour: Mass = Decimal(0)
    temperature_zero_per_k: Mass = Decimal(0)
    temperature_span_per_k: float = 0.0
    creep: float = 0.0
    creep_tau_s: float = Field(60.0, gt=0)
    settling_s: float = Field(1.0, ge=0)
    stability_timeout_s: float = Field(3.0, gt=0)

    def to_imperfections(self) -> Imperfections:
        """The model's input record."""
        return Imperfections(
            span_error=self.span_error,
            linearity_kg=float(self.linearity),
            hysteresis_kg=float(self.hysteresis),
            repeatability_kg=float(self.repeatability),
            eccentricity=self.eccentricity,
            zero_drift_kg_per_h=float(self.zero_drift_per_hour),
            temperature_zero_kg_per_k=float(self.temperature_zero_per_k),
            temperature_span_per_k=self.temperature_span_per_k,
            creep=self.creep,
            creep_tau_s=self.creep_tau_s,
            settling_s=self.settling_s,
            stability_timeout_s=self.stability_timeout_s,
        )


class RangeConfig(_Model):
    """One partial range (multi-interval) or weighing range (multiple-range)."""

    max: PositiveMass
    e: PositiveMass


class InstrumentConfig(_Model):
    """One simulated instrument."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    protocol: Protocol
    port: int = Field(0, ge=0, le=65535)
    pty: bool = False
    control_port: int | None = Field(None, ge=0, le=65535)
    accuracy_class: Literal["I", "II", "III", "IIII"] = Field(alias="class")
    max: PositiveMass | None = None
    e: PositiveMass | None = None
    d: PositiveMass | None = None
    kind: Literal["single-interval", "multi-interval", "multiple-range"] | None = None
    ranges: list[RangeConfig] | None = None
    unit: str = "g"
    seed: int = Field(0, ge=0)
    model: str = "HQ-SIM"
    serial: str | None = None
    software: str = "hengqi-sim 1.0"
    sbi_width: Literal[16, 22] = 22
    checksum: bool = False
    load: Mass | None = None
    temperature_c: float = 20.0
    imperfections: ImperfectionsConfig = ImperfectionsConfig()

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        try:
            return canonical_unit(unit)
        except InputError as err:
            raise ValueError(err.reason) from None

    def specification(self) -> InstrumentSpecification:
        """The instrument specification (checked against its accuracy class)."""
        ranges = None if self.ranges is None else [(r.max, r.e) for r in self.ranges]
        return InstrumentSpecification.create(
            accuracy_class=self.accuracy_class, max=self.max, e=self.e, d=self.d, ranges=ranges, kind=self.kind
        )


class FleetConfig(_Model):
    """Several simulated instruments run together."""

    instruments: list[InstrumentConfig] = Field(min_length=1)


def parse_fleet(data: Any) -> FleetConfig:
    """Validate a fleet configuration; every specification is checked too (errors name the field path)."""
    try:
        config = FleetConfig.model_validate(data)
    except ValidationError as err:
        raise record_error(err) from None
    seen: set[str] = set()
    for index, item in enumerate(config.instruments):
        if item.name in seen:
            raise RecordError(f"instruments[{index}].name", f"instrument name {item.name!r} is used twice")
        seen.add(item.name)
        try:
            item.specification()
        except InputError as err:
            raise err.at(f"instruments[{index}]") from None
    return config


def load_fleet(path: str | Path) -> FleetConfig:
    """Read and validate a fleet file."""
    return parse_fleet(read_yaml_file(path))


def start_instrument(item: InstrumentConfig, *, control: bool = True) -> Simulator:
    """Build and start one simulator from its configuration."""
    model = WeighingModel(
        item.specification(),
        unit=item.unit,
        imperfections=item.imperfections.to_imperfections(),
        seed=item.seed,
        temperature_c=item.temperature_c,
    )
    if item.load is not None:
        model.place(item.load)
    info = DeviceInfo(model=item.model, serial=item.serial or f"SIM{item.seed:07d}", software=item.software)
    simulator = Simulator(
        model,
        item.protocol,
        info=info,
        port=item.port,
        pty=item.pty,
        control=control or item.control_port is not None,
        control_port=item.control_port or 0,
        sbi_width=item.sbi_width,
        checksum=item.checksum,
        name=item.name,
    )
    simulator.run()
    return simulator


def start_fleet(config: FleetConfig) -> list[Simulator]:
    """Start every instrument of the fleet (those started are stopped again if one fails)."""
    started: list[Simulator] = []
    try:
        for item in config.instruments:
            started.append(start_instrument(item))
    except BaseException:
        for simulator in started:
            simulator.stop()
        raise
    return started
