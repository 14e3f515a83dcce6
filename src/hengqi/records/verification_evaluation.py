"""From a verification record to a verdict: the record's data turned into R 76 test inputs and evaluated.

The instrument specification is checked against its class (:mod:`hengqi.metrology.classes`), the MPE at each
load comes from :func:`hengqi.metrology.mpe.mpe` for the record's stage and rule set, and each test is
evaluated by :mod:`hengqi.metrology.r76`.  Inconsistent data (a load above Max + 9 e, a weight id that is not
in ``reference_weights``, weights that do not add up to the load, ...) raise :class:`RecordError` naming the
field path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from hengqi.errors import InputError, RecordError
from hengqi.metrology.classes import InstrumentKind, InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76 import (
    DiscriminationReading,
    PointResult,
    Reading,
    ReferenceWeight,
    TestResult,
    Tolerances,
    VerificationResult,
    discrimination_test,
    eccentricity_test,
    repeatability_test,
    tare_test,
    verification_result,
    weighing_test,
    weights_adequacy_point,
    zero_setting_test,
)
from hengqi.metrology.r76.discrimination import EXTRA_LOAD_D
from hengqi.metrology.rulesets import Stage, parse_stage, resolve_rule_set
from hengqi.metrology.weights import CertifiedWeight, StandardWeight
from hengqi.records.verification_models import (
    ReferenceWeightModel,
    SpecificationModel,
    VerificationRecord,
    ZeroReadingModel,
)

T = TypeVar("T")

#: Test names, in the order they are reported.
TEST_NAMES = ("weighing", "eccentricity", "repeatability", "discrimination", "zero-setting", "tare")
WEIGHTS_TEST = "reference-weights"


def instrument_specification(
    spec: SpecificationModel, *, path: str = "instrument.specification"
) -> InstrumentSpecification:
    """The checked :class:`InstrumentSpecification` of a record (errors name ``instrument.specification.*``)."""
    ranges = None if spec.ranges is None else [(item.max, item.e) for item in spec.ranges]
    try:
        return InstrumentSpecification.create(
            accuracy_class=spec.accuracy_class,
            max=spec.max,
            e=spec.e,
            d=spec.d,
            min=spec.min,
            ranges=ranges,
            kind=spec.kind,
        )
    except InputError as err:
        raise err.at(path) from None


def _at(path: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except InputError as err:
        raise err.at(path) from None


@dataclass(frozen=True, slots=True)
class _Context:
    record: VerificationRecord
    spec: InstrumentSpecification
    tolerances: Tolerances
    weights: dict[str, ReferenceWeight]
    compositions: list[tuple[str, Decimal, tuple[ReferenceWeight, ...]]]

    def load(self, kg: Decimal, path: str) -> Decimal:
        """A load checked against what the instrument can indicate (Max + 9 e)."""
        try:
            self.spec.range_at(kg)
        except InputError as err:
            raise RecordError(path, err.reason) from None
        return kg

    def range_in_use(self, number: int, load: Decimal, path: str) -> int:
        """The 0-based index of the range in use (``number`` 1-based), checked: a multiple-range instrument, a
        range it has, and a load that range can indicate (Max(i) + 9 e(i))."""
        try:
            return self.spec.range_at(load, number - 1)[0]
        except InputError as err:
            raise RecordError(path, err.reason) from None

    def range_of(self, number: int | None, load: Decimal, path: str) -> int | None:
        """The 0-based range in use a point names (``None``: it follows the load), checked as
        :meth:`range_in_use`."""
        return None if number is None else self.range_in_use(number, load, path)

    def correction(self, ids: Sequence[str] | None, load: Decimal, path: str, label: str) -> Decimal:
        """The conventional-mass correction of the weights making up a load (zero by class); checks the ids and
        that their nominal values add up to the load, and keeps the composition for the adequacy check."""
        if not ids:
            return Decimal(0)
        used: list[ReferenceWeight] = []
        for index, weight_id in enumerate(ids):
            weight = self.weights.get(weight_id)
            if weight is None:
                known = ", ".join(self.weights) or "none given"
                raise RecordError(
                    f"{path}.weights[{index}]", f"unknown reference weight {weight_id!r} (known: {known})"
                )
            if weight in used:
                raise RecordError(f"{path}.weights[{index}]", f"reference weight {weight_id!r} is listed twice")
            used.append(weight)
        nominal = sum((weight.nominal_kg for weight in used), Decimal(0))
        if nominal != load:
            raise RecordError(
                f"{path}.weights",
                f"the weights' nominal values add up to {format_mass(nominal)}, not the load {format_mass(load)}",
            )
        composition = tuple(used)
        if all(c[1] != load or c[2] != composition for c in self.compositions):
            self.compositions.append((label, load, composition))
        return sum((weight.correction_kg for weight in used), Decimal(0))

    def zero(self, model: ZeroReadingModel | None, path: str, label: str = "zero") -> Reading | None:
        if model is None:
            return None
        return Reading(self.load(model.load, f"{path}.load"), model.indication, model.change_point, label)


def _reference_weight(model: ReferenceWeightModel, path: str) -> ReferenceWeight:
    certificate = model.certificate
    try:
        if certificate is not None:
            weight: StandardWeight | CertifiedWeight = CertifiedWeight(
                model.nominal, certificate.correction, certificate.uncertainty, certificate.k
            )
            return ReferenceWeight(model.id, weight, certificate.due)
        assert model.weight_class is not None  # the model asks for a class or a certificate
        return ReferenceWeight(model.id, StandardWeight.of(model.weight_class, model.nominal))
    except InputError as err:
        raise RecordError(f"{path}.nominal", err.reason) from None


class _OnSubstitute(Protocol):
    @property
    def weights(self) -> list[str] | None: ...
    @property
    def substitute(self) -> Decimal | None: ...
    @property
    def substitute_correction(self) -> Decimal | None: ...


def _on_substitute(ctx: _Context, item: _OnSubstitute, load: Decimal, path: str, label: str) -> Decimal:
    """The correction of a load made of the weights listed on ``substitute`` material (OIML R 76-1:2006 3.7.3,
    SECONDARY): the weights' corrections on the part above the substitute plus ``substitute_correction``."""
    if item.substitute is not None and item.substitute > load:
        raise RecordError(f"{path}.substitute", f"is more than the load {format_mass(load)}")
    on_top = load - (item.substitute or Decimal(0))
    correction = ctx.correction(item.weights, on_top, path, label) if on_top > 0 else Decimal(0)
    return correction + (item.substitute_correction or Decimal(0))


def _weighing(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.weighing
    if test is None:
        return None
    base = "tests.weighing"
    readings = []
    for i, point in enumerate(test.points):
        path = f"{base}.points[{i}]"
        load = ctx.load(point.load, f"{path}.load")
        label = f"weighing, {point.direction}"
        correction = _on_substitute(ctx, point, load, path, label)
        index = None if point.range is None else ctx.range_in_use(point.range, load, f"{path}.range")
        readings.append(Reading(load, point.indication, point.change_point, point.direction, correction, index))
    zero = ctx.zero(test.zero, f"{base}.zero")
    return _at(base, lambda: weighing_test(readings, ctx.tolerances, zero=zero))


def _eccentricity(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.eccentricity
    if test is None:
        return None
    base = "tests.eccentricity"
    spec_model = ctx.record.instrument.specification
    if spec_model.supports is None:
        raise RecordError("instrument.specification.supports", "the eccentricity test needs the number of supports")
    supports = spec_model.supports
    load = ctx.load(test.load, f"{base}.load")
    correction = _on_substitute(ctx, test, load, base, "eccentricity")
    index = ctx.range_of(test.range, load, f"{base}.range")
    readings = [Reading(load, p.indication, p.change_point, p.position, correction, index) for p in test.points]
    zero = ctx.zero(test.zero, f"{base}.zero")
    return _at(
        base,
        lambda: eccentricity_test(
            readings,
            ctx.tolerances,
            max_kg=ctx.spec.max_kg,
            supports=supports,
            accuracy_class=ctx.spec.accuracy_class.value,
            max_additive_tare_kg=spec_model.max_tare,
            zero=zero,
        ),
    )


def _repeatability(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.repeatability
    if test is None:
        return None
    base = "tests.repeatability"
    series = []
    for i, item in enumerate(test.series):
        path = f"{base}.series[{i}]"
        load = ctx.load(item.load, f"{path}.load")
        correction = _on_substitute(ctx, item, load, path, f"repeatability, series {i + 1}")
        index = ctx.range_of(item.range, load, f"{path}.range")
        label = f"series {i + 1}"
        series.append([Reading(load, p.indication, p.change_point, label, correction, index) for p in item.points])
    zero = ctx.zero(test.zero, f"{base}.zero")
    return _at(base, lambda: repeatability_test(series, ctx.tolerances, zero=zero, max_kg=ctx.spec.max_kg))


def _discrimination(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.discrimination
    if test is None:
        return None
    base = "tests.discrimination"
    readings = []
    in_range: dict[Decimal, Decimal] = {}  # d of the range in use at a load, where a point names its range
    for i, point in enumerate(test.points):
        load = ctx.load(point.load, f"{base}.points[{i}].load")
        if point.substitute is not None and point.substitute > load:
            raise RecordError(f"{base}.points[{i}].substitute", f"is more than the load {format_mass(load)}")
        index = ctx.range_of(point.range, load, f"{base}.points[{i}].range")
        d = ctx.spec.d_at(load) if index is None else ctx.spec.ranges[index].e_kg
        if index is not None and in_range.setdefault(load, d) != d:
            raise RecordError(f"{base}.points[{i}].range", "points at the same load name different ranges")
        extra = point.extra_load if point.extra_load is not None else EXTRA_LOAD_D * d
        removed = point.operation == "remove"
        readings.append(
            DiscriminationReading(
                load, point.indication, point.indication_after, extra, removed, f"{point.operation} 1.4 d"
            )
        )
    return _at(base, lambda: discrimination_test(readings, d_at=lambda load: in_range.get(load) or ctx.spec.d_at(load)))


def _zero_setting(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.zero_setting
    if test is None:
        return None
    base = "tests.zero_setting"
    readings = []
    for i, point in enumerate(test.points):
        reading = ctx.zero(point, f"{base}.points[{i}]")
        if reading is not None:
            readings.append(Reading(reading.load_kg, reading.indication_kg, reading.change_point_kg, f"trial {i + 1}"))
    return _at(base, lambda: zero_setting_test(readings, ctx.tolerances))


def _tare(ctx: _Context) -> TestResult | None:
    test = ctx.record.tests.tare
    if test is None:
        return None
    base = "tests.tare"
    tare = ctx.load(test.tare, f"{base}.tare")
    readings = []
    for i, point in enumerate(test.points):
        path = f"{base}.points[{i}]"
        net = ctx.load(point.load, f"{path}.load")
        if tare + net > ctx.spec.max_indication_kg:
            raise RecordError(
                f"{path}.load",
                f"tare {format_mass(tare)} + net {format_mass(net)} is above Max + 9 e = "
                f"{format_mass(ctx.spec.max_indication_kg)}",
            )
        correction = ctx.correction(point.weights, net, path, "tare, net load")
        index = ctx.range_of(point.range, tare + net, f"{path}.range")  # the range of the gross load
        label = f"net {format_mass(net)}"
        readings.append(Reading(net, point.indication, point.change_point, label, correction, index))
    zero = ctx.zero(test.zero, f"{base}.zero", "net zero")
    return _at(base, lambda: tare_test(readings, ctx.tolerances, tare_kg=tare, zero=zero))


def _weights_adequacy(ctx: _Context) -> TestResult | None:
    if not ctx.compositions:
        return None
    points: list[PointResult] = [
        weights_adequacy_point(
            load,
            list(weights),
            instrument_mpe_kg=ctx.tolerances.mpe(load),
            test_date=ctx.record.date,
            label=f"{label}: {' + '.join(weight.id for weight in weights)}",
        )
        for label, load, weights in ctx.compositions
    ]
    return TestResult.of(WEIGHTS_TEST, points)


def tolerances_for(spec: InstrumentSpecification, *, stage: Stage, rules: str) -> Tolerances:
    """The MPE, e and d of a specified instrument at a stage under a rule set."""
    rule_set = resolve_rule_set(rules)

    def in_range(index: int) -> Tolerances:
        e = spec.ranges[index].e_kg
        return Tolerances(
            mpe=lambda load: mpe(load, spec, stage=stage, rules=rule_set, range_index=index),
            e_at=lambda _load: e,
            d_at=lambda _load: e,  # d = e on an instrument with several ranges (R 76-1 via Directive Annex I)
            mpe_rule=rule_set.rule_for(stage),
        )

    return Tolerances(
        mpe=lambda load: mpe(load, spec, stage=stage, rules=rule_set),
        e_at=spec.e_at,
        d_at=spec.d_at,
        mpe_rule=rule_set.rule_for(stage),
        in_range=in_range if spec.kind is InstrumentKind.MULTIPLE_RANGE else None,
    )


def evaluate(
    record: VerificationRecord, *, rules: str | None = None, stage: Stage | str | None = None
) -> VerificationResult:
    """Evaluate every test in a record; ``rules`` and ``stage`` override the record's own."""
    rule_set = resolve_rule_set(rules if rules is not None else record.rules)
    stage_value = parse_stage(stage) if stage is not None else record.stage
    spec = instrument_specification(record.instrument.specification)
    rule_set.multiplier(stage_value)  # RuleSetError (path "stage") if the rule set does not cover the stage
    weights = {
        model.id: _reference_weight(model, f"reference_weights[{i}]")
        for i, model in enumerate(record.reference_weights)
    }
    ctx = _Context(record, spec, tolerances_for(spec, stage=stage_value, rules=rule_set.id), weights, [])
    steps = (_weighing, _eccentricity, _repeatability, _discrimination, _zero_setting, _tare)
    tests = [result for step in steps if (result := step(ctx)) is not None]
    adequacy = _weights_adequacy(ctx)
    notes = []
    if adequacy is None:
        notes.append("no load lists its reference weights: their adequacy (1/3 MPE) was not checked")
    else:
        tests.append(adequacy)
    return verification_result(tests, notes)
