"""A whole calibration: from the data of a calibration record to a :class:`CalibrationResult`.

The steps follow EURAMET cg-18 v4.0 (clause numbers SECONDARY, see the package docstring):

1. repeatability series and eccentricity test are evaluated (cg-18 5.1, 5.3);
2. at each test load ``E = I - m_ref`` with its budget: rounding at no load and at load, repeatability of the
   nearest series (a series applies to every load; with several series, the one whose load is nearest the
   test load is used: hengqi construction), eccentricity, reference weights, buoyancy, drift, convection
   (cg-18 7.1); ``u``, ``nu_eff``, ``k`` and ``U`` (cg-18 7.1.3, Appendix B3);
3. the error curve (cg-18 Appendix C kinds; hengqi construction), the uncertainty in use (hengqi construction
   after cg-18 7.4/7.5) and the minimum weights (USP <41>, CONFIRMED; cg-18 style, hengqi construction).

Pure computation: the record layer (:mod:`hengqi.records.calibration`) builds a :class:`CalibrationData`.

>>> from datetime import date
>>> from decimal import Decimal as D
>>> from hengqi.metrology.calibration.result import InstrumentSummary
>>> data = CalibrationData(
...     instrument=InstrumentSummary(max_kg=D("6"), d_kg=D("0.0001")),
...     tests=(TestLoad(D("5"), (ReferenceWeight(D("5"), 1, "F1"),), (D("5.0002"),)),),
...     repeatability=(RepeatabilitySeries(D("3"), (D("3.0001"), D("3.0001"), D("3.0002"))),),
...     eccentricity=None, conditions=ReferenceConditions(), calibration_date=date(2026, 11, 25))
>>> point = evaluate_calibration(data).points[0]
>>> point.error_kg, [c.name for c in point.budget]
(Decimal('0.0002'), ['rounding-no-load', 'rounding-load', 'repeatability', 'reference-mass', 'buoyancy'])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.calibration.curve import CurveModel, error_covariance, fit_error_curve
from hengqi.metrology.calibration.in_use import uncertainty_in_use
from hengqi.metrology.calibration.indication import (
    eccentricity_contribution,
    eccentricity_result,
    repeatability_contribution,
    repeatability_result,
    rounding_contribution,
)
from hengqi.metrology.calibration.minimum_weight import (
    USP41_MIN_READINGS,
    cg18_minimum_weight,
    usp41_minimum_weight,
)
from hengqi.metrology.calibration.point import error_of_indication
from hengqi.metrology.calibration.reference import (
    BuoyancyMethod,
    ReferenceConditions,
    ReferenceWeight,
    reference_mass_contributions,
    substitution_contributions,
)
from hengqi.metrology.calibration.result import (
    CalibrationPoint,
    CalibrationResult,
    Contribution,
    EccentricityResult,
    Environment,
    ErrorCurve,
    InstrumentSummary,
    MinimumWeight,
    ReferenceWeightSet,
    RepeatabilityResult,
    UncertaintyInUse,
    mass_text,
)

#: Where the rules of this evaluation come from.  Kept with the budget export (``hengqi calibrate --json``) and
#: in ``docs/``; a certificate states the method in plain words instead.
PROVENANCE = (
    "clause numbers of EURAMET cg-18 v4.0 are quoted from a secondary source; the error curve, the "
    "uncertainty in use and the cg-18 style minimum weight are hengqi constructions (see the documentation)"
)


@dataclass(frozen=True, slots=True)
class TestLoad:
    """One test point as recorded.

    Attributes:
        load_kg: nominal test load.
        weights: the reference weights making up the load.
        indications_kg: the indication(s) at load; several are averaged (``u_rep = s / sqrt N``).
        no_load_indication_kg: the indication at no load before loading (``I_0``).
        d_kg: the scale interval ``dL`` of the load indication where it differs from the instrument's ``d`` (that
            of the range in use, see :mod:`hengqi.metrology.calibration.ranges`).
        d0_kg: the scale interval ``d0`` of the no-load indication where it differs from the instrument's ``d``.
        range_in_use: the range in use at the load indication (1 = first), where the instrument has several.
        convection_kg: a stated convection bound ``dm_conv`` for these weights.
        substitution: substitution steps made before this load, each ``(I_s, I_sub)``: the indication with the
            standard weights and with the substitute in their place (hengqi construction, see
            :func:`~hengqi.metrology.calibration.reference.substitution_contributions`); ``weights`` are then
            the standard weights placed once (they count ``N + 1`` times).
    """

    __test__ = False  # not a pytest test class

    load_kg: Decimal
    weights: tuple[ReferenceWeight, ...]
    indications_kg: tuple[Decimal, ...]
    no_load_indication_kg: Decimal = Decimal(0)
    d_kg: Decimal | None = None
    convection_kg: float | None = None
    substitution: tuple[tuple[Decimal, Decimal], ...] = ()
    d0_kg: Decimal | None = None
    range_in_use: int | None = None


@dataclass(frozen=True, slots=True)
class RepeatabilitySeries:
    """Readings of a repeatability test at one load (cg-18 5.1, SECONDARY); ``d_kg`` the scale interval of the
    range the series was read in, where it differs from the instrument's ``d``."""

    load_kg: Decimal
    readings_kg: tuple[Decimal, ...]
    d_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EccentricityTest:
    """Indications of an eccentricity test, the first position being the centre (cg-18 5.3, SECONDARY)."""

    load_kg: Decimal
    positions: tuple[str, ...]
    indications_kg: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class InUseOptions:
    """How the uncertainty in use and the minimum weights are evaluated (all hengqi constructions except USP).

    Attributes:
        error_curve: the model of ``E_appr(R)``; ``None``: no curve and no uncertainty in use.
        corrected: whether results in use are corrected by ``E_appr(R)``.
        temperature_coefficient_per_k, temperature_range_k: a stated temperature effect in use.
        tolerance: relative weighing tolerance for the cg-18 style minimum weight; ``None``: not computed.
        safety_factor: safety factor of both minimum weights.
        usp41: whether to compute the USP <41> minimum weight.
    """

    error_curve: CurveModel | None = CurveModel.LINEAR_THROUGH_ZERO
    corrected: bool = False
    temperature_coefficient_per_k: float = 0.0
    temperature_range_k: float = 0.0
    tolerance: float | None = None
    safety_factor: float = 1.0
    usp41: bool = False


@dataclass(frozen=True, slots=True)
class CalibrationData:
    """Everything a calibration record says, as metrology values."""

    instrument: InstrumentSummary
    tests: tuple[TestLoad, ...]
    repeatability: tuple[RepeatabilitySeries, ...]
    eccentricity: EccentricityTest | None
    conditions: ReferenceConditions
    calibration_date: date
    in_use: InUseOptions = field(default_factory=InUseOptions)
    environment: Environment = field(default_factory=Environment)
    weight_sets: tuple[ReferenceWeightSet, ...] = ()
    certificate_number: str = ""
    laboratory: str = ""
    customer: str = ""
    location: str = ""
    operator: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _nearest(series: tuple[RepeatabilityResult, ...], load_kg: Decimal) -> RepeatabilityResult:
    return min(series, key=lambda r: (abs(r.load_kg - load_kg), -r.s_kg))


def evaluate_point(
    test: TestLoad,
    *,
    d0_kg: Decimal,
    d_kg: Decimal,
    repeatability: RepeatabilityResult,
    eccentricity: EccentricityResult | None,
    conditions: ReferenceConditions,
) -> CalibrationPoint:
    """The error of indication at one test load with its full budget (cg-18 v4.0 7.1, SECONDARY clauses).

    The rounding terms use the test load's own intervals where it has them (``test.d0_kg``, ``test.d_kg``: those
    of the range in use at each reading), else ``d0_kg`` and ``d_kg``."""
    times = len(test.substitution) + 1
    weights = tuple(replace(w, count=w.count * times) for w in test.weights)
    m_ref, reference_budget, _ = reference_mass_contributions(weights, conditions, convection_kg=test.convection_kg)
    added, substitution_budget = substitution_contributions(
        test.substitution, d_kg=test.d_kg or d_kg, s_kg=repeatability.s_kg, s_dof=float(repeatability.dof)
    )
    m_ref += added
    mean = sum(test.indications_kg, Decimal(0)) / len(test.indications_kg) if test.indications_kg else Decimal(0)
    budget: list[Contribution] = [
        rounding_contribution(test.d0_kg or d0_kg, at_load=False),
        rounding_contribution(test.d_kg or d_kg, at_load=True),
        repeatability_contribution(repeatability, len(test.indications_kg) or 1),
    ]
    if eccentricity is not None:
        budget.append(eccentricity_contribution(mean - test.no_load_indication_kg, eccentricity))
    budget.extend(reference_budget)
    budget.extend(substitution_budget)
    point = error_of_indication(test.load_kg, m_ref, test.no_load_indication_kg, test.indications_kg, budget)
    if test.range_in_use is None:
        return point
    return replace(point, d_kg=test.d_kg or d_kg, range_in_use=test.range_in_use)


def evaluate_calibration(data: CalibrationData) -> CalibrationResult:
    """Evaluate a calibration (see the module docstring for the steps and their sources)."""
    instrument = data.instrument
    if not data.tests:
        raise InputError("points", "a calibration needs at least one test load")
    if not data.repeatability:
        raise InputError("repeatability", "at least one repeatability series is needed (cg-18 v4.0 5.1)")
    series_list: list[RepeatabilityResult] = []
    for i, r in enumerate(data.repeatability):
        try:
            series_list.append(repeatability_result(r.load_kg, r.readings_kg))
        except InputError as err:
            raise err.at(f"repeatability[{i}]") from err
    series = tuple(series_list)
    ecc: EccentricityResult | None = None
    if data.eccentricity is not None:
        e = data.eccentricity
        try:
            ecc = eccentricity_result(e.load_kg, e.positions, e.indications_kg)
        except InputError as err:
            raise err.at("eccentricity") from err
    evaluated: list[CalibrationPoint] = []
    for i, t in enumerate(data.tests):
        try:
            evaluated.append(
                evaluate_point(
                    t,
                    d0_kg=instrument.d_kg,
                    d_kg=instrument.d_kg,
                    repeatability=_nearest(series, t.load_kg),
                    eccentricity=ecc,
                    conditions=data.conditions,
                )
            )
        except InputError as err:
            raise err.at(f"points[{i}]") from err
    points = tuple(sorted(evaluated, key=lambda p: p.load_kg))
    curve: ErrorCurve | None = None
    in_use: UncertaintyInUse | None = None
    options = data.in_use
    fitted = [p for p in points if p.load_kg > 0]
    if options.error_curve is not None and fitted:
        try:
            curve = fit_error_curve(
                [p.indication_kg for p in fitted],
                [p.error_kg for p in fitted],
                [p.u_kg for p in fitted],
                options.error_curve,
                covariance=error_covariance(fitted),
            )
        except InputError as err:
            raise err.at("in_use") from err
        worst = max(series, key=lambda r: r.s_kg)
        in_use = uncertainty_in_use(
            max_kg=instrument.max_kg,
            d0_kg=instrument.d_kg,
            # several ranges: the largest d, that of a result read in the last range (hengqi construction,
            # an upper bound for results read in lower ranges); d0 is d1, the instrument at zero
            d_kg=instrument.ranges[-1].d_kg if instrument.ranges else instrument.d_kg,
            s_kg=worst.s_kg,
            s_dof=float(worst.dof),
            curve=curve,
            eccentricity=ecc,
            temperature_coefficient_per_k=options.temperature_coefficient_per_k,
            temperature_range_k=options.temperature_range_k,
            corrected=options.corrected,
            calibration_readings_kg=tuple(float(p.indication_kg) for p in fitted),
        )
    minimum: list[MinimumWeight] = []
    notes = list(data.notes)
    if options.tolerance is not None:
        if in_use is None:
            raise InputError("in_use.tolerance", "a cg-18 minimum weight needs the error curve (in_use.error_curve)")
        found = cg18_minimum_weight(in_use, tolerance=options.tolerance, safety_factor=options.safety_factor)
        if found is None:
            notes.append(
                f"no cg-18 style minimum weight: the relative tolerance {options.tolerance:g} "
                f"(safety factor {options.safety_factor:g}) is not met anywhere up to Max"
            )
        else:
            minimum.append(found)
    if options.usp41:
        usable = [i for i, r in enumerate(series) if len(r.readings) >= USP41_MIN_READINGS]
        if usable:
            chosen = min(usable, key=lambda i: series[i].load_kg)
            read_with = data.repeatability[chosen].d_kg or instrument.d_kg  # the d of the range it was read in
            minimum.append(usp41_minimum_weight(series[chosen].s_kg, read_with, safety_factor=options.safety_factor))
        else:
            most = max(series, key=lambda r: len(r.readings))
            notes.append(
                f"The USP <41> minimum weight is not stated: USP <41> assesses repeatability from at least "
                f"{USP41_MIN_READINGS} weighings of one test weight; the repeatability series at "
                f"{mass_text(most.load_kg)} has {len(most.readings)}."
            )
    if data.conditions.buoyancy is BuoyancyMethod.NONE:
        notes.append("Air buoyancy of the reference weights was not considered.")
    return CalibrationResult(
        instrument=instrument,
        points=points,
        repeatability=series,
        eccentricity=ecc,
        error_curve=curve,
        uncertainty_in_use=in_use,
        minimum_weights=tuple(minimum),
        environment=data.environment,
        weights=data.weight_sets,
        calibration_date=data.calibration_date,
        certificate_number=data.certificate_number,
        laboratory=data.laboratory,
        customer=data.customer,
        location=data.location,
        operator=data.operator,
        notes=tuple(notes),
    )
